import CLinuxABI

// Sockets.swift: the socket family (net/socket.c, net/unix/af_unix.c). AF_UNIX is the only family: stream,
// datagram and seqpacket pairs from socketpair, stream sockets bound to a path or an abstract name (listening,
// connecting, accepting), datagram sockets bound to either and sent to by address or connected, and files
// passed with SCM_RIGHTS. Other families answer EAFNOSUPPORT; a call that
// takes a socket fd answers EBADF for a bad fd and ENOTSOCK for a file that is not a socket. The socket itself
// lives in VFS/UnixSocket.swift, the collection of sockets in flight inside each other in VFS/UnixGarbage.swift,
// recvmmsg and sendmmsg in SocketBatches.swift. FIXME: MSG_OOB raises no SIGURG (umk has no F_SETOWN).
enum MSG {
    static let OOB: Int32 = 0x1, PEEK: Int32 = 0x2, CTRUNC: Int32 = 0x8, TRUNC: Int32 = 0x20, DONTWAIT: Int32 = 0x40
    static let WAITALL: Int32 = 0x100, NOSIGNAL: Int32 = 0x4000, CMSG_CLOEXEC: Int32 = 0x4000_0000
}

enum SOL {
    static let SOCKET: Int32 = 1
    static let AF_UNIX: Int32 = 1
    static let sockaddrStorage = 128
    static let sunPathOffset = 2
    static let sockaddrUnSize = 110
}

extension SyscallTable {
    mutating func addSocketCalls() {
        add(41, [.addressFamily, .socketType, .socketProtocol], .partial("AF_UNIX only; other families EAFNOSUPPORT")) { k, t, a throws(LinuxErrno) in
            try k.sysSocket(t, a)
        }
        add(53, [.addressFamily, .socketType, .socketProtocol, .fdPair], .partial("AF_UNIX only; other families EAFNOSUPPORT")) { k, t, a throws(LinuxErrno) in
            try k.sysSocketpair(t, a)
        }
        add(42, [.fd, .sockaddr(2), .int]) { k, t, a throws(LinuxErrno) in
            try k.sysConnect(t, a)
        }
        add(43, [.fd, .sockaddrOut(2), .socklenInOut]) { k, t, a throws(LinuxErrno) in try k.sysAccept(t, a, flags: 0) }
        add(288, [.fd, .sockaddrOut(2), .socklenInOut, .cloexec("SOCK")]) { k, t, a throws(LinuxErrno) in try k.sysAccept(t, a, flags: a.int(3)) }
        add(44, [.fd, .inBuffer(2), .uint, .messageFlags, .sockaddr(5), .int], .partial("MSG_OOB raises no SIGURG")) {
            k, t, a throws(LinuxErrno) in try k.sysSendto(t, a)
        }
        add(45, [.fd, .outBuffer, .uint, .messageFlags, .sockaddrOut(5), .socklenInOut]) { k, t, a throws(LinuxErrno) in
            try k.sysRecvfrom(t, a)
        }
        add(46, [.fd, .msghdr, .messageFlags], .partial("MSG_OOB raises no SIGURG")) {
            k, t, a throws(LinuxErrno) in try k.sysSendmsg(t, a)
        }
        add(47, [.fd, .out(.msghdr), .messageFlags], .partial("MSG_PEEK passes no files")) { k, t, a throws(LinuxErrno) in
            try k.sysRecvmsg(t, a)
        }
        add(48, [.fd, .shutdownHow]) { k, t, a throws(LinuxErrno) in try k.sysShutdown(t, a) }
        add(49, [.fd, .sockaddr(2), .int]) { k, t, a throws(LinuxErrno) in
            try k.sysBind(t, a)
        }
        add(50, [.fd, .int]) { k, t, a throws(LinuxErrno) in try k.sysListen(t, a) }
        add(51, [.fd, .sockaddrOut(2), .socklenInOut]) { k, t, a throws(LinuxErrno) in
            let s = try k.socket(t, a.int(0))
            try k.putAddress(t, s.address, a.address(1), a.address(2))
            return .value(0)
        }
        add(52, [.fd, .sockaddrOut(2), .socklenInOut]) { k, t, a throws(LinuxErrno) in
            let s = try k.socket(t, a.int(0))
            guard s.state == .connected, s.peer != nil || !s.isConnectionBased else { throw .ENOTCONN }
            try k.putAddress(t, s.peerAddress, a.address(1), a.address(2))
            return .value(0)
        }
        add(54, [.fd, .sockoptLevel, .sockoptName, .sockopt(4), .int32], .partial("SOL_SOCKET basics only")) { k, t, a throws(LinuxErrno) in
            try k.sysSetsockopt(t, a)
        }
        add(55, [.fd, .sockoptLevel, .sockoptName, .sockoptOut(4), .socklenInOut], .partial("SOL_SOCKET basics only")) { k, t, a throws(LinuxErrno) in
            try k.sysGetsockopt(t, a)
        }
        addSocketBatchCalls()
    }
}

