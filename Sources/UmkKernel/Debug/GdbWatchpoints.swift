// GdbWatchpoints.swift: gdb's hardware watchpoints (Z2, Z4) as x86 debug registers: each split into aligned
// pieces of 1, 2, 4 or 8 bytes, one register each (Intel SDM vol. 3, 18.2 "Debug registers").

/// A hardware watchpoint gdb asked for.
struct GdbWatchpoint: Equatable {
    var address: UInt64
    var length: UInt64
    /// Z4 (read or write) rather than Z2 (write).
    var access: Bool

    /// The watchpoints as aligned pieces of 1, 2, 4 or 8 bytes, one debug register each, in order.
    static func pieces(_ watches: [GdbWatchpoint]) -> [(address: UInt64, size: UInt64, access: Bool)] {
        var out: [(address: UInt64, size: UInt64, access: Bool)] = []
        for w in watches {
            var at = w.address
            var left = w.length
            while left > 0 {
                let size = [8, 4, 2, 1].first { at % $0 == 0 && $0 <= left }!
                out.append((at, size, w.access))
                at += size
                left -= size
            }
        }
        return out
    }

    /// DR0-DR3 and DR7 for `watches` (at most four pieces): a local enable bit per piece, its condition
    /// (01 write, 11 read or write) and length (00 1, 01 2, 11 4, 10 8), and local exact (LE) set.
    static func debugRegisters(_ watches: [GdbWatchpoint]) -> (addresses: [UInt64], control: UInt64) {
        let p = pieces(watches).prefix(4)
        var control: UInt64 = p.isEmpty ? 0 : 0x100
        for (i, piece) in p.enumerated() {
            let rw: UInt64 = piece.access ? 3 : 1
            let len: UInt64 = [1: 0, 2: 1, 4: 3, 8: 2][piece.size] ?? 0
            control |= 1 << (2 * UInt64(i)) | (rw | len << 2) << (16 + 4 * UInt64(i))
        }
        return (p.map { $0.address }, control)
    }
}
