import CLinuxABI
import UmkHost

// PosixMQ.swift: mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify and mq_getsetattr
// (ipc/mqueue.c), in Linux's order of checks. The queues are IPC/PosixQueue.swift's. Timeouts are absolute on
// CLOCK_REALTIME (ETIMEDOUT); a handled signal ends a wait with EINTR, or restarts it with SA_RESTART.

extension SyscallTable {
    mutating func addPosixMessageQueueCalls() {
        add(240, [.string, .openFlags, .mode, .pointer]) { k, t, a throws(LinuxErrno) in  // mq_open
            .value(Int(try k.sysMqOpen(t, name: a.address(0), flags: a.int(1), mode: UInt16(truncatingIfNeeded: a[2]),
                                       attributes: a.address(3))))
        }
        add(241, [.string]) { k, t, a throws(LinuxErrno) in  // mq_unlink
            try k.sysMqUnlink(t, name: a.address(0))
            return .value(0)
        }
        add(242, [.fd, .pointer, .uint, .uint, .pointer]) { k, t, a throws(LinuxErrno) in  // mq_timedsend
            try k.sysMqTimedsend(t, fd: a.int(0), message: a.address(1), size: a[2], priority: a.uint(3), timeout: a.address(4))
        }
        add(243, [.fd, .pointer, .uint, .pointer, .pointer]) { k, t, a throws(LinuxErrno) in  // mq_timedreceive
            try k.sysMqTimedreceive(t, fd: a.int(0), buffer: a.address(1), size: a[2], priority: a.address(3),
                                    timeout: a.address(4))
        }
        add(244, [.fd, .sigevent], .partial("SIGEV_THREAD (netlink) is refused")) { k, t, a throws(LinuxErrno) in  // mq_notify
            try k.sysMqNotify(t, fd: a.int(0), event: a.address(1))
            return .value(0)
        }
        add(245, [.fd, .pointer, .pointer]) { k, t, a throws(LinuxErrno) in  // mq_getsetattr
            try k.sysMqGetsetattr(t, fd: a.int(0), new: a.address(1), old: a.address(2))
            return .value(0)
        }
    }
}

