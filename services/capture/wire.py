"""Print what went over the wire between the lab's clients and a.b.c, byte by byte.

Usage: python3 wire.py [--port PORT] [--lab-net NET] [--save FILE] [FILE.pcap | -]

Reads a pcap file (libpcap's format: what `tcpdump -w` writes and Wireshark opens),
or a live stream of one on standard input (`tcpdump -U -w - | python3 wire.py`),
and prints a line for each TCP packet to or from PORT (2000): the time since the
first packet, from → to, and the handshake (SYN, SYN-ACK, ACK), each payload byte
as a k (client to server) or a v (server to client) in decimal, hex and bits,
the plain ACKs and the close (FIN, RST):

    0.000412  u.v.w:40312 → a.b.c:2000  k  65 0x41 01000001

--lab-net names the lab's hosts (a.b.c for NET.10, u.v.w for NET.21, ...) instead
of printing their addresses. --save also writes the bytes read, unchanged, to FILE.
A file that is not a pcap file ends it with one line on stderr and exit code 2.
Standard library only: the parsing functions take bytes and give records.
"""

import struct
import sys
from dataclasses import dataclass

# The lab's addresses, by their last part, as docker-compose.yml gives them (a unit test checks).
LAB = {10: "a.b.c", 21: "u.v.w", 22: "x.y.z", 23: "r.s.t", 24: "o.p.q", 25: "l.m.n",
       26: "i.j.k", 27: "f.g.h", 28: "d.e.f", 30: "sieve", 31: "sieved", 32: "sieve-ft"}
PORT = 2000

# magic number as read little-endian → (byte order, fraction of a second per tick)
MAGICS = {0xA1B2C3D4: ("<", 1e-6), 0xD4C3B2A1: (">", 1e-6),
          0xA1B23C4D: ("<", 1e-9), 0x4D3CB2A1: (">", 1e-9)}
PCAPNG = 0x0A0D0D0A
HEADER = 24  # magic, version 2.4, zone, sigfigs, snaplen, link type
RECORD = 16  # seconds, fraction, captured length, original length
ETHERNET, RAW, LINUX_SLL, IPV4, LINUX_SLL2 = 1, 101, 113, 228, 276
LINKS = {ETHERNET: "Ethernet", RAW: "raw IP", LINUX_SLL: "Linux cooked", IPV4: "IPv4", LINUX_SLL2: "Linux cooked v2"}
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class WireError(Exception):
    """Not a pcap file the printer can read: the message is one line."""


@dataclass(frozen=True)
class Header:
    order: str  # "<" or ">"
    tick: float  # seconds per unit of the fraction field
    snaplen: int
    link: int


@dataclass(frozen=True)
class Packet:
    time: float  # seconds since the epoch
    data: bytes  # the frame as captured
    length: int  # its length on the wire


@dataclass(frozen=True)
class Segment:
    """A TCP segment over IPv4."""
    time: float
    src: str
    sport: int
    dst: str
    dport: int
    seq: int
    flags: int
    payload: bytes


def parse_header(data):
    """The pcap file header at the start of data (24 bytes or more)."""
    if len(data) >= 4 and struct.unpack("<I", data[:4])[0] == PCAPNG:
        raise WireError("a pcapng file, not pcap: save it as pcap (tcpdump -w does; in Wireshark, "
                        "File > Save As > pcap)")
    if len(data) < HEADER:
        raise WireError(f"not a pcap file: {len(data)} bytes, shorter than a pcap header ({HEADER})")
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in MAGICS:
        raise WireError(f"not a pcap file: it starts with {data[:4].hex()}, not a pcap magic number (d4c3b2a1)")
    order, tick = MAGICS[magic]
    major, minor, _, _, snaplen, link = struct.unpack(order + "HHiIII", data[4:HEADER])
    if major != 2:
        raise WireError(f"pcap version {major}.{minor}: only 2.x is known")
    return Header(order, tick, snaplen, link & 0xFFFF)


