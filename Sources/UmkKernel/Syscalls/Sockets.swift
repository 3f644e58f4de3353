// Sockets.swift: the socket family (net/socket.c). There are no socket families yet: socket and socketpair
// fail with EAFNOSUPPORT, and the calls that take a socket fd answer as Linux does for an fd that is not a
// socket: EBADF for a bad fd, ENOTSOCK otherwise. (FIXME: AF_UNIX and loopback sockets.)
extension SyscallTable {
    mutating func addSocketCalls() {
        for nr in [41, 53] {  // socket, socketpair
            add(nr, [.int, .hex, .int, .pointer], .partial("no socket families yet: EAFNOSUPPORT")) { _, _, _ throws(LinuxErrno) in
                throw .EAFNOSUPPORT
            }
        }
        // connect, accept, sendto, recvfrom, sendmsg, recvmsg, shutdown, bind, listen, getsockname,
        // getpeername, setsockopt, getsockopt, accept4, recvmmsg, sendmmsg
        for nr in [42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 54, 55, 288, 299, 307] {
            add(nr, [.fd, .hex, .hex], .partial("no sockets yet: ENOTSOCK on any fd")) { _, t, a throws(LinuxErrno) in
                _ = try t.process.fds.get(a.int(0))
                throw .ENOTSOCK
            }
        }
    }
}
