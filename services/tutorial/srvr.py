# simple illustration client of thread module

# multiple clients connect to server; each client repeatedly sends a
# value k, which the server adds to a global value g and echoes back
# to the client; k = 0 means the client is dropping out; when all
# clients gone, server prints final value of g

# the values k are sent as single bytes for convenience; it's assumed
# that neither k nor g ever exceeds 255

# this is the server

import socket
import sys

import thread

# thread to serve a client
def serveclient(c,i):
    global v,nclnt,nclntlock
    while 1:
        d = c.recv(1)
        k = ord(d)
        if k == 0:
            break
        vlock.acquire()
        v += k
        vlock.release()
        c.send(chr(v))
    c.close()
    vlock.acquire()
    nclnt -= 1
    vlock.release()

lstn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
port = int(sys.argv[1])
lstn.bind(('', port))
lstn.listen(5)

v = 0
vlock = thread.allocate_lock()
nclnt = 2
nclntlock = thread.allocate_lock()

for i in range(2):
    (clnt,addr) = lstn.accept()
    thread.start_new_thread(serveclient,(clnt,i))

# wait for both threads to exit
while nclnt > 0: pass

lstn.close()
print 'the final value of v is', v
