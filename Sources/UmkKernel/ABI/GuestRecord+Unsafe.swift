// GuestRecord+Unsafe.swift: variable-length guest records (dirent64, inotify_event) are a fixed header from
// CLinuxABI followed by a name; the kernel builds them in a byte buffer that one copy hands to the guest.

extension Array where Element == UInt8 {
    /// Appends the first `count` bytes of `header` (all of it by default): a record's fixed part. `count` is
    /// clamped to the header's size.
    mutating func append<T: BitwiseCopyable>(header: T, count: Int = MemoryLayout<T>.size) {
        Swift.withUnsafeBytes(of: header) { append(contentsOf: $0.prefix(count)) }
    }
}
