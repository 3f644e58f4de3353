import UmkHost

// GdbStub.swift: a gdb remote stub for one guest process (gdbserver's role, served by the kernel itself, as
// QEMU's user mode and rr do): gdb connects to `umk run --gdb ADDR`, and drives process 1 from before its
// first instruction. All-stop mode: when one thread stops for gdb (a breakpoint, a single step, a fault,
// Ctrl-C), every thread of the process is held at its next stop in the kernel, and gdb hears of the stop once
// none runs guest code any more. Other processes of the instance go on running.
//
// How a thread is held: Kernel.resume asks `holds` before it lets a task of the process run; a held task is
// `parked` (as job control parks a stopped one) and let go by `resume` (gdb's continue or step). Faults of
// the process come to `intercept` before they become guest signals (Kernel.deliverFault), signals sent to it
// to `interceptSignal` (Kernel.send), and its end to `processEnded`. Breakpoints are int3 bytes written into
// the guest's memory through AddressSpace.debuggerWrite (copy on write, as ptrace's POKETEXT); memory reads
// show the original bytes under them, as gdbserver's do. Hardware watchpoints are the debug registers of each
// thread's context, set before it runs (GdbWatchpoints.swift), and so are hardware breakpoints. The packets
// are GdbCommands.swift's.
//
// The stub is a plain object over a connected descriptor and a target process: attaching gdb to another
// process of a running instance later is `Kernel.attachDebugger(connection:to:attached:)` with `attached:
// true`, on the kernel thread, with a connection made before the kernel's seccomp filter or handed over.
//
// Not here (FIXME): read watchpoints (Z3, which x86 lacks), non-stop mode,
// fork and vfork events (a forked child gets the original bytes back; a vfork child runs with the int3s
// taken out), qXfer:libraries-svr4 (gdb reads r_debug itself), syscall stops (`catch syscall`).
final class GdbStub {
    unowned let kernel: Kernel
    let connection: DebugConnection
    let target: Process
    /// Whether gdb attached to a process that already ran (qAttached: gdb then detaches on quit, rather
    /// than killing the process it started).
    let attached: Bool

    enum State {
        /// The process runs; `stepping` threads one instruction only.
        case running
        /// A thread stopped: waiting for the others to leave the CPU before telling gdb `reply`.
        case stopping(reply: [UInt8])
        /// Every thread is held; gdb is looking.
        case stopped
    }
    var state: State = .stopped

    var reader = GdbReader()
    var noAck = false
    /// gdb offered multiprocess+ and we took it: thread ids are `pPID.TID`.
    var multiprocess = false
    var lastSent: [UInt8] = []
    /// Software breakpoints: address -> the byte under the int3, in `breakpointSpace`'s memory.
    var breakpoints: [UInt64: UInt8] = [:]
    /// Weak: an identity that outlived its address space could match the next one allocated in its place.
    weak var breakpointSpace: AddressSpace?
    /// Threads to single-step at the next resume, and those whose step entered a system call (the step
    /// ends when the call does).
    var stepping: Set<Int32> = []
    var steppedIntoSyscall: Set<Int32> = []
    /// Threads gdb left stopped when it resumed others (vCont with actions for some threads only).
    var frozen: Set<Int32> = []
    /// A fault a thread stopped with, for `C sig` to deliver.
    var stopSignals: [Int32: SignalInfo] = [:]
    /// Hg and Hc: the thread registers and memory are read from; the last thread that stopped.
    var generalThread: Int32
    var lastStop: (tid: Int32, signal: Int32)
    /// gdb's host I/O (vFile): files of the guest's VFS it opened, by the numbers it was given.
    var files: [Int32: OpenFile] = [:]
    var nextFile: Int32 = 3
    /// `k`: the process is being killed on gdb's word, which wants no exit report.
    var killing = false
    /// Signals gdb lets through without a stop (QPassSignals), and the signal gdb just said to deliver to a
    /// thread (`C`), which must not stop it again.
    var passSignals: Set<Int32> = []
    var passOnce: [Int32: Int32] = [:]
    /// gdb follows exec (exec-events+): an exec stops the process with `exec:PATH` in the stop reply, and
    /// gdb loads the new program's symbols and inserts its breakpoints again. `knownSpace` is the memory of
    /// the image gdb knows.
    var execEvents = false
    weak var knownSpace: AddressSpace?
    /// Hardware breakpoints and watchpoints gdb asked for (Z1, Z2 write, Z4 access), at most four debug
    /// registers' worth (GdbWatchpoints.swift); the generation each thread's context has applied.
    var watchpoints: [GdbWatchpoint] = []
    var watchGeneration = 0
    var appliedWatches: [Int32: Int] = [:]
    /// gdb went away while the process ran: detach once every thread has stopped.
    var detachWhenStopped = false

