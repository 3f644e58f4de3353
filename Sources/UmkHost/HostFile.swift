// HostFile.swift: a file of the host, open in the kernel (hostfs, arch/um fs/hostfs/hostfs_user.c). Host fds
// live only here and in the kernel process: a stub never holds one, and the guest only sees kernel objects.
import Glibc
import CUmk
import CLinuxABI

/// A host buffer for scatter/gather I/O: a piece of the kernel's mapping of guest memory, or kernel memory.
public struct HostBuffer {
    public var base: UnsafeMutableRawPointer
    public var count: Int
    public init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }
}

public final class HostFile: Sendable {
    public let fd: Int32
    /// Whether closing this object closes the fd (false for the console's standard streams: the embedder's).
    private let owned: Bool

    public init(fd: Int32, owned: Bool = true) {
        self.fd = fd
        self.owned = owned
    }

    deinit { if owned && !released { close(fd) } }

    private nonisolated(unsafe) var released = false
    /// The fd, which from now on its new owner closes (not this object).
    public func release() -> Int32 {
        released = true
        return fd
    }

    /// Whether this is a terminal (isatty).
    public var isTerminal: Bool { umk_is_terminal(fd) == 1 }

    /// The terminal's local-mode flags (c_lflag of TCGETS), or nil for something else.
    public var terminalLocalFlags: UInt32? {
        var termios = [UInt8](repeating: 0, count: 60)
        let ok = termios.withUnsafeMutableBytes { (try? ioctl(0x5401, $0.baseAddress)) != nil }
        guard ok else { return nil }
        return termios.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self) }
    }

    public static let standardInput = HostFile(fd: 0, owned: false)
    public static let standardOutput = HostFile(fd: 1, owned: false)
    public static let standardError = HostFile(fd: 2, owned: false)

    /// openat(2) relative to this directory (or AT_FDCWD when `directory` is nil), O_CLOEXEC added.
    public static func open(at directory: HostFile?, _ path: String, flags: Int32, mode: UInt32 = 0) throws(Errno)
        -> HostFile
    {
        let dirfd = directory?.fd ?? AT_FDCWD
        let fd = try retrying { openat(dirfd, path, flags | O_CLOEXEC, mode) }
        return HostFile(fd: fd)
    }

    public func read(into buffers: [HostBuffer], at offset: Int64? = nil) throws(Errno) -> Int {
        try vectored(offset == nil ? 19 : 295, buffers, offset)  // readv, preadv
    }

    public func write(from buffers: [HostBuffer], at offset: Int64? = nil) throws(Errno) -> Int {
        try vectored(offset == nil ? 20 : 296, buffers, offset)  // writev, pwritev
    }

    /// One write of `bytes`; returns how many the host took.
    public func write(_ bytes: [UInt8]) throws(Errno) -> Int {
        try retrying { bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
    }

    private func vectored(_ nr: Int, _ buffers: [HostBuffer], _ offset: Int64?) throws(Errno) -> Int {
        var iov = buffers.map { iovec(iov_base: $0.base, iov_len: $0.count) }
        let n = min(iov.count, 1024)
        let fd = Int(self.fd)
        let off = Int(offset ?? 0)
        while true {
            let r = iov.withUnsafeMutableBufferPointer { umk_syscall6(nr, fd, Int(bitPattern: $0.baseAddress), n, off, 0, 0) }
            if r != -Int(EINTR) { return try shim(r) }
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try retrying { pread(fd, buffer.baseAddress, buffer.count, Int(offset)) }
    }

    /// Reads until `buffer` is full or end of file; returns the bytes read.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done))
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func seek(_ offset: Int64, whence: Int32) throws(Errno) -> Int64 {
        Int64(try retrying { lseek(fd, Int(offset), whence) })
    }

    /// getdents64(2) into `buffer`: the host's records are the guest's format too.
    /// getdents64: the next records, at most `limit` bytes of them.
    public func readDirectory(limit: Int) throws(Errno) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: limit)
        let fd = self.fd
        let r = buf.withUnsafeMutableBytes { umk_syscall6(217, Int(fd), Int(bitPattern: $0.baseAddress), $0.count, 0, 0, 0) }
        return Array(buf[0..<(try shim(r))])
    }

    public func readLink(_ path: String = "") throws(Errno) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 4096)
        let fd = self.fd
        let r = buf.withUnsafeMutableBytes { b in
            path.withCString { umk_syscall6(267, Int(fd), Int(bitPattern: $0), Int(bitPattern: b.baseAddress), b.count, 0, 0) }
        }
        return Array(buf[0..<(try shim(r))])
    }

    /// ioctl(2) with a pointer argument into kernel memory.
    public func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer?) throws(Errno) -> Int32 {
        Int32(try shim(umk_ioctl(fd, request, arg)))
    }

    public func status() throws(Errno) -> HostStat { try HostStat.of(fd: fd, path: "", flags: UMK_AT_EMPTY_PATH) }
    public func status(of name: String, followSymlinks: Bool) throws(Errno) -> HostStat {
        try HostStat.of(fd: fd, path: name, flags: followSymlinks ? 0 : AT_SYMLINK_NOFOLLOW)
    }

    public func statusFlags() throws(Errno) -> Int32 { try retrying { fcntl(fd, F_GETFL) } }
    public func setStatusFlags(_ flags: Int32) throws(Errno) { _ = try retrying { fcntl(fd, F_SETFL, flags) } }
}

