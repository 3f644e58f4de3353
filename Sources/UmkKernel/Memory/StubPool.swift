import UmkHost

// StubPool.swift: stub processes kept for reuse. Starting a stub (exec of the stub image, seize, mapping its
// data pages) is the largest fixed cost of fork and exec, so the stub of an address space that goes is wiped
// (every guest mapping removed, FPU state cleared) and given to the next address space instead of being
// killed. The pool is small and per instance; whatever it holds is killed when the instance ends.
final class StubPool {
    static let capacity = 8

    private let frames: PhysicalFrames
    private var idle: [(StubProcess, Range<Int>)] = []

    init(frames: PhysicalFrames) {
        self.frames = frames
    }

    deinit { drain() }

    /// A ready stub and its data frames: a pooled one, or a new one.
    func take() throws(LinuxErrno) -> (StubProcess, Range<Int>) {
        if let ready = idle.popLast() { return ready }
        let runs = try frames.allocate(StubProcess.dataPages)
        guard runs.count == 1 else {
            frames.release(runs.joined())
            throw .ENOMEM
        }
        do {
            return (try StubProcess(physicalMemory: frames.memory, dataOffset: runs[0].lowerBound * 4096), runs[0])
        } catch {
            frames.release(runs[0])
            throw LinuxErrno(host: error)
        }
    }

    /// Takes back the stub of an address space that is gone; wiped for reuse, or killed if the pool is full
    /// or the wipe fails.
    func give(_ stub: StubProcess, _ data: Range<Int>) {
        if idle.count < StubPool.capacity, (try? stub.reset()) != nil {
            idle.append((stub, data))
            return
        }
        stub.kill()
        frames.release(data)
    }

    /// Kills every pooled stub (the instance is ending).
    func drain() {
        for (stub, data) in idle {
            stub.kill()
            frames.release(data)
        }
        idle.removeAll()
    }
}
