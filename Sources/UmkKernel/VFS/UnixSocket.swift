import UmkHost

// UnixSocket.swift: AF_UNIX sockets (net/unix/af_unix.c). A socket is an open file; a connected pair points at
// each other (weakly: closing one end is its deinit) and each end keeps the queue of what its peer sent it,
// bounded by the sender's SO_SNDBUF as Linux bounds a sender's memory in flight. A stream reads across what
// was sent; a datagram or seqpacket socket reads one message at a time. A reader of an empty queue and a
// writer with no room get EAGAIN, which the system call layer turns into a wait on the socket's own queue:
// a write wakes the peer's queue with POLLIN, a read wakes the peer's with POLLOUT. A listening socket keeps
// the server ends that connect made, up to its backlog, for accept. A stream's out-of-band byte (MSG_OOB) is a
// message of its own that reads stop at; a socket's pending error (sk_err) is answered once by the next call.
// FIXME: MSG_OOB raises no SIGURG (umk has no F_SETOWN).
final class UnixSocket: OpenFile {
    static let STREAM: Int32 = 1, DGRAM: Int32 = 2, SEQPACKET: Int32 = 5
    static let shutReceive = 1, shutSend = 2
    static let defaultBuffer = 212992  // net.core.wmem_default and rmem_default
    static let maxBuffer = 212992  // net.core.wmem_max and rmem_max
    static let maxMessages = 4096  // zero-length datagrams still take kernel memory
    static let maxBacklog = 4096  // net.core.somaxconn
    static let SO_PASSCRED: Int32 = 16, SO_OOBINLINE: Int32 = 10
    /// The credentials of a message sent with no SO_PASSCRED on either end: no pid, the overflow uid and gid.
    static let nobody: (Int32, UInt32, UInt32) = (0, 65534, 65534)

    enum State { case unconnected, listening, connected }

    /// A message's sender: its bound address when it sent (empty when unnamed) and its pid, uid and gid.
    struct Origin {
        var address: [UInt8]
        var credentials: (Int32, UInt32, UInt32)
    }

    unowned let kernel: Kernel
    let type: Int32
    let inode: UInt64
    let owner: (UInt32, UInt32)
    let queue = WaitQueue()
    var state = State.unconnected
    weak var peer: UnixSocket?
    /// SHUT_RD and SHUT_WR, set by shutdown on either end and by the peer's close.
    var shutdown = 0
    /// What the peer sent, not yet read: whole messages, the first partly read (streams) from `offset`.
    private var messages: [[UInt8]] = []
    /// The files each message carries (SCM_RIGHTS), in flight until a recvmsg installs them.
    private var rights: [[OpenFile]] = []
    /// Who sent each message: the sender's address then and its credentials (SCM_CREDENTIALS).
    private var origins: [Origin] = []
    /// The origin of the message the last receive took or peeked (recvfrom's address, SCM_CREDENTIALS).
    private(set) var lastOrigin = Origin(address: [], credentials: (0, 65534, 65534))
    private var first = 0
    private var offset = 0
    /// The sequence number of `messages[0]` (every message ever queued counts one), so that the out-of-band
    /// byte keeps its identity while the arrays shift.
    private var base = 0
    /// MSG_OOB (streams, Linux 5.15's oob_skb): the message holding the out-of-band byte, by sequence number.
    /// It stays in the queue; a MSG_OOB receive empties it, leaving an empty message as the mark.
    private var urgent: Int? = nil
    private(set) var queued = 0
    var sendBuffer = UnixSocket.defaultBuffer
    var receiveBuffer = UnixSocket.defaultBuffer
    /// Other SOL_SOCKET options set and read back as they are (SO_REUSEADDR, SO_PASSCRED, SO_KEEPALIVE ...).
    var options: [Int32: Int32] = [:]
    /// The peer's pid, euid and egid when the pair was made or the connection accepted (SO_PEERCRED).
    var peerCredentials: (Int32, UInt32, UInt32) = (0, 65534, 65534)
    /// The bound address as sockaddr_un's bytes after the family (a path with its NUL, or an abstract name
    /// starting with NUL); empty when unnamed.
    var address: [UInt8] = []
    var peerAddress: [UInt8] = []
    /// A path-bound socket's entry in the kernel's table, and an abstract one's.
    var boundKey: FileKey? = nil
    var listenBacklog = 0
    var pending: [UnixSocket] = []
    /// sk_err: an error the next receive or send answers once (and SO_ERROR reads and clears): ECONNRESET
    /// when the peer went with data unread or a datagram peer connected elsewhere, what a partial recvmmsg hit.
    var error: LinuxErrno? = nil

