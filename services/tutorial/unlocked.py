# The race lesson on the tutorial's own Python: srvr.py without its lock.
#
#   python unlocked.py PORT              # srvr.py PORT, lines 26 and 28 left out, line 29 sends v mod 256
#   CHECK_INTERVAL=1 python unlocked.py PORT
#   LOCK=on python unlocked.py PORT      # the lock kept: only line 29 changed
#
# Python 2 code, run in the py2 host. It makes the program at run time from the
# tutorial's srvr.py beside it (not from a copy), with two changes to its text:
#
# 1. It leaves out line 26 (vlock.acquire()) and line 28 (vlock.release()), the
#    lock around line 27's `v += k`, which stays where it is, at its indentation.
#    Lines 31 and 33, the same lock around `nclnt -= 1`, stay.
# 2. Line 29, `c.send(chr(v))`, becomes `c.send(chr(v % 256))`: the one byte the
#    wire carries is v mod 256, as the lab's own server sends it. As printed,
#    chr(v) raises ValueError once v > 255 and kills the thread, so a session could
#    not go past 254 updates, too few for two threads to meet in `v += k`. v
#    itself stays exact, and the last line prints it.
#
# Each changed line must say what the tutorial's says, or the program is refused.
# Then it runs the result as srvr.py would run, with sys.argv ['srvr.py', PORT].
#
# CHECK_INTERVAL: how many byte-code instructions a thread runs before the
# interpreter may switch threads, sys.setcheckinterval(N), a whole number, 1
# or more (Python 2.7's default is 100; the tutorial's Python, 2.2, had 10).
# Unset or empty: the default. LOCK: off (unset, empty: the default) or on, which
# keeps lines 26 and 28, to compare. A bad value is refused in one line, exit 2.

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, 'srvr.py')
UNLOCK = {26: 'vlock.acquire()', 28: 'vlock.release()'}  # line number: what it must say
SEND = (29, 'c.send(chr(v))', 'c.send(chr(v % 256))')  # line number, what it says, what it becomes


def refuse(message):
    sys.stderr.write('unlocked.py: %s\n' % message)
    sys.exit(2)


def expect(lines, number, text):
    if number > len(lines) or lines[number - 1].strip() != text:
        refuse('%s line %d is not %r: not the tutorial\'s srvr.py' % (SOURCE, number, text))


def unlocked(source, lock=False):
    """srvr.py's text with v sent mod 256 (line 29) and, unless lock, without the lock lines around v += k."""
    lines = source.splitlines(True)
    for number, text in sorted(UNLOCK.items()):
        expect(lines, number, text)
    expect(lines, 27, 'v += k')
    number, text, new = SEND
    expect(lines, number, text)
    lines[number - 1] = lines[number - 1].replace(text, new)
    leave_out = () if lock else UNLOCK
    return ''.join(line for n, line in enumerate(lines, 1) if n not in leave_out)


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


def lock_setting(value):
    if value is None or value.strip() in ('', 'off'):
        return False
    if value.strip() == 'on':
        return True
    refuse('LOCK must be one of on, off, not %r' % value)


def main():
    interval = check_interval(os.environ.get('CHECK_INTERVAL'))
    lock = lock_setting(os.environ.get('LOCK'))
    if len(sys.argv) != 2:
        refuse('usage: python unlocked.py PORT (as python srvr.py PORT)')
    program = unlocked(open(SOURCE).read(), lock)
    if interval is not None:
        sys.setcheckinterval(interval)
    kept = 'with its lock' if lock else 'without lines 26 and 28 (%s)' % ', '.join(UNLOCK[n] for n in sorted(UNLOCK))
    sys.stderr.write('unlocked.py: srvr.py %s, line 29 sending v mod 256, check interval %d\n'
                     % (kept, sys.getcheckinterval()))
    sys.argv = ['srvr.py', sys.argv[1]]
    code = compile(program, 'srvr.py (unlocked)', 'exec')
    namespace = {'__name__': '__main__', '__file__': SOURCE}
    exec(code, namespace)  # Python 2's exec statement, in the form Python 3 also parses


if __name__ == '__main__':
    main()
