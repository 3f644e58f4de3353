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

    subscript(vpn: UInt64) -> Entry? {
        get { chunks[vpn >> PageTable.chunkShift].flatMap { Entry(packed: $0[Int(vpn & 511)]) } }
        set {
            let key = vpn >> PageTable.chunkShift, i = Int(vpn & 511)
            if let newValue {
                if chunks[key] == nil { chunks[key] = [UInt64](repeating: 0, count: PageTable.chunkSize) }
                if chunks[key]![i] == 0 { count += 1 }
                chunks[key]![i] = newValue.packed
            } else if let chunk = chunks[key], chunk[i] != 0 {
                chunks[key]![i] = 0
                count -= 1
            }
        }
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
