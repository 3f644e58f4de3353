import UmkHost

// Signals.swift: signal dispositions, masks, sending and waiting (kernel/signal.c). Delivery to handlers is
// Task/SignalDelivery.swift.
enum Signal {
    static let KILL: Int32 = 9, STOP: Int32 = 19, CONT: Int32 = 18, CHLD: Int32 = 17, TTIN: Int32 = 21, TTOU: Int32 = 22
    static let HUP: Int32 = 1, INT: Int32 = 2, QUIT: Int32 = 3, TSTP: Int32 = 20, WINCH: Int32 = 28
    /// SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: their default action stops the process.
    static let stops: [Int32] = [19, 20, 21, 22]
    /// Signals whose default action is to do nothing: SIGCHLD, SIGCONT, SIGURG, SIGWINCH.
    static let ignoredByDefault: Set<Int32> = [17, 18, 23, 28]
    static let unblockable: UInt64 = (1 << (9 - 1)) | (1 << (19 - 1))
}

extension SyscallTable {
    mutating func addSignalCalls() {
        add(13, [.signal, .sigaction, .out(.sigaction), .uint]) { k, t, a throws(LinuxErrno) in try k.sysRtSigaction(t, a) }
        add(14, [.sigprocmaskHow, .sigset(3), .out(.sigset(3)), .uint]) { k, t, a throws(LinuxErrno) in try k.sysRtSigprocmask(t, a) }
        add(131, [.stack, .out(.stack)]) { k, t, a throws(LinuxErrno) in try k.sysSigaltstack(t, a) }
        add(15, [.sigreturnFrame]) { k, t, _ throws(LinuxErrno) in
            do {
                return try k.signalReturn(t)
            } catch {
                // A frame that cannot be read or restored: Linux's signal_fault, a SIGSEGV the task cannot catch.
                k.terminate(t.process, .signaled(11))
                return .exited
            }
        }
        add(130, [.sigset(1), .uint]) { k, t, a throws(LinuxErrno) in  // rt_sigsuspend
            guard a[1] == 8 else { throw .EINVAL }
            if t.savedMask == nil {
                let mask = try t.mm.read(a.address(0), as: UInt64.self)
                t.savedMask = t.signalMask
                t.signalMask = mask & ~Signal.unblockable
            }
            return try k.waitForSignal(t)
        }
        add(34, []) { k, t, _ throws(LinuxErrno) in try k.waitForSignal(t) }  // pause
        add(127, [.out(.sigset(1)), .uint]) { _, t, a throws(LinuxErrno) in  // rt_sigpending
            guard a[1] <= 8 else { throw .EINVAL }
            try t.mm.write(a.address(0), t.pendingSignals & t.signalMask)
            return .value(0)
        }
        add(62, [.int32, .signal]) { k, t, a throws(LinuxErrno) in try k.sysKill(t, a.int(0), a.int(1)) }
        add(234, [.int32, .int32, .signal]) { k, t, a throws(LinuxErrno) in
            try k.sysSignalThread(t, try k.signalTarget(tgid: a.int(0), tid: a.int(1)), a.int(2), info: nil)
        }
        add(200, [.int32, .signal]) { k, t, a throws(LinuxErrno) in
            try k.sysSignalThread(t, try k.signalTarget(tgid: nil, tid: a.int(0)), a.int(1), info: nil)
        }
        add(129, [.int32, .signal, .siginfo]) { k, t, a throws(LinuxErrno) in
            try k.checkQueuedInfo(t, a.address(2), to: a.int(0))
            guard let p = k.processes[a.int(0)], p.exitStatus == nil, let target = k.wantingThread(p, a.int(1)) else {
                throw .ESRCH
            }
            return try k.sysSignalThread(t, target, a.int(1), info: a.address(2), shared: true)
        }
        add(297, [.int32, .int32, .signal, .siginfo]) { k, t, a throws(LinuxErrno) in
            try k.checkQueuedInfo(t, a.address(3), to: a.int(1))
            return try k.sysSignalThread(t, try k.signalTarget(tgid: a.int(0), tid: a.int(1)), a.int(2), info: a.address(3))
        }
        add(128, [.sigset(3), .out(.siginfo), .timespec, .uint]) { k, t, a throws(LinuxErrno) in try k.sysSigtimedwait(t, a) }
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
    /// The handler sees the sender's pid and real uid (SI_USER). A group succeeds if any member got it.
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
        let permitted = targets.filter { mayKill(t.process, $0, sig) }
        guard !permitted.isEmpty else { throw .EPERM }
        if sig == 0 { return .value(0) }
        let info = SignalInfo(signo: sig, code: SignalInfo.SI_USER, pid: t.process.pid, uid: t.process.credentials.uid)
        for p in permitted.sorted(by: { $0.pid < $1.pid }) where p.exitStatus == nil {
            sendToProcess(p, sig, info: info, from: t.process)
        }
        return t.process.exitStatus != nil ? .exited : .value(0)
    }

