import UmkHost

// PtracePlatform.swift: the ptrace platform (arch/um's skas, gVisor's ptrace platform). An address space is a
// stub process (StubProcess.swift) whose leader thread runs the mapping batches; each context is a host thread
// of that stub, traced by the kernel thread and resumed with PTRACE_SYSEMU, so that guest system calls stop
// in the kernel and never reach the host. Only the kernel thread may call anything here: it spawned and seized
// the stubs.
//
// Starting a stub (exec of the stub image, seize, control pages, seccomp filter) and its first thread is the
// largest fixed cost of fork and exec, so the stub of an address space that goes is wiped (every guest mapping
// removed, one thread kept with its FPU state cleared) and given to the next address space instead.
final class PtracePlatform: Platform {
    static let poolCapacity = 8

    private let memory: PhysicalMemory
    private var idle: [PtraceAddressSpace.Pooled] = []
    /// The host CPUs every new stub may run on (empty: the kernel thread's, which it inherits).
    var cpus: [Int32] = []
    /// Every live stub by the host ids of its threads and leader, to tell it of deaths the wait reaps.
    fileprivate var stubsByThread: [Int32: StubProcess] = [:]
    /// Threads resumed and not yet seen to stop: they cannot run stub code, so a space with one is killed
    /// rather than wiped for reuse.
    fileprivate var running: Set<Int32> = []
    /// Threads with hardware watchpoints set: cleared before a pooled stub serves another address space.
    fileprivate var watched: Set<Int32> = []

    init(memory: PhysicalMemory) {
        self.memory = memory
    }

    deinit { shutDown() }

    func newAddressSpace() throws(LinuxErrno) -> PlatformAddressSpace {
        if let ready = idle.popLast() { return PtraceAddressSpace(platform: self, pooled: ready) }
        do {
            let stub = try StubProcess(physicalMemory: memory)
            if !cpus.isEmpty { try HostCPU.setAffinity(of: stub.pid, to: cpus) }
            stubsByThread[stub.pid] = stub
            return PtraceAddressSpace(platform: self, pooled: .init(stub: stub, thread: nil))
        } catch {
            throw LinuxErrno(host: error)
        }
    }

    func waitForStop() throws(Errno) -> (id: Int32, stop: ContextStop)? {
        guard let (tid, stop) = try Tracer.waitInterruptible() else { return nil }
        return (tid, observe(tid, stop))
    }

    func pollStop() throws(Errno) -> (id: Int32, stop: ContextStop)? {
        guard let (tid, stop) = try Tracer.pollStop() else { return nil }
        return (tid, observe(tid, stop))
    }

    func shutDown() {
        for pooled in idle { kill(pooled.stub) }
        idle.removeAll()
    }

    /// A stop as the kernel sees it; a death reaped by the wait is the stub's to know of.
    fileprivate func observe(_ tid: Int32, _ stop: Tracer.Stop) -> ContextStop {
        running.remove(tid)
        switch stop {
        case .syscall: return .syscall
        case .signal(let s): return .signal(s)
        case .event: return .event
        case .exited(let code):
            reaped(tid)
            return .exited(code)
        case .killed(let sig):
            reaped(tid)
            return .killed(sig)
        }
    }

    private func reaped(_ tid: Int32) {
        guard let stub = stubsByThread.removeValue(forKey: tid) else { return }
        if tid == stub.pid { stub.reaped() } else { stub.threadReaped(tid) }
    }

    fileprivate func spawnThread(_ stub: StubProcess) throws(Errno) -> Int32 {
        let tid = try stub.spawnThread()
        stubsByThread[tid] = stub
        if !cpus.isEmpty { try? HostCPU.setAffinity(of: tid, to: cpus) }
        return tid
    }

    fileprivate func endThread(_ stub: StubProcess, _ tid: Int32) {
        stubsByThread[tid] = nil
        watched.remove(tid)
        stub.endThread(tid)
    }

    fileprivate func kill(_ stub: StubProcess) {
        stubsByThread[stub.pid] = nil
        for tid in stub.threads {
            stubsByThread[tid] = nil
            watched.remove(tid)
            running.remove(tid)
        }
        stub.kill()
    }

    fileprivate func isRunning(_ tid: Int32) -> Bool { running.contains(tid) }

    /// Takes back the stub of an address space that is gone: wiped for reuse with `thread` kept, or killed
    /// if the pool is full, the stub failed, or the wipe fails. When this returns, the stub maps no frame.
    fileprivate func give(_ stub: StubProcess, keeping thread: Int32?) {
        stub.discardPendingChanges()
        if let thread, watched.remove(thread) != nil, (try? Tracer.setDebugRegister(thread, 7, 0)) == nil {
            kill(stub)  // it would trap where the old address space was watched
            return
        }
        if stub.failure == nil, idle.count < PtracePlatform.poolCapacity {
            let others = stub.threads.filter { $0 != thread }
            for tid in others { stubsByThread[tid] = nil }
            if (try? stub.reset(keeping: thread)) != nil {
                idle.append(.init(stub: stub, thread: thread))
                return
            }
        }
        kill(stub)
    }
}

