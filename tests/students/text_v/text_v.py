"""Broken: good_threading.py sending v as text (str(v).encode()), not as one byte."""

import os
import socket
import sys
import threading

v = 0
vlock = threading.Lock()
joined = active = 0
changed = threading.Condition()


def serve(conn):
    global v, joined, active
    member = False
    try:
        while True:
            d = conn.recv(2)
            if not d or len(d) > 1:
                break  # gone, or a burst: not the protocol
            if not member:
                member = True
                with changed:
                    joined += 1
                    active += 1
            k = d[0]
            if k == 0:
                break
            with vlock:
                v += k
                now = v
            conn.sendall(str(now % 256).encode())
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