def parse_record(header, data, offset, base=0):
    """The packet record at offset: (Packet, offset of the next one); None at the end of data.

    base: where data starts in the file, for the messages.
    """
    if offset == len(data):
        return None
    if len(data) - offset < RECORD:
        raise WireError(f"truncated: {len(data) - offset} bytes at byte {base + offset}, less than a packet record's header")
    sec, frac, caplen, length = struct.unpack(header.order + "IIII", data[offset:offset + RECORD])
    if caplen > max(header.snaplen, 262144):
        raise WireError(f"corrupt: the packet record at byte {base + offset} claims {caplen} bytes")
    end = offset + RECORD + caplen
    if end > len(data):
        raise WireError(f"truncated: the packet at byte {base + offset} has {len(data) - offset - RECORD} of its {caplen} bytes")
    return Packet(sec + frac * header.tick, data[offset + RECORD:end], length), end


def parse(data):
    """Every packet of a whole pcap file: (Header, [Packet])."""
    header = parse_header(data)
    packets, offset = [], HEADER
    while (r := parse_record(header, data, offset)) is not None:
        packet, offset = r
        packets.append(packet)
    return header, packets


def read_stream(stream):
    """(Header, iterator of Packets) from a binary stream, packet by packet as they arrive."""
    head = read_exactly(stream, HEADER)
    header = parse_header(head)

    def packets():
        offset = HEADER
        while True:
            rec = read_exactly(stream, RECORD)
            if not rec:
                return
            caplen = struct.unpack(header.order + "I", rec[8:12])[0] if len(rec) == RECORD else 0
            body = read_exactly(stream, caplen) if caplen <= max(header.snaplen, 262144) else b""
            packet, n = parse_record(header, rec + body, 0, offset)
            offset += n
            yield packet
    return header, packets()


def read_exactly(stream, n):
    """n bytes from stream, fewer only at its end."""
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def segment(link, packet):
    """The TCP segment over IPv4 in a captured frame, or None for anything else (ARP, IPv6, UDP, ...)."""
    data = packet.data
    if link == ETHERNET:
        if len(data) < 14:
            return None
        kind, ip = struct.unpack("!H", data[12:14])[0], 14
        if kind == 0x8100 and len(data) >= 18:  # a VLAN tag
            kind, ip = struct.unpack("!H", data[16:18])[0], 18
        if kind != 0x0800:
            return None
    elif link == LINUX_SLL:
        if len(data) < 16 or struct.unpack("!H", data[14:16])[0] != 0x0800:
            return None
        ip = 16
    elif link == LINUX_SLL2:
        if len(data) < 20 or struct.unpack("!H", data[0:2])[0] != 0x0800:
            return None
        ip = 20
    elif link in (RAW, IPV4):
        ip = 0
    else:
        raise WireError(f"link type {link} is not one the printer reads ({', '.join(LINKS.values())})")
    if len(data) < ip + 20 or data[ip] >> 4 != 4 or data[ip + 9] != 6:  # IPv4, TCP
        return None
    ihl = (data[ip] & 0x0F) * 4
    total = struct.unpack("!H", data[ip + 2:ip + 4])[0]
    fragment = struct.unpack("!H", data[ip + 6:ip + 8])[0] & 0x1FFF
    tcp = ip + ihl
    if fragment or len(data) < tcp + 20:
        return None
    sport, dport, seq, _, off, flags = struct.unpack("!HHIIBB", data[tcp:tcp + 14])
    start = tcp + (off >> 4) * 4
    end = min(len(data), ip + total)  # Ethernet pads short frames
    return Segment(packet.time, ip4(data[ip + 12:ip + 16]), sport, ip4(data[ip + 16:ip + 20]), dport, seq, flags,
                   data[start:end])


def ip4(b):
    return ".".join(str(x) for x in b)


def names_for(net):
    """{address: host name} for a lab on NET.0/24 ("10.9.0")."""
    return {f"{net}.{last}": name for last, name in LAB.items()}


@dataclass
class Line:
    """One printed line: what wire.py says about a packet or one byte of its payload."""
    time: float
    src: str
    dst: str
    what: str  # SYN, SYN-ACK, ACK, FIN, RST, k, v; "k again", "v again", "FIN again": sent once more
    byte: int | None = None

    def __str__(self):
        head = f"{self.time:.6f}  {self.src} → {self.dst}  {self.what}"
        if self.byte is None:
            return head
        return f"{head}  {self.byte:3d} 0x{self.byte:02x} {self.byte:08b}"