    init(kernel: Kernel, connection: DebugConnection, target: Process, attached: Bool) {
        self.kernel = kernel
        self.connection = connection
        self.target = target
        self.attached = attached
        let first = target.tasks.first?.tid ?? target.pid
        knownSpace = target.mmStorage
        generalThread = first
        lastStop = (first, 5)
    }

    // MARK: Hooks the kernel calls

    /// Whether `t` must stay off the CPU for gdb (Kernel.resume parks it). Also where a single step that
    /// entered a system call ends, and where the step flag of the task's context is set.
    func holds(_ t: Task) -> Bool {
        guard t.process === target else {
            if t.context.singleStepping { t.context.singleStepping = false }  // a vfork child on our context
            return false
        }
        guard case .running = state else { return true }
        if frozen.contains(t.tid) { return true }
        if suspended { resumeBreakpoints() }
        if let mm = target.mmStorage, knownSpace !== mm {  // the first resume after an exec
            knownSpace = mm
            appliedWatches.removeAll()  // a new context: no debug registers set
            if !watchpoints.isEmpty {
                watchpoints.removeAll()  // they watched the old memory
                watchGeneration += 1
            }
            if execEvents {
                stop(t, signal: 5, exec: true)
                return true
            }
        }
        // A signal-delivery stop (ptrace's): gdb hears of a signal before the thread takes it.
        if let sig = kernel.nextDeliverable(t), sig != Signal.KILL, !passSignals.contains(sig) {
            if passOnce[t.tid] == sig {
                passOnce[t.tid] = nil
            } else {
                stopSignals[t.tid] = t.pending.take(sig) ?? t.process.sharedPending.take(sig) ?? SignalInfo(signo: sig)
                stop(t, signal: sig)
                return true
            }
        }
        if stepping.contains(t.tid), steppedIntoSyscall.remove(t.tid) != nil {
            stop(t, signal: 5)
            return true
        }
        t.context.singleStepping = stepping.contains(t.tid)
        if appliedWatches[t.tid, default: 0] != watchGeneration {
            let (addresses, control) = GdbWatchpoint.debugRegisters(watchpoints)
            try? t.context.setWatchpoints(addresses, control: control)
            appliedWatches[t.tid] = watchGeneration
        }
        return false
    }

    /// A system call of `t` is about to be handled (the dispatcher): a step that made it ends after it.
    func enteringSystemCall(_ t: Task) {
        if t.process === target, stepping.contains(t.tid) { steppedIntoSyscall.insert(t.tid) }
    }

    /// A fault of `t` that would become a guest signal (SIGTRAP of an int3 or a step, SIGSEGV, ...).
    /// Returns true when gdb takes it: the task is then held, and the signal delivered only if gdb says
    /// so (`C`). Faults of threads that stop while another's stop is being reported are dropped: the
    /// faulting instruction runs again when they resume (a breakpoint's int3 too, its rip set back).
    func intercept(_ t: Task, _ sig: Int32, _ info: FaultInfo) -> Bool {
        guard t.process === target else {
            // A vfork child on the target's context meets its watchpoints: not the child's business.
            guard sig == 5, info.code == GdbStub.TRAP_HWBKPT else { return false }
            try? kernel.resume(t)
            return true
        }
        t.parked = true
        var watchHit: (address: UInt64, kind: GdbWatchpoint.Kind)? = nil
        if sig == 5, watchGeneration > 0, let hits = try? t.context.takeWatchpointHits(), hits != 0 {
            let pieces = GdbWatchpoint.pieces(watchpoints)
            if let slot = (0..<pieces.count).first(where: { hits & (1 << UInt64($0)) != 0 }) {
                watchHit = (pieces[slot].address, pieces[slot].kind)
            }
        }
        let atBreakpoint = sig == 5 && info.code == SignalInfo.SI_KERNEL && t.regs.rip > 0
            && breakpoints[t.regs.rip - 1] != nil && breakpointSpace === t.mm
        if atBreakpoint { t.regs.rip -= 1 }
        guard case .running = state else { return true }
        if sig != 5 { stopSignals[t.tid] = SignalInfo(signo: sig, code: info.code, address: info.address) }
        stop(t, signal: sig, swbreak: atBreakpoint, watch: watchHit)
        return true
    }

