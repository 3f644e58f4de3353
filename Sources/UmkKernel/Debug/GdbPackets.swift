// GdbPackets.swift: the framing of gdb's remote serial protocol (gdb/doc "Overview" of the Remote Protocol,
// gdbserver's remote-utils.cc). A packet is `$DATA#CS`, CS the modulo-256 sum of DATA in two hex digits; the
// receiver acknowledges with `+` (or `-` to ask again) until QStartNoAckMode turns acknowledgements off.
// A 0x03 byte outside a packet is an interrupt (Ctrl-C). Binary data escapes `#`, `$`, `}` and `*` as `}`
// followed by the byte XOR 0x20. gdb is trusted, but nothing it sends may trap the kernel: every parse here
// is checked and returns nil on malformed input.

/// What the reader found in the bytes from gdb.
enum GdbInput: Equatable {
    case packet([UInt8])
    /// A packet whose checksum did not match (answered with `-` while acknowledgements are on).
    case corrupt
    case ack
    case nak
    case interrupt
}

/// Splits the byte stream from gdb into packets, acks and interrupts; keeps a partial packet for later.
struct GdbReader {
    private var buffer: [UInt8] = []
    /// Packets gdb may send are small (its PacketSize is ours); a longer run without `#` is dropped.
    static let maxPacket = 1 << 20

    mutating func feed(_ bytes: [UInt8]) -> [GdbInput] {
        buffer += bytes
        var out: [GdbInput] = []
        var i = 0
        while i < buffer.count {
            switch buffer[i] {
            case UInt8(ascii: "+"): out.append(.ack); i += 1
            case UInt8(ascii: "-"): out.append(.nak); i += 1
            case 0x03: out.append(.interrupt); i += 1
            case UInt8(ascii: "$"):
                guard let hash = buffer[(i + 1)...].firstIndex(of: UInt8(ascii: "#")) else {
                    if buffer.count - i > GdbReader.maxPacket { buffer.removeAll() } else { buffer.removeFirst(i) }
                    return out
                }
                guard hash + 2 < buffer.count else {
                    buffer.removeFirst(i)
                    return out
                }
                let data = Array(buffer[(i + 1)..<hash])
                let sum = data.reduce(UInt8(0)) { $0 &+ $1 }
                let given = GdbHex.byte(buffer[hash + 1], buffer[hash + 2])
                out.append(given == sum ? .packet(data) : .corrupt)
                i = hash + 3
            default: i += 1  // noise between packets
            }
        }
        buffer.removeAll()
        return out
    }
}

enum GdbHex {
    static let digits = Array("0123456789abcdef".utf8)

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func byte(_ hi: UInt8, _ lo: UInt8) -> UInt8? {
        guard let h = nibble(hi), let l = nibble(lo) else { return nil }
        return h << 4 | l
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return out
    }

    static func encode(_ s: String) -> [UInt8] { encode(Array(s.utf8)) }

    /// Hex pairs to bytes; nil if the text is odd-length or not hex.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var it = text.makeIterator()
        while let hi = it.next(), let lo = it.next() {
            guard let b = byte(hi, lo) else { return nil }
            out.append(b)
        }
        return out
    }

    /// A big-endian hex number as gdb writes addresses and lengths (at most 16 digits); nil otherwise.
    static func number(_ text: some Collection<UInt8>) -> UInt64? {
        guard !text.isEmpty, text.count <= 16 else { return nil }
        var v: UInt64 = 0
        for c in text {
            guard let n = nibble(c) else { return nil }
            v = v << 4 | UInt64(n)
        }
        return v
    }

    /// A number as text in lower-case hex, no leading zeros.
    static func text(_ v: UInt64) -> String { String(v, radix: 16) }
}