    init(kernel: Kernel, type: Int32, owner: Credentials, flags: Int32) {
        self.kernel = kernel
        self.type = type
        self.owner = (owner.euid, owner.egid)
        inode = kernel.numbers.next(\.socketInode)
        super.init(flags: O.RDWR | (flags & O.NONBLOCK), dentry: nil)
    }

    deinit {
        // Inside deinit the table's weak reference to this socket already reads nil.
        if let key = boundKey, kernel.unixSockets[key] != nil, kernel.unixSockets[key]?.socket == nil {
            kernel.unixSockets[key] = nil
        }
        if !address.isEmpty, address[0] == 0, kernel.abstractSockets[address] != nil,
           kernel.abstractSockets[address]?.socket == nil {
            kernel.abstractSockets[address] = nil
        }
        // A datagram socket may be connected to one that is connected elsewhere: leave that one's peer alone
        // (inside deinit a weak reference to this socket reads nil, so a peer pointing here reads nil too).
        if let peer, peer.peer == nil {
            if type != UnixSocket.DGRAM {
                peer.shutdown = UnixSocket.shutReceive | UnixSocket.shutSend
                if hasMessage { peer.error = .ECONNRESET }  // unix_release_sock: data lost unread
            }
            kernel.wake(peer.queue, events: POLL.IN | POLL.OUT | POLL.HUP | POLL.RDHUP | POLL.ERR)
        }
        // Connections never accepted go with the listener: their clients see the connection reset.
        for p in pending { p.peer?.error = .ECONNRESET }
        kernel.wake(queue)  // a connector waiting for room in the backlog finds nobody listening
        // The files in flight here, and the connections, go after this deinit, one at a time.
        // (Moved, not copied: a reference left here would free them nested, when this socket's fields go.)
        kernel.filesToRelease.append(contentsOf: rights.joined())
        kernel.filesToRelease.append(contentsOf: pending)
        rights.removeAll()
        pending.removeAll()
        kernel.releaseFiles()
    }

    var isStream: Bool { type == UnixSocket.STREAM }
    var isConnectionBased: Bool { type != UnixSocket.DGRAM }
    var wasConnected: Bool { state == .connected }

    static func connectPair(_ a: UnixSocket, _ b: UnixSocket) {
        a.peer = b
        b.peer = a
        a.state = .connected
        b.state = .connected
    }

    // MARK: the receive queue

    /// Takes (or with `peek` copies) what a read gets: across messages for a stream, one message otherwise.
    /// Returns the bytes copied and, for a message, its whole length (MSG_TRUNC).
    func receive(into io: IOSequence, peek: Bool) -> (Int, Int, [OpenFile]) {
        guard first < messages.count else { return (0, 0, []) }
        lastOrigin = origins[first]
        if !isStream {
            let m = messages[first]
            let n = io.copyOut(m)
            var files: [OpenFile] = []
            if !peek {
                files = rights[first]
                queued -= m.count
                dropFirstMessage()
            }
            return (n, m.count, files)
        }
        // A stream read stops at a message that carries files, and after one (unix_stream_read_generic).
        var done = 0
        var i = first, at = offset
        var files: [OpenFile] = []
        let inline = options[UnixSocket.SO_OOBINLINE] == 1
        while i < messages.count, done < io.count {
            if done > 0 && !rights[i].isEmpty { break }
            let m = messages[i]
            // manage_oob: a read stops at the mark (the out-of-band byte, or an empty message left by a
            // MSG_OOB receive when no other byte is out of band); at its start it skips both, taking the
            // out-of-band byte out of band unless SO_OOBINLINE reads it in line.
            if m.isEmpty {
                if done > 0 && urgent == nil { break }
                i += 1
                at = 0
                continue
            }
            if i == urgentIndex {
                if done > 0 { break }
                if !peek { urgent = nil }
                if !inline {
                    if !peek { queued -= 1 }
                    i += 1
                    at = 0
                    continue
                }
            }
            let n = io.dropFirst(done).copyOut(m[at...])
            done += n
            at += n
            let carried = !rights[i].isEmpty
            if !peek && carried {
                files = rights[i]
                rights[i] = []
            }
            if at < m.count { break }
            i += 1
            at = 0
            if carried { break }
        }
        if !peek {
            for _ in first..<i { dropFirstMessage() }
            offset = at
            queued -= done
        }
        return (done, done, files)
    }