    /// kill_ok_by_cred: root, the same real or effective user as the target's real or saved one, or SIGCONT
    /// within one session.
    func mayKill(_ sender: Process, _ target: Process, _ sig: Int32) -> Bool {
        let c = sender.credentials, tc = target.credentials
        if c.euid == 0 || (sig == Signal.CONT && sender.session == target.session) { return true }
        return [c.uid, c.euid].contains { $0 == tc.uid || $0 == tc.suid }
    }

    /// tkill, tgkill and rt_(tg)sigqueueinfo's target: a live thread, of process `tgid` if given.
    func signalTarget(tgid: Int32?, tid: Int32) throws(LinuxErrno) -> Task {
        guard tid > 0, tgid.map({ $0 > 0 }) ?? true else { throw .EINVAL }
        guard let task = threads[tid], task.isAlive, task.process.exitStatus == nil,
              tgid.map({ $0 == task.process.pid }) ?? true
        else { throw .ESRCH }
        return task
    }

    /// complete_signal's choice of the thread to take a signal sent to `p`: the main thread if it does not
    /// block it, else the first that does not (or waits for it in rt_sigtimedwait), else the main thread
    /// (the signal then pends for the whole process). nil when no thread is left.
    func wantingThread(_ p: Process, _ sig: Int32) -> Task? {
        let bit = sig >= 1 && sig <= 64 ? PendingSignals.bit(sig) : 0
        return p.tasks.first { $0.signalMask & bit == 0 || ($0.sigwaitSet ?? 0) & bit != 0 } ?? p.tasks.first
    }

    /// A signal to a whole process (kill, SIGCHLD, a terminal's, a timer's): to the thread that wants it.
    @discardableResult
    func sendToProcess(_ p: Process, _ sig: Int32, info: SignalInfo? = nil, force: Bool = true, from sender: Process? = nil) -> Bool {
        guard let t = wantingThread(p, sig) else { return true }
        return send(t, sig, info: info, force: force, from: sender, shared: true)
    }

    /// rt_sigqueueinfo's first check, before the target is looked up: a siginfo claiming to come from kill,
    /// tkill or the kernel (si_code >= 0, SI_TKILL) only to oneself.
    func checkQueuedInfo(_ t: Task, _ raw: GuestAddress, to pid: Int32) throws(LinuxErrno) {
        let code = try t.mm.read(raw.advanced(by: 8), as: Int32.self)
        if (code >= 0 || code == SignalInfo.SI_TKILL) && pid != t.tid { throw .EPERM }
    }

