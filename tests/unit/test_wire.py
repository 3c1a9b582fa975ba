"""services/capture/wire.py: pcap bytes made here with struct, the lines it prints, and its one-line errors."""

import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from capture import wire

ROOT = Path(__file__).resolve().parents[2]
WIRE = ROOT / "services" / "capture" / "wire.py"
CLIENT, SERVER = "10.9.0.21", "10.9.0.10"
MAC = bytes(6)
T0 = 1_700_000_000


def ip(addr):
    return bytes(int(x) for x in addr.split("."))


def frame(src, sport, dst, dport, seq, ack, flags, payload=b""):
    """An Ethernet frame holding an IPv4 packet holding a TCP segment (checksums left 0)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0) + payload
    ipv4 = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, ip(src), ip(dst)) + tcp
    return MAC + MAC + b"\x08\x00" + ipv4


def pcap(frames, magic=0xA1B2C3D4, order="<", link=1):
    """A pcap file: (seconds after T0, frame) for each packet."""
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 262144, link)
    for t, f in frames:
        sec, usec = divmod(round(t * 1e6), 10**6)
        out += struct.pack(order + "IIII", T0 + sec, usec, len(f), len(f)) + f
    return out


SYN, ACK, PSH, FIN, RST = wire.SYN, wire.ACK, wire.PSH, wire.FIN, wire.RST
C, S = (CLIENT, 40312), (SERVER, 2000)
SESSION = [  # a client sends k = 65, the server answers v = 65, the client sends 0 and leaves
    (0.0, frame(*C, *S, 1000, 0, SYN)),
    (0.000036, frame(*S, *C, 5000, 1001, SYN | ACK)),
    (0.000075, frame(*C, *S, 1001, 5001, ACK)),
    (0.000412, frame(*C, *S, 1001, 5001, PSH | ACK, b"A")),
    (0.000530, frame(*S, *C, 5001, 1002, PSH | ACK, b"A")),
    (0.000601, frame(*C, *S, 1002, 5002, ACK)),
    (0.5, frame(*C, *S, 1002, 5002, PSH | ACK, b"\x00")),
    (0.500100, frame(*C, *S, 1003, 5002, FIN | ACK)),
    (0.500200, frame(*S, *C, 5002, 1004, FIN | ACK)),
    (0.500300, frame(*C, *S, 1004, 5003, ACK)),
]
PRINTED = """\
0.000000  u.v.w:40312 → a.b.c:2000  SYN
0.000036  a.b.c:2000 → u.v.w:40312  SYN-ACK
0.000075  u.v.w:40312 → a.b.c:2000  ACK
0.000412  u.v.w:40312 → a.b.c:2000  k   65 0x41 01000001
0.000530  a.b.c:2000 → u.v.w:40312  v   65 0x41 01000001
0.000601  u.v.w:40312 → a.b.c:2000  ACK
0.500000  u.v.w:40312 → a.b.c:2000  k    0 0x00 00000000
0.500100  u.v.w:40312 → a.b.c:2000  FIN
0.500200  a.b.c:2000 → u.v.w:40312  FIN
0.500300  u.v.w:40312 → a.b.c:2000  ACK
"""


def lines(data, **kw):
    return "".join(f"{line}\n" for line in wire.decode(data, names=wire.names_for("10.9.0"), **kw))


def test_a_session_byte_by_byte():
    """The handshake, 'A' up as a k and back as a v, in decimal, hex and bits, the 0, and the close."""
    assert lines(pcap(SESSION)) == PRINTED


def test_without_names_the_addresses():
    first = wire.decode(pcap(SESSION[:1]))[0]
    assert str(first) == "0.000000  10.9.0.21:40312 → 10.9.0.10:2000  SYN"


def test_big_endian_and_nanosecond_files_read_alike():
    assert lines(pcap(SESSION, magic=0xA1B2C3D4, order=">")) == PRINTED
    nano = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1)
    for t, f in SESSION:
        sec, nsec = divmod(round(t * 1e9), 10**9)
        nano += struct.pack("<IIII", T0 + sec, nsec, len(f), len(f)) + f
    assert lines(nano) == PRINTED


def test_linux_cooked_frames():
    """tcpdump -i any writes Linux cooked frames (link type 113)."""
    cooked = [(t, struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x0800) + f[14:]) for t, f in SESSION]
    assert lines(pcap(cooked, link=wire.LINUX_SLL)) == PRINTED


def test_other_ports_and_protocols_are_left_out():
    arp = MAC + MAC + b"\x08\x06" + bytes(28)
    other = frame(CLIENT, 40000, SERVER, 22, 1, 0, SYN)
    assert lines(pcap([(0.0, arp), (0.1, other)] + SESSION[:1])) == "0.000000  u.v.w:40312 → a.b.c:2000  SYN\n"


def test_a_byte_sent_twice_is_said_again():
    """A retransmission (the kernel's tail loss probe resends a FIN) is not a second k."""
    again = SESSION[:4] + [(0.3, SESSION[3][1]), (0.4, SESSION[7][1]), (0.41, SESSION[7][1])]
    assert lines(pcap(again)).splitlines()[3:] == [
        "0.000412  u.v.w:40312 → a.b.c:2000  k   65 0x41 01000001",
        "0.300000  u.v.w:40312 → a.b.c:2000  k again   65 0x41 01000001",
        "0.400000  u.v.w:40312 → a.b.c:2000  FIN",
        "0.410000  u.v.w:40312 → a.b.c:2000  FIN again"]


def test_a_reset():
    assert lines(pcap(SESSION[:3] + [(1.0, frame(*S, *C, 5001, 1001, RST | ACK))])).splitlines()[-1] == \
        "1.000000  a.b.c:2000 → u.v.w:40312  RST"


def test_ethernet_padding_is_not_payload():
    """A frame shorter than 60 bytes is padded on Ethernet: the IP length says where the payload ends."""
    padded = frame(*C, *S, 1001, 5001, PSH | ACK, b"A") + bytes(5)
    assert lines(pcap([(0.0, padded)])) == "0.000000  u.v.w:40312 → a.b.c:2000  k   65 0x41 01000001\n"


def test_the_stream_reader_gives_what_the_whole_file_gives(tmp_path):
    """Live, from tcpdump -U -w -: the same lines, packet by packet."""
    import io
    header, packets = wire.read_stream(io.BytesIO(pcap(SESSION)))
    printer = wire.Printer(names=wire.names_for("10.9.0"))
    assert "".join(f"{line}\n" for p in packets for line in printer.lines(wire.segment(header.link, p))) == PRINTED


BAD = {
    "empty": (b"", "not a pcap file: 0 bytes, shorter than a pcap header (24)"),
    "text": (b"hello, this is not a capture at all\n", "not a pcap file: it starts with 68656c6c, not a pcap magic"),
    "pcapng": (struct.pack("<I", 0x0A0D0D0A) + bytes(28), "a pcapng file, not pcap"),
    "cut header": (pcap([])[:20], "shorter than a pcap header"),
    "cut record": (pcap(SESSION[:2])[:-10], "truncated: the packet at byte"),
    "cut record header": (pcap(SESSION[:1]) + bytes(7), "less than a packet record's header"),
    "link type": (pcap(SESSION[:1], link=147), "link type 147 is not one the printer reads"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_file_is_one_line_and_exit_2(tmp_path, name):
    data, message = BAD[name]
    path = tmp_path / "bad.pcap"
    path.write_bytes(data)
    r = subprocess.run([sys.executable, str(WIRE), str(path)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stdout == "" or name.startswith("cut record")  # what came before the cut is printed
    assert re.fullmatch(r"wire: \S+: .+\n", r.stderr), r.stderr
    assert message in r.stderr
    with pytest.raises(wire.WireError, match=re.escape(message)):
        wire.decode(data)


def test_a_missing_file_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, str(WIRE), str(tmp_path / "none.pcap")], capture_output=True, text=True)
    assert (r.returncode, r.stderr) == (2, f"wire: {tmp_path / 'none.pcap'}: No such file or directory\n")


def test_the_command_prints_a_file_and_saves_standard_input(tmp_path):
    """wire.py FILE prints it; wire.py --save COPY reads a live stream on standard input and keeps it."""
    path, copy = tmp_path / "s.pcap", tmp_path / "copy.pcap"
    path.write_bytes(pcap(SESSION))
    r = subprocess.run([sys.executable, str(WIRE), "--lab-net", "10.9.0", str(path)], capture_output=True, text=True)
    assert (r.returncode, r.stdout, r.stderr) == (0, PRINTED, "")
    r = subprocess.run([sys.executable, str(WIRE), "--lab-net", "10.9.0", "--save", str(copy)],
                       input=pcap(SESSION), capture_output=True)
    assert (r.returncode, r.stdout.decode()) == (0, PRINTED)
    assert copy.read_bytes() == pcap(SESSION)


def test_the_names_are_the_compose_files_addresses():
    """wire.LAB names the addresses docker-compose.yml gives each host (read from the file, no Compose needed)."""
    text = (ROOT / "docker-compose.yml").read_text()
    found = {}
    for block in re.split(r"\n  (?=[a-z0-9-]+:(?: &\S+)?\n)", text):
        host = re.search(r"\n    hostname: (\S+)", block)
        addr = re.search(r"LAB_NET:-10\.9\.0\}\.(\d+)", block)
        if host and addr:
            found[int(addr.group(1))] = host.group(1)
    assert found == wire.LAB
