import UmkHost

// VMA.swift: virtual memory areas, the address-space map of mm/mmap.c in miniature. A VMA is a page-aligned
// range with one protection and one kind of backing; VMASet keeps them sorted and disjoint, splits them when
// an operation covers part of one, and merges neighbours that have become alike.
public struct Protection: OptionSet, Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let read = Protection(rawValue: 1)
    public static let write = Protection(rawValue: 2)
    public static let exec = Protection(rawValue: 4)
    public static let none: Protection = []
}

struct VMA {
    var start: UInt64
    var end: UInt64
    var prot: Protection
    /// MAP_SHARED: fork keeps the frames shared instead of copying on write.
    var shared = false
    /// The stack: grows down on a fault just below it.
    var growsDown = false
    /// What /proc/PID/maps will name it: a path, "[heap]", "[stack]", or nil for anonymous memory.
    var name: String? = nil
    /// MAP_NORESERVE: never counted against the memory the instance has promised.
    var noReserve = false
    /// Counted against --mem (Linux's VM_ACCOUNT): private (or anonymous shared) writable memory.
    var charged = false
    /// For a file mapping, the file and the offset of `start` in it: its pages come from the page cache.
    var file: MappedFile? = nil
    var fileOffset: UInt64 = 0
    /// VM_MAYWRITE: whether mprotect may make it writable. False for a shared mapping of a file opened
    /// read-only or sealed against writes (memfd).
    var mayWrite = true

    var range: Range<UInt64> { start..<end }
    var pageCount: Int { Int((end - start) >> 12) }
    /// Whether memory like this is counted against --mem when writable (accountable_mapping in mm/mmap.c).
    var accountable: Bool { !noReserve && !(shared && file != nil) }
    var length: UInt64 { end - start }

    /// Whether the page at `page` maps past the last page of its file (never for anonymous memory).
    func isBeyondEndOfFile(_ page: UInt64) -> Bool {
        guard let file else { return false }
        let (offset, overflow) = fileOffset.addingReportingOverflow(page - start)
        let size = file.size
        return overflow || offset >> 12 >= (size >> 12) + (size & 4095 == 0 ? 0 : 1)
    }

    /// Whether `next` (which starts where this one ends) can be folded into this one.
    func canMerge(with next: VMA) -> Bool {
        end == next.start && prot == next.prot && shared == next.shared && growsDown == next.growsDown
            && charged == next.charged && noReserve == next.noReserve && mayWrite == next.mayWrite
            && name == next.name && file?.key == next.file?.key && (file == nil || fileOffset + length == next.fileOffset)
    }

    /// The part of this VMA inside `r` (which must overlap it), file offset adjusted.
    func clipped(to r: Range<UInt64>) -> VMA {
        var v = self
        v.start = max(start, r.lowerBound)
        v.end = min(end, r.upperBound)
        v.fileOffset = fileOffset + (v.start - start)
        return v
    }
}

struct VMASet {
    private(set) var vmas: [VMA] = []

    /// Index of the first VMA whose end is above `addr`.
    private func lowerIndex(_ addr: UInt64) -> Int {
        var lo = 0, hi = vmas.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if vmas[mid].end <= addr { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    func find(_ addr: UInt64) -> VMA? {
        let i = lowerIndex(addr)
        return i < vmas.count && vmas[i].start <= addr ? vmas[i] : nil
    }

    /// The VMAs (clipped) that overlap `r`, in order.
    func overlapping(_ r: Range<UInt64>) -> [VMA] {
        var out: [VMA] = []
        var i = lowerIndex(r.lowerBound)
        while i < vmas.count && vmas[i].start < r.upperBound {
            out.append(vmas[i].clipped(to: r))
            i += 1
        }
        return out
    }

    func overlaps(_ r: Range<UInt64>) -> Bool {
        let i = lowerIndex(r.lowerBound)
        return i < vmas.count && vmas[i].start < r.upperBound
    }

    /// True when every page of `r` belongs to some VMA.
    func covers(_ r: Range<UInt64>) -> Bool {
        var at = r.lowerBound
        for v in overlapping(r) {
            if v.start != at { return false }
            at = v.end
        }
        return at >= r.upperBound
    }

    /// Inserts a VMA over a range no VMA overlaps, merging it with alike neighbours.
    mutating func insert(_ v: VMA) {
        precondition(v.start < v.end && !overlaps(v.range))
        var i = lowerIndex(v.start)
        vmas.insert(v, at: i)
        if i > 0, vmas[i - 1].canMerge(with: vmas[i]) {
            vmas[i - 1].end = vmas[i].end
            vmas.remove(at: i)
            i -= 1
        }
        if i + 1 < vmas.count, vmas[i].canMerge(with: vmas[i + 1]) {
            vmas[i].end = vmas[i + 1].end
            vmas.remove(at: i + 1)
        }
    }

    /// Cuts VMAs at the bounds of `r`, so that every VMA is either inside `r` or outside it.
    private mutating func split(at addr: UInt64) {
        let i = lowerIndex(addr)
        guard i < vmas.count, vmas[i].start < addr else { return }
        let v = vmas[i]
        vmas[i] = v.clipped(to: v.start..<addr)
        vmas.insert(v.clipped(to: addr..<v.end), at: i + 1)
    }

    /// Removes `r` from the map; returns the pieces removed.
    @discardableResult
    mutating func remove(_ r: Range<UInt64>) -> [VMA] {
        split(at: r.lowerBound)
        split(at: r.upperBound)
        let i = lowerIndex(r.lowerBound)
        var j = i
        while j < vmas.count && vmas[j].start < r.upperBound { j += 1 }
        let removed = Array(vmas[i..<j])
        vmas.removeSubrange(i..<j)
        return removed
    }

    /// Applies `change` to every VMA (or part of one) inside `r`, then merges what became alike.
    mutating func update(_ r: Range<UInt64>, _ change: (inout VMA) -> Void) {
        split(at: r.lowerBound)
        split(at: r.upperBound)
        var i = lowerIndex(r.lowerBound)
        while i < vmas.count && vmas[i].start < r.upperBound {
            change(&vmas[i])
            i += 1
        }
        mergeAround(r)
    }

    private mutating func mergeAround(_ r: Range<UInt64>) {
        var i = max(lowerIndex(r.lowerBound) - 1, 0)
        while i + 1 < vmas.count && vmas[i].start <= r.upperBound {
            if vmas[i].canMerge(with: vmas[i + 1]) {
                vmas[i].end = vmas[i + 1].end
                vmas.remove(at: i + 1)
            } else {
                i += 1
            }
        }
    }

    /// Highest free gap of `length` bytes that ends at or below `top` and starts at or above `bottom`.
    func findGap(length: UInt64, below top: UInt64, above bottom: UInt64) -> UInt64? {
        var ceiling = top
        var i = lowerIndex(top)
        // Walk down from the VMA at or above `top`.
        if i < vmas.count, vmas[i].start < ceiling { ceiling = vmas[i].start }
        while true {
            let floor = i > 0 ? vmas[i - 1].end : 0
            let lowBound = max(floor, bottom)
            if ceiling >= length && ceiling - length >= lowBound { return ceiling - length }
            if i == 0 || floor <= bottom { return nil }
            i -= 1
            ceiling = min(ceiling, vmas[i].start)
        }
    }
}
