"""Correct, but at the end of its input it leaves by an abortive close (SO_LINGER 0): the server sees a reset.

A client that closes with a v still unread does the same by chance, as text_k does now and then.
"""

import socket
import struct
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
while True:
    try:
        line = input("input k ")
    except EOFError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        break
    try:
        k = int(line)
    except ValueError:
        print("not a number: type a k from 0 to 255")
        continue
    if not 0 <= k <= 255:
        print("out of range: type a k from 0 to 255")
        continue
    s.sendall(bytes([k]))
    if k == 0:
        break
    v = s.recv(1)
    if not v:
        sys.exit("the server closed the connection")
    print(v[0])
s.close()
