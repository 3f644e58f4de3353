// GdbWatchpoints.swift: gdb's hardware breakpoints and watchpoints (Z1, Z2, Z4) as x86 debug registers:
// a breakpoint takes one register, a watchpoint one per aligned piece of 1, 2, 4 or 8 bytes (Intel SDM
// vol. 3, 18.2 "Debug registers"). x86 has no read-only watchpoints (Z3).

/// A hardware breakpoint or watchpoint gdb asked for.
struct GdbWatchpoint: Equatable {
    enum Kind: Equatable {
        /// Z1: executing the instruction at `address`.
        case execute
        /// Z2: a write.
        case write
        /// Z4: a read or a write.
        case access
    }

    var address: UInt64
    var length: UInt64
    var kind: Kind

    /// The watchpoints as debug-register pieces, in order: aligned pieces of 1, 2, 4 or 8 bytes for a
    /// watchpoint, one 1-byte piece for a breakpoint.
    static func pieces(_ watches: [GdbWatchpoint]) -> [(address: UInt64, size: UInt64, kind: Kind)] {
        var out: [(address: UInt64, size: UInt64, kind: Kind)] = []
        for w in watches {
            if w.kind == .execute {
                out.append((w.address, 1, .execute))
                continue
            }
            var at = w.address
            var left = w.length
            while left > 0 {
                let size = [8, 4, 2, 1].first { at % $0 == 0 && $0 <= left }!
                out.append((at, size, w.kind))
                at += size
                left -= size
            }
        }
        return out
    }

    /// DR0-DR3 and DR7 for `watches` (at most four pieces): a local enable bit per piece, its condition
    /// (00 execute, 01 write, 11 read or write) and length (00 1, 01 2, 11 4, 10 8; 00 for execute), and
    /// local exact (LE) set.
    static func debugRegisters(_ watches: [GdbWatchpoint]) -> (addresses: [UInt64], control: UInt64) {
        let p = pieces(watches).prefix(4)
        var control: UInt64 = p.isEmpty ? 0 : 0x100
        for (i, piece) in p.enumerated() {
            let rw: UInt64 = piece.kind == .execute ? 0 : piece.kind == .access ? 3 : 1
            let len: UInt64 = piece.kind == .execute ? 0 : [1: 0, 2: 1, 4: 3, 8: 2][piece.size] ?? 0
            control |= 1 << (2 * UInt64(i)) | (rw | len << 2) << (16 + 4 * UInt64(i))
        }
        return (p.map { $0.address }, control)
    }
}