    /// A signal sent to a thread of the target that does not block it (Kernel.send): it is held pending for a
    /// stop at the thread's next stop in the kernel (`holds`), or, for a thread waiting in a system call, the
    /// stop is now and the call goes on waiting if gdb drops the signal. False when gdb lets it through.
    func interceptSignal(_ t: Task, _ sig: Int32, _ info: SignalInfo?) -> Bool {
        guard t.process === target, t.isAlive, sig != Signal.KILL, !passSignals.contains(sig), passOnce[t.tid] != sig else {
            return false
        }
        let info = info ?? SignalInfo(signo: sig)
        if t.isBlocked, case .running = state {
            stopSignals[t.tid] = info
            stop(t, signal: sig)
            return true
        }
        _ = t.pending.add(info, limit: .max)
        if t.inHost { try? t.context.interrupt() }
        return true
    }

    /// The target process ended: gdb hears how (W or X), and the stub is done.
    func processEnded(_ p: Process, _ status: ExitStatus) {
        guard p === target else { return }
        let running: Bool
        if case .stopped = state { running = false } else { running = true }
        if running && !killing {
            let suffix = multiprocess ? ";process:\(GdbHex.text(UInt64(p.pid)))" : ""
            switch status {
            case .exited(let code): send("W" + hex2(UInt64(code & 0xff)) + suffix)
            case .signaled(let sig): send("X" + hex2(UInt64(GdbSignals.gdb(sig))) + suffix)
            }
        }
        finish()
    }

    /// A forked child of the target starts with a copy of its memory, int3s and all: it gets the original
    /// bytes back (gdb does not follow it).
    func forked(_ child: AddressSpace, from parent: Process) {
        guard parent === target, breakpointSpace === parent.mm else { return }
        for (address, byte) in breakpoints { try? child.debuggerWrite(GuestAddress(address), [byte]) }
    }

    /// A vfork child runs in the target's own memory until it execs or exits: the int3s come out for that
    /// time (the child would die of them), and go back before a thread of the target runs again once no
    /// other process shares the memory (`holds`). FIXME: other threads of the target miss breakpoints then.
    func sharingMemory(with child: Process) {
        guard child.mmStorage === target.mmStorage, breakpointSpace === target.mm, !suspended else { return }
        for (address, byte) in breakpoints { try? target.mm.debuggerWrite(GuestAddress(address), [byte]) }
        suspended = true
    }

    var suspended = false

    func resumeBreakpoints() {
        guard suspended, let mm = target.mmStorage else { return }
        guard !kernel.processes.values.contains(where: { $0 !== target && $0.exitStatus == nil && $0.mmStorage === mm }) else { return }
        suspended = false
        guard breakpointSpace === mm else { return }
        for address in breakpoints.keys { try? mm.debuggerWrite(GuestAddress(address), [0xcc]) }
    }

    /// Makes the stub's state match threads that may be running when it attaches (a later attach to a
    /// running process): gdb's `?` is answered once they are all stopped.
    func stopOnAttach() {
        guard let t = target.tasks.first(where: { $0.isAlive }) else { return }
        state = .running
        stop(t, signal: 0)
    }

    /// Called by the loop on each turn: completes a pending stop report, and reads what gdb sent.
    func service() {
        if case .stopping(let reply) = state, !target.tasks.contains(where: { $0.inHost }) {
            state = .stopped
            if detachWhenStopped {
                kernel.log.notice("gdb went away: detaching from pid \(target.pid)", source: "debugger")
                return detach()
            }
            send(reply)
        }
        guard let bytes = connection.readAvailable() else {
            if case .running = state, let t = target.tasks.first(where: { $0.isAlive }) {
                // Breakpoints and watchpoints come out with every thread stopped, then the process goes on.
                detachWhenStopped = true
                stop(t, signal: 0)
            } else if case .stopped = state {
                kernel.log.notice("gdb went away: detaching from pid \(target.pid)", source: "debugger")
                detach()
            }
            return
        }
        guard !bytes.isEmpty else { return }
        for input in reader.feed(bytes) {
            guard connection.isOpen else { return }
            switch input {
            case .ack: break
            case .nak: if !lastSent.isEmpty { connection.write(lastSent) }
            case .corrupt: if !noAck { connection.write(Array("-".utf8)) }
            case .interrupt:
                if case .running = state, let t = target.tasks.first(where: { $0.isAlive }) { stop(t, signal: 2) }
            case .packet(let data):
                if !noAck { connection.write(Array("+".utf8)) }
                handle(data)
            }
        }
    }

    // MARK: Stopping and resuming