/// The fields of a host statx(2) result that the kernel reports to the guest.
public struct HostStat: Sendable {
    public var mask: UInt32 = 0
    public var blksize: UInt32 = 0
    public var attributes: UInt64 = 0
    public var nlink: UInt32 = 0
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var mode: UInt16 = 0
    public var ino: UInt64 = 0
    public var size: UInt64 = 0
    public var blocks: UInt64 = 0
    public var attributesMask: UInt64 = 0
    public var atime: (Int64, UInt32) = (0, 0)
    public var btime: (Int64, UInt32) = (0, 0)
    public var ctime: (Int64, UInt32) = (0, 0)
    public var mtime: (Int64, UInt32) = (0, 0)
    public var rdevMajor: UInt32 = 0, rdevMinor: UInt32 = 0
    public var devMajor: UInt32 = 0, devMinor: UInt32 = 0
    public var mountID: UInt64 = 0

    public init() {}

    public var fileType: UInt16 { mode & 0o170000 }
    public var isDirectory: Bool { fileType == 0o040000 }
    public var isSymlink: Bool { fileType == 0o120000 }
    public var isRegular: Bool { fileType == 0o100000 }
    public var isDevice: Bool { fileType == 0o020000 || fileType == 0o060000 }

    static func of(fd: Int32, path: String, flags: Int32) throws(Errno) -> HostStat {
        var sx = statx()
        _ = try shim(umk_statx(fd, path, flags | UMK_AT_NO_AUTOMOUNT, 0x0fff, &sx))
        var s = HostStat()
        s.mask = sx.stx_mask
        s.blksize = sx.stx_blksize
        s.attributes = sx.stx_attributes
        s.nlink = sx.stx_nlink
        s.uid = sx.stx_uid
        s.gid = sx.stx_gid
        s.mode = sx.stx_mode
        s.ino = sx.stx_ino
        s.size = sx.stx_size
        s.blocks = sx.stx_blocks
        s.attributesMask = sx.stx_attributes_mask
        s.atime = (sx.stx_atime.tv_sec, sx.stx_atime.tv_nsec)
        s.btime = (sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec)
        s.ctime = (sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec)
        s.mtime = (sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec)
        s.rdevMajor = sx.stx_rdev_major
        s.rdevMinor = sx.stx_rdev_minor
        s.devMajor = sx.stx_dev_major
        s.devMinor = sx.stx_dev_minor
        s.mountID = sx.stx_mnt_id
        return s
    }
}

