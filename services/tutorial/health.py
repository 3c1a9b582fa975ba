# Healthcheck of the py2 host: exit 0 when a TCP socket listens on PORT, found
# in the kernel's tables without connecting (a connection would be one of the
# tutorial's two clients). services/common/health.py, in Python 2 and 3 alike.
#   python health.py PORT

import sys

LISTEN = '0A'


def listening(port, tables=('/proc/net/tcp', '/proc/net/tcp6')):
    for table in tables:
        try:
            rows = open(table).read().splitlines()[1:]
        except IOError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == LISTEN and int(fields[1].rsplit(':', 1)[1], 16) == port:
                return True
    return False


if __name__ == '__main__':
    sys.exit(0 if listening(int(sys.argv[1])) else 1)