    /// Stops the whole process for gdb, `t` being the thread that reports `signal`.
    func stop(_ t: Task, signal: Int32, swbreak: Bool = false, exec: Bool = false,
                      watch: (address: UInt64, kind: GdbWatchpoint.Kind)? = nil) {
        guard case .running = state else { return }
        stepping.removeAll()
        steppedIntoSyscall.removeAll()
        frozen.removeAll()
        lastStop = (t.tid, signal)
        generalThread = t.tid
        var reply = stopReply(t.tid, signal: signal, swbreak: swbreak)
        if let watch {  // T05watch:ADDR; (awatch for an access watchpoint), T05hwbreak:;
            let reason = watch.kind == .execute ? "hwbreak:" : (watch.kind == .access ? "awatch:" : "watch:")
                + GdbHex.text(watch.address)
            reply.insert(contentsOf: reason + ";", at: reply.index(reply.startIndex, offsetBy: 3))
        }
        if exec {  // T05exec:HEXPATH;thread:...; as gdbserver words it
            reply.insert(contentsOf: "exec:" + String(decoding: GdbHex.encode(target.executablePath), as: UTF8.self) + ";",
                         at: reply.index(reply.startIndex, offsetBy: 3))
        }
        state = .stopping(reply: Array(reply.utf8))
        for other in target.tasks where other.inHost { try? other.context.interrupt() }
    }

    func stopReply(_ tid: Int32, signal: Int32, swbreak: Bool = false) -> String {
        "T" + hex2(UInt64(GdbSignals.gdb(signal))) + "thread:" + threadText(tid) + ";" + (swbreak ? "swbreak:;" : "")
    }

    /// Lets the process run again: `actions` says what each thread does (step, continue, and with which
    /// signal); threads without one stay stopped.
    func resume(_ actions: [(step: Bool, signal: Int32?, thread: GdbThreadID?)]) {
        syncBreakpointSpace()
        stepping.removeAll()
        steppedIntoSyscall.removeAll()
        frozen.removeAll()
        state = .running  // before any signal: one that kills the process is reported as its end
        var go: [Task] = []
        for t in target.tasks where t.isAlive {
            guard let action = actions.first(where: { a in a.thread.map { matches($0, t.tid) } ?? true }) else {
                frozen.insert(t.tid)
                continue
            }
            if action.step {
                stepping.insert(t.tid)
                if t.isBlocked { steppedIntoSyscall.insert(t.tid) }  // the step ends when its call does
            }
            if let gdbSignal = action.signal, let sig = GdbSignals.linux(gdbSignal) {
                let info = stopSignals[t.tid].map { $0.signo == sig ? $0 : SignalInfo(signo: sig) } ?? SignalInfo(signo: sig)
                passOnce[t.tid] = sig
                kernel.send(t, sig, info: info)
                if !t.isAlive { passOnce[t.tid] = nil }
            }
            go.append(t)
        }
        stopSignals.removeAll()
        guard kernel.debugger === self else { return }  // a signal ended the process
        for t in go where t.isAlive && t.parked && t.process.stopSignal == nil && !t.isBlocked {
            t.parked = false
            try? kernel.resume(t)
        }
    }

    /// Ends the session: breakpoints out of memory, every thread free to run, the connection closed.
    func detach() {
        syncBreakpointSpace()
        if target.mmStorage != nil && !suspended {
            for (address, byte) in breakpoints { try? target.mm.debuggerWrite(GuestAddress(address), [byte]) }
        }
        breakpoints.removeAll()
        if watchGeneration > 0 {
            for t in target.tasks where t.isAlive && !t.inHost { try? t.context.setWatchpoints([], control: 0) }
            watchpoints.removeAll()
        }
        let held = target.tasks.filter { $0.isAlive && $0.parked && $0.process.stopSignal == nil && !$0.isBlocked }
        finish()
        for t in held {
            t.parked = false
            try? kernel.resume(t)
        }
    }

    func finish() {
        state = .running
        stepping.removeAll()
        frozen.removeAll()
        for t in target.tasks where t.context != nil { t.context.singleStepping = false }
        for f in files.values { f.released() }
        files.removeAll()
        connection.close()
        if kernel.debugger === self { kernel.debugger = nil }
    }

    /// exec gave the process a new memory: the breakpoints of the old one are gone with it.
    func syncBreakpointSpace() {
        guard let mm = target.mmStorage else { return }
        if breakpointSpace !== mm {
            breakpoints.removeAll()
            breakpointSpace = mm
        }
    }

    /// The largest packet gdb may send us, and about the largest reply we send.
    static let packetSize = 0x4000
    /// si_code of a debug-register trap.
    static let TRAP_HWBKPT: Int32 = 4
}
