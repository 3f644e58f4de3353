// Tracer.swift: ptrace control of stub processes (arch/um os-Linux/skas/process.c).
//
// Precondition for everything here: called from the instance's kernel thread, the thread that spawned and
// seized the stubs. Ptrace requests from any other thread fail with ESRCH.
import Glibc
import CUmk

public enum Tracer {
    static let PTRACE_CONT: Int = 7
    static let PTRACE_KILL: Int = 8
    static let PTRACE_SYSCALL: Int = 24
    static let PTRACE_SYSEMU: Int = 31
    static let PTRACE_SYSEMU_SINGLESTEP: Int = 32
    static let PTRACE_SEIZE: Int = 0x4206
    static let PTRACE_INTERRUPT: Int = 0x4207
    static let PTRACE_O_TRACESYSGOOD: UInt64 = 1
    static let PTRACE_O_TRACECLONE: UInt64 = 8
    static let PTRACE_O_EXITKILL: UInt64 = 0x10_0000

    /// What a wait reported about one stub.
    public enum Stop: Equatable, Sendable {
        /// Stopped at a system call entry (PTRACE_SYSEMU): the guest wants the kernel.
        case syscall
        /// Stopped with a signal about to be delivered (a fault, int3, or a host signal sent to it).
        case signal(Int32)
        /// A ptrace event stop (PTRACE_INTERRUPT, group stop).
        case event
        case exited(Int32)
        case killed(Int32)
    }

