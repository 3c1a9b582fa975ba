"""Broken beyond repair: it dies at once. Every check must FAIL, the score must be 0 (no false PASS)."""

raise SystemExit("srvr.py: I forgot to write the server")
