"""Broken, and trying to look right: it listens, serves each client on a thread, echoes every k back
as v, and prints a final value it makes up. It must fail every check that looks at v (no false PASS)."""

import os
import socket
import sys
import threading

left = 0
changed = threading.Condition()


def serve(conn):
    global left
    with conn:
        while True:
            d = conn.recv(2)
            if len(d) != 1 or d[0] == 0:
                break
            conn.sendall(d)  # "v" is just k
    with changed:
        left += 1
        changed.notify_all()


listener = socket.create_server(("", int(sys.argv[1])))
threading.Thread(target=lambda: [threading.Thread(target=serve, args=(listener.accept()[0],), daemon=True).start()
                                 for _ in iter(int, 1)], daemon=True).start()
with changed:
    changed.wait_for(lambda: left >= int(os.environ.get("NCLIENTS", "2")))
print("the final value of v is 95", flush=True)
