"""A correct student server on one thread: selectors, no lock needed, since one thread touches v."""

import os
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
v = 0
joined = active = 0


def main():
    global v, joined, active
    nclients = int(os.environ.get("NCLIENTS", "2"))
    listener = socket.create_server(("", int(sys.argv[1])), backlog=1024)
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    while not (joined >= nclients and active == 0):
        for key, _ in sel.select():
            if key.data is None:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, {"member": False})
                continue
            conn, state = key.fileobj, key.data
            try:
                d = conn.recv(2)
            except OSError:
                d = b""
            k = d[0] if len(d) == 1 else 0
            if len(d) == 1 and not state["member"]:
                state["member"] = True
                joined += 1
                active += 1
            if k == 0:  # left, gone, or a burst (len(d) > 1)
                sel.unregister(conn)
                conn.close()
                if state["member"]:
                    active -= 1
                continue
            v += k
            try:
                conn.setblocking(True)
                conn.sendall(bytes([v % 256]))
                conn.setblocking(False)
            except OSError:
                pass
    print("the final value of v is", v, flush=True)


main()
