// ByteWriter.swift: a guest structure packed by hand at numeric offsets. What is left of the old way: the
// structs not yet declared in CLinuxABI's linux_abi.h (signal frames, siginfo, termios, sched_attr, tms ...)
// still use it. FIXME: declare those too and copy them with AddressSpace.read/write.

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