    private func dropFirstMessage() {
        first += 1
        offset = 0
        if first == messages.count {
            base += messages.count
            messages.removeAll(keepingCapacity: true)
            rights.removeAll(keepingCapacity: true)
            origins.removeAll(keepingCapacity: true)
            first = 0
        } else if first > 1024 {
            base += first
            messages.removeFirst(first)
            rights.removeFirst(first)
            origins.removeFirst(first)
            first = 0
        }
    }

    /// Drops every queued message and the files they carry (skb_queue_purge).
    func purge() {
        base += messages.count
        urgent = nil
        messages.removeAll()
        rights.removeAll()
        origins.removeAll()
        first = 0
        offset = 0
        queued = 0
    }

    /// unix_dgram_disconnected: a datagram socket whose peer changes (connect elsewhere or AF_UNSPEC, a send
    /// finding the peer closed) loses what is queued; the old peer, if connected back, gets ECONNRESET.
    func disconnected(from old: UnixSocket?) {
        guard hasMessage else { return }
        purge()
        kernel.wake(queue, events: POLL.OUT | POLL.WRNORM)
        if let old, old.peer === self {
            old.error = .ECONNRESET
            kernel.wake(old.queue, events: POLL.ERR)
        }
    }

    /// sock_error: the pending error, cleared.
    func takeError() -> LinuxErrno? {
        defer { error = nil }
        return error
    }

    /// Calls `body` with every socket the queued messages carry, for the garbage collector.
    func forEachSocketInFlight(_ body: (UnixSocket) -> Void) {
        for files in rights[first...] {
            for case let s as UnixSocket in files { body(s) }
        }
    }

    var carriesFiles: Bool { rights[first...].contains { !$0.isEmpty } }

    var hasMessage: Bool { first < messages.count }

    private var urgentIndex: Int? {
        guard let urgent, urgent - base >= first, urgent - base < messages.count else { return nil }
        return urgent - base
    }

    /// What a stream read skips where it starts: an empty mark, and the out-of-band byte unless in line.
    private func skipped(_ i: Int) -> Bool {
        messages[i].isEmpty || (i == urgentIndex && options[UnixSocket.SO_OOBINLINE] != 1)
    }

    /// Whether a stream read finds data; a read that does not peek drops what it skips first (and with it
    /// the out-of-band byte), as unix_stream_read_generic does even when it then waits.
    private func streamHasData(peek: Bool) -> Bool {
        if !peek {
            while first < messages.count && skipped(first) {
                if first == urgentIndex {
                    urgent = nil
                    queued -= 1
                }
                dropFirstMessage()
            }
            return hasMessage
        }
        return (first..<messages.count).contains { !skipped($0) }
    }

    /// unix_stream_recv_urg: the out-of-band byte, taken unless peeking; none, or SO_OOBINLINE, is EINVAL.
    func receiveUrgent(into io: IOSequence, peek: Bool) throws(LinuxErrno) -> Int {
        guard isStream else { throw .EOPNOTSUPP }
        guard let i = urgentIndex, options[UnixSocket.SO_OOBINLINE] != 1 else { throw .EINVAL }
        _ = io.copyOut(messages[i])
        lastOrigin = origins[i]
        if !peek {
            urgent = nil
            messages[i] = []
            queued -= 1
            if let peer { kernel.wake(peer.queue, events: POLL.OUT | POLL.WRNORM, watchers: false) }
        }
        return 1
    }