    /// tkill/tgkill (SI_TKILL) and rt_(tg)sigqueueinfo (the caller's own siginfo, never posing as the
    /// kernel or kill to another process).
    func sysSignalThread(_ t: Task, _ target: Task, _ sig: Int32, info raw: GuestAddress?, shared: Bool = false)
        throws(LinuxErrno) -> SyscallOutcome
    {
        guard sig >= 0, sig <= 64 else { throw .EINVAL }
        var info = SignalInfo(signo: sig, code: SignalInfo.SI_TKILL, pid: t.process.pid, uid: t.process.credentials.uid)
        if let raw {
            let bytes = try t.mm.readBytes(raw, 128)
            let code = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: Int32.self) }
            if (code >= 0 || code == SignalInfo.SI_TKILL) && target.process !== t.process { throw .EPERM }
            info = SignalInfo(signo: sig, code: code)
            info.raw = bytes
        }
        guard mayKill(t.process, target.process, sig) else { throw .EPERM }
        if sig == 0 { return .value(0) }
        guard send(target, sig, info: info, force: raw == nil, from: t.process, shared: shared) else { throw .EAGAIN }
        return t.process.exitStatus != nil ? .exited : .value(0)
    }

    /// rt_sigtimedwait: takes a pending signal of `set` (the lowest) without running its handler; waits for
    /// one up to the timeout (EAGAIN), or until a handled signal outside the set interrupts it (EINTR).
    func sysSigtimedwait(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        guard a[3] == 8 else { throw .EINVAL }
        let set = try t.mm.read(a.address(0), as: UInt64.self) & ~Signal.unblockable
        if let sig = PendingSignals.lowest(t.pendingSignals & set) {
            var info = t.pending.take(sig) ?? t.process.sharedPending.take(sig) ?? SignalInfo(signo: sig)
            takeOverruns(&info)
            t.sigwaitSet = nil
            t.deadline = nil
            if !a.address(1).isNull { try t.mm.writeBytes(a.address(1), info.bytes) }
            return .value(Int(sig))
        }
        if t.sigwaitSet != nil {  // woken: by the timeout, since no signal of the set is here
            if let d = t.deadline, d <= HostClock.monotonicNanoseconds() {
                t.sigwaitSet = nil
                t.deadline = nil
                throw .EAGAIN
            }
            return .block(nil)
        }
        if !a.address(2).isNull {
            let ns = try timeoutNanoseconds(t, a.address(2))
            if ns == 0 { throw .EAGAIN }
            t.deadline = deadline(after: ns)
        }
        t.sigwaitSet = set
        return .block(nil)
    }

    /// pause, sigsuspend: wait until a signal is delivered, then EINTR (the handler runs on the way out).
    func waitForSignal(_ t: Task) throws(LinuxErrno) -> SyscallOutcome {
        if nextDeliverable(t) != nil { throw .EINTR }
        return .block(nil)
    }

    /// Sends `sig` (1...64) to a task (kernel/signal.c send_signal, with prepare_signal's job control):
    /// SIGCONT continues a stopped process and discards its pending stop signals, a stop signal discards a
    /// pending SIGCONT. A blocked or handled signal pends (a task in rt_sigtimedwait for it wakes to take
    /// it); an ignored one is dropped; the others take their default action now. False (with `force`
    /// false) when a real-time signal found its queue full (sigqueue's EAGAIN).
    /// A fatal signal from another process kills `t` the next time it would run (as on Linux, where the
    /// target dies on its own way back to user mode): kill returns first, and the SIGCHLD comes after.
    @discardableResult
    /// `shared`: sent to the whole process, so that it pends for the process when `t` blocks it.
    func send(_ t: Task, _ sig: Int32, info: SignalInfo? = nil, force: Bool = true, from sender: Process? = nil,
              shared: Bool = false) -> Bool {
        let p = t.process
        guard p.exitStatus == nil else { return true }
        if sig == Signal.CONT {
            // --strace: an ignored SIGCONT shows when the task goes on, which continueProcess may do now.
            if strace != nil, isIgnored(p.signalActions[Int(sig)], sig), t.signalMask & PendingSignals.bit(sig) == 0 {
                t.ignoredSignals.append(info ?? SignalInfo(signo: sig))
            }
            for task in p.tasks { for s in Signal.stops { task.pending.discard(s) } }
            for s in Signal.stops { p.sharedPending.discard(s) }
            continueProcess(p)
        } else if Signal.stops.contains(sig) {
            for task in p.tasks { task.pending.discard(Signal.CONT) }
            p.sharedPending.discard(Signal.CONT)
        }
        let bit = PendingSignals.bit(sig)
        let blocked = sig != Signal.KILL && sig != Signal.STOP && t.signalMask & bit != 0
        let action = p.signalActions[Int(sig)]
        let waitedFor = t.sigwaitSet.map { $0 & bit != 0 } ?? false
        if !blocked && !waitedFor && isIgnored(action, sig) {
            // strace still sees it (a traced task takes even ignored signals): shown when `t` resumes.
            if strace != nil && sig != Signal.CONT { t.ignoredSignals.append(info ?? SignalInfo(signo: sig)) }
            return true
        }
        // A stopped process takes nothing but SIGKILL and SIGCONT until it is continued: the rest pend.
        let held = p.stopSignal != nil && sig != Signal.KILL && sig != Signal.CONT
        // A process under gdb: the signal stops it first, and is delivered if gdb says so (GdbStub).
        if !blocked && !waitedFor && !held, let debugger, debugger.interceptSignal(t, sig, info) { return true }
        if blocked || waitedFor || held || (action.handler > 1 && sig != Signal.KILL && sig != Signal.STOP) {
            let limit = Int(clamping: p.limits[RLIMIT.SIGPENDING].soft)
            let added = shared && blocked && !waitedFor
                ? p.sharedPending.add(info ?? SignalInfo(signo: sig), limit: limit, force: force)
                : t.pending.add(info ?? SignalInfo(signo: sig), limit: limit, force: force)
            guard added || sig < 32 || force else { return false }
            if !t.signalfdQueue.isEmpty { wake(t.signalfdQueue) }
            if waitedFor && t.isBlocked {
                makeRunnable(t)  // rt_sigtimedwait runs again and takes it
            } else if !blocked && !held {
                interruptForSignal(t)
            }
            return true
        }
        if sig != Signal.KILL { strace?.signal(t, info ?? SignalInfo(signo: sig)) }
        if let sender, sender !== p, !Signal.stops.contains(sig) {
            doom(p, sig)
        } else {
            _ = act(t, sig)
        }
        return true
    }

    /// `p` is to die of `sig`. As on Linux, where the target dies only once it gets a CPU and runs its exit,
    /// the sender goes on first: the death is carried out when the sender (and every other running task)
    /// has stopped in the kernel, or a tick later at most (Kernel.carryOutDeaths).
    func doom(_ p: Process, _ sig: Int32) {
        if p.pendingDeath == nil || sig == Signal.KILL { p.pendingDeath = sig }
        if !doomed.contains(where: { $0.process === p }) {
            doomed.append((p, HostClock.monotonicNanoseconds() + Kernel.tickInterval))
        }
    }

    func isIgnored(_ action: SignalAction, _ sig: Int32) -> Bool {
        action.handler == 1 || (action.handler == 0 && Signal.ignoredByDefault.contains(sig))
    }

    /// Takes the default action for `sig`: nothing for an ignored signal, a stop for the stop signals (not
    /// SIGTSTP/SIGTTIN/SIGTTOU in an orphaned process group, which drops them), else death. Returns .exited
    /// if the task is gone.
    @discardableResult
    func act(_ t: Task, _ sig: Int32) -> SyscallOutcome? {
        let action = t.process.signalActions[Int(sig)]
        if isIgnored(action, sig) { return nil }
        if Signal.stops.contains(sig) {
            if sig == Signal.STOP || !isOrphaned(t.process.processGroup) {
                strace?.stopped(t, sig)
                stop(t.process, sig)
            }
            return nil
        }
        terminate(t.process, .signaled(sig))
        return .exited
    }

    /// Acts on pending signals that are no longer blocked, lowest number first, as Linux dequeues them;
    /// those with a handler stay pending until the task resumes.
    func deliverPending(_ t: Task) -> SyscallOutcome? {
        var ready = t.pendingSignals & ~t.signalMask
        while ready != 0 {
            let sig = Int32(ready.trailingZeroBitCount + 1)
            ready &= ~PendingSignals.bit(sig)
            if t.process.signalActions[Int(sig)].handler > 1 { continue }
            t.pending.discard(sig)
            t.process.sharedPending.discard(sig)
            if let outcome = act(t, sig) { return outcome }
        }
        return nil
    }
}