extension Kernel {
    /// The socket an fd names: EBADF for no file, ENOTSOCK for a file that is not one.
    func socket(_ t: Task, _ fd: Int32) throws(LinuxErrno) -> UnixSocket {
        guard let s = try t.process.fds.get(fd) as? UnixSocket else { throw .ENOTSOCK }
        return s
    }

    /// socket(2)'s checks (__sock_create, unix_create): the flags, the family, the type and the protocol.
    func socketType(domain: Int32, type: Int32, proto: Int32) throws(LinuxErrno) -> (Int32, Int32) {
        let flags = type & ~0xf
        guard flags & ~(O.NONBLOCK | O.CLOEXEC) == 0 else { throw .EINVAL }
        guard domain == SOL.AF_UNIX else { throw .EAFNOSUPPORT }
        guard proto == 0 || proto == SOL.AF_UNIX else { throw .EPROTONOSUPPORT }
        switch type & 0xf {
        case UnixSocket.STREAM, UnixSocket.DGRAM, UnixSocket.SEQPACKET: return (type & 0xf, flags)
        case 3: return (UnixSocket.DGRAM, flags)  // SOCK_RAW is a datagram socket here
        default: throw .ESOCKTNOSUPPORT
        }
    }

    func newSocket(_ t: Task, type: Int32, flags: Int32) -> UnixSocket {
        UnixSocket(kernel: self, type: type, owner: t.process.credentials, flags: flags)
    }

    /// What SO_PEERCRED reports of `t` (cred_to_ucred: the pid, euid and egid).
    func creatorCredentials(_ t: Task) -> (Int32, UInt32, UInt32) {
        (t.process.pid, t.process.credentials.euid, t.process.credentials.egid)
    }

    func sysSocket(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let (type, flags) = try socketType(domain: a.int(0), type: a.int(1), proto: a.int(2))
        let s = newSocket(t, type: type, flags: flags)
        let fd = try t.process.fds.install(s, closeOnExec: flags & O.CLOEXEC != 0, limit: t.process.limits[RLIMIT.NOFILE].soft)
        return .value(Int(fd))
    }

    func sysSocketpair(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let (type, flags) = try socketType(domain: a.int(0), type: a.int(1), proto: a.int(2))
        let first = newSocket(t, type: type, flags: flags), second = newSocket(t, type: type, flags: flags)
        UnixSocket.connectPair(first, second)
        first.peerCredentials = creatorCredentials(t)
        second.peerCredentials = creatorCredentials(t)
        return try installPair(t, first, second, closeOnExec: flags & O.CLOEXEC != 0, at: a.address(3))
    }

    // MARK: addresses

    /// move_addr_to_kernel and unix_validate_addr: the bytes after sun_family (a path up to its NUL, or an
    /// abstract name), or nil for a bare family (autobind).
    func readAddress(_ t: Task, _ address: GuestAddress, _ length: Int32) throws(LinuxErrno) -> [UInt8]? {
        guard length >= 0, Int(length) <= SOL.sockaddrStorage else { throw .EINVAL }
        guard length >= Int32(SOL.sunPathOffset) else { throw .EINVAL }
        let bytes = try t.mm.readBytes(address, Int(length))
        guard UInt16(bytes[0]) | UInt16(bytes[1]) << 8 == UInt16(SOL.AF_UNIX) else { throw .EINVAL }
        if bytes.count == SOL.sunPathOffset { return nil }
        guard bytes.count <= SOL.sockaddrUnSize else { throw .EINVAL }
        let name = Array(bytes[SOL.sunPathOffset...])
        if name[0] == 0 { return name }
        if let end = name.firstIndex(of: 0) { return Array(name[..<end]) }
        return name
    }

    /// move_addr_to_user: as much of the address as the guest's length holds, and the whole length back.
    func putAddress(_ t: Task, _ name: [UInt8], _ address: GuestAddress, _ lengthAddress: GuestAddress,
                    unnamedLength: Int = SOL.sunPathOffset) throws(LinuxErrno) {
        guard lengthAddress.raw != 0 else { return }
        let length = try t.mm.read(lengthAddress, as: Int32.self)
        guard length >= 0 else { throw .EINVAL }
        let full: [UInt8] = name.isEmpty && unnamedLength == 0 ? [] : [UInt8(SOL.AF_UNIX), 0] + name
        let n = min(Int(length), full.count)
        if n > 0 { try t.mm.writeBytes(address, Array(full[..<n])) }
        try t.mm.write(lengthAddress, Int32(full.count))
    }

