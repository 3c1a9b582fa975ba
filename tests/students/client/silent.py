"""Broken beyond repair: connects and sends nothing, prints nothing, and exits. Every check must FAIL."""

import socket
import sys

socket.create_connection((sys.argv[1], int(sys.argv[2]))).close()
