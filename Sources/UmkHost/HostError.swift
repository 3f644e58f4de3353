// HostError.swift: how host failures reach the kernel. Host calls throw swift-system's `Errno`; the kernel
// converts it to the guest's errno at named places (LinuxErrno(host:)), never by accident.
import Glibc
@_exported import SystemPackage

/// Runs a host call that returns -1 and sets errno, retrying EINTR as arch/um's os-Linux helpers do.
@inline(__always)
func retrying<T: FixedWidthInteger>(_ body: () -> T) throws(Errno) -> T {
    while true {
        let r = body()
        if r != -1 { return r }
        let e = errno
        if e != EINTR { throw Errno(rawValue: e) }
    }
}

/// Turns a C shim result (-errno on failure) into a value or a thrown Errno.
@inline(__always)
func shim<T: FixedWidthInteger & SignedInteger>(_ r: T) throws(Errno) -> T {
    if r < 0 { throw Errno(rawValue: Int32(truncatingIfNeeded: -r)) }
    return r
}
