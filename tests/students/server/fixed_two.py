"""Broken: the tutorial's shape with the number of clients fixed at two: it accepts two connections,
serves them, and prints the total; it never looks at NCLIENTS and never accepts a third."""

import socket
import sys
import threading

v = 0
vlock = threading.Lock()


def serve(conn):
    global v
    with conn:
        while True:
            d = conn.recv(2)
            if len(d) != 1 or d[0] == 0:
                return
            with vlock:
                v += d[0]
                now = v
            conn.sendall(bytes([now % 256]))


listener = socket.create_server(("", int(sys.argv[1])))
threads = []
for _ in range(2):
    conn, _ = listener.accept()
    t = threading.Thread(target=serve, args=(conn,))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
print("the final value of v is", v, flush=True)
