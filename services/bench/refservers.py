"""Reference servers for the benchmark: the lab's protocol served three other ways.

    socketserver  socketserver.ThreadingTCPServer: the standard library's thread per client
    asyncio       asyncio streams: one thread, coroutines
    pingpong      the floor: each byte straight back, thread per client, no lock, no protocol

The first two serve exactly what srvr.py serves (protocol.py: k up, v mod 256
back, k = 0 leaves), with v behind a lock where threads share it. Like
srvr.py, each waits for NCLIENTS clients (a connection that sends no byte is
not one), ends when all have left, and prints "the final value of v is N";
the ping-pong floor sums what it echoes so that it can print the same line.

Run:  NCLIENTS=64 python3 refservers.py socketserver 2002
"""

import asyncio
import os
import socket
import socketserver
import sys
import threading

from common import protocol

NCLIENTS = os.environ.get("NCLIENTS", "2")


class Session:
    """v and the clients' comings and goings, shared by every client of one server."""

    def __init__(self, nclients):
        self.nclients = nclients
        self.v = 0
        self.vlock = threading.Lock()  # protects v
        self.joined = self.active = 0
        self.changed = threading.Condition()  # protects joined and active

    def add(self, k):
        with self.vlock:
            self.v += k
            return self.v

    def join(self):
        with self.changed:
            self.joined += 1
            self.active += 1

    def leave(self):
        with self.changed:
            self.active -= 1
            self.changed.notify_all()

    def done(self):
        return self.joined >= self.nclients and self.active == 0

    def wait_done(self):
        with self.changed:
            self.changed.wait_for(self.done)


def listening(kind, port, nclients):
    print(f"{socket.gethostname()} listening on port {port} for {nclients} client{'s' * (nclients != 1)} ({kind})", flush=True)


# socketserver: one handler class, ThreadingTCPServer starts a thread per connection.

class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        session = self.server.session
        conn = self.request
        d = conn.recv(1)
        if not d:
            return  # a probe, not a client
        session.join()
        try:
            while d:
                k = protocol.decode_k(d)
                if k == protocol.LEAVE:
                    break
                conn.sendall(protocol.encode_v(session.add(k)))
                d = conn.recv(1)
        finally:
            session.leave()


class ThreadingServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # as socket.create_server in srvr.py: rebind past TIME_WAIT
    daemon_threads = True


def serve_socketserver(port, nclients, ready=listening):
    with ThreadingServer(("", port), Handler) as server:
        server.session = Session(nclients)
        ready("socketserver", server.server_address[1], nclients)

        def stop():
            server.session.wait_done()
            server.shutdown()

        threading.Thread(target=stop, daemon=True).start()
        server.serve_forever()
        return server.session.v


# asyncio: one coroutine per connection on one event loop, v without a lock (one thread).

def serve_asyncio(port, nclients, ready=listening):
    return asyncio.run(_serve_asyncio(port, nclients, ready))


async def _serve_asyncio(port, nclients, ready):
    state = {"v": 0, "joined": 0, "active": 0}
    done = asyncio.Event()

    async def handle(reader, writer):
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        joined = False
        try:
            while True:
                d = await reader.read(1)
                if not d:
                    break
                if not joined:
                    joined = True
                    state["joined"] += 1
                    state["active"] += 1
                k = protocol.decode_k(d)
                if k == protocol.LEAVE:
                    break
                state["v"] += k
                writer.write(protocol.encode_v(state["v"]))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            if joined:
                state["active"] -= 1
                if state["joined"] >= nclients and state["active"] == 0:
                    done.set()

    # one listener, as srvr.py's create_server: asyncio's own would open one per address family, each on
    # a port of its own when asked for port 0
    server = await asyncio.start_server(handle, sock=socket.create_server(("", port)))
    ready("asyncio", server.sockets[0].getsockname()[1], nclients)
    async with server:
        await done.wait()
    return state["v"]


# pingpong: the floor. Each byte goes straight back; nothing is shared but the count of clients.

def serve_pingpong(port, nclients, ready=listening):
    session = Session(nclients)
    sums = []  # one total per client, appended as each leaves

    def handle(conn):
        total = 0
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            recv, send = conn.recv, conn.send
            d = recv(1)
            if not d:
                return
            session.join()
            try:
                while d and d != b"\x00":
                    send(d)
                    total += d[0]
                    d = recv(1)
            finally:
                sums.append(total)
                session.leave()

    listener = socket.create_server(("", port))
    ready("pingpong", listener.getsockname()[1], nclients)

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    session.wait_done()
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    acceptor.join()
    return sum(sums)


SERVERS = {"socketserver": serve_socketserver, "asyncio": serve_asyncio, "pingpong": serve_pingpong}


def main(argv):
    if len(argv) != 3 or argv[1] not in SERVERS:
        print(f"usage: python3 refservers.py {{{','.join(SERVERS)}}} port", file=sys.stderr)
        return 2
    try:
        port, nclients = int(argv[2]), int(NCLIENTS)
    except ValueError:
        print(f"refservers.py: port and NCLIENTS must be numbers, not {argv[2]!r} and {NCLIENTS!r}", file=sys.stderr)
        return 2
    print("the final value of v is", SERVERS[argv[1]](port, nclients))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