extension Kernel {
    /// getname and lookup_one_len in the mqueue root: a name of one component.
    private func queueName(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> [UInt8] {
        let name = try t.mm.readString(at, max: 4096)
        guard !name.isEmpty else { throw .ENOENT }
        if name == [0x2e] || name == [0x2e, 0x2e] || name.contains(0x2f) { throw .EACCES }
        guard name.count <= MQ.nameMax else { throw .ENAMETOOLONG }
        return name
    }

    private func queueFile(_ t: Task, _ fd: Int32) throws(LinuxErrno) -> PosixQueueFile {
        guard let f = try t.process.fds.get(fd) as? PosixQueueFile else { throw .EBADF }
        return f
    }

    /// The absolute CLOCK_REALTIME timeout of a send or receive, checked (prepare_timeout).
    private func queueTimeout(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> linux_timespec? {
        guard !at.isNull else { return nil }
        let ts = try t.mm.read(at, as: linux_timespec.self)
        guard ts.tv_sec >= 0, ts.tv_nsec >= 0, ts.tv_nsec < 1_000_000_000 else { throw .EINVAL }
        return ts
    }

    /// A send or receive must wait: ETIMEDOUT once its timeout has passed, else block on the queue.
    private func waitOnQueue(_ t: Task, _ mq: PosixQueue, _ timeout: linux_timespec?) throws(LinuxErrno) -> SyscallOutcome {
        if let d = t.deadline {
            if HostClock.monotonicNanoseconds() >= d { throw .ETIMEDOUT }
        } else if let ts = timeout {
            let (s, ns) = try clockNow(t, 0)
            let wait = nanoseconds(ts.tv_sec, ts.tv_nsec) &- nanoseconds(s, ns)
            if wait <= 0 { throw .ETIMEDOUT }
            t.deadline = deadline(after: wait)
        }
        return .block(mq.queue)
    }

    /// do_mq_open. The descriptor is always close-on-exec, as on Linux.
    func sysMqOpen(_ t: Task, name at: GuestAddress, flags: Int32, mode: UInt16, attributes: GuestAddress) throws(LinuxErrno) -> Int32 {
        let attr = attributes.isNull ? nil : try t.mm.read(attributes, as: linux_mq_attr.self)
        let name = try queueName(t, at)
        let p = t.process
        let c = p.credentials
        let ns = ipc
        let mq: PosixQueue
        if let existing = ns.posixQueues[name] {
            if flags & (O.CREAT | O.EXCL) == O.CREAT | O.EXCL { throw .EEXIST }
            let access = flags & O.accessMode
            guard access != O.accessMode else { throw .EINVAL }
            guard existing.permits(access == O.RDONLY ? 4 : access == O.WRONLY ? 2 : 6, c) else { throw .EACCES }
            mq = existing
        } else {
            guard flags & O.CREAT != 0 else { throw .ENOENT }
            mq = try createQueue(t, name: name, mode: mode, attr: attr)
        }
        let file = PosixQueueFile(mq, kernel: self, flags: flags)
        do {
            return try p.fds.install(file, closeOnExec: true, limit: p.limits[RLIMIT.NOFILE].soft)
        } catch {
            file.released()
            throw error
        }
    }

    /// do_create: mq_attr_ok (the sysctl limits, or the hard ones for CAP_SYS_RESOURCE), queues_max
    /// (ENOSPC), then RLIMIT_MSGQUEUE of the caller's real uid (EMFILE).
    private func createQueue(_ t: Task, name: [UInt8], mode: UInt16, attr: linux_mq_attr?) throws(LinuxErrno) -> PosixQueue {
        let p = t.process
        let c = p.credentials
        let privileged = c.euid == 0
        let maxMessages = attr?.mq_maxmsg ?? Int64(MQ.msgMax)
        let messageSize = attr?.mq_msgsize ?? Int64(MQ.msgSizeMax)
        guard maxMessages > 0, messageSize > 0 else { throw .EINVAL }
        guard maxMessages <= Int64(privileged ? MQ.hardMsgMax : MQ.msgMax),
              messageSize <= Int64(privileged ? MQ.hardMsgSizeMax : MQ.msgSizeMax) else { throw .EINVAL }
        let ns = ipc
        if ns.posixQueueCount >= MQ.queuesMax && !privileged { throw .ENOSPC }
        // Both are small now: no overflow.
        let bytes = Int(maxMessages) * (Int(messageSize) + MQ.messageHeader) + min(Int(maxMessages), Int(MQ.prioMax)) * MQ.treeNode
        let used = ns.posixQueueBytes[c.uid, default: 0]
        let limit = p.limits[RLIMIT.MSGQUEUE].soft
        if limit != ResourceLimit.infinity && UInt64(used + bytes) > limit { throw .EMFILE }
        let mq = PosixQueue(name: name, ino: ns.nextQueueIno, mode: mode & ~UInt16(truncatingIfNeeded: p.umask) & 0o7777,
                            owner: c, maxMessages: Int(maxMessages), messageSize: Int(messageSize), accountedBytes: bytes)
        ns.nextQueueIno += 1
        ns.posixQueueBytes[c.uid] = used + bytes
        ns.posixQueueCount += 1
        ns.posixQueues[name] = mq
        return mq
    }

    /// mq_unlink: the name goes; the queue lives on while a descriptor has it. The mqueue root is sticky:
    /// only the queue's owner (or root) removes it.
    func sysMqUnlink(_ t: Task, name at: GuestAddress) throws(LinuxErrno) {
        let name = try queueName(t, at)
        let ns = ipc
        guard let mq = ns.posixQueues[name] else { throw .ENOENT }
        let c = t.process.credentials
        guard c.fsuid == 0 || c.fsuid == mq.uid else { throw .EPERM }
        ns.posixQueues[name] = nil
        mq.isLinked = false
        dropIfUnused(mq)
    }

    func sysMqTimedsend(_ t: Task, fd: Int32, message: GuestAddress, size: UInt64, priority: UInt32, timeout: GuestAddress)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let limit = try queueTimeout(t, timeout)
        guard priority < MQ.prioMax else { throw .EINVAL }
        let f = try queueFile(t, fd)
        guard f.isWritable else { throw .EBADF }
        let mq = f.mq
        guard size <= UInt64(mq.messageSize) else { throw .EMSGSIZE }
        let text = try t.mm.readBytes(message, Int(size))
        if mq.isFull {
            if f.isNonblocking { throw .EAGAIN }
            return try waitOnQueue(t, mq, limit)
        }
        try ipc.reserve(text.count + MSGQ.overhead)
        let receiverWaits = mq.queue.waiters.contains { $0.isAlive && $0.regs.origRax == 243 }  // not poll's
        mq.insert(text, priority: priority)
        (mq.mtime, mq.ctime) = (Tmpfs.now(), Tmpfs.now())
        if !receiverWaits { notifyArrival(mq, from: t) }
        wake(mq.queue, events: POLL.IN | POLL.RDNORM)
        return .value(0)
    }

    func sysMqTimedreceive(_ t: Task, fd: Int32, buffer: GuestAddress, size: UInt64, priority: GuestAddress, timeout: GuestAddress)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let limit = try queueTimeout(t, timeout)
        let f = try queueFile(t, fd)
        guard f.isReadable else { throw .EBADF }
        let mq = f.mq
        guard size >= UInt64(mq.messageSize) else { throw .EMSGSIZE }
        guard let m = mq.takeFirst() else {
            if f.isNonblocking { throw .EAGAIN }
            return try waitOnQueue(t, mq, limit)
        }
        ipc.release(m.text.count + MSGQ.overhead)
        mq.atime = Tmpfs.now()
        wake(mq.queue, events: POLL.OUT | POLL.WRNORM)
        if !priority.isNull { try t.mm.write(priority, m.priority) }
        try t.mm.writeBytes(buffer, m.text)
        return .value(m.text.count)
    }

