"""Hostile: it listens, then forks until the pids limit stops it, eats memory until the memory limit
stops it, and writes garbage. The checker must fail it and go on, and nothing may escape its host."""

import os
import socket
import sys

listener = socket.create_server(("", int(sys.argv[1])))
sys.stdout.buffer.write(bytes(range(256)) + b"\n")
sys.stdout.flush()
children = 0
while True:
    try:
        if os.fork() == 0:
            hog = []
            while True:
                hog.append(bytearray(16 << 20))  # 16 MB at a time, until the cgroup says no
        children += 1
    except OSError:
        break
listener.accept()