    /// The listening socket an address names: ENOENT and EACCES from the walk, ECONNREFUSED when nothing
    /// listens there.
    func lookupSocket(_ t: Task, _ name: [UInt8]) throws(LinuxErrno) -> UnixSocket {
        if name[0] == 0 {
            guard let s = abstractSockets[name]?.socket else { throw .ECONNREFUSED }
            return s
        }
        let start = try startDentry(t, AT.FDCWD, path: name)
        let d = try t.process.pathWalk.resolve(name, from: start, followFinal: true)
        let st = try d.inode.stat()
        guard t.process.credentials.permits(st, [.write]) else { throw .EACCES }
        guard st.mode & S.IFMT == S.IFSOCK, let s = unixSockets[FileKey(st)]?.socket else { throw .ECONNREFUSED }
        return s
    }

    func sysBind(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        var name: [UInt8]
        if let given = try readAddress(t, a.address(1), a.int(2)) {
            name = given
        } else {
            name = []
        }
        if !s.address.isEmpty {
            // unix_bind_bsd makes the node before it looks at the socket: a taken path is EADDRINUSE.
            if !name.isEmpty, name[0] != 0, let start = try? startDentry(t, AT.FDCWD, path: name),
               (try? t.process.pathWalk.resolve(name, from: start, followFinal: false)) != nil { throw .EADDRINUSE }
            throw .EINVAL
        }
        if name.isEmpty {
            try autobind(s)
            return .value(0)
        }
        if name[0] == 0 {
            if abstractSockets[name]?.socket != nil { throw .EADDRINUSE }
            abstractSockets[name] = BoundSocket(socket: s)
            s.address = name
            return .value(0)
        }
        let start = try startDentry(t, AT.FDCWD, path: name)
        let (parent, last) = try t.process.pathWalk.resolveParent(name, from: start)
        guard last.utf8.count <= PathWalk.maxComponent else { throw .ENAMETOOLONG }
        if last == "." || last == ".." || isMountPoint(t, parent, last) { throw .EADDRINUSE }
        let inode: Inode
        do {
            inode = try makeNode(t, in: parent, last, mode: S.IFSOCK | 0o777)
        } catch .EEXIST {
            throw .EADDRINUSE
        }
        let key = FileKey(try inode.stat())
        unixSockets[key] = BoundSocket(socket: s)
        s.boundKey = key
        s.address = name + [0]
        notifyCreate(in: parent, last, isDirectory: false)
        return .value(0)
    }

    /// unix_autobind: an abstract name of five hex digits, ENOSPC when all are taken.
    func autobind(_ s: UnixSocket) throws(LinuxErrno) {
        var name: [UInt8]
        var tries = 0
        repeat {
            tries += 1
            guard tries <= 0x100000 else { throw .ENOSPC }
            lastAutobind = (lastAutobind + 1) & 0xfffff
            name = [0] + Array(String(lastAutobind, radix: 16).leftPadded(5).utf8)
        } while abstractSockets[name]?.socket != nil
        abstractSockets[name] = BoundSocket(socket: s)
        s.address = name
    }

    /// A datagram sender with SO_PASSCRED and no name gets one, so its receiver can tell who sent.
    func autobindIfPassingCredentials(_ s: UnixSocket) throws(LinuxErrno) {
        if !s.isStream && s.address.isEmpty && s.options[Kernel.SO_PASSCRED] == 1 { try autobind(s) }
    }

    /// The datagram socket an address names (unix_find_other): the walk's errors, ECONNREFUSED when nothing
    /// is bound, EPROTOTYPE for a path of another type (an abstract name of another type is not found).
    func datagramTarget(_ t: Task, _ s: UnixSocket, _ name: [UInt8]) throws(LinuxErrno) -> UnixSocket {
        let target = try lookupSocket(t, name)
        guard target.type == s.type else { throw name[0] == 0 ? .ECONNREFUSED : .EPROTOTYPE }
        return target
    }

    /// unix_dgram_connect: AF_UNSPEC dissolves the association; otherwise the target becomes the only
    /// destination of sends without an address, and the socket receives only from it.
    func connectDatagram(_ t: Task, _ s: UnixSocket, _ address: GuestAddress, _ length: Int32) throws(LinuxErrno)
        -> SyscallOutcome
    {
        guard length >= 0, Int(length) <= SOL.sockaddrStorage else { throw .EINVAL }
        guard length >= Int32(SOL.sunPathOffset) else { throw .EINVAL }
        let family = try t.mm.read(address, as: UInt16.self)
        let old = s.peer, wasConnected = s.state == .connected
        if family == 0 {  // AF_UNSPEC
            s.peer = nil
            s.state = .unconnected
            s.peerAddress = []
            if wasConnected { s.disconnected(from: old) }
            return .value(0)
        }
        guard let name = try readAddress(t, address, length) else { throw .EINVAL }
        try autobindIfPassingCredentials(s)
        let target = try datagramTarget(t, s, name)
        if let other = target.peer, other !== s { throw .EPERM }  // unix_may_send
        s.peer = target
        s.state = .connected
        s.peerAddress = target.address
        if wasConnected && old !== target { s.disconnected(from: old) }
        return .value(0)
    }