final class PtraceAddressSpace: PlatformAddressSpace {
    struct Pooled {
        let stub: StubProcess
        /// A host thread of the stub ready for a guest thread.
        let thread: Int32?
    }

    private unowned let platform: PtracePlatform
    let stub: StubProcess
    /// Host threads of the stub whose guest thread ended, kept for the next thread of this space.
    private var spareThreads: [Int32] = []
    private var contexts: [Int32: PtraceContext] = [:]
    private static let maxSpareThreads = 4

    fileprivate init(platform: PtracePlatform, pooled: Pooled) {
        self.platform = platform
        stub = pooled.stub
        if let t = pooled.thread { spareThreads.append(t) }
    }

    func map(address: UInt64, length: UInt64, prot: Int32, offset: UInt64) {
        stub.map(address: address, length: length, prot: prot, offset: offset)
    }
    func unmap(address: UInt64, length: UInt64) { stub.unmap(address: address, length: length) }
    func protect(address: UInt64, length: UInt64, prot: Int32) { stub.protect(address: address, length: length, prot: prot) }
    var hasPendingChanges: Bool { stub.hasPendingChanges }
    var hasFailed: Bool { stub.failure != nil }

    func flush() throws(Errno) {
        do {
            try stub.flush()
        } catch {
            platform.kill(stub)  // a failed batch killed it; forget its threads too
            throw error
        }
    }

    func newContext() throws(Errno) -> PlatformContext {
        let tid: Int32
        if let spare = spareThreads.popLast() { tid = spare } else { tid = try platform.spawnThread(stub) }
        if platform.watched.remove(tid) != nil { try Tracer.setDebugRegister(tid, 7, 0) }  // a new thread: no watchpoints
        let context = PtraceContext(tid: tid, platform: platform)
        contexts[tid] = context
        return context
    }

    /// A running context stays listed until the space goes (which then kills the stub): its host thread
    /// cannot be told to end while it runs guest code.
    func releaseContext(_ context: PlatformContext) {
        guard let c = contexts[context.id], stub.threads.contains(c.tid), !platform.isRunning(c.tid) else { return }
        contexts[c.tid] = nil
        if c.reusable && spareThreads.count < PtraceAddressSpace.maxSpareThreads {
            spareThreads.append(c.tid)
        } else {
            platform.endThread(stub, c.tid)
        }
    }

    func release() {
        defer {
            contexts.removeAll()
            spareThreads.removeAll()
        }
        if contexts.keys.contains(where: platform.isRunning) {
            platform.kill(stub)
            return
        }
        let keep = (spareThreads + contexts.values.filter { $0.reusable }.map { $0.tid }).first {
            stub.threads.contains($0)
        }
        platform.give(stub, keeping: keep)
    }

    var cpuTimes: (user: Int64, system: Int64)? { HostClock.stubTimes(pid: stub.pid) }
}

final class PtraceContext: PlatformContext {
    let tid: Int32
    var reusable = true
    var singleStepping = false
    private unowned let platform: PtracePlatform

    init(tid: Int32, platform: PtracePlatform) {
        self.tid = tid
        self.platform = platform
    }

    var id: Int32 { tid }

    @inline(__always)
    func getRegisters(_ regs: inout Registers) throws(Errno) { try Tracer.getRegisters(tid, &regs) }
    @inline(__always)
    func setRegisters(_ regs: Registers) throws(Errno) { try Tracer.setRegisters(tid, regs) }
    @inline(__always)
    func resume() throws(Errno) {
        try Tracer.resumeSysemu(tid, singleStep: singleStepping)
        platform.running.insert(tid)
    }
    func interrupt() throws(Errno) { try Tracer.interrupt(tid) }

    func waitForStop() throws(Errno) -> ContextStop {
        let (_, stop) = try Tracer.wait(pid: tid)
        return platform.observe(tid, stop)
    }

    func faultInfo() throws(Errno) -> FaultInfo {
        let info = try Tracer.signalInfo(tid)
        return FaultInfo(signo: info.signo, code: info.code, address: info.address)
    }

    func extendedState() throws(Errno) -> [UInt8] { try Tracer.extendedState(tid) }

    func setWatchpoints(_ addresses: [UInt64], control: UInt64) throws(Errno) {
        try Tracer.setDebugRegister(tid, 7, 0)
        for (i, a) in addresses.prefix(4).enumerated() { try Tracer.setDebugRegister(tid, Int32(i), a) }
        if control != 0 {
            try Tracer.setDebugRegister(tid, 7, control)
            platform.watched.insert(tid)
        } else {
            platform.watched.remove(tid)
        }
    }

    func takeWatchpointHits() throws(Errno) -> UInt64 {
        let status = try Tracer.debugRegister(tid, 6)
        if status & 0xf != 0 { try Tracer.setDebugRegister(tid, 6, 0) }
        return status & 0xf
    }
    func setExtendedState(_ image: [UInt8]) throws(Errno) { try Tracer.setExtendedState(tid, image) }
}