    /// SIOCATMARK: whether the next read starts at the mark.
    var atMark: Bool {
        guard first < messages.count else { return false }
        let u = urgentIndex
        return first == u || (messages[first].isEmpty && (u == nil || u == first + 1))
    }
    var messageCount: Int { messages.count - first }

    func append(_ bytes: [UInt8], files: [OpenFile], origin: Origin) {
        if !files.isEmpty { kernel.socketCarriers[ObjectIdentifier(self)] = BoundSocket(socket: self) }
        messages.append(bytes)
        rights.append(files)
        origins.append(origin)
        queued += bytes.count
    }

    /// What FIONREAD reports: the bytes queued, or a datagram socket's next message's size. An out-of-band
    /// byte counts until taken; one a read skipped does not (Linux 6.18 still counts it in inq_len).
    var readableCount: Int { isConnectionBased ? queued : (hasMessage ? messages[first].count : 0) }

    // MARK: reads and writes

    func recv(into io: IOSequence, peek: Bool = false) throws(LinuxErrno) -> (Int, Int, [OpenFile]) {
        if state == .listening { throw .EINVAL }
        // A datagram receive answers the error first (__skb_try_recv_datagram), a stream one after the data.
        if !isStream, let e = takeError() { throw e }
        if isStream ? !streamHasData(peek: peek) : !hasMessage {
            if let e = takeError() { throw e }
            if shutdown & UnixSocket.shutReceive != 0 { return (0, 0, []) }
            if isConnectionBased && state != .connected { throw .ENOTCONN }
            throw .EAGAIN
        }
        let wasFull = peer.map { !$0.isWritable(into: self) } ?? false
        let r = receive(into: io, peek: peek)
        if !peek, let peer { kernel.wake(peer.queue, events: POLL.OUT | POLL.WRNORM, watchers: wasFull) }
        // Senders to this datagram socket by address wait for room on its own queue.
        if !peek && !isConnectionBased { kernel.wake(queue, events: POLL.OUT | POLL.WRNORM, watchers: false) }
        return r
    }

    /// unix_dgram_sendmsg's target: the given socket, else the connected peer. A connected datagram socket
    /// that lost its peer answers ECONNREFUSED once and is unconnected after (ENOTCONN).
    func destination(_ target: UnixSocket?) throws(LinuxErrno) -> UnixSocket {
        if let target { return target }
        if let peer { return peer }
        if state == .connected {
            if isConnectionBased { throw .EPIPE }
            state = .unconnected
            peerAddress = []
            disconnected(from: nil)
            throw .ECONNREFUSED
        }
        throw .ENOTCONN
    }

    /// Sends to the peer, or for a datagram socket to `target` (sendto with an address). A datagram socket
    /// connected elsewhere takes messages only from its peer (unix_may_send: EPERM).
    func send(from io: IOSequence, files: [OpenFile] = [], to target: UnixSocket? = nil,
              credentials: (Int32, UInt32, UInt32) = UnixSocket.nobody, explicit: Bool = false,
              urgent: Bool = false) throws(LinuxErrno) -> Int {
        if state == .listening { throw .EINVAL }
        // sock_alloc_send_pskb answers the pending error; a stream checks its shutdown and peer first.
        if !isStream, let e = takeError() { throw e }
        if shutdown & UnixSocket.shutSend != 0 { throw .EPIPE }
        let peer = try destination(target)
        if isStream, let e = takeError() { throw e }
        if !isConnectionBased, let other = peer.peer, other !== self { throw .EPERM }
        if peer.shutdown & UnixSocket.shutReceive != 0 { throw .EPIPE }
        // unix_maybe_add_creds: a message carries credentials given explicitly, or the sender's when either
        // end has SO_PASSCRED then; otherwise no pid and the overflow ids.
        let passing = options[UnixSocket.SO_PASSCRED] == 1 || peer.options[UnixSocket.SO_PASSCRED] == 1
        let origin = Origin(address: address, credentials: explicit || passing ? credentials : UnixSocket.nobody)
        let total = io.count
        if isStream && total == 0 { return 0 }  // nothing to queue: an empty message would read as end of file
        let room = sendBuffer - peer.queued
        if isStream {
            // MSG_OOB: all but the last byte go in line, then the last alone, out of band (queue_oob).
            let normal = urgent ? total - 1 : total
            var n = 0
            if normal > 0 {
                guard room > 0, peer.messageCount < UnixSocket.maxMessages else { throw .EAGAIN }
                var bytes: [UInt8] = []
                n = io.append(to: &bytes, limit: min(room, normal))
                peer.append(bytes, files: files, origin: origin)
                kernel.wake(peer.queue, events: POLL.IN | POLL.RDNORM)
                if n < normal { return n }
            }
            if urgent {
                guard peer.messageCount < UnixSocket.maxMessages else {
                    if n > 0 { return n }
                    throw .EAGAIN
                }
                var byte: [UInt8] = []
                _ = io.dropFirst(normal).append(to: &byte, limit: 1)
                peer.urgent = peer.base + peer.messages.count
                peer.append(byte, files: n == 0 ? files : [], origin: origin)
                kernel.wake(peer.queue, events: POLL.IN | POLL.RDNORM | POLL.PRI)
                n += 1
            }
            return n
        }
        guard total <= sendBuffer else { throw .EMSGSIZE }
        guard room >= total, peer.messageCount < UnixSocket.maxMessages else { throw .EAGAIN }
        var bytes: [UInt8] = []
        _ = io.append(to: &bytes)
        peer.append(bytes, files: files, origin: origin)
        kernel.wake(peer.queue, events: POLL.IN | POLL.RDNORM)
        return total
    }