    func sysListen(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        guard s.isConnectionBased else { throw .EOPNOTSUPP }
        guard !s.address.isEmpty, s.state != .connected else { throw .EINVAL }
        let backlog = UInt32(bitPattern: a.int(1))
        s.listenBacklog = Int(min(backlog, UInt32(UnixSocket.maxBacklog)))
        if s.state != .listening { s.peerCredentials = creatorCredentials(t) }
        s.state = .listening
        wake(s.queue, watchers: false)  // connectors waiting for room in a backlog that grew
        return .value(0)
    }

    func sysConnect(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        if !s.isConnectionBased { return try connectDatagram(t, s, a.address(1), a.int(2)) }
        guard let name = try readAddress(t, a.address(1), a.int(2)) else { throw .EINVAL }
        let listener = try lookupSocket(t, name)
        // An abstract name is found only among sockets of the same type; a path finds its socket.
        guard listener.type == s.type else { throw name[0] == 0 ? .ECONNREFUSED : .EPROTOTYPE }
        switch s.state {
        case .connected: throw .EISCONN
        case .listening: throw .EINVAL
        case .unconnected: break
        }
        guard listener.state == .listening else { throw .ECONNREFUSED }
        if listener.pending.count > listener.listenBacklog {
            if s.isNonblocking { throw .EAGAIN }
            return .block(listener.queue)
        }
        let server = newSocket(t, type: s.type, flags: 0)
        server.sendBuffer = listener.sendBuffer
        server.receiveBuffer = listener.receiveBuffer
        server.address = listener.address
        server.peerAddress = s.address
        server.peerCredentials = creatorCredentials(t)
        s.peerAddress = listener.address
        s.peerCredentials = listener.peerCredentials
        UnixSocket.connectPair(s, server)
        listener.pending.append(server)
        wake(listener.queue, events: POLL.IN | POLL.RDNORM)
        return .value(0)
    }

    func sysAccept(_ t: Task, _ a: SyscallArgs, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~(O.NONBLOCK | O.CLOEXEC) == 0 else { throw .EINVAL }
        let s = try socket(t, a.int(0))
        guard s.isConnectionBased else { throw .EOPNOTSUPP }
        guard s.state == .listening else { throw .EINVAL }
        guard !s.pending.isEmpty else {
            if s.isNonblocking { throw .EAGAIN }
            return .block(s.queue)
        }
        let server = s.pending.removeFirst()
        server.statusFlags = flags & O.NONBLOCK != 0 ? server.statusFlags | O.NONBLOCK : server.statusFlags & ~O.NONBLOCK
        wake(s.queue, watchers: false)  // a connector waiting for room
        let p = t.process
        let fd = try p.fds.install(server, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)
        if a.address(1).raw != 0 {
            do {
                try putAddress(t, server.peerAddress, a.address(1), a.address(2))
            } catch {
                try? p.fds.close(fd)
                throw error
            }
        }
        return .value(Int(fd))
    }

    func sysShutdown(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        let how = a.int(1)
        guard (0...2).contains(how) else { throw .EINVAL }
        let mode = Int(how) + 1
        s.shutdown |= mode
        if let peer = s.peer, s.isConnectionBased {
            if mode & UnixSocket.shutReceive != 0 { peer.shutdown |= UnixSocket.shutSend }
            if mode & UnixSocket.shutSend != 0 { peer.shutdown |= UnixSocket.shutReceive }
            wake(peer.queue, events: POLL.IN | POLL.OUT | POLL.HUP | POLL.RDHUP)
        }
        wake(s.queue, events: POLL.IN | POLL.OUT | POLL.HUP | POLL.RDHUP)
        return .value(0)
    }

    // MARK: sending and receiving