extension HostFile {
    /// The file's path through the host's /proc, which reaches the file an O_PATH handle names, for the
    /// few calls that have no fd form usable with such a handle.
    private var procPath: String { "/proc/self/fd/\(fd)" }

    /// getxattr(2) of the file this handle names; returns the value (at most `max` bytes).
    public func extendedAttribute(_ name: String, max: Int) throws(Errno) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: Swift.max(max, 1))
        let path = procPath
        let r = buf.withUnsafeMutableBytes { b in
            path.withCString { p in
                name.withCString { n in
                    umk_syscall6(191, Int(bitPattern: p), Int(bitPattern: n), max == 0 ? 0 : Int(bitPattern: b.baseAddress), max, 0, 0)
                }
            }
        }
        _ = try shim(r)
        return max == 0 ? [UInt8](repeating: 0, count: r) : Array(buf[0..<r])
    }

    /// listxattr(2): the names, NUL-separated.
    public func extendedAttributeNames(max: Int) throws(Errno) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: Swift.max(max, 1))
        let path = procPath
        let r = buf.withUnsafeMutableBytes { b in
            path.withCString { p in
                umk_syscall6(194, Int(bitPattern: p), max == 0 ? 0 : Int(bitPattern: b.baseAddress), max, 0, 0, 0)
            }
        }
        _ = try shim(r)
        return max == 0 ? [UInt8](repeating: 0, count: r) : Array(buf[0..<r])
    }

    /// setxattr(2) of the file this handle names (flags: XATTR_CREATE, XATTR_REPLACE).
    public func setExtendedAttribute(_ name: String, _ value: [UInt8], flags: Int32) throws(Errno) {
        let path = procPath
        let r = value.withUnsafeBytes { v in
            path.withCString { p in
                name.withCString { n in
                    umk_syscall6(188, Int(bitPattern: p), Int(bitPattern: n), Int(bitPattern: v.baseAddress), v.count, Int(flags), 0)
                }
            }
        }
        _ = try shim(r)
    }

    /// removexattr(2) of the file this handle names.
    public func removeExtendedAttribute(_ name: String) throws(Errno) {
        let path = procPath
        let r = path.withCString { p in name.withCString { n in umk_syscall6(197, Int(bitPattern: p), Int(bitPattern: n), 0, 0, 0, 0) } }
        _ = try shim(r)
    }

    /// What the host's /proc/self/fd/N says this fd is ("pipe:[123]", "/dev/pts/0").
    public var procLinkName: String? {
        guard let bytes = try? HostFile(fd: AT_FDCWD, owned: false).readLink(procPath) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// fstatfs(2): the host kernel's struct statfs, the guest's layout too.
    public func fileSystemStatus() throws(Errno) -> linux_statfs {
        var buf = linux_statfs()
        let fd = self.fd
        let r = withUnsafeMutableBytes(of: &buf) { umk_syscall6(138, Int(fd), Int(bitPattern: $0.baseAddress), 0, 0, 0, 0) }
        _ = try shim(r)
        return buf
    }
}

// MARK: Changes to a writable host tree (bind mounts, `-v HOST:GUEST`)
//
// Every change names one component in a directory this handle holds (never a path, never `..`): the kernel's
// own path walk has resolved the rest, so a change can only land inside the bind. The host checks its own
// permissions: a guest writes with the rights of the user running umk, as docker's binds do.
extension HostFile {
    /// Opens the file this (O_PATH) handle names for I/O, through /proc/self/fd: the very inode, whatever
    /// has been renamed since.
    public func reopen(flags: Int32) throws(Errno) -> HostFile {
        try HostFile.open(at: nil, procPath, flags: flags)
    }

