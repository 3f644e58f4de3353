import UmkHost

// OpenFile.swift: an open file description (Linux's struct file): what an fd refers to, shared by dup and
// (later) fork, with one offset and one set of status flags. Operations a kind of file does not have answer
// as Linux does for it: EINVAL for read/write, ESPIPE for seeks, ENOTDIR for getdents, ENOTTY for ioctl,
// ENODEV for mmap.
class OpenFile {
    /// Access mode and status flags (O_APPEND, O_NONBLOCK, ...), as F_GETFL reports them.
    var statusFlags: Int32
    let dentry: Dentry?
    /// How many fds, in all tables, refer to this description: its flock and OFD locks go with the last.
    var descriptorCount = 0
    /// The identity of the file in the lock table, once a lock call has asked for it.
    var lockKey: FileKey?

    init(flags: Int32, dentry: Dentry?) {
        statusFlags = flags & ~(O.CREAT | O.EXCL | O.NOCTTY | O.TRUNC | O.CLOEXEC)
        self.dentry = dentry
    }

    var accessMode: Int32 { statusFlags & O.accessMode }
    var isPathOnly: Bool { statusFlags & O.PATH != 0 }
    var isReadable: Bool { !isPathOnly && (accessMode == O.RDONLY || accessMode == O.RDWR) }
    var isWritable: Bool { !isPathOnly && (accessMode == O.WRONLY || accessMode == O.RDWR) }

    func read(into io: IOSequence) throws(LinuxErrno) -> Int { throw .EINVAL }
    func write(from io: IOSequence) throws(LinuxErrno) -> Int { throw .EINVAL }
    func read(into io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int { throw .ESPIPE }
    func write(from io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int { throw .ESPIPE }
    func seek(_ offset: Int64, whence: Int32) throws(LinuxErrno) -> Int64 { throw .ESPIPE }
    func stat() throws(LinuxErrno) -> FileStat { throw .EBADF }
    func readDirectory(limit: Int) throws(LinuxErrno) -> [UInt8] { throw .ENOTDIR }
    /// ioctl with its argument already copied in (`arg` is kernel memory of the request's size).
    func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer?) throws(LinuxErrno) -> Int { throw .ENOTTY }
    /// The file a mapping takes its pages from, or nil when this file cannot be mapped (ENODEV).
    var mappableFile: MappedFile? { nil }
    /// fsync/fdatasync: writes what the file holds back to where it is kept (nothing for in-memory files).
    func synchronize(dataOnly: Bool) throws(LinuxErrno) {}
    /// Called when F_SETFL changes the status flags.
    func statusFlagsChanged() throws(LinuxErrno) {}
    /// Where a reader or writer that got EAGAIN waits, for a file that can make it wait (pipes, console).
    var waitQueue: WaitQueue? { nil }
    /// Where a writer that would block waits (the same queue as readers, unless the file says otherwise).
    var writeWaitQueue: WaitQueue? { waitQueue }
    /// Whether a blocking write waits until all of its buffer is written (pipes), rather than returning
    /// what one transfer took.
    var writesCompletely: Bool { false }
    var isNonblocking: Bool { statusFlags & O.NONBLOCK != 0 }
    /// What readlink of /proc/PID/fd/N shows.
    var procLinkName: String { dentry?.path ?? "anon_inode:[file]" }
    /// What following /proc/PID/fd/N reaches: the file's own dentry, or one made for it.
    func reopenTarget() throws(LinuxErrno) -> Dentry {
        guard let dentry else { throw .ENOENT }
        return dentry
    }
    /// The terminal this file is one end of (pseudo-terminals; the console answers through the kernel).
    var terminalEnd: TerminalEnd? { nil }
    /// The poll events ready now. By default a file is always readable and writable (fs/select.c
    /// DEFAULT_POLLMASK), as regular files and devices are.
    func readyEvents() -> Int16 { POLL.IN | POLL.OUT | POLL.RDNORM | POLL.WRNORM }
    /// Whether epoll may watch the file (file_can_poll): files that can make a caller wait. Regular files,
    /// directories and the devices with no poll of their own are refused with EPERM, as on Linux.
    /// FIXME: every file with no queue is refused, /dev/random and /dev/urandom too (Linux polls those).
    var supportsPoll: Bool { waitQueue != nil }
    /// The epoll entries watching this file (Linux's file->f_ep).
    var epollEntries: [EpollEntry] = []
    /// One fd of this description went, from `table` (Linux's f_op->flush, run on every close).
    func flush(closedBy table: FDTable) {}
    /// The last fd of this description went (__fput's eventpoll_release): it leaves every epoll set.
    func released() {
        for e in epollEntries { e.epoll?.remove(e) }
        epollEntries.removeAll()
    }
    /// Lines /proc/PID/fdinfo/N shows after the common ones (eventfd-count:, tfd: ...).
    var fdInfo: String { "" }
}

/// An O_PATH descriptor: names a file for *at() calls, fstat and fchdir, and nothing else (EBADF).
final class PathOpenFile: OpenFile {
    let inode: Inode
    init(inode: Inode, dentry: Dentry, flags: Int32) {
        self.inode = inode
        super.init(flags: (flags & (O.PATH | O.DIRECTORY | O.NOFOLLOW)) | O.PATH, dentry: dentry)
    }
    override func read(into io: IOSequence) throws(LinuxErrno) -> Int { throw .EBADF }
    override func write(from io: IOSequence) throws(LinuxErrno) -> Int { throw .EBADF }
    override func read(into io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int { throw .EBADF }
    override func write(from io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int { throw .EBADF }
    override func seek(_ offset: Int64, whence: Int32) throws(LinuxErrno) -> Int64 { throw .EBADF }
    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }
    override func readDirectory(limit: Int) throws(LinuxErrno) -> [UInt8] { throw .EBADF }
    override func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer?) throws(LinuxErrno) -> Int { throw .EBADF }
}
