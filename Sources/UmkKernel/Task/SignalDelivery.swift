import UmkHost

// SignalDelivery.swift: running a guest's signal handler (arch/x86/kernel/signal.c, kernel/signal.c).
//
// A signal for a task with a handler is made pending; if the task waits in a system call, the call is
// interrupted (EINTR, or restarted after the handler for SA_RESTART); if it runs, it is interrupted with
// PTRACE_INTERRUPT. Before the task next resumes, the kernel writes an rt_sigframe on its stack (return
// address = sa_restorer, ucontext with the saved registers and mask, siginfo, FXSAVE state) and points rip
// at the handler. rt_sigreturn reads the frame back.
struct SignalInfo {
    var signo: Int32
    var code: Int32 = 0  // SI_USER
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var status: Int32 = 0
    var address: UInt64 = 0

    static let SI_USER: Int32 = 0, SI_KERNEL: Int32 = 0x80, SI_TKILL: Int32 = -6
    static let CLD_EXITED: Int32 = 1, CLD_KILLED: Int32 = 2

    var bytes: [UInt8] {
        var b = ByteWriter(count: 128)
        b.put(signo, at: 0)
        b.put(code, at: 8)
        if address != 0 {
            b.put(address, at: 16)
        } else {
            b.put(pid, at: 16)
            b.put(uid, at: 20)
            b.put(status, at: 24)
        }
        return b.bytes
    }
}

enum SA {
    static let NOCLDSTOP: UInt64 = 1, NOCLDWAIT: UInt64 = 2, SIGINFO: UInt64 = 4, RESTORER: UInt64 = 0x0400_0000
    static let ONSTACK: UInt64 = 0x0800_0000, RESTART: UInt64 = 0x1000_0000, NODEFER: UInt64 = 0x4000_0000
    static let RESETHAND: UInt64 = 0x8000_0000
}

extension Kernel {
    /// System calls that SA_RESTART restarts after a handler; the rest return EINTR (nanosleep, pause,
    /// sigsuspend never restart, as on Linux).
    static let restartable: Set<Int> = [0, 1, 17, 18, 19, 20, 295, 296, 61, 247]

    /// The pending signal that would be delivered now: unblocked, lowest number first.
    func nextDeliverable(_ t: Task) -> Int32? {
        let ready = t.pendingSignals & ~t.signalMask
        return ready == 0 ? nil : Int32(ready.trailingZeroBitCount + 1)
    }

    /// A signal with a handler is now pending for `t`: get the task to a point where it can take it.
    func interruptForSignal(_ t: Task) {
        guard t.isAlive else { return }
        if t.isBlocked {
            guard t.interruptible else { return }
            t.deadline = nil
            t.interrupted = true
            makeRunnable(t)
        } else if t.inHost {
            try? Tracer.interrupt(t.hostPID)
        }
    }

    /// Finishes a system call a signal interrupted: restart it after the handler (SA_RESTART) or EINTR.
    func finishInterrupted(_ t: Task) {
        t.interrupted = false
        if t.ioProgress > 0 {
            t.regs.rax = UInt64(t.ioProgress)
            t.ioProgress = 0
            return
        }
        let nr = Int(Int64(bitPattern: t.regs.origRax))
        if let sig = nextDeliverable(t), t.process.signalActions[Int(sig)].flags & SA.RESTART != 0,
           Kernel.restartable.contains(nr)
        {
            t.regs.rax = t.regs.origRax
            t.regs.rip -= 2
        } else {
            t.regs.rax = UInt64(bitPattern: -Int64(LinuxErrno.EINTR.rawValue))
        }
    }

    /// Before resuming: deliver pending unblocked signals. Returns false when the task is gone (a signal's
    /// default action killed it).
    func deliverSignals(_ t: Task) throws(Errno) -> Bool {
        while let sig = nextDeliverable(t) {
            let bit = UInt64(1) << UInt64(sig - 1)
            t.pendingSignals &= ~bit
            let info = t.pendingInfo.removeValue(forKey: sig) ?? SignalInfo(signo: sig)
            let action = t.process.signalActions[Int(sig)]
            guard action.handler > 1 else {
                if case .exited = act(t, sig) { return false }
                continue
            }
            if !(try setUpFrame(t, sig, info, action)) {
                terminate(t.process, .signaled(11))
                return false
            }
            return true  // one frame at a time; the rest after its sigreturn
        }
        return true
    }

