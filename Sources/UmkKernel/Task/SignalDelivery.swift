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
    /// sigval (sigqueue, a timer's sigev_value): written where a child's status would be.
    var value: UInt64? = nil
    /// The POSIX timer this signal comes from (its overruns count while it is pending).
    weak var timer: IntervalTimer? = nil
    /// A SIGCHLD's si_utime and si_stime: the child's CPU time, in clock ticks.
    var childTimes: (user: Int64, system: Int64)? = nil
    /// A siginfo the sender wrote itself (rt_sigqueueinfo), delivered as it is but for si_signo.
    var raw: [UInt8]? = nil

    static let SI_USER: Int32 = 0, SI_KERNEL: Int32 = 0x80, SI_TKILL: Int32 = -6, SI_TIMER: Int32 = -2
    static let CLD_EXITED: Int32 = 1, CLD_KILLED: Int32 = 2, CLD_STOPPED: Int32 = 5, CLD_CONTINUED: Int32 = 6

    var bytes: [UInt8] {
        if var raw, raw.count == 128 {
            withUnsafeBytes(of: signo.littleEndian) { raw.replaceSubrange(0..<4, with: $0) }
            return raw
        }
        var b = ByteWriter(count: 128)
        b.put(signo, at: 0)
        b.put(code, at: 8)
        if address != 0 {
            b.put(address, at: 16)
        } else {
            b.put(pid, at: 16)
            b.put(uid, at: 20)
            if let value { b.put(value, at: 24) } else { b.put(status, at: 24) }
            if let childTimes {
                b.put(childTimes.user, at: 32)
                b.put(childTimes.system, at: 40)
            }
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
    /// open, openat and openat2 wait for a FIFO's partner; fcntl and flock for a lock; mq_timedsend and
    /// mq_timedreceive for a queue.
    static let restartable: Set<Int> = [0, 1, 17, 18, 19, 20, 295, 296, 61, 247, 2, 257, 437, 72, 73, 242, 243]

    /// The pending signal that would be delivered now: unblocked, lowest number first.
    func nextDeliverable(_ t: Task) -> Int32? {
        PendingSignals.lowest(t.pendingSignals & ~t.signalMask)
    }

    /// A signal with a handler is now pending for `t`: get the task to a point where it can take it.
    func interruptForSignal(_ t: Task) {
        guard t.isAlive else { return }
        if t.isBlocked {
            guard t.interruptible else { return }
            t.interruptedDeadline = t.deadline
            t.deadline = nil
            t.interrupted = true
            makeRunnable(t)
        } else if t.inHost {
            try? t.context.interrupt()
        }
    }

    /// Finishes a system call a signal interrupted: restart it after the handler (SA_RESTART) or EINTR.
    func finishInterrupted(_ t: Task) {
        t.interrupted = false
        t.sigwaitSet = nil
        t.fifoOpen = nil
        t.batchDeadline = nil
        if t.batchProgress > 0 {  // recvmmsg and sendmmsg answer the messages moved
            t.regs.rax = UInt64(t.batchProgress)
            t.batchProgress = 0
            t.ioProgress = 0
            return
        }
        if t.ioProgress > 0 {
            t.regs.rax = UInt64(t.ioProgress)
            t.ioProgress = 0
            return
        }
        let nr = Int(Int64(bitPattern: t.regs.origRax))
        let deadline = t.interruptedDeadline
        t.interruptedDeadline = nil
        // nanosleep and relative clock_nanosleep tell how much was left (never restarted after a handler).
        let remainder = nr == 35 ? t.regs.rsi : nr == 230 && t.regs.rsi & 1 == 0 ? t.regs.r10 : 0
        if remainder != 0, let deadline {
            let left = max(deadline - HostClock.monotonicNanoseconds(), 0)
            try? writeTimespec(t, GuestAddress(remainder), left / 1_000_000_000, left % 1_000_000_000)
        }
        if finishInterruptedFutex(t) { return }  // futex's own restart rules (Futex.swift)
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
        if !t.ignoredSignals.isEmpty {
            for info in t.ignoredSignals { strace?.signal(t, info) }
            t.ignoredSignals.removeAll()
        }
        while let sig = nextDeliverable(t) {
            var info = t.pending.take(sig) ?? t.process.sharedPending.take(sig) ?? SignalInfo(signo: sig)
            takeOverruns(&info)
            let action = t.process.signalActions[Int(sig)]
            guard action.handler > 1 else {
                if sig != Signal.KILL { strace?.signal(t, info) }
                if case .exited = act(t, sig) { return false }
                continue
            }
            strace?.signal(t, info)
            if !(try setUpFrame(t, sig, info, action)) {
                terminate(t.process, .signaled(11))
                return false
            }
            // On to the next deliverable signal: as Linux does before returning to user mode, its frame goes
            // on top, so its handler runs first (each handler's signal is blocked while it runs).
        }
        return true
    }

    /// Writes the rt_sigframe and points the task at the handler; false if the stack is unusable.
    private func setUpFrame(_ t: Task, _ sig: Int32, _ info: SignalInfo, _ action: SignalAction) throws(Errno) -> Bool {
        guard action.flags & SA.RESTORER != 0 else { return false }
        let alt = t.alternateStack
        let autodisarm = alt.flags & Kernel.SS_AUTODISARM != 0
        // on_sig_stack: an SS_AUTODISARM stack never counts as in use (each handler starts at its top).
        let onStack = { (sp: UInt64) in !autodisarm && alt.size > 0 && sp > alt.base && sp &- alt.base <= alt.size }
        var sp = t.regs.rsp
        let nested = onStack(sp)
        var entering = false
        sp = sp &- 128  // the red zone
        if action.flags & SA.ONSTACK != 0 && alt.flags & 2 == 0 && alt.size > 0 && !onStack(sp) {
            sp = alt.base &+ alt.size
            entering = true
        }
        let fpImage = try FPState.frame(for: t.context)
        sp = (sp &- UInt64(fpImage.count)) & ~63
        let fpstate = sp
        let frameSize: UInt64 = 8 + 304 + 128
        sp = ((sp &- frameSize) & ~15) &- 8
        let frame = sp
        // A frame that would overflow the alternate stack is not written: the task dies of SIGSEGV.
        if nested || entering, !(frame > alt.base && frame &- alt.base <= alt.size) { return false }
        let oldMask = t.savedMask ?? t.signalMask
        t.savedMask = nil

        var b = ByteWriter(count: Int(frameSize))
        b.put(action.restorer, at: 0)
        // ucontext: uc_flags, uc_link, uc_stack, uc_mcontext (struct sigcontext), uc_sigmask
        // UC_FP_XSTATE (the fpstate holds the XSAVE image) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
        b.put(UInt64(FPState.usesXSave ? 0x7 : 0x6), at: 8)
        b.put(alt.base, at: 24)
        b.put(alt.flags, at: 32)  // __save_altstack: the stack as sigaltstack set it
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
            try t.mm.writeBytes(GuestAddress(fpstate), fpImage)
            try t.mm.writeBytes(GuestAddress(frame), b.bytes)
        } catch {
            return false
        }
        if autodisarm { t.alternateStack = (0, 0, 2) }  // signal_delivered: until rt_sigreturn restores uc_stack
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

    static let SS_AUTODISARM = Int32(bitPattern: 1 << 31)

    /// restore_altstack: the frame's uc_stack becomes the alternate stack again, as sigaltstack would set it;
    /// refused (silently) while the task still runs on the current one.
    private func restoreAlternateStack(_ t: Task, sp: UInt64, base: UInt64, flags: Int32, size: UInt64) {
        let alt = t.alternateStack
        let running = alt.flags & Kernel.SS_AUTODISARM == 0 && alt.size > 0 && sp > alt.base && sp &- alt.base <= alt.size
        guard !running else { return }
        let mode = flags & ~Kernel.SS_AUTODISARM
        if mode == 2 {
            t.alternateStack = (0, 0, 2)
        } else if mode == 0 || mode == 1, size >= 2048 {
            t.alternateStack = (base, size, flags & Kernel.SS_AUTODISARM)
        }
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
        restoreAlternateStack(t, sp: r.rsp, base: u64(16), flags: Int32(truncatingIfNeeded: u64(24)), size: u64(32))
        if fpstate != 0 {
            let image = try FPState.restore(from: t.mm, at: fpstate)
            do { try t.context.setExtendedState(image) } catch { throw .EFAULT }
        } else if FPState.usesXSave {
            // No fpstate: Linux resets the FPU to its initial state.
            do { try t.context.setExtendedState(FPState.initial) } catch { throw .EFAULT }
        }
        t.regs = r
        return .replaced
    }
}

/// The FPU and vector state in a signal frame, laid out as Linux lays out `fpstate` (arch/x86/kernel/fpu/
/// signal.c): the standard-format XSAVE image of every enabled component, its FXSAVE part's software-reserved
/// bytes saying so (FP_XSTATE_MAGIC1, sizes, features), and FP_XSTATE_MAGIC2 right after it. Without XSAVE,
/// the 512-byte FXSAVE image alone.
enum FPState {
    static let size = HostCPU.extendedStateSize
    static let usesXSave = size > 512
    static let magic1: UInt32 = 0x4650_5853, magic2: UInt32 = 0x4650_5845

    /// The user state components the host enables (XCR0): CPUID 0xD.0's supported ones unless the host's
    /// own image says otherwise.

    /// The image to write into a new signal frame for the context's current state.
    static func frame(for context: PlatformContext) throws(Errno) -> [UInt8] {
        var image = try context.extendedState()
        guard usesXSave else { return image }
        if image.count < size { image += [UInt8](repeating: 0, count: size - image.count) }
        let features = image.load32(464) == magic1 ? image.load64(472) : HostCPU.extendedStateFeatures
        image.store32(464, magic1)
        image.store32(468, UInt32(size + 4))  // extended_size: the image and MAGIC2
        image.store64(472, features)
        image.store32(480, UInt32(size))
        for i in 484..<512 { image[i] = 0 }
        return image + withUnsafeBytes(of: magic2.littleEndian, Array.init)
    }

    /// The image rt_sigreturn gives the stub for the fpstate at `address` (check_xstate_in_sigframe): the
    /// whole XSAVE image when the frame's markers are intact, with the components the frame does not list
    /// reset; else only its FXSAVE part, every other component reset.
    static func restore(from mm: AddressSpace, at address: UInt64) throws(LinuxErrno) -> [UInt8] {
        let fx = try mm.readBytes(GuestAddress(address), 512)
        guard usesXSave else { return fx }
        if fx.load32(464) == magic1, fx.load32(480) == UInt32(size), fx.load32(468) >= UInt32(size + 4),
            let tail = try? mm.read(GuestAddress(address &+ UInt64(size)), as: UInt32.self), tail == magic2
        {
            var image = try mm.readBytes(GuestAddress(address), size)
            image.store64(512, image.load64(512) & fx.load64(472))  // XSTATE_BV within the frame's xfeatures
            return image
        }
        var image = initial
        image.replaceSubrange(0..<512, with: fx)
        image.store64(512, 3)  // x87 and SSE from the frame, the rest in their initial state
        return image
    }

    /// Every component in its initial state (an XSAVE header with nothing set; x87 control word and MXCSR
    /// at their reset values).
    static let initial: [UInt8] = {
        var image = [UInt8](repeating: 0, count: size)
        image[0] = 0x7f; image[1] = 0x03  // FCW 0x037f
        image.store32(24, 0x1f80)  // MXCSR
        return image
    }()
}

private extension Array where Element == UInt8 {
    func load32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[at + $1]) << (8 * $1) } }
    func load64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(self[at + $1]) << (8 * $1) } }
    mutating func store32(_ at: Int, _ v: UInt32) { for i in 0..<4 { self[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
    mutating func store64(_ at: Int, _ v: UInt64) { for i in 0..<8 { self[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
}