class Printer:
    """Turns segments into Lines, keeping what it needs across them: the first time, each direction's next byte."""

    def __init__(self, port=PORT, names=None):
        self.port = port
        self.names = names or {}
        self.start = None
        self.next = {}  # (src, sport, dst, dport) → the sequence number of the next new byte

    def name(self, ip, port):
        return f"{self.names.get(ip, ip)}:{port}"

    def lines(self, seg):
        if self.port not in (seg.sport, seg.dport):
            return []
        if self.start is None:
            self.start = seg.time
        t = seg.time - self.start
        src, dst = self.name(seg.src, seg.sport), self.name(seg.dst, seg.dport)
        way = (seg.src, seg.sport, seg.dst, seg.dport)
        out = []
        if seg.flags & SYN:
            self.next[way] = (seg.seq + 1) & 0xFFFFFFFF
            out.append(Line(t, src, dst, "SYN-ACK" if seg.flags & ACK else "SYN"))
        elif seg.flags & RST:
            out.append(Line(t, src, dst, "RST"))
        direction = "k" if seg.dport == self.port else "v"
        for i, b in enumerate(seg.payload):
            seq = (seg.seq + i) & 0xFFFFFFFF
            known = self.next.get(way)
            again = known is not None and 0 < (known - seq) & 0xFFFFFFFF < 1 << 31
            if not again:
                self.next[way] = (seq + 1) & 0xFFFFFFFF
            out.append(Line(t, src, dst, direction + (" again" if again else ""), b))
        if seg.flags & FIN:
            seq, known = (seg.seq + len(seg.payload)) & 0xFFFFFFFF, self.next.get(way)
            again = known is not None and 0 < (known - seq) & 0xFFFFFFFF < 1 << 31
            if not again:
                self.next[way] = (seq + 1) & 0xFFFFFFFF
            out.append(Line(t, src, dst, "FIN again" if again else "FIN"))
        if not out and seg.flags & ACK:
            out.append(Line(t, src, dst, "ACK"))
        return out


def decode(data, port=PORT, names=None):
    """The Lines of a whole pcap file's bytes."""
    header, packets = parse(data)
    printer = Printer(port, names)
    return [line for p in packets if (s := segment(header.link, p)) for line in printer.lines(s)]


def main(argv):
    args, port, names, save, source = argv[1:], PORT, None, None, "-"
    try:
        while args:
            a = args.pop(0)
            if a == "--port":
                port = int(args.pop(0))
            elif a == "--lab-net":
                names = names_for(args.pop(0))
            elif a == "--save":
                save = args.pop(0)
            elif a.startswith("-") and a != "-":
                raise ValueError(a)
            else:
                source = a
    except (IndexError, ValueError):
        print("usage: wire.py [--port PORT] [--lab-net NET] [--save FILE] [FILE.pcap | -]", file=sys.stderr)
        return 2
    label = "standard input" if source == "-" else source
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")
    except OSError as e:
        print(f"wire: {label}: {e.strerror}", file=sys.stderr)
        return 2
    try:
        if save:
            stream = Tee(stream, open(save, "wb", buffering=0))
    except OSError as e:
        print(f"wire: cannot write {save}: {e.strerror}", file=sys.stderr)
        return 2
    printer = Printer(port, names)
    try:
        header, packets = read_stream(stream)
        for p in packets:
            if s := segment(header.link, p):
                for line in printer.lines(s):
                    print(line, flush=True)
    except WireError as e:
        print(f"wire: {label}: {e}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, BrokenPipeError):
        return 0
    return 0


class Tee:
    """A binary stream that also writes what is read from it to a file."""

    def __init__(self, stream, copy):
        self.stream, self.copy = stream, copy

    def read(self, n):
        data = self.stream.read(n)
        self.copy.write(data)
        return data


if __name__ == "__main__":
    sys.exit(main(sys.argv))
