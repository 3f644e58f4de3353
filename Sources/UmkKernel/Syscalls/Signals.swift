import UmkHost

// Signals.swift: signal dispositions, masks, sending and waiting (kernel/signal.c). Delivery to handlers is
// Task/SignalDelivery.swift.
enum Signal {
    static let KILL: Int32 = 9, STOP: Int32 = 19
    /// Signals whose default action is to do nothing: SIGCHLD, SIGCONT, SIGURG, SIGWINCH.
    static let ignoredByDefault: Set<Int32> = [17, 18, 23, 28]
    static let unblockable: UInt64 = (1 << (9 - 1)) | (1 << (19 - 1))
}

extension SyscallTable {
    mutating func addSignalCalls() {
        add(13, [.signal, .pointer, .pointer, .uint]) { k, t, a throws(LinuxErrno) in try k.sysRtSigaction(t, a) }
        add(14, [.int, .pointer, .pointer, .uint]) { k, t, a throws(LinuxErrno) in try k.sysRtSigprocmask(t, a) }
        add(131, [.pointer, .pointer]) { k, t, a throws(LinuxErrno) in try k.sysSigaltstack(t, a) }
        add(15, []) { k, t, _ throws(LinuxErrno) in
            do {
                return try k.signalReturn(t)
            } catch {
                // A frame that cannot be read or restored: Linux's signal_fault, a SIGSEGV the task cannot catch.
                k.terminate(t.process, .signaled(11))
                return .exited
            }
        }
        add(130, [.pointer, .uint]) { k, t, a throws(LinuxErrno) in  // rt_sigsuspend
            guard a[1] == 8 else { throw .EINVAL }
            if t.savedMask == nil {
                let mask = try t.mm.read(a.address(0), as: UInt64.self)
                t.savedMask = t.signalMask
                t.signalMask = mask & ~Signal.unblockable
            }
            return try k.waitForSignal(t)
        }
        add(34, []) { k, t, _ throws(LinuxErrno) in try k.waitForSignal(t) }  // pause
        add(127, [.pointer, .uint]) { _, t, a throws(LinuxErrno) in  // rt_sigpending
            guard a[1] <= 8 else { throw .EINVAL }
            try t.mm.write(a.address(0), t.pendingSignals & t.signalMask)
            return .value(0)
        }
        add(62, [.int, .signal]) { k, t, a throws(LinuxErrno) in try k.sysKill(t, a.int(0), a.int(1)) }
        add(234, [.int, .int, .signal], .partial("one thread per process")) { k, t, a throws(LinuxErrno) in
            guard a.int(0) > 0, a.int(1) > 0 else { throw .EINVAL }
            guard let p = k.processes[a.int(0)], p.exitStatus == nil, p.tasks.first?.tid == a.int(1) else { throw .ESRCH }
            return try k.sysKill(t, p.pid, a.int(2))
        }
        add(200, [.int, .signal], .partial("one thread per process")) { k, t, a throws(LinuxErrno) in
            guard a.int(0) > 0 else { throw .EINVAL }
            guard let p = k.processes[a.int(0)], p.exitStatus == nil else { throw .ESRCH }
            return try k.sysKill(t, p.pid, a.int(1))
        }
    }
}

