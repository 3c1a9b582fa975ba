"""Broken: no lock around v, and a yield between reading v and writing it back (time.sleep(0)).

Without the yield CPython 3.11 does not switch threads inside `v += k` (see docs/checker.md), so
the race would not show; with it, two clients adding at once lose updates.
"""

import os
import socket
import sys
import threading
import time

v = 0
joined = active = 0
changed = threading.Condition()


def serve(conn):
    global v, joined, active
    member = False
    try:
        while True:
            d = conn.recv(2)
            if not d or len(d) > 1:
                break
            if not member:
                member = True
                with changed:
                    joined += 1
                    active += 1
            k = d[0]
            if k == 0:
                break
            old = v
            time.sleep(0)
            v = old + k  # no lock: another thread may have written v in between
            conn.sendall(bytes([v % 256]))
    except OSError:
        pass
    finally:
        conn.close()
        if member:
            with changed:
                active -= 1
                changed.notify_all()


def accept(listener):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def main():
    nclients = int(os.environ.get("NCLIENTS", "2"))
    listener = socket.create_server(("", int(sys.argv[1])), backlog=1024)
    threading.Thread(target=accept, args=(listener,), daemon=True).start()
    with changed:
        changed.wait_for(lambda: joined >= nclients and active == 0)
    print("the final value of v is", v, flush=True)


main()
