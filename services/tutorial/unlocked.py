# The race lesson on the tutorial's own Python: srvr.py without its lock.
#
#   python unlocked.py PORT              # srvr.py PORT, lines 26 and 28 left out
#   CHECK_INTERVAL=1 python unlocked.py PORT
#
# Python 2 code, run in the py2 host. It makes the program at run time from the
# tutorial's srvr.py beside it (not from a copy): it leaves out line 26
# (vlock.acquire()) and line 28 (vlock.release()), the lock around line 27's
# `v += k`, which stays where it is, at its indentation. Lines 31 and 33, the
# same lock around `nclnt -= 1`, stay. Then it runs the result as srvr.py
# would run, with sys.argv ['srvr.py', PORT].
#
# CHECK_INTERVAL: how many byte-code instructions a thread runs before the
# interpreter may switch threads, sys.setcheckinterval(N), a whole number, 1
# or more (Python 2.7's default is 100; the tutorial's Python, 2.2, had 10).
# Unset or empty: the default. A bad value is refused in one line, exit 2.

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, 'srvr.py')
UNLOCK = {26: 'vlock.acquire()', 28: 'vlock.release()'}  # line number: what it must say


def refuse(message):
    sys.stderr.write('unlocked.py: %s\n' % message)
    sys.exit(2)


def unlocked(source):
    """srvr.py's text without the lock lines around v += k."""
    lines = source.splitlines(True)
    for number, text in sorted(UNLOCK.items()):
        if number > len(lines) or lines[number - 1].strip() != text:
            refuse('%s line %d is not %r: not the tutorial\'s srvr.py' % (SOURCE, number, text))
    if lines[26].strip() != 'v += k':
        refuse('%s line 27 is not \'v += k\': not the tutorial\'s srvr.py' % SOURCE)
    return ''.join(line for number, line in enumerate(lines, 1) if number not in UNLOCK)


def check_interval(value):
    if value is None or value.strip() == '':
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        refuse('CHECK_INTERVAL=%r: a whole number of byte-code instructions, 1 or more, or empty' % value)
    return n


def main():
    interval = check_interval(os.environ.get('CHECK_INTERVAL'))
    if len(sys.argv) != 2:
        refuse('usage: python unlocked.py PORT (as python srvr.py PORT)')
    program = unlocked(open(SOURCE).read())
    if interval is not None:
        sys.setcheckinterval(interval)
    sys.stderr.write('unlocked.py: srvr.py without lines 26 and 28 (%s), check interval %d\n'
                     % (', '.join(UNLOCK[n] for n in sorted(UNLOCK)), sys.getcheckinterval()))
    sys.argv = ['srvr.py', sys.argv[1]]
    code = compile(program, 'srvr.py (unlocked)', 'exec')
    namespace = {'__name__': '__main__', '__file__': SOURCE}
    exec code in namespace


if __name__ == '__main__':
    main()