    /// A send on a socket: EAGAIN waits on the socket's queue unless it or the call is non-blocking; a
    /// blocking stream send waits until all is sent, keeping its progress in the task across restarts; EPIPE
    /// raises SIGPIPE unless MSG_NOSIGNAL.
    /// A datagram send waits for room on its destination's queue.
    func socketSend(_ t: Task, _ s: UnixSocket, _ io: IOSequence, flags: Int32, files: [OpenFile] = [],
                    to target: UnixSocket? = nil, credentials: (Int32, UInt32, UInt32)? = nil) throws(LinuxErrno)
        -> SyscallOutcome
    {
        let urgent = flags & MSG.OOB != 0
        let total = io.count
        // MSG_OOB: one byte, the last, on a stream only; an unconnected seqpacket socket is ENOTCONN first.
        if urgent && (!s.isStream || total == 0) && (s.isStream || s.type == UnixSocket.DGRAM || s.wasConnected) {
            throw .EOPNOTSUPP
        }
        let nonblocking = s.isNonblocking || flags & MSG.DONTWAIT != 0
        let done = s.isStream ? min(t.ioProgress, total) : 0
        let waitQueue = s.isConnectionBased ? s.queue : (target ?? s.peer ?? s).queue
        do {
            let n = try s.send(from: io.dropFirst(done), files: done == 0 ? files : [], to: target,
                               credentials: credentials ?? senderCredentials(t), explicit: credentials != nil,
                               urgent: urgent)
            if s.isStream && !nonblocking && done + n < total {
                t.ioProgress = done + n
                return .block(s.queue)
            }
            t.ioProgress = 0
            return .value(done + n)
        } catch .EAGAIN {
            if !nonblocking { return .block(waitQueue) }
            t.ioProgress = 0
            if done > 0 { return .value(done) }
            throw .EAGAIN
        } catch .EPIPE {
            t.ioProgress = 0
            if done > 0 { return .value(done) }
            if flags & MSG.NOSIGNAL == 0 && !signalSelf(t, 13) { return .exited }  // SIGPIPE
            throw .EPIPE
        }
    }

    /// A receive on a socket: the outcome, and the whole length of the message read (MSG_TRUNC). MSG_WAITALL
    /// on a blocking stream waits until the buffer is full, the stream ends or an error comes.
    func socketReceive(_ t: Task, _ s: UnixSocket, _ io: IOSequence, flags: Int32) throws(LinuxErrno)
        -> (SyscallOutcome, Int, [OpenFile])
    {
        let nonblocking = s.isNonblocking || flags & MSG.DONTWAIT != 0
        let peek = flags & MSG.PEEK != 0
        if flags & MSG.OOB != 0 {  // never waits
            if s.state == .listening { throw .EINVAL }
            let n = try s.receiveUrgent(into: io, peek: peek)
            return (.value(n), n, [])
        }
        let waitAll = flags & MSG.WAITALL != 0 && s.isStream && !nonblocking && !peek
        let done = waitAll ? min(t.ioProgress, io.count) : 0
        do {
            let (n, whole, files) = try s.recv(into: io.dropFirst(done), peek: peek)
            if waitAll && n > 0 && files.isEmpty && done + n < io.count {
                t.ioProgress = done + n
                return (.block(s.queue), 0, [])
            }
            t.ioProgress = 0
            return (.value(done + n), whole, files)
        } catch .EAGAIN {
            if !nonblocking { return (.block(s.queue), 0, []) }
            t.ioProgress = 0
            if done > 0 { return (.value(done), done, []) }
            throw .EAGAIN
        }
    }

    /// A destination address on a send: a connected stream has one already (EISCONN), an unconnected one
    /// cannot take one (EOPNOTSUPP); seqpacket ignores it once connected (ENOTCONN before); a datagram goes
    /// to the socket bound there.
    func destination(_ t: Task, _ s: UnixSocket, _ address: GuestAddress, _ length: Int32) throws(LinuxErrno)
        -> UnixSocket?
    {
        guard address.raw != 0, length != 0 else { return nil }
        guard length >= 0, Int(length) <= SOL.sockaddrStorage else { throw .EINVAL }
        let bytes = try t.mm.readBytes(address, Int(length))
        if s.isStream { throw s.state == .connected ? .EISCONN : .EOPNOTSUPP }
        if s.isConnectionBased {
            guard s.state == .connected else { throw .ENOTCONN }
            return nil
        }
        _ = bytes
        guard let name = try readAddress(t, address, length) else { throw .EINVAL }
        try autobindIfPassingCredentials(s)
        return try datagramTarget(t, s, name)
    }

    /// The credentials a message carries (scm_send's default): the sender's pid, real uid and real gid.
    func senderCredentials(_ t: Task) -> (Int32, UInt32, UInt32) {
        (t.process.pid, t.process.credentials.uid, t.process.credentials.gid)
    }

    func sysSendto(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        let n = min(a.count(2), Kernel.maxIOCount)
        let target = try destination(t, s, a.address(4), a.int(5))
        let io = try t.mm.ioSequence(a.address(1), n, write: false, partial: true)
        if target == nil { try autobindIfPassingCredentials(s) }
        return try socketSend(t, s, io, flags: a.int(3), to: target)
    }

