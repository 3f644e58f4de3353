import UmkHost

// Platform.swift: how the kernel runs guest code (gVisor's pkg/sentry/platform): an address space to map frames
// of the physical-memory file into, and contexts (one per guest thread) with registers to run there until the
// next system call, fault or signal. Memory, task and system call code talk to these protocols only; ptrace
// stubs (PtracePlatform.swift) are the first platform, a seccomp trap with a shared-memory channel the next.

/// Why a context stopped.
enum ContextStop: Equatable {
    /// At a system call: the guest wants the kernel.
    case syscall
    /// A fault of the guest (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) or a host signal sent to it.
    case signal(Int32)
    /// Stopped by `interrupt()`.
    case event
    /// The context is gone: its host thread exited or was killed (the platform has already reaped it).
    case exited(Int32)
    case killed(Int32)
}

/// What the host says about a fault: siginfo's signo, code and address.
struct FaultInfo {
    var signo: Int32
    var code: Int32
    var address: UInt64
}

protocol Platform: AnyObject {
    /// A new, empty address space. ENOMEM/EAGAIN when the host has no room for one.
    func newAddressSpace() throws(LinuxErrno) -> PlatformAddressSpace
    /// The next stop of any context; nil when the kernel's timer tick (or another handled host signal) ended
    /// the wait first.
    func waitForStop() throws(Errno) -> (id: Int32, stop: ContextStop)?
    /// A stop that is already waiting, or nil, without blocking.
    func pollStop() throws(Errno) -> (id: Int32, stop: ContextStop)?
    /// Frees whatever the platform keeps for reuse (the instance ends).
    func shutDown()
}

/// A guest address space on the platform. Changes are queued and take effect at `flush`, which the kernel
/// calls before any context of the space runs again and after sharing frames (fork): until then the space
/// may still map what the changes remove, so frames they take away are freed only after it.
protocol PlatformAddressSpace: AnyObject {
    func map(address: UInt64, length: UInt64, prot: Int32, offset: UInt64)
    func unmap(address: UInt64, length: UInt64)
    func protect(address: UInt64, length: UInt64, prot: Int32)
    var hasPendingChanges: Bool { get }
    /// A flush failed: the platform destroyed the space (nothing maps its frames any more) and it takes no
    /// more changes; its contexts cannot run.
    var hasFailed: Bool { get }
    func flush() throws(Errno)
    /// A context to run a thread of this space on, its registers yet to be set.
    func newContext() throws(Errno) -> PlatformContext
    /// A thread of the space has ended: its context is not used again.
    func releaseContext(_ context: PlatformContext)
    /// The space is gone (its last user left): once this returns, nothing maps any of its frames.
    func release()
    /// The CPU time the space's contexts have run, in ns.
    var cpuTimes: (user: Int64, system: Int64)? { get }
}

/// One guest thread's execution context on the platform (a host thread for ptrace).
protocol PlatformContext: AnyObject {
    /// How the platform names this context in its stops; the host thread's id where there is one (host
    /// scheduling and CPU clocks apply to it).
    var id: Int32 { get }
    func getRegisters(_ regs: inout Registers) throws(Errno)
    func setRegisters(_ regs: Registers) throws(Errno)
    /// Runs guest code until the next system call, fault or signal (a stop reported by `waitForStop`).
    func resume() throws(Errno)
    /// Stops a running context soon (it reports `.event`, or whatever stop came first).
    func interrupt() throws(Errno)
    /// Waits for this context's own next stop (after `interrupt`).
    func waitForStop() throws(Errno) -> ContextStop
    /// The fault behind the `.signal` stop this context is in.
    func faultInfo() throws(Errno) -> FaultInfo
    /// The whole extended register state (x87, SSE, AVX, ...) as an XSAVE image, and setting it.
    func extendedState() throws(Errno) -> [UInt8]
    func setExtendedState(_ image: [UInt8]) throws(Errno)
    /// Hardware watchpoints (a debugger's): up to four addresses and the control word that says what each
    /// watches (x86's DR0-DR3 and DR7; 0 turns them off). The platform turns them off before the context
    /// serves another address space. The context must be stopped.
    func setWatchpoints(_ addresses: [UInt64], control: UInt64) throws(Errno)
    /// Which watchpoints (bits 0-3) triggered since the last call, which clears them (DR6).
    func takeWatchpointHits() throws(Errno) -> UInt64
    /// While set, `resume` runs one instruction at most (a debugger's single step): the context then stops
    /// with SIGTRAP, or at the system call that instruction made.
    var singleStepping: Bool { get set }
    /// False once the host priority of the context was lowered (it cannot be raised again unprivileged): it
    /// is then not reused for another thread.
    var reusable: Bool { get set }
}
