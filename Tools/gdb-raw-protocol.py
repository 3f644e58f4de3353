# gdb-raw-protocol.py SOCKET: a bare gdb remote-protocol client for GdbTests: malformed packets must each get an answer
# (never crash umk), and Ctrl-C (0x03) while the program runs must stop it with SIGINT. Prints what it saw;
# exits non-zero on a protocol failure.
import socket, sys, time

path = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(path)
buf = b""

def frame(data):
    return b"$" + data + b"#%02x" % (sum(data) & 0xff)

def reply():
    global buf
    while True:
        buf = buf.lstrip(b"+")
        if b"#" in buf and buf.startswith(b"$"):
            end = buf.index(b"#")
            if len(buf) >= end + 3:
                data, buf = buf[1:end], buf[end + 3:]
                return data
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk

def ask(data):
    s.sendall(frame(data))
    return reply()

assert ask(b"QStartNoAckMode") == b"OK"
garbage = [b"m", b"mzz,zz", b"m0,ffffffffffffffffff", b"mffffffffffffffff,10", b"M10,2:zz", b"X10,5:ab",
           b"G12", b"g", b"p", b"p999", b"P999=00", b"P10=00", b"Z0,", b"Z0,zz,1", b"z0,1234,1", b"Z2,1000,4",
           b"H", b"Hgzz", b"Hg99999", b"T", b"Tp1.99", b"vCont;x", b"vCont;C", b"vCont;c:zz", b"vCont?",
           b"qXfer:features:read:target.xml:zz", b"qXfer:features:read:other.xml:0,10",
           b"qXfer:auxv:read::ffffffff,10", b"qXfer:exec-file:read::0,fff", b"qXfer:x", b"qSupported",
           b"vFile:open:zz,0,0", b"vFile:open:2f6574632f686f73746e616d65,1,0", b"vFile:pread:99,10,0",
           b"vFile:pread:", b"vFile:close:99", b"vFile:fstat:", b"vFile:readlink:2f", b"vFile:unlink:2f",
           b"qThreadExtraInfo,zz", b"qC", b"C", b"Czz", b"S;", b"?", b"", b"\x00\xff}", b"Q", b"q"]
for g in garbage:
    r = ask(g)
    print("%r -> %r" % (g, r[:40]))
# The stub still works: registers, and a breakpoint-free run interrupted by Ctrl-C.
assert len(ask(b"g")) > 1000
s.sendall(frame(b"vCont;c"))
time.sleep(0.5)
s.sendall(b"\x03")
stop = reply()
print("stop:", stop)
if not stop.startswith(b"T02"):
    raise SystemExit("Ctrl-C did not stop with SIGINT: %r" % stop)
s.sendall(frame(b"k"))
time.sleep(0.2)
print("ok")