    func sysRecvfrom(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        let n = min(a.count(2), Kernel.maxIOCount)
        let io = try receiveBuffer(t, s, a.address(1), n)
        let flags = a.int(3)
        let (outcome, whole, _) = try socketReceive(t, s, io, flags: flags)  // files without recvmsg are closed
        guard case .value(let got) = outcome else { return outcome }
        if a.address(4).raw != 0 { try putAddress(t, senderAddress(s), a.address(4), a.address(5), unnamedLength: 0) }
        return .value(flags & MSG.TRUNC != 0 && !s.isStream ? whole : got)
    }

    /// The address of who sent what a receive took: a stream's peer, a message's sender.
    func senderAddress(_ s: UnixSocket) -> [UInt8] {
        s.isStream ? s.peer?.address ?? [] : s.lastOrigin.address
    }

    /// The buffer a receive fills: a bad one is EFAULT only once there is something to put in it (an empty
    /// socket answers EAGAIN or waits first, as Linux copies only what it takes).
    func receiveBuffer(_ t: Task, _ s: UnixSocket, _ address: GuestAddress, _ count: Int) throws(LinuxErrno) -> IOSequence {
        do {
            return try t.mm.ioSequence(address, count, write: true, partial: true)
        } catch {
            if s.hasMessage { throw error }
            return IOSequence(pieces: [])
        }
    }

    /// A msghdr's iovecs as one sequence over guest memory (EMSGSIZE past UIO_MAXIOV).
    func messageIO(_ t: Task, _ iov: GuestAddress, _ count: UInt64, write: Bool) throws(LinuxErrno) -> IOSequence {
        guard count <= 1024 else { throw .EMSGSIZE }
        var parts: [IOSequence] = []
        var total = 0
        for i in 0..<Int(count) {
            let v = try t.mm.read(iov.advanced(by: MemoryLayout<linux_iovec>.stride * i), as: linux_iovec.self)
            let len = Int64(bitPattern: v.iov_len)
            guard len >= 0 else { throw .EINVAL }
            let n = min(Int(len), Kernel.maxIOCount - total)
            total += n
            parts.append(try t.mm.ioSequence(GuestAddress(v.iov_base), n, write: write))
        }
        return IOSequence(concatenating: parts)
    }

    func sysSendmsg(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        try sendMessage(t, try socket(t, a.int(0)), a.address(1), flags: a.int(2))
    }

    /// ___sys_sendmsg: one msghdr at `m`.
    func sendMessage(_ t: Task, _ s: UnixSocket, _ m: GuestAddress, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        let name = try t.mm.read(m, as: UInt64.self)
        let nameLength = try t.mm.read(m.advanced(by: 8), as: Int32.self)
        let iov = try t.mm.read(m.advanced(by: 16), as: UInt64.self)
        let iovCount = try t.mm.read(m.advanced(by: 24), as: UInt64.self)
        let control = try t.mm.read(m.advanced(by: 32), as: UInt64.self)
        let controlLength = try t.mm.read(m.advanced(by: 40), as: UInt64.self)
        let target = try destination(t, s, GuestAddress(name), nameLength)
        let (files, credentials) = try controlMessages(t, GuestAddress(control), controlLength)
        let io = try messageIO(t, GuestAddress(iov), iovCount, write: false)
        if target == nil { try autobindIfPassingCredentials(s) }
        return try socketSend(t, s, io, flags: flags, files: files, to: target, credentials: credentials)
    }

    static let SCM_RIGHTS: Int32 = 1, SCM_CREDENTIALS: Int32 = 2, maxRights = 253  // SCM_MAX_FD
    static let maxControl = 20480  // net.core.optmem_max

