"""Broken: a number out of range is not refused: it goes out as k mod 256 (300 as 44, -4 as 252)."""

import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
while True:
    try:
        line = input("input k ")
    except EOFError:
        line = "0"
    try:
        k = int(line)
    except ValueError:
        print("not a number: type a k from 0 to 255")
        continue
    s.sendall(bytes([k % 256]))
    if k == 0:
        break
    v = s.recv(1)
    if not v:
        sys.exit("the server closed the connection")
    print(v[0])
s.close()
