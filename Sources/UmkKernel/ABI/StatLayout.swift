import UmkHost

// StatLayout.swift: the x86-64 `struct stat` (144 bytes, arch/x86/include/uapi/asm/stat.h) and `struct statx`
// (256 bytes, include/uapi/linux/stat.h) as the guest reads them.
enum StatLayout {
    /// new_encode_dev: the 32-bit dev_t encoding that stat(2) reports.
    static func encodeDevice(_ major: UInt32, _ minor: UInt32) -> UInt64 {
        UInt64((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12))
    }

    static func stat(_ s: FileStat) -> [UInt8] {
        var b = ByteWriter(count: 144)
        b.put(encodeDevice(s.devMajor, s.devMinor), at: 0)
        b.put(s.ino, at: 8)
        b.put(UInt64(s.nlink), at: 16)
        b.put(UInt32(s.mode), at: 24)
        b.put(s.uid, at: 28)
        b.put(s.gid, at: 32)
        b.put(encodeDevice(s.rdevMajor, s.rdevMinor), at: 40)
        b.put(s.size, at: 48)
        b.put(UInt64(s.blksize), at: 56)
        b.put(s.blocks, at: 64)
        b.put(s.atime.0, at: 72)
        b.put(UInt64(s.atime.1), at: 80)
        b.put(s.mtime.0, at: 88)
        b.put(UInt64(s.mtime.1), at: 96)
        b.put(s.ctime.0, at: 104)
        b.put(UInt64(s.ctime.1), at: 112)
        return b.bytes
    }

    static func statx(_ s: FileStat) -> [UInt8] {
        var b = ByteWriter(count: 256)
        b.put(s.mask, at: 0)
        b.put(s.blksize, at: 4)
        b.put(s.attributes, at: 8)
        b.put(s.nlink, at: 16)
        b.put(s.uid, at: 20)
        b.put(s.gid, at: 24)
        b.put(s.mode, at: 28)
        b.put(s.ino, at: 32)
        b.put(s.size, at: 40)
        b.put(s.blocks, at: 48)
        b.put(s.attributesMask, at: 56)
        for (i, t) in [s.atime, s.btime, s.ctime, s.mtime].enumerated() {
            b.put(t.0, at: 64 + 16 * i)
            b.put(t.1, at: 72 + 16 * i)
        }
        b.put(s.rdevMajor, at: 128)
        b.put(s.rdevMinor, at: 132)
        b.put(s.devMajor, at: 136)
        b.put(s.devMinor, at: 140)
        b.put(s.mountID, at: 144)
        return b.bytes
    }
}

/// Little-endian field writer for guest structures.
struct ByteWriter {
    var bytes: [UInt8]
    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }
    mutating func put<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for (i, x) in $0.enumerated() { bytes[offset + i] = x } }
    }
    mutating func put(_ s: [UInt8], at offset: Int) {
        for (i, x) in s.enumerated() where offset + i < bytes.count { bytes[offset + i] = x }
    }
}

extension Array where Element == UInt8 {
    /// withUnsafeMutableBytes for a body with typed throws (the standard one rethrows `any Error`).
    mutating func withBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(LinuxErrno) -> R) throws(LinuxErrno) -> R {
        let r: Result<R, LinuxErrno> = withUnsafeMutableBytes { b in Result { () throws(LinuxErrno) in try body(b) } }
        return try r.get()
    }
}