    /// __scm_send: the files of the SCM_RIGHTS messages among a sendmsg's control messages (EBADF for a bad
    /// fd, EINVAL for a malformed header or more than SCM_MAX_FD files), and the credentials of an
    /// SCM_CREDENTIALS message (scm_check_creds: EPERM for ids the sender may not claim, ESRCH for no such
    /// process); messages of other levels are ignored.
    func controlMessages(_ t: Task, _ control: GuestAddress, _ length: UInt64) throws(LinuxErrno)
        -> ([OpenFile], (Int32, UInt32, UInt32)?)
    {
        guard length >= 16 else { return ([], nil) }
        guard length <= UInt64(Kernel.maxControl) else { throw .ENOBUFS }
        let bytes = try t.mm.readBytes(control, Int(length))
        var files: [OpenFile] = []
        var credentials: (Int32, UInt32, UInt32)? = nil
        func u32(_ p: Int) -> UInt32 { bytes[p..<p + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        var at = 0
        while at + 16 <= bytes.count {
            let cmsgLength = bytes[at..<at + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let level = Int32(bitPattern: bytes[at + 8..<at + 12].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            let type = Int32(bitPattern: bytes[at + 12..<at + 16].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard cmsgLength >= 16, cmsgLength <= UInt64(bytes.count - at) else { throw .EINVAL }
            let end = at + Int(cmsgLength)
            if level == SOL.SOCKET {
                switch type {
                case Kernel.SCM_RIGHTS:
                    let count = (end - at - 16) / 4
                    guard count > 0, files.count + count <= Kernel.maxRights else { throw .EINVAL }
                    for i in 0..<count {
                        let p = at + 16 + 4 * i
                        let fd = Int32(bitPattern: bytes[p..<p + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                        files.append(try t.process.fds.get(fd))
                    }
                case Kernel.SCM_CREDENTIALS:
                    guard end - at == 28 else { throw .EINVAL }  // CMSG_LEN(sizeof(struct ucred))
                    let c = (Int32(bitPattern: u32(at + 16)), u32(at + 20), u32(at + 24))
                    try checkCredentials(t, c)
                    credentials = c
                default:
                    throw .EINVAL
                }
            }
            at = (end + 7) & ~7
        }
        return (files, credentials)
    }

    /// scm_check_creds: a process may claim its own pid (any with CAP_SYS_ADMIN, here root), one of its
    /// real, effective or saved uids and gids (any with CAP_SETUID and CAP_SETGID).
    func checkCredentials(_ t: Task, _ c: (Int32, UInt32, UInt32)) throws(LinuxErrno) {
        let p = t.process, me = p.credentials, root = me.euid == 0
        guard c.0 == p.pid || root else { throw .EPERM }
        guard [me.uid, me.euid, me.suid].contains(c.1) || root else { throw .EPERM }
        guard [me.gid, me.egid, me.sgid].contains(c.2) || root else { throw .EPERM }
        guard c.0 > 0, processes[c.0] != nil else { throw .ESRCH }
    }

    func sysRecvmsg(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        try receiveMessage(t, try socket(t, a.int(0)), a.address(1), flags: a.int(2))
    }

    /// ___sys_recvmsg: one msghdr at `m`, its name, control and flags filled.
    func receiveMessage(_ t: Task, _ s: UnixSocket, _ m: GuestAddress, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        let name = try t.mm.read(m, as: UInt64.self)
        let iov = try t.mm.read(m.advanced(by: 16), as: UInt64.self)
        let iovCount = try t.mm.read(m.advanced(by: 24), as: UInt64.self)
        let io = try messageIO(t, GuestAddress(iov), iovCount, write: true)
                let control = try t.mm.read(m.advanced(by: 32), as: UInt64.self)
        let controlLength = try t.mm.read(m.advanced(by: 40), as: UInt64.self)
        let (outcome, whole, files) = try socketReceive(t, s, io, flags: flags)
        guard case .value(let got) = outcome else { return outcome }
        if name != 0 {
            try putAddress(t, senderAddress(s), GuestAddress(name), m.advanced(by: 8), unnamedLength: 0)
        } else {
            try t.mm.write(m.advanced(by: 8), Int32(0))
        }
        // scm_detach_fds: as many files as the control buffer holds, MSG_CTRUNC for the rest (closed).
        var used = 0
        // ___sys_recvmsg keeps MSG_CMSG_CLOEXEC of the call's flags in msg_flags.
        var messageFlags: Int32 = (!s.isStream && whole > got ? MSG.TRUNC : 0) | flags & (MSG.CMSG_CLOEXEC | MSG.OOB)
        // scm_recv: SO_PASSCRED's SCM_CREDENTIALS comes before the files, cut short by a short buffer.
        if s.options[Kernel.SO_PASSCRED] == 1 {
            if controlLength < 16 {
                messageFlags |= MSG.CTRUNC
            } else {
                var b = ByteWriter(count: 28)
                b.put(UInt64(min(controlLength, 28)), at: 0)  // put_cmsg: the length of what fits
                b.put(SOL.SOCKET, at: 8)
                b.put(Kernel.SCM_CREDENTIALS, at: 12)
                let c = s.lastOrigin.credentials
                b.put(c.0, at: 16)
                b.put(c.1, at: 20)
                b.put(c.2, at: 24)
                if controlLength < 28 { messageFlags |= MSG.CTRUNC }
                let n = Int(min(controlLength, 28))
                try t.mm.writeBytes(GuestAddress(control), Array(b.bytes[..<n]))
                used = Int(min(controlLength, 32))
            }
        }
        let controlRest = controlLength - UInt64(used)
        if !files.isEmpty {
            let room = controlRest >= 16 ? Int(min(controlRest - 16, UInt64(4 * files.count))) / 4 : 0
            if room < files.count { messageFlags |= MSG.CTRUNC }
            if room > 0 {
                let p = t.process
                var fds: [Int32] = []
                for f in files.prefix(room) {
                    guard let fd = try? p.fds.install(f, closeOnExec: flags & MSG.CMSG_CLOEXEC != 0,
                                                       limit: p.limits[RLIMIT.NOFILE].soft) else {
                        messageFlags |= MSG.CTRUNC
                        break
                    }
                    fds.append(fd)
                }
                if !fds.isEmpty {
                    var b = ByteWriter(count: 16 + 4 * fds.count)
                    b.put(UInt64(16 + 4 * fds.count), at: 0)
                    b.put(SOL.SOCKET, at: 8)
                    b.put(Kernel.SCM_RIGHTS, at: 12)
                    for (i, fd) in fds.enumerated() { b.put(fd, at: 16 + 4 * i) }
                    do {
                        try t.mm.writeBytes(GuestAddress(control).advanced(by: used), b.bytes)
                    } catch {
                        for fd in fds { try? p.fds.close(fd) }
                        throw error
                    }
                    used += min((16 + 4 * fds.count + 7) & ~7, Int(controlRest))
                }
            }
        }
        try t.mm.write(m.advanced(by: 40), UInt64(used))
        try t.mm.write(m.advanced(by: 48), messageFlags)
        return .value(flags & MSG.TRUNC != 0 && !s.isStream ? whole : got)
    }

    // MARK: options

    static let SO_TYPE: Int32 = 3, SO_ERROR: Int32 = 4, SO_SNDBUF: Int32 = 7, SO_RCVBUF: Int32 = 8
    static let SO_PASSCRED: Int32 = 16, SO_PEERCRED: Int32 = 17, SO_ACCEPTCONN: Int32 = 30, SO_PROTOCOL: Int32 = 38, SO_DOMAIN: Int32 = 39
    /// Options kept as a flag: SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_PASSCRED.
    static let flagOptions: Set<Int32> = [2, 5, 6, 9, 10, 16]
    /// Options kept as a value: SO_PRIORITY, SO_RCVLOWAT, SO_SNDLOWAT.
    static let valueOptions: [Int32: Int32] = [12: 0, 18: 1, 19: 1]

    func sysSetsockopt(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        guard a.int(1) == SOL.SOCKET else { throw .EOPNOTSUPP }
        guard a.int(4) >= 4 else { throw .EINVAL }
        let name = a.int(2)
        let value = try t.mm.read(a.address(3), as: Int32.self)
        switch name {
        case Kernel.SO_SNDBUF:
            s.sendBuffer = max(Int(min(UInt32(bitPattern: value), UInt32(UnixSocket.maxBuffer))) * 2, 4608)
            wake(s.queue, events: POLL.OUT | POLL.WRNORM)
        case Kernel.SO_RCVBUF:
            s.receiveBuffer = max(Int(min(UInt32(bitPattern: value), UInt32(UnixSocket.maxBuffer))) * 2, 2304)
        case _ where Kernel.flagOptions.contains(name):
            s.options[name] = value != 0 ? 1 : 0
        case _ where Kernel.valueOptions[name] != nil:
            s.options[name] = value
        default:
            throw .ENOPROTOOPT
        }
        return .value(0)
    }

    func sysGetsockopt(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        guard a.int(1) == SOL.SOCKET else { throw .EOPNOTSUPP }
        let length = try t.mm.read(a.address(4), as: Int32.self)
        guard length >= 0 else { throw .EINVAL }
        let name = a.int(2)
        var b: ByteWriter
        func int(_ v: Int) -> ByteWriter {
            var w = ByteWriter(count: 4)
            w.put(Int32(clamping: v), at: 0)
            return w
        }
        switch name {
        case Kernel.SO_TYPE: b = int(Int(s.type))
        case Kernel.SO_ERROR: b = int(Int(s.takeError()?.rawValue ?? 0))
        case Kernel.SO_SNDBUF: b = int(s.sendBuffer)
        case Kernel.SO_RCVBUF: b = int(s.receiveBuffer)
        case Kernel.SO_DOMAIN: b = int(Int(SOL.AF_UNIX))
        case Kernel.SO_PROTOCOL: b = int(0)
        case Kernel.SO_ACCEPTCONN: b = int(s.state == .listening ? 1 : 0)
        case Kernel.SO_PEERCRED:
            b = ByteWriter(count: 12)
            let c = s.peerCredentials
            b.put(c.0, at: 0)
            b.put(c.1, at: 4)
            b.put(c.2, at: 8)
        case _ where Kernel.flagOptions.contains(name): b = int(Int(s.options[name] ?? 0))
        case _ where Kernel.valueOptions[name] != nil: b = int(Int(s.options[name] ?? Kernel.valueOptions[name] ?? 0))
        default: throw .ENOPROTOOPT
        }
        let n = min(Int(length), b.bytes.count)
        if n > 0 { try t.mm.writeBytes(a.address(3), Array(b.bytes[..<n])) }
        try t.mm.write(a.address(4), Int32(n))
        return .value(0)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
