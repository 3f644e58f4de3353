import UmkHost

// PhysicalFrames.swift: the instance's guest RAM: the physical-memory file and the allocator over its frames.
// Running out is the guest's problem (ENOMEM), never the host's: the file never grows past --mem.
final class PhysicalFrames {
    let memory: PhysicalMemory
    private(set) var allocator: FrameAllocator

    init(bytes: Int) throws(LinuxErrno) {
        do {
            memory = try PhysicalMemory(size: bytes)
        } catch {
            throw LinuxErrno(host: error)
        }
        allocator = FrameAllocator(frameCount: bytes / PhysicalMemory.pageSize)
        // The zero frames: taken once, never written, never freed (this reference is never dropped).
        var zero: Range<Int>? = nil
        if bytes / PhysicalMemory.pageSize > 4 * PhysicalFrames.zeroRun,
            let runs = allocator.allocate(PhysicalFrames.zeroRun), runs.count == 1
        {
            zero = runs[0]
        }
        zeroFrames = zero
    }

    /// Untouched private memory that nothing was promised for (MAP_NORESERVE, or not writable) reads from
    /// these frames, mapped copy-on-write, as Linux maps its zero page: reading a huge reservation costs no
    /// RAM. A run rather than one frame, so that a fault-around cluster is one host mapping, not 64.
    static let zeroRun = 64
    let zeroFrames: Range<Int>?

    /// The zero frame for guest page `vpn`: consecutive pages get consecutive frames.
    func zeroFrame(for vpn: UInt64) -> Int? {
        zeroFrames.map { $0.lowerBound + Int(vpn % UInt64(PhysicalFrames.zeroRun)) }
    }

    var totalFrames: Int { allocator.frameCount }

    /// Pages of memory the instance has promised to back (Linux's Committed_AS): private writable mappings
    /// count when they are made, while their frames are only taken when the guest first touches the pages.
    /// How far promises may exceed RAM is the overcommit policy's; actual exhaustion is the OOM killer's.
    private(set) var committed = 0

    var overcommit = OvercommitPolicy.heuristic

    /// __vm_enough_memory (mm/util.c): whether `pages` more may be promised. There is no swap.
    func canCharge(_ pages: Int) -> Bool {
        switch overcommit {
        case .heuristic: return pages <= totalFrames  // only a single request larger than all RAM is refused
        case .always: return true
        case .never: return committed + pages <= commitLimit
        }
    }

    /// CommitLimit in /proc/meminfo: what strict accounting would allow (Linux shows it in every mode).
    var commitLimit: Int {
        if case .never(let ratio) = overcommit { return totalFrames * ratio / 100 }
        return totalFrames / 2
    }

    func charge(_ pages: Int) throws(LinuxErrno) {
        guard pages > 0 else { return }
        guard canCharge(pages) else { throw .ENOMEM }
        committed += pages
    }

    /// Charges several mappings at once: fork's dup_mmap asks for each VMA on its own.
    func charge(each requests: [Int]) throws(LinuxErrno) {
        let total = requests.reduce(0, +)
        if case .never = overcommit { return try charge(total) }
        guard requests.allSatisfy(canCharge) else { throw .ENOMEM }
        committed += total
    }

    func uncharge(_ pages: Int) { committed -= pages }

    var freeFrames: Int { allocator.freeCount }

    /// Called when an allocation finds too few free frames: the page cache gives back what only it uses.
    var reclaim: ((Int) -> Void)?

    func allocate(_ n: Int) throws(LinuxErrno) -> [Range<Int>] {
        if let runs = allocator.allocate(n) { return runs }
        reclaim?(n - allocator.freeCount)
        guard let runs = allocator.allocate(n) else { throw .ENOMEM }
        return runs
    }

    func retain(_ frame: Int) { allocator.retain(frame) }
    func refcount(_ frame: Int) -> UInt32 { allocator.refcount(frame) }

    /// Drops one reference to each frame; frames that became free give their host memory back (and read as
    /// zero when reused). Consecutive frames are released with one host call.
    func release<S: Sequence>(_ frames: S) where S.Element == Int {
        var runStart = -1, runEnd = -1
        for f in frames where allocator.release(f) {
            if f == runEnd {
                runEnd += 1
            } else {
                if runStart >= 0 { punch(runStart..<runEnd) }
                runStart = f
                runEnd = f + 1
            }
        }
        if runStart >= 0 { punch(runStart..<runEnd) }
    }

    /// Makes `frames` resident in umk's mapping in one call per run of consecutive frames, before the kernel
    /// fills them (a copy-up, a large write): a page fault each would cost more than the copy.
    func populate(_ frames: [Int]) {
        var i = 0
        while i < frames.count {
            var j = i + 1
            while j < frames.count && frames[j] == frames[j - 1] + 1 { j += 1 }
            memory.populate(offset: frames[i] * PhysicalMemory.pageSize, length: (j - i) * PhysicalMemory.pageSize)
            i = j
        }
    }

    /// Fills `frames`, in order, with `file`'s bytes from `offset` on, inside the host kernel (one sendfile
    /// per run of consecutive frames); returns the bytes copied (fewer at the end of the file, the rest of the
    /// frames staying zero).
    func fill(_ frames: [Int], from file: HostFile, at offset: Int64) throws(LinuxErrno) -> Int {
        var i = 0, done = 0
        while i < frames.count {
            var j = i + 1
            while j < frames.count && frames[j] == frames[j - 1] + 1 { j += 1 }
            let want = (j - i) * PhysicalMemory.pageSize
            let n: Int
            do {
                n = try memory.copy(from: file, at: offset + Int64(done), to: frames[i] * PhysicalMemory.pageSize, length: want)
            } catch {
                throw LinuxErrno(host: error)
            }
            done += n
            if n < want { break }
            i = j
        }
        return done
    }

    /// Zeroes frames in place (MADV_DONTNEED on private memory): the host memory is given back too.
    func zero(_ run: Range<Int>) { punch(run) }

    private func punch(_ run: Range<Int>) {
        memory.release(offset: run.lowerBound * PhysicalMemory.pageSize, length: run.count * PhysicalMemory.pageSize)
    }

    func fileOffset(of frame: Int) -> UInt64 { UInt64(frame) * UInt64(PhysicalMemory.pageSize) }
}

/// vm.overcommit_memory: how much private writable memory may be promised beyond what RAM could back.
public enum OvercommitPolicy: Equatable, Sendable {
    /// 0, Linux's default: any request no larger than RAM, so runtimes can reserve large heaps.
    case heuristic
    /// 1: every request.
    case always
    /// 2: promises in all at most `ratio` percent of RAM (vm.overcommit_ratio; Linux's default is 50).
    case never(ratio: Int)
}

extension LinuxErrno {
    /// The named place where a host error becomes a guest error: Linux on both sides, so the numbers agree.
    init(host: Errno) { self.init(host.rawValue) }
}