    /// do_mq_notify: registers the caller's process for the next arrival in an empty queue (EBUSY if another
    /// is registered); a null sigevent unregisters it.
    func sysMqNotify(_ t: Task, fd: Int32, event: GuestAddress) throws(LinuxErrno) {
        var registration: (how: Int32, signal: Int32, value: UInt64)? = nil
        if !event.isNull {
            // struct sigevent: sigev_value, sigev_signo, sigev_notify, then a union (64 bytes in all).
            let b = try t.mm.readBytes(event, 64)
            func field(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * $1) } }
            let value = field(0, 8)
            let signal = Int32(truncatingIfNeeded: field(8, 4)), how = Int32(truncatingIfNeeded: field(12, 4))
            guard how == MQ.SIGEV_NONE || how == MQ.SIGEV_SIGNAL || how == MQ.SIGEV_THREAD else { throw .EINVAL }
            if how == MQ.SIGEV_SIGNAL && UInt32(bitPattern: signal) > 64 { throw .EINVAL }
            if how == MQ.SIGEV_THREAD {
                // The notification goes to a netlink socket (sigev_signo), after its 32-byte cookie is read.
                _ = try t.mm.readBytes(GuestAddress(value), 32)
                guard let s = try? t.process.fds.get(signal) else { throw .EBADF }
                throw s is UnixSocket ? .ECONNREFUSED : .ENOTSOCK
            }
            registration = (how, signal, value)
        }
        let mq = try queueFile(t, fd).mq
        let pid = t.process.pid
        guard let r = registration else {
            if notificationOwner(mq) === t.process { mq.notification = nil }
            return
        }
        if notificationOwner(mq) != nil { throw .EBUSY }
        mq.notification = (pid, r.how, r.signal, r.value)
        mq.ctime = Tmpfs.now()
    }

    /// do_mq_getsetattr: only O_NONBLOCK may change.
    func sysMqGetsetattr(_ t: Task, fd: Int32, new: GuestAddress, old: GuestAddress) throws(LinuxErrno) {
        let change = new.isNull ? nil : try t.mm.read(new, as: linux_mq_attr.self)
        if let change, change.mq_flags & ~Int64(O.NONBLOCK) != 0 { throw .EINVAL }
        let f = try queueFile(t, fd)
        var attr = linux_mq_attr()
        attr.mq_flags = Int64(f.statusFlags & O.NONBLOCK)
        attr.mq_maxmsg = Int64(f.mq.maxMessages)
        attr.mq_msgsize = Int64(f.mq.messageSize)
        attr.mq_curmsgs = Int64(f.mq.count)
        if let change {
            f.statusFlags = change.mq_flags != 0 ? f.statusFlags | O.NONBLOCK : f.statusFlags & ~O.NONBLOCK
            f.mq.ctime = Tmpfs.now()
        }
        if !old.isNull { try t.mm.write(old, attr) }
    }
}