enum GdbBinary {
    /// Escapes binary data for a reply (qXfer, vFile:pread).
    static func escape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            if b == UInt8(ascii: "#") || b == UInt8(ascii: "$") || b == UInt8(ascii: "}") || b == UInt8(ascii: "*") {
                out.append(UInt8(ascii: "}"))
                out.append(b ^ 0x20)
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// Undoes the escaping of an X packet's data.
    static func unescape(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var escaped = false
        for b in bytes {
            if escaped {
                out.append(b ^ 0x20)
                escaped = false
            } else if b == UInt8(ascii: "}") {
                escaped = true
            } else {
                out.append(b)
            }
        }
        return out
    }
}

/// A packet to send: `$DATA#CS`.
func gdbFrame(_ data: [UInt8]) -> [UInt8] {
    let sum = data.reduce(UInt8(0)) { $0 &+ $1 }
    return [UInt8(ascii: "$")] + data + [UInt8(ascii: "#"), GdbHex.digits[Int(sum >> 4)], GdbHex.digits[Int(sum & 15)]]
}

/// A thread id as gdb writes it: `p<pid>.<tid>` (multiprocess) or `<tid>`, each hex, -1 for all, 0 for any.
struct GdbThreadID: Equatable {
    var pid: Int64?
    var tid: Int64

    static let any = GdbThreadID(pid: nil, tid: 0)

    init(pid: Int64?, tid: Int64) {
        self.pid = pid
        self.tid = tid
    }

    init?(_ text: some Collection<UInt8>) {
        var rest = Array(text)
        if rest.first == UInt8(ascii: "p") {
            rest.removeFirst()
            let parts = rest.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
            guard let p = GdbThreadID.value(parts[0]) else { return nil }
            pid = p
            if parts.count == 2 {
                guard let t = GdbThreadID.value(parts[1]) else { return nil }
                tid = t
            } else {
                tid = -1
            }
        } else {
            guard let t = GdbThreadID.value(rest[...]) else { return nil }
            pid = nil
            tid = t
        }
    }

    private static func value(_ text: ArraySlice<UInt8>) -> Int64? {
        if text.elementsEqual("-1".utf8) { return -1 }
        guard let v = GdbHex.number(text), v <= UInt64(Int32.max) else { return nil }
        return Int64(v)
    }
}

extension Array where Element == UInt8 {
    /// The bytes after `prefix`, if the array starts with it.
    func dropping(prefix: String) -> ArraySlice<UInt8>? {
        let p = Array(prefix.utf8)
        guard starts(with: p) else { return nil }
        return self[p.count...]
    }
}

extension ArraySlice where Element == UInt8 {
    /// Splits at the first `separator`: before and after it, nil if it is absent.
    func splitOnce(_ separator: Character) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        guard let ascii = separator.asciiValue, let i = firstIndex(of: ascii) else { return nil }
        return (self[startIndex..<i], self[(i + 1)...])
    }
}

/// gdb numbers signals its own way (gdb/signals.def, the same on every host): the remote protocol's stop
/// replies, `C` and QPassSignals use its numbers, which differ from Linux's past SIGTERM.
enum GdbSignals {
    /// Linux x86-64 signal -> gdb's (index = Linux number); 0 where gdb has no name for it (SIGSTKFLT).
    private static let table: [Int32] = [
        0, 1, 2, 3, 4, 5, 6, 10, 8, 9, 30, 11, 31, 13, 14, 15,  // 0-15: BUS 10, USR1 30, USR2 31
        0, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12,  // 16-31: STKFLT, CHLD ... SYS
        77, 45,  // SIGRTMIN (32) is gdb's REALTIME_32, 33 its REALTIME_33
    ] + (34...63).map { Int32($0 + 12) } + [78]  // REALTIME_34..63 are 46..75; REALTIME_64 is 78

    static func gdb(_ linux: Int32) -> Int32 {
        linux >= 0 && Int(linux) < table.count ? table[Int(linux)] : 0
    }

    /// gdb's number -> Linux's; nil for 0 (no signal) and signals Linux does not have.
    static func linux(_ gdb: Int32) -> Int32? {
        guard gdb > 0, let i = table.firstIndex(of: gdb) else { return nil }
        return Int32(i)
    }
}
