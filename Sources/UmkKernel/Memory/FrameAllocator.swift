// FrameAllocator.swift: which frames (4 KiB pages) of the physical-memory file are in use.
//
// Free space is a sorted list of disjoint, non-adjacent runs, so an allocation of n frames usually comes back
// as one contiguous run, and one host mmap maps it. Each frame in use has a reference count: copy-on-write
// fork shares frames, and the last release frees one.
struct FrameAllocator {
    let frameCount: Int
    private(set) var freeRuns: [Range<Int>]
    private(set) var freeCount: Int
    private var refcounts: [UInt32]

    init(frameCount: Int) {
        self.frameCount = frameCount
        freeRuns = frameCount > 0 ? [0..<frameCount] : []
        freeCount = frameCount
        refcounts = [UInt32](repeating: 0, count: frameCount)
    }

    var usedCount: Int { frameCount - freeCount }

    /// Takes `n` frames, each with a reference count of one, as few runs as the free list allows; nil (and
    /// nothing taken) when fewer than `n` are free.
    mutating func allocate(_ n: Int) -> [Range<Int>]? {
        precondition(n > 0)
        guard n <= freeCount else { return nil }
        var runs: [Range<Int>] = []
        if let i = freeRuns.firstIndex(where: { $0.count >= n }) {
            let r = freeRuns[i]
            runs.append(r.lowerBound..<(r.lowerBound + n))
            if r.count == n { freeRuns.remove(at: i) } else { freeRuns[i] = (r.lowerBound + n)..<r.upperBound }
        } else {
            // Fragmented: take whole runs from the front until enough.
            var left = n
            while left > 0 {
                let r = freeRuns[0]
                if r.count <= left {
                    runs.append(r)
                    freeRuns.removeFirst()
                    left -= r.count
                } else {
                    runs.append(r.lowerBound..<(r.lowerBound + left))
                    freeRuns[0] = (r.lowerBound + left)..<r.upperBound
                    left = 0
                }
            }
        }
        freeCount -= n
        for r in runs { for f in r { refcounts[f] = 1 } }
        return runs
    }

    func refcount(_ frame: Int) -> UInt32 { refcounts[frame] }

    mutating func retain(_ frame: Int) {
        precondition(refcounts[frame] > 0, "retain of a free frame")
        refcounts[frame] += 1
    }

    /// Drops one reference; returns true when that was the last and the frame is free again.
    mutating func release(_ frame: Int) -> Bool {
        precondition(refcounts[frame] > 0, "release of a free frame")
        refcounts[frame] -= 1
        guard refcounts[frame] == 0 else { return false }
        insertFree(frame..<(frame + 1))
        return true
    }

    private mutating func insertFree(_ run: Range<Int>) {
        // Binary search for the first run that starts after this one.
        var lo = 0, hi = freeRuns.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if freeRuns[mid].lowerBound < run.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        var merged = run
        var i = lo
        if i > 0, freeRuns[i - 1].upperBound == merged.lowerBound {
            merged = freeRuns[i - 1].lowerBound..<merged.upperBound
            freeRuns.remove(at: i - 1)
            i -= 1
        }
        if i < freeRuns.count, freeRuns[i].lowerBound == merged.upperBound {
            merged = merged.lowerBound..<freeRuns[i].upperBound
            freeRuns.remove(at: i)
        }
        freeRuns.insert(merged, at: i)
        freeCount += run.count
    }
}
