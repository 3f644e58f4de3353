import UmkHost

// StubPool.swift: stub processes kept for reuse. Starting a stub (exec of the stub image, seize, its control
// pages and seccomp filter) is the largest fixed cost of fork and exec, so the stub of an address space that
// goes is wiped (every guest mapping removed, FPU state cleared) and given to the next address space instead
// of being killed. The pool is small and per instance; whatever it holds is killed when the instance ends.
final class StubPool {
    static let capacity = 8

    private let frames: PhysicalFrames
    private var idle: [StubProcess] = []
    /// The host CPUs every new stub may run on (empty: the kernel thread's, which it inherits).
    var cpus: [Int32] = []

    init(frames: PhysicalFrames) {
        self.frames = frames
    }

    deinit { drain() }

    /// A ready stub: a pooled one, or a new one.
    func take() throws(LinuxErrno) -> StubProcess {
        if let ready = idle.popLast() { return ready }
        do {
            let stub = try StubProcess(physicalMemory: frames.memory)
            if !cpus.isEmpty { try HostCPU.setAffinity(of: stub.pid, to: cpus) }
            return stub
        } catch {
            throw LinuxErrno(host: error)
        }
    }

    /// Takes back the stub of an address space that is gone; wiped for reuse, or killed if the pool is full,
    /// the stub already failed, or the wipe fails. When this returns, the stub maps no guest frame.
    func give(_ stub: StubProcess, reusable: Bool = true) {
        stub.discardPendingChanges()
        if reusable, stub.failure == nil, idle.count < StubPool.capacity, (try? stub.reset()) != nil {
            idle.append(stub)
            return
        }
        stub.kill()
    }

    /// Kills every pooled stub (the instance is ending).
    func drain() {
        for stub in idle { stub.kill() }
        idle.removeAll()
    }
}
