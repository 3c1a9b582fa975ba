"""Broken: sends the k as text (str(k).encode()), not as one byte."""

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
    if not 0 <= k <= 255:
        print("out of range: type a k from 0 to 255")
        continue
    s.sendall(str(k).encode())
    if k == 0:
        break
    v = s.recv(1)
    if not v:
        sys.exit("the server closed the connection")
    print(v[0])
s.close()
