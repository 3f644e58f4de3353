// FlockLayout.swift: the x86-64 `struct flock` of fcntl's lock commands (include/uapi/asm-generic/fcntl.h):
// { short l_type; short l_whence; off_t l_start; off_t l_len; pid_t l_pid; }, 32 bytes with padding at 4
// and 28. Linux copies the whole struct in, changes fields, and copies it all back: the padding the guest
// wrote goes back as it was.
struct GuestFlock {
    static let size = 32
    /// The 32 bytes as the guest wrote them.
    private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        precondition(bytes.count == GuestFlock.size)
        self.bytes = bytes
    }

    var type: Int16 {
        get { Int16(truncatingIfNeeded: load(0, 2)) }
        set { store(UInt64(UInt16(bitPattern: newValue)), 0, 2) }
    }
    var whence: Int16 {
        get { Int16(truncatingIfNeeded: load(2, 2)) }
        set { store(UInt64(UInt16(bitPattern: newValue)), 2, 2) }
    }
    var start: Int64 {
        get { Int64(bitPattern: load(8, 8)) }
        set { store(UInt64(bitPattern: newValue), 8, 8) }
    }
    var length: Int64 {
        get { Int64(bitPattern: load(16, 8)) }
        set { store(UInt64(bitPattern: newValue), 16, 8) }
    }
    var pid: Int32 {
        get { Int32(truncatingIfNeeded: load(24, 4)) }
        set { store(UInt64(UInt32(bitPattern: newValue)), 24, 4) }
    }

    private func load(_ offset: Int, _ count: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<count).reversed() { v = v << 8 | UInt64(bytes[offset + i]) }
        return v
    }

    private mutating func store(_ v: UInt64, _ offset: Int, _ count: Int) {
        for i in 0..<count { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
    }
}

extension AddressSpace {
    func readFlock(_ at: GuestAddress) throws(LinuxErrno) -> GuestFlock {
        GuestFlock(try readBytes(at, GuestFlock.size))
    }

    func writeFlock(_ at: GuestAddress, _ l: GuestFlock) throws(LinuxErrno) {
        try writeBytes(at, l.bytes)
    }
}

/// fcntl's lock commands and flock(2)'s operations.
enum F {
    static let GETLK: Int32 = 5, SETLK: Int32 = 6, SETLKW: Int32 = 7
    static let OFD_GETLK: Int32 = 36, OFD_SETLK: Int32 = 37, OFD_SETLKW: Int32 = 38
    static let SETLEASE: Int32 = 1024, GETLEASE: Int32 = 1025
}

enum LOCK {
    static let SH: Int32 = 1, EX: Int32 = 2, NB: Int32 = 4, UN: Int32 = 8, MAND: Int32 = 32
}
