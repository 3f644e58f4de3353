// Epoll.swift: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2 (fs/eventpoll.c).
// The instance and its ready list are VFS/EventPoll.swift's; here are the argument checks, in Linux's order,
// and the wait, which is poll's (Poll.swift): nothing ready and time left, the task waits on the instance's
// queue, which every watched file's wake reaches.
extension SyscallTable {
    mutating func addEpollCalls() {
        add(213, [.int]) { k, t, a throws(LinuxErrno) in
            guard a.int(0) > 0 else { throw .EINVAL }  // the size is ignored, but must be positive
            return try k.epollCreate(t, flags: 0)
        }
        add(291, [.cloexec("EPOLL")]) { k, t, a throws(LinuxErrno) in try k.epollCreate(t, flags: a.int(0)) }
        add(233, [.fd, .epollOp, .fd, .epollEvent], .partial("EPOLLWAKEUP and EPOLLEXCLUSIVE are accepted and have no effect")) {
            k, t, a throws(LinuxErrno) in
            try k.epollCtl(t, epfd: a.int(0), op: a.int(1), fd: a.int(2), event: a.address(3))
        }
        add(232, [.fd, .epollEvents, .int, .int]) { k, t, a throws(LinuxErrno) in
            let ms = a.int(3)
            return try k.epollWait(t, a.int(0), a.address(1), a.int(2), timeout: ms < 0 ? nil : Int64(ms) * 1_000_000)
        }
        add(281, [.fd, .epollEvents, .int, .int, .sigset(5), .uint]) { k, t, a throws(LinuxErrno) in
            let ms = a.int(3)
            return try k.epollPwait(t, a, timeout: ms < 0 ? nil : Int64(ms) * 1_000_000)
        }
        add(441, [.fd, .epollEvents, .int, .timespec, .sigset(5), .uint]) { k, t, a throws(LinuxErrno) in
            let timeout = a.address(3).isNull ? nil : try k.relativeTimeout(t, a.address(3))
            return try k.epollPwait(t, a, timeout: timeout)
        }
    }
}

extension Kernel {
    /// do_epoll_create: EPOLL_CLOEXEC only.
    func epollCreate(_ t: Task, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~O.CLOEXEC == 0 else { throw .EINVAL }
        guard epollInstances < EpollFile.maxInstances else { throw .EMFILE }
        let p = t.process
        let file = EpollFile(kernel: self, flags: flags)
        let fd = try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)
        epollInstances += 1
        return .value(Int(fd))
    }

    /// do_epoll_ctl, its checks in Linux's order: the event copied in (EFAULT), both fds (EBADF), a file that
    /// can be polled (EPERM), an epoll instance that is not the file itself (EINVAL), EPOLLEXCLUSIVE's
    /// rules (EINVAL), loops and nesting (ELOOP), then the op itself (EEXIST, ENOENT, EINVAL).
    func epollCtl(_ t: Task, epfd: Int32, op: Int32, fd: Int32, event: GuestAddress) throws(LinuxErrno) -> SyscallOutcome {
        var events: UInt32 = 0, data: UInt64 = 0
        if op != EPOLL.CTL_DEL {
            events = try t.mm.read(event, as: UInt32.self)
            data = try t.mm.read(event.advanced(by: 4), as: UInt64.self)
        }
        let file = try t.process.fds.get(epfd)
        let target = try t.process.fds.get(fd)
        guard target.supportsPoll, !target.isPathOnly else { throw .EPERM }
        events &= ~EPOLL.WAKEUP  // needs CAP_BLOCK_SUSPEND, and means nothing here
        guard let ep = file as? EpollFile, ep !== target else { throw .EINVAL }
        if op != EPOLL.CTL_DEL && events & EPOLL.EXCLUSIVE != 0 {
            if op == EPOLL.CTL_MOD { throw .EINVAL }
            if op == EPOLL.CTL_ADD && (target is EpollFile || events & ~EPOLL.exclusiveOKBits != 0) { throw .EINVAL }
        }
        if op == EPOLL.CTL_ADD, let inner = target as? EpollFile {
            // ep_loop_check: no path back to `ep`, and no chain deeper than EP_MAX_NESTS.
            guard let below = inner.depthBelow(reaching: ep), below + 1 + ep.depthAbove() <= EpollFile.maxNesting else {
                throw .ELOOP
            }
        }
        let existing = ep.entry(fd: fd, file: target)
        switch op {
        case EPOLL.CTL_ADD:
            guard existing == nil else { throw .EEXIST }
            try ep.insert(fd: fd, file: target, events: events | EPOLL.ERR | EPOLL.HUP, data: data)
        case EPOLL.CTL_DEL:
            guard let existing else { throw .ENOENT }
            ep.remove(existing)
        case EPOLL.CTL_MOD:
            guard let existing else { throw .ENOENT }
            guard existing.events & EPOLL.EXCLUSIVE == 0 else { throw .EINVAL }
            ep.modify(existing, events: events | EPOLL.ERR | EPOLL.HUP, data: data)
        default:
            throw .EINVAL
        }
        return .value(0)
    }

    /// epoll_pwait and epoll_pwait2: epoll_wait under a temporary signal mask, as ppoll.
    func epollPwait(_ t: Task, _ a: SyscallArgs, timeout: Int64?) throws(LinuxErrno) -> SyscallOutcome {
        try applyTemporaryMask(t, a.address(4), size: a[5])
        do throws(LinuxErrno) {
            return try epollWait(t, a.int(0), a.address(1), a.int(2), timeout: timeout)
        } catch {
            restoreTemporaryMask(t)
            throw error
        }
    }

    /// do_epoll_wait: maxevents in 1...INT_MAX/12 (EINVAL), an events array inside the user range (EFAULT:
    /// access_ok only, as Linux, so a NULL array faults only once there is something to report), an epoll
    /// fd (EBADF, EINVAL); then the ready entries, or a wait.
    func epollWait(_ t: Task, _ epfd: Int32, _ events: GuestAddress, _ maxEvents: Int32, timeout: Int64?) throws(LinuxErrno)
        -> SyscallOutcome
    {
        guard maxEvents > 0, maxEvents <= Int32.max / Int32(EPOLL.eventSize) else { throw .EINVAL }
        let bytes = UInt64(maxEvents) * UInt64(EPOLL.eventSize)
        guard events.raw < Kernel.userAddressLimit, Kernel.userAddressLimit - events.raw >= bytes else { throw .EFAULT }
        guard let ep = try t.process.fds.get(epfd) as? EpollFile else { throw .EINVAL }
        let reports = ep.harvest(max: Int(maxEvents))
        if let wait = try waitIfNothingReady(t, ready: reports.count, timeout: timeout, queues: [ep.queue]) { return wait }
        guard !reports.isEmpty else { return .value(0) }
        var b = ByteWriter(count: reports.count * EPOLL.eventSize)
        for (i, (e, ev)) in reports.enumerated() {
            b.put(ev, at: i * EPOLL.eventSize)
            b.put(e.data, at: i * EPOLL.eventSize + 4)
        }
        do {
            try t.mm.writeBytes(events, b.bytes)
        } catch {
            ep.putBack(reports)
            throw error
        }
        ep.commit(reports)
        return .value(reports.count)
    }

    /// TASK_SIZE_MAX on x86-64 with 4-level paging: the end of the user address range (access_ok).
    static let userAddressLimit: UInt64 = 0x7fff_ffff_f000
}