extension Kernel {
    func sysRtSigaction(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let sig = a.int(0)
        guard a[3] == 8 else { throw .EINVAL }
        guard sig >= 1, sig <= 64 else { throw .EINVAL }
        var new: SignalAction? = nil
        if !a.address(1).isNull {
            guard sig != Signal.KILL && sig != Signal.STOP else { throw .EINVAL }
            let b = try t.mm.readBytes(a.address(1), 32)
            let v = b.withUnsafeBytes { raw in (0..<4).map { i in raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self) } }
            new = SignalAction(handler: v[0], flags: v[1], restorer: v[2], mask: v[3] & ~Signal.unblockable)
        }
        if !a.address(2).isNull {
            let old = t.process.signalActions[Int(sig)]
            var b = ByteWriter(count: 32)
            b.put(old.handler, at: 0)
            b.put(old.flags, at: 8)
            b.put(old.restorer, at: 16)
            b.put(old.mask, at: 24)
            try t.mm.writeBytes(a.address(2), b.bytes)
        }
        if let new { t.process.signalActions[Int(sig)] = new }
        return .value(0)
    }

    func sysRtSigprocmask(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        guard a[3] == 8 else { throw .EINVAL }
        var next = t.signalMask
        if !a.address(1).isNull {
            let set = try t.mm.read(a.address(1), as: UInt64.self)
            switch a.int(0) {
            case 0: next |= set  // SIG_BLOCK
            case 1: next &= ~set  // SIG_UNBLOCK
            case 2: next = set  // SIG_SETMASK
            default: throw .EINVAL
            }
        }
        if !a.address(2).isNull { try t.mm.write(a.address(2), t.signalMask) }
        t.signalMask = next & ~Signal.unblockable
        return deliverPending(t) ?? .value(0)
    }

    func sysSigaltstack(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        var next = t.alternateStack
        if !a.address(0).isNull {
            let base = try t.mm.read(a.address(0), as: UInt64.self)
            let flags = try t.mm.read(a.address(0).advanced(by: 8), as: Int32.self)
            let size = try t.mm.read(a.address(0).advanced(by: 16), as: UInt64.self)
            let autodisarm = Int32(bitPattern: 1 << 31)
            guard flags & ~(2 | autodisarm) == 0 else { throw .EINVAL }
            if flags & 2 != 0 {
                next = (0, 0, 2)
            } else {
                guard size >= 2048 else { throw .ENOMEM }  // MINSIGSTKSZ
                next = (base, size, flags)
            }
        }
        if !a.address(1).isNull {
            var b = ByteWriter(count: 24)
            b.put(t.alternateStack.base, at: 0)
            b.put(t.alternateStack.flags, at: 8)
            b.put(t.alternateStack.size, at: 16)
            try t.mm.writeBytes(a.address(1), b.bytes)
        }
        t.alternateStack = next
        return .value(0)
    }

    /// kill(2): to a process, the caller's group (0), every process but 1 and the caller (-1), or a group.
    func sysKill(_ t: Task, _ pid: Int32, _ sig: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard sig >= 0, sig <= 64 else { throw .EINVAL }
        let targets: [Process]
        switch pid {
        case 0: targets = processes.values.filter { $0.processGroup == t.process.processGroup }
        case -1: targets = processes.values.filter { $0.pid != 1 && $0 !== t.process }
        case Int32.min: throw .ESRCH
        case ..<0: targets = processes.values.filter { $0.processGroup == -pid }
        default: targets = processes[pid].map { [$0] } ?? []
        }
        guard !targets.isEmpty else { throw .ESRCH }
        if sig == 0 { return .value(0) }
        for p in targets.sorted(by: { $0.pid < $1.pid }) where p.exitStatus == nil {
            if let task = p.tasks.first { _ = send(task, sig) }
        }
        return t.process.exitStatus != nil ? .exited : .value(0)
    }

    /// pause, sigsuspend: wait until a signal is delivered, then EINTR (the handler runs on the way out).
    func waitForSignal(_ t: Task) throws(LinuxErrno) -> SyscallOutcome {
        if nextDeliverable(t) != nil { throw .EINTR }
        return .block(nil)
    }

    /// Sends `sig` (1...64) to a task: pending while blocked or until its handler runs, else its action now.
    @discardableResult
    func send(_ t: Task, _ sig: Int32, info: SignalInfo? = nil) -> SyscallOutcome {
        let bit = UInt64(1) << UInt64(sig - 1)
        let blocked = sig != Signal.KILL && sig != Signal.STOP && t.signalMask & bit != 0
        let action = t.process.signalActions[Int(sig)]
        if blocked || (action.handler > 1 && sig != Signal.KILL && sig != Signal.STOP) {
            if action.handler == 1 && !blocked { return .value(0) }
            t.pendingSignals |= bit
            if t.pendingInfo[sig] == nil { t.pendingInfo[sig] = info ?? SignalInfo(signo: sig) }
            if !blocked { interruptForSignal(t) }
            return .value(0)
        }
        return act(t, sig) ?? .value(0)
    }

    /// Takes the action for `sig`: nothing for an ignored signal, else the default action; a stopped or
    /// dead task returns .exited.
    func act(_ t: Task, _ sig: Int32) -> SyscallOutcome? {
        let action = t.process.signalActions[Int(sig)]
        if action.handler == 1 || (action.handler == 0 && Signal.ignoredByDefault.contains(sig)) { return nil }
        if sig == Signal.STOP || (action.handler == 0 && [20, 21, 22].contains(sig)) { return nil }
        terminate(t.process, .signaled(sig))
        return .exited
    }

    /// Acts on pending signals that are no longer blocked, lowest number first, as Linux dequeues them;
    /// those with a handler stay pending until the task resumes.
    func deliverPending(_ t: Task) -> SyscallOutcome? {
        var ready = t.pendingSignals & ~t.signalMask
        while ready != 0 {
            let sig = Int32(ready.trailingZeroBitCount + 1)
            let bit = UInt64(1) << UInt64(sig - 1)
            ready &= ~bit
            if t.process.signalActions[Int(sig)].handler > 1 { continue }
            t.pendingSignals &= ~bit
            t.pendingInfo[sig] = nil
            if let outcome = act(t, sig) { return outcome }
        }
        return nil
    }
}