    /// unix_writable: what is in flight to the peer takes at most a quarter of the send buffer.
    func isWritable(into peer: UnixSocket) -> Bool { peer.queued * 4 <= sendBuffer && peer.messageCount < UnixSocket.maxMessages }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int { try recv(into: io).0 }
    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        try send(from: io, credentials: kernel.current.map { kernel.senderCredentials($0) } ?? UnixSocket.nobody)
    }

    /// The last fd went: if sockets are in flight, this one may have been the last way to reach some.
    override func released() {
        super.released()
        kernel.socketReleased()
    }

    override var waitQueue: WaitQueue? { queue }
    override var writesCompletely: Bool { isStream }
    override var procLinkName: String { "socket:[\(inode)]" }
    override func reopenTarget() throws(LinuxErrno) -> Dentry { throw .ENXIO }

    override func readyEvents() -> Int16 {
        if state == .listening { return pending.isEmpty ? 0 : POLL.IN | POLL.RDNORM }
        var ev: Int16 = error == nil ? 0 : POLL.ERR
        if urgentIndex != nil { ev |= POLL.PRI }
        if hasMessage { ev |= POLL.IN | POLL.RDNORM }
        if shutdown & UnixSocket.shutReceive != 0 { ev |= POLL.RDHUP | POLL.IN | POLL.RDNORM }
        if shutdown == UnixSocket.shutReceive | UnixSocket.shutSend { ev |= POLL.HUP }
        if isConnectionBased && state == .unconnected { ev |= POLL.HUP }
        if let peer {
            if isWritable(into: peer) { ev |= POLL.OUT | POLL.WRNORM }
        } else {
            ev |= POLL.OUT | POLL.WRNORM
        }
        return ev
    }

    override func stat() throws(LinuxErrno) -> FileStat {
        var s = FileStat()
        s.mode = S.IFSOCK | 0o777
        s.nlink = 1
        s.ino = inode
        s.uid = owner.0
        s.gid = owner.1
        s.blksize = 4096
        s.devMinor = 8  // sockfs
        return s
    }

    override func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer?) throws(LinuxErrno) -> Int {
        guard let arg else { throw .ENOTTY }
        switch request {
        case 0x541b:  // FIONREAD (SIOCINQ)
            if state == .listening { throw .EINVAL }
            arg.storeBytes(of: Int32(clamping: readableCount), as: Int32.self)
        case 0x8905:  // SIOCATMARK
            guard isStream else { throw .EOPNOTSUPP }
            arg.storeBytes(of: Int32(atMark ? 1 : 0), as: Int32.self)
        default:
            throw .ENOTTY
        }
        return 0
    }
}

/// The kernel's table of bound sockets holds them weakly: a socket leaves it when it is closed.
struct BoundSocket {
    weak var socket: UnixSocket?
}
