// UnixSocketTests.swift: AF_UNIX sockets compared with native runs: unix.c (datagrams to an address and
// connected, recvmmsg/sendmmsg, SCM_CREDENTIALS; socketpair of each type with data
// both ways, peeking, non-blocking and MSG_WAITALL reads, iovecs, message boundaries, shutdown and close, EPIPE
// and SIGPIPE, the options, names, fstat, FIONREAD and poll; SCM_RIGHTS; a server on a path and on an abstract name with
// forked clients, EADDRINUSE, ECONNREFUSED, a full backlog; hostile arguments; the pending error and datagram
// reconnects; the garbage collection of sockets in flight; MSG_OOB), and python3's
// socket.socketpair and socketserver.UnixStreamServer.

import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class UnixSocketTests: SystemTestCase {
    func testUnix() throws { try same("unix", .glibc) }
    func testUnixMusl() throws { try same("unix", .musl) }

    func testPythonUnixSockets() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        try assertSameAsNative("/usr/bin/python3", ["-c", UnixSocketTests.script], compareStderr: true)
    }

    static let script = """
        import os, socket, socketserver, tempfile, threading, sys

        a, b = socket.socketpair()
        a.sendall(b"ping")
        print(b.recv(10))
        b.sendall(b"pong" * 1000)
        data = b""
        while len(data) < 4000:
            data += a.recv(65536)
        print(len(data), a.family == socket.AF_UNIX, a.type == socket.SOCK_STREAM)
        a.setblocking(False)
        try:
            a.recv(10)
        except BlockingIOError:
            print("would block")
        b.shutdown(socket.SHUT_WR)
        a.setblocking(True)
        print(a.recv(10))
        a.close(); b.close()

        class Echo(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline()
                self.wfile.write(b"echo " + line)

        d = tempfile.mkdtemp()
        path = os.path.join(d, "server.sock")
        with socketserver.UnixStreamServer(path, Echo) as server:
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                    c.connect(path)
                    c.sendall(b"hello server\\n")
                    print(c.makefile("rb").readline(), flush=True)
                os._exit(0)
            server.handle_request()
            os.waitpid(pid, 0)
            print(server.server_address == path)
        os.unlink(path)
        os.rmdir(d)
        try:
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(path)
        except OSError as e:
            print(type(e).__name__)
        """
}