    /// Writes the rt_sigframe and points the task at the handler; false if the stack is unusable.
    private func setUpFrame(_ t: Task, _ sig: Int32, _ info: SignalInfo, _ action: SignalAction) throws(Errno) -> Bool {
        guard action.flags & SA.RESTORER != 0 else { return false }
        let alt = t.alternateStack
        var sp = t.regs.rsp
        let onAlt = alt.flags & 2 == 0 && sp > alt.base && sp <= alt.base &+ alt.size
        if action.flags & SA.ONSTACK != 0 && alt.flags & 2 == 0 && !onAlt {
            sp = alt.base &+ alt.size
        } else {
            sp = sp &- 128  // the red zone
        }
        let fx = try Tracer.floatingPoint(t.hostPID)
        sp = (sp &- 512) & ~63
        let fpstate = sp
        let frameSize: UInt64 = 8 + 304 + 128
        sp = ((sp &- frameSize) & ~15) &- 8
        let frame = sp
        let oldMask = t.savedMask ?? t.signalMask
        t.savedMask = nil

        var b = ByteWriter(count: Int(frameSize))
        b.put(action.restorer, at: 0)
        // ucontext: uc_flags, uc_link, uc_stack, uc_mcontext (struct sigcontext), uc_sigmask
        b.put(UInt64(0x6), at: 8)  // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
        b.put(alt.base, at: 24)
        b.put(Int32(onAlt ? 1 : alt.flags), at: 32)
        b.put(alt.size, at: 40)
        let r = t.regs
        let mc = 48
        let gprs: [UInt64] = [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
                              r.rax, r.rcx, r.rsp, r.rip, r.eflags]
        for (i, v) in gprs.enumerated() { b.put(v, at: mc + 8 * i) }
        b.put(UInt16(r.cs), at: mc + 144)
        b.put(UInt16(r.ss), at: mc + 150)
        b.put(oldMask, at: mc + 168)
        b.put(info.address, at: mc + 176)  // cr2
        b.put(fpstate, at: mc + 184)
        b.put(oldMask, at: 8 + 296)
        b.put(info.bytes, at: 8 + 304)
        do {
            try t.mm.writeBytes(GuestAddress(fpstate), fx)
            try t.mm.writeBytes(GuestAddress(frame), b.bytes)
        } catch {
            return false
        }
        t.regs.rsp = frame
        t.regs.rip = action.handler
        t.regs.rdi = UInt64(sig)
        t.regs.rsi = frame + 8 + 304
        t.regs.rdx = frame + 8
        t.regs.rax = 0
        t.regs.eflags &= ~UInt64(0x400 | 0x100)  // DF, TF
        t.regs.origRax = UInt64.max
        var mask = t.signalMask | action.mask
        if action.flags & SA.NODEFER == 0 { mask |= UInt64(1) << UInt64(sig - 1) }
        t.signalMask = mask & ~Signal.unblockable
        if action.flags & SA.RESETHAND != 0 { t.process.signalActions[Int(sig)] = SignalAction() }
        return true
    }

    /// rt_sigreturn: the registers, mask and FP state saved in the frame come back.
    func signalReturn(_ t: Task) throws(LinuxErrno) -> SyscallOutcome {
        let uc = GuestAddress(t.regs.rsp)
        let raw = try t.mm.readBytes(uc, 304)
        func u64(_ o: Int) -> UInt64 { raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: o, as: UInt64.self) } }
        let mc = 40
        var r = t.regs
        r.r8 = u64(mc); r.r9 = u64(mc + 8); r.r10 = u64(mc + 16); r.r11 = u64(mc + 24)
        r.r12 = u64(mc + 32); r.r13 = u64(mc + 40); r.r14 = u64(mc + 48); r.r15 = u64(mc + 56)
        r.rdi = u64(mc + 64); r.rsi = u64(mc + 72); r.rbp = u64(mc + 80); r.rbx = u64(mc + 88)
        r.rdx = u64(mc + 96); r.rax = u64(mc + 104); r.rcx = u64(mc + 112); r.rsp = u64(mc + 120)
        r.rip = u64(mc + 128)
        let userFlags: UInt64 = 0x40dd5  // FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF
        r.eflags = (r.eflags & ~userFlags) | (u64(mc + 136) & userFlags)
        r.origRax = UInt64.max
        let fpstate = u64(mc + 184)
        t.signalMask = u64(296) & ~Signal.unblockable
        if fpstate != 0 {
            let fx = try t.mm.readBytes(GuestAddress(fpstate), 512)
            do { try Tracer.setFloatingPoint(t.hostPID, fx) } catch { throw .EFAULT }
        }
        t.regs = r
        return .replaced
    }
}