    /// Starts a stub process, seizes it and waits until it sits in its idle loop. It is then stopped, ready
    /// for `runStub`, with `control` (its control memfd) mapped and its seccomp filter installed. It inherits
    /// the kernel thread's CPU affinity.
    public static func spawnStub(physicalMemory: PhysicalMemory, control: Int32) throws(Errno) -> Int32 {
        // Seizing a process that is just finishing its exec has been seen to fail with EPERM now and then
        // under load: such a stub is killed and another one started.
        var lastError = Errno(rawValue: EPERM)
        for _ in 0..<3 {
            let pid = try shim(umk_spawn_stub(StubImage.shared.fd, physicalMemory.fd, control))
            do throws(Errno) {
                try shim(umk_ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE))
                try shim(umk_ptrace(PTRACE_INTERRUPT, pid, 0, 0))
                // The interrupt may stop the stub before it has finished its start (unmapping, its control
                // pages, the seccomp filter): let it go on until it is stopped in its idle loop.
                let idle = (UMK_STUB_CODE + UInt64(umk_stub_idle_begin()))..<(UMK_STUB_CODE + UInt64(umk_stub_idle_finish()))
                var regs = Registers()
                while true {
                    let (_, stop) = try wait(pid: pid)
                    switch stop {
                    case .event, .signal, .syscall:
                        try getRegisters(pid, &regs)
                        if idle.contains(regs.rip) { return pid }
                        // On to its next system call stop (at the latest, the entry of its idle pause).
                        _ = try shim(umk_ptrace(PTRACE_SYSCALL, pid, 0, 0))
                    case .exited, .killed: throw Errno(rawValue: ECHILD)
                    }
                }
            } catch {
                kill(pid: pid)
                lastError = error
                if error.rawValue != EPERM { throw error }
            }
        }
        throw lastError
    }

    /// Waits for the next stop of any stub of this thread (`__WALL | __WNOTHREAD`), or of `pid`.
    public static func wait(pid: Int32 = -1) throws(Errno) -> (Int32, Stop) {
        var status: Int32 = 0
        let r = try shim(umk_wait(pid, &status, __WALL | __WNOTHREAD))
        return (r, decode(status))
    }

    static func decode(_ status: Int32) -> Stop {
        let low = status & 0x7f
        if low == 0 { return .exited((status >> 8) & 0xff) }
        if (status & 0xff) == 0x7f {
            let sig = (status >> 8) & 0xff
            if sig == (SIGTRAP | 0x80) { return .syscall }
            if (status >> 16) != 0 { return .event }
            return .signal(sig)
        }
        return .killed(low)
    }

    @inline(__always)
    public static func getRegisters(_ pid: Int32, _ regs: inout Registers) throws(Errno) {
        let r = withUnsafeMutablePointer(to: &regs) {
            $0.withMemoryRebound(to: umk_regs.self, capacity: 1) { umk_getregs(pid, $0) }
        }
        _ = try shim(r)
    }

    @inline(__always)
    public static func setRegisters(_ pid: Int32, _ regs: Registers) throws(Errno) {
        var copy = regs
        let r = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: umk_regs.self, capacity: 1) { umk_setregs(pid, $0) }
        }
        _ = try shim(r)
    }

    /// Resumes a stub at guest level: it runs until its next syscall, fault or signal. With `singleStep`
    /// (PTRACE_SYSEMU_SINGLESTEP, for a debugger's step) it stops after one instruction at the latest: a
    /// SIGTRAP stop, or the syscall stop of a `syscall` instruction.
    @inline(__always)
    public static func resumeSysemu(_ pid: Int32, signal: Int32 = 0, singleStep: Bool = false) throws(Errno) {
        _ = try shim(umk_ptrace(singleStep ? PTRACE_SYSEMU_SINGLESTEP : PTRACE_SYSEMU, pid, 0, UInt64(signal)))
    }

    /// Continues a stub without syscall stops: used to run the stub's own code.
    public static func resumeContinue(_ pid: Int32, signal: Int32 = 0) throws(Errno) {
        _ = try shim(umk_ptrace(PTRACE_CONT, pid, 0, UInt64(signal)))
    }

    public static func interrupt(_ pid: Int32) throws(Errno) {
        _ = try shim(umk_ptrace(PTRACE_INTERRUPT, pid, 0, 0))
    }

    public struct SignalInfo: Sendable {
        public var signo: Int32
        public var code: Int32
        public var address: UInt64

        public init(signo: Int32, code: Int32, address: UInt64) {
            self.signo = signo
            self.code = code
            self.address = address
        }
    }

    public static func signalInfo(_ pid: Int32) throws(Errno) -> SignalInfo {
        var signo: Int32 = 0, code: Int32 = 0, addr: UInt64 = 0
        _ = try shim(umk_getsiginfo(pid, &signo, &code, &addr))
        return SignalInfo(signo: signo, code: code, address: addr)
    }

    /// Kills a stub and reaps it and its `threads`, so that no host process or thread is left behind. The
    /// threads go first: a traced group leader is reported only once every other thread has been reaped.
    public static func kill(pid: Int32, threads: some Sequence<Int32> = []) {
        _ = Glibc.kill(pid, SIGKILL)
        for tid in threads { reap(tid) }
        reap(pid)
    }

    /// Waits until `pid` (a process or one thread) has exited or been killed, dropping its other stops.
    static func reap(_ pid: Int32) {
        var status: Int32 = 0
        while true {
            let r = umk_wait(pid, &status, __WALL)
            if r < 0 { return }  // already reaped, or not ours
            let low = status & 0x7f
            if (status & 0xff) != 0x7f && low != 0x7f { return }  // exited or killed: reaped
        }
    }

    /// A new host thread in the stub whose leader is `leader` (stopped in its idle loop), for a guest thread:
    /// the leader runs the stub's clone entry, the thread (auto-attached by PTRACE_O_TRACECLONE) stacks the
    /// guest-thread filter and stops at its int3. Returns its tid, stopped and ready for guest registers.
    public static func spawnThread(leader: Int32) throws(Errno) -> Int32 {
        guard try runStub(leader, entry: umk_stub_entry_clone(), regs: Registers()) else { throw Errno(rawValue: EIO) }
        var regs = Registers()
        try getRegisters(leader, &regs)
        let result = Int64(bitPattern: regs.rax)
        guard result > 0, result <= Int64(Int32.max) else {
            throw Errno(rawValue: result < 0 && result >= -4095 ? Int32(-result) : EIO)
        }
        let tid = Int32(result)
        while true {
            let (_, stop) = try wait(pid: tid)
            switch stop {
            case .signal(SIGTRAP): return tid
            case .event, .signal, .syscall: try resumeContinue(tid)  // its first stop (PTRACE_EVENT_STOP)
            case .exited, .killed: throw Errno(rawValue: EAGAIN)  // it could not install its filter
            }
        }
    }

    /// Ends one guest thread's host thread (stopped) and reaps it.
    public static func endThread(_ tid: Int32) {
        var regs = Registers()
        regs.rip = UMK_STUB_CODE + UInt64(umk_stub_entry_exit_thread())
        regs.origRax = UInt64.max
        if (try? setRegisters(tid, regs)) != nil, (try? resumeContinue(tid)) != nil {
            reap(tid)
        }
    }

    /// Runs the stub's code at `entry` (an offset into the stub page) with `regs`, until its int3 (true) or
    /// its ud2 (false: the stub's code failed and says why in its registers).
    /// The guest's registers are not restored here: the caller sets them again before resuming the guest.
    @discardableResult
    public static func runStub(_ pid: Int32, entry: Int, regs: Registers) throws(Errno) -> Bool {
        var r = regs
        r.rip = UMK_STUB_CODE + UInt64(entry)
        r.origRax = UInt64.max  // -1: no syscall restart on the way out of this stop
        try setRegisters(pid, r)
        try resumeContinue(pid)
        while true {
            let (_, stop) = try wait(pid: pid)
            switch stop {
            case .signal(SIGTRAP): return true
            case .signal(SIGILL): return false
            case .signal(let s):
                // A host signal (say SIGINT from a terminal) while the stub runs: let it finish first.
                _ = s
                try resumeContinue(pid)
            case .event: try resumeContinue(pid)
            case .syscall: try resumeContinue(pid)
            case .exited, .killed: throw Errno(rawValue: ESRCH)
            }
        }
    }
}

