// PageTable.swift: guest page -> frame, in 512-entry chunks (one per 2 MiB of address space), each entry a
// packed UInt64 (0 = no page). A lookup hashes once per chunk rather than once per page, walks over a range
// visit chunks in order, and a copy (fork) shares the chunks copy-on-write until either side changes one.
struct PageTable {
    struct Entry: Equatable {
        var frame: Int32
        var prot: Protection
        /// Shared with another address space after fork: mapped read-only until the first write copies it.
        var cow = false
        /// The protection the stub maps the page with.
        var hostProt: Protection { cow ? prot.subtracting(.write) : prot }

        fileprivate var packed: UInt64 {
            (UInt64(UInt32(bitPattern: frame)) + 1) << 8 | UInt64(prot.rawValue & 7) << 1 | (cow ? 1 : 0)
        }

        fileprivate init?(packed: UInt64) {
            guard packed != 0 else { return nil }
            frame = Int32(bitPattern: UInt32(truncatingIfNeeded: (packed >> 8) - 1))
            prot = Protection(rawValue: Int32((packed >> 1) & 7))
            cow = packed & 1 != 0
        }

        init(frame: Int32, prot: Protection, cow: Bool = false) {
            self.frame = frame
            self.prot = prot
            self.cow = cow
        }
    }

    static let chunkShift: UInt64 = 9
    static let chunkSize = 1 << 9

    private var chunks: [UInt64: [UInt64]] = [:]
    private(set) var count = 0
    /// How many host mappings the stub needs at most for these pages: the number of runs of consecutive
    /// pages on consecutive frames with one host protection (each run is one host mmap; the host merges
    /// no fewer). The host's vm.max_map_count bounds this, not the number of VMAs.
    private(set) var runs = 0

    subscript(vpn: UInt64) -> Entry? {
        get { chunks[vpn >> PageTable.chunkShift].flatMap { Entry(packed: $0[Int(vpn & 511)]) } }
        set {
            // Two hash lookups a change (this is the hot path of every fault, fork and exec); neighbours in
            // other chunks only at a chunk's edges.
            let key = vpn >> PageTable.chunkShift, i = Int(vpn & 511)
            let packed = newValue?.packed ?? 0
            let prevEdge: UInt64 = i == 0 && vpn > 0 ? packedEntry(vpn - 1) : 0
            let nextEdge: UInt64 = i == 511 && vpn < UInt64.max ? packedEntry(vpn + 1) : 0
            if chunks[key] == nil {
                guard packed != 0 else { return }
                chunks[key] = [UInt64](repeating: 0, count: PageTable.chunkSize)
            }
            let (counted, joined) = PageTable.store(packed, at: i, in: &chunks[key]!, prevEdge: prevEdge, nextEdge: nextEdge)
            count += counted
            runs += joined
        }
    }

    /// Writes one entry of a chunk; returns the change in `count` and in `runs`.
    private static func store(_ packed: UInt64, at i: Int, in chunk: inout [UInt64], prevEdge: UInt64, nextEdge: UInt64)
        -> (Int, Int)
    {
        let old = chunk[i]
        guard old != packed else { return (0, 0) }
        let prev = i > 0 ? chunk[i - 1] : prevEdge
        let next = i < 511 ? chunk[i + 1] : nextEdge
        chunk[i] = packed
        let counted = old == 0 ? 1 : (packed == 0 ? -1 : 0)
        return (counted, heads(prev, packed, next) - heads(prev, old, next))
    }

    private func packedEntry(_ vpn: UInt64) -> UInt64 {
        chunks[vpn >> PageTable.chunkShift]?[Int(vpn & 511)] ?? 0
    }

    /// Whether `b` (the page after `a`) continues `a`'s host mapping: next frame, same host protection.
    private static func continues(_ a: UInt64, _ b: UInt64) -> Bool {
        guard a != 0, b != 0, b >> 8 == (a >> 8) &+ 1 else { return false }
        func host(_ p: UInt64) -> UInt64 { p & 1 != 0 ? (p >> 1) & 5 : (p >> 1) & 7 }
        return host(a) == host(b)
    }

    /// How many of `this` and `next` begin a run, given the entries around them.
    private static func heads(_ prev: UInt64, _ this: UInt64, _ next: UInt64) -> Int {
        (this != 0 && !continues(prev, this) ? 1 : 0) + (next != 0 && !continues(this, next) ? 1 : 0)
    }

    @discardableResult
    mutating func removeValue(forKey vpn: UInt64) -> Entry? {
        let old = self[vpn]
        if old != nil { self[vpn] = nil }
        return old
    }

    /// The entries in [lo, hi) pages, in order.
    func entries(in pages: Range<UInt64>) -> [(UInt64, Entry)] {
        var out: [(UInt64, Entry)] = []
        guard !pages.isEmpty else { return out }
        let firstChunk = pages.lowerBound >> PageTable.chunkShift
        let lastChunk = (pages.upperBound - 1) >> PageTable.chunkShift
        let keys: [UInt64]
        if lastChunk - firstChunk + 1 <= UInt64(chunks.count) {
            keys = Array(firstChunk...lastChunk)
        } else {
            keys = chunks.keys.filter { $0 >= firstChunk && $0 <= lastChunk }.sorted()
        }
        for key in keys {
            guard let chunk = chunks[key] else { continue }
            let base = key << PageTable.chunkShift
            let from = max(pages.lowerBound, base) - base, to = min(pages.upperBound, base + 512) - base
            for i in Int(from)..<Int(to) where chunk[i] != 0 { out.append((base + UInt64(i), Entry(packed: chunk[i])!)) }
        }
        return out
    }

    /// Every frame referenced, once per page.
    var frames: [Int] {
        chunks.values.flatMap { $0.lazy.filter { $0 != 0 }.map { Int(Entry(packed: $0)!.frame) } }
    }
}
