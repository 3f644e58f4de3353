// GuestAddress.swift: addresses in a guest address space. They are numbers, never host pointers: every
// access goes through AddressSpace's copy helpers, which translate and check them (gVisor's hostarch.Addr).
public struct GuestAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let pageSize: UInt64 = 4096
    public let raw: UInt64

    @inlinable public init(_ raw: UInt64) { self.raw = raw }

    public static func < (a: GuestAddress, b: GuestAddress) -> Bool { a.raw < b.raw }
    public var description: String { "0x" + String(raw, radix: 16) }

    var isPageAligned: Bool { raw & (GuestAddress.pageSize - 1) == 0 }
    var pageDown: GuestAddress { GuestAddress(raw & ~(GuestAddress.pageSize - 1)) }
    var pageNumber: UInt64 { raw >> 12 }
    var isNull: Bool { raw == 0 }

    /// Adds with overflow checking: a wrapped guest pointer is EFAULT, never a trap in the kernel.
    func adding(_ n: UInt64) throws(LinuxErrno) -> GuestAddress {
        let (r, o) = raw.addingReportingOverflow(n)
        if o { throw .EFAULT }
        return GuestAddress(r)
    }
    func advanced(by n: Int) -> GuestAddress { GuestAddress(raw &+ UInt64(bitPattern: Int64(n))) }
}

/// Rounds a length up to whole pages; nil when that overflows.
func pageRoundUp(_ n: UInt64) -> UInt64? {
    let (r, o) = n.addingReportingOverflow(GuestAddress.pageSize - 1)
    return o ? nil : r & ~(GuestAddress.pageSize - 1)
}