extension Tracer {
    /// Like wait, but a timer tick (or any handled signal) ends it early: nil then.
    public static func waitInterruptible() throws(Errno) -> (Int32, Stop)? {
        var status: Int32 = 0
        let r = umk_wait_interruptible(-1, &status, __WALL | __WNOTHREAD)
        if r == -EINTR { return nil }
        return (try shim(r), decode(status))
    }
}

/// The kernel thread's timer interrupt (arch/um os-Linux/time.c): a host POSIX timer whose signal goes to
/// the kernel thread alone and interrupts its wait, so sleeping tasks and console readers get looked at.
/// Create it on the kernel thread.
public final class TickTimer {
    private let timer: Int32

    public init() throws(Errno) {
        var t: Int32 = -1
        _ = try shim(umk_tick_timer_create(&t))
        timer = t
    }

    deinit { umk_tick_timer_delete(timer) }

    /// Fires first after `first` ns, then every `interval` ns (0: once); first == 0 disarms.
    public func arm(first: Int64, interval: Int64) {
        _ = umk_tick_timer_arm(timer, max(first, 0), interval)
    }
}

extension HostFile {
    /// Whether a read would not block now (data, end of file, or an error to report); waits up to
    /// `timeoutMilliseconds` (-1: forever).
    public func isReadable(timeoutMilliseconds: Int32 = 0) -> Bool {
        umk_poll_readable(fd, timeoutMilliseconds) != 0
    }
}

extension Tracer {
    public static var extendedStateSize: Int { HostCPU.extendedStateSize }

    /// The whole extended register state (x87, SSE, AVX, AVX-512, ...) in the standard XSAVE format, with
    /// the host's xstate_fx_sw_bytes in the FXSAVE area's software-reserved bytes, as in a signal frame.
    public static func extendedState(_ pid: Int32) throws(Errno) -> [UInt8] {
        guard extendedStateSize > 512 else { return try floatingPoint(pid) }
        var buf = [UInt8](repeating: 0, count: extendedStateSize)
        let n = try shim(buf.withUnsafeMutableBytes { umk_get_xstate(pid, $0.baseAddress, $0.count) })
        if n < buf.count { buf.removeLast(buf.count - n) }
        return buf
    }

    /// Sets the whole extended state from an image of extendedStateSize bytes. The host validates it (the
    /// XSAVE header, MXCSR): EINVAL or EFAULT for an image the guest forged badly.
    public static func setExtendedState(_ pid: Int32, _ image: [UInt8]) throws(Errno) {
        guard extendedStateSize > 512 else { return try setFloatingPoint(pid, Array(image.prefix(512))) }
        _ = try shim(image.withUnsafeBytes { umk_set_xstate(pid, $0.baseAddress, $0.count) })
    }

    /// PTRACE_GETFPREGS: the 512-byte FXSAVE image of the x87/SSE state (what a signal frame saves).
    public static func floatingPoint(_ pid: Int32) throws(Errno) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 512)
        let r = buf.withUnsafeMutableBytes { umk_ptrace(14, pid, 0, UInt64(UInt(bitPattern: $0.baseAddress))) }
        _ = try shim(r)
        return buf
    }

    /// PTRACE_SETFPREGS from a 512-byte FXSAVE image.
    public static func setFloatingPoint(_ pid: Int32, _ image: [UInt8]) throws(Errno) {
        guard image.count == 512 else { throw Errno(rawValue: EINVAL) }
        let r = image.withUnsafeBytes { umk_ptrace(15, pid, 0, UInt64(UInt(bitPattern: $0.baseAddress))) }
        _ = try shim(r)
    }
}

extension Tracer {
    /// The next stop already waiting, without blocking (WNOHANG), or nil.
    public static func pollStop() throws(Errno) -> (Int32, Stop)? {
        var status: Int32 = 0
        let r = try shim(umk_wait(-1, &status, __WALL | __WNOTHREAD | WNOHANG))
        return r == 0 ? nil : (r, decode(status))
    }
}

extension Tracer {
    /// Sets debug register `index` (0-3 addresses, 7 control) of a stopped stub thread: a debugger's
    /// hardware watchpoints. The host checks the values (an address beyond user space is EINVAL).
    public static func setDebugRegister(_ pid: Int32, _ index: Int32, _ value: UInt64) throws(Errno) {
        _ = try shim(umk_set_debugreg(pid, index, value))
    }

    /// Debug register `index` of a stopped stub thread (6: which watchpoints triggered).
    public static func debugRegister(_ pid: Int32, _ index: Int32) throws(Errno) -> UInt64 {
        var value: UInt64 = 0
        _ = try shim(umk_get_debugreg(pid, index, &value))
        return value
    }
}