    /// flock(LOCK_EX|LOCK_NB) on this file, held until it is closed (or umk exits): false if another holds it.
    public func tryLockExclusively() throws(Errno) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw Errno(rawValue: errno)
    }

    /// mkdirat(2).
    public func makeDirectory(_ name: String, mode: UInt32) throws(Errno) {
        _ = try retrying { mkdirat(fd, name, mode) }
    }

    /// A new empty regular file (openat O_CREAT|O_EXCL, then closed).
    public func makeFile(_ name: String, mode: UInt32) throws(Errno) {
        let f = try HostFile.open(at: self, name, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
        _ = f
    }

    /// symlinkat(2).
    public func makeSymlink(_ name: String, target: [UInt8]) throws(Errno) {
        let t = target.map { CChar(bitPattern: $0) } + [0]
        _ = try retrying { t.withUnsafeBufferPointer { symlinkat($0.baseAddress!, fd, name) } }
    }

    /// linkat(2) of the file `target` (an O_PATH handle) as `name` here, through /proc/self/fd so that no
    /// privilege (AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH) is needed.
    public func link(_ name: String, to target: HostFile) throws(Errno) {
        _ = try retrying { linkat(AT_FDCWD, target.procPath, fd, name, AT_SYMLINK_FOLLOW) }
    }

    /// unlinkat(2), with AT_REMOVEDIR for a directory.
    public func remove(_ name: String, directory: Bool) throws(Errno) {
        _ = try retrying { unlinkat(fd, name, directory ? AT_REMOVEDIR : 0) }
    }

    /// renameat2(2) of `name` here to `newName` in `newDirectory`.
    public func rename(_ name: String, to newDirectory: HostFile, as newName: String, flags: UInt32) throws(Errno) {
        let r = name.withCString { o in
            newName.withCString { n in
                umk_syscall6(316, Int(fd), Int(bitPattern: o), Int(newDirectory.fd), Int(bitPattern: n), Int(flags), 0)
            }
        }
        _ = try shim(r)
    }

    /// chmod of the file this handle names (O_PATH handles have no fchmod: through /proc/self/fd).
    public func changeMode(_ mode: UInt32) throws(Errno) {
        _ = try retrying { fchmodat(AT_FDCWD, procPath, mode, 0) }
    }

    /// fchownat(AT_EMPTY_PATH) of the file this handle names; UInt32.max leaves an id as it is.
    public func changeOwner(uid: UInt32, gid: UInt32) throws(Errno) {
        _ = try retrying { fchownat(fd, "", uid, gid, UMK_AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) }
    }

    /// utimensat of the file this handle names; nil leaves a time as it is (UTIME_OMIT).
    public func setTimes(access: (Int64, UInt32)?, modification: (Int64, UInt32)?) throws(Errno) {
        let omit = Int(0x3ffffffe)  // UTIME_OMIT
        var ts = [timespec(tv_sec: Int(access?.0 ?? 0), tv_nsec: access.map { Int($0.1) } ?? omit),
                  timespec(tv_sec: Int(modification?.0 ?? 0), tv_nsec: modification.map { Int($0.1) } ?? omit)]
        let path = procPath
        _ = try retrying { ts.withUnsafeMutableBufferPointer { utimensat(AT_FDCWD, path, $0.baseAddress, 0) } }
    }

    /// truncate(2) of the file this handle names.
    public func truncate(to size: Int64) throws(Errno) {
        _ = try retrying { Glibc.truncate(procPath, Int(size)) }
    }

    /// ftruncate(2) of this open file.
    public func truncateOpen(to size: Int64) throws(Errno) {
        _ = try retrying { ftruncate(fd, Int(size)) }
    }

    /// fallocate(2) of this open file (a writable bind's: the kernel's filter allows it).
    public func allocate(mode: Int32, offset: Int64, length: Int64) throws(Errno) {
        let fd = self.fd
        while true {
            let r = umk_syscall6(285, Int(fd), Int(mode), Int(offset), Int(length), 0, 0)  // fallocate
            if r == -Int(EINTR) { continue }
            _ = try shim(r)
            return
        }
    }

    /// fsync(2), or fdatasync(2) when `dataOnly`.
    public func synchronize(dataOnly: Bool) throws(Errno) {
        _ = try retrying { dataOnly ? fdatasync(fd) : fsync(fd) }
    }
}
