// EventFD.swift: eventfd and eventfd2 (fs/eventfd.c): a file holding a 64-bit counter. A write adds to it, a
// read takes all of it (or 1, with EFD_SEMAPHORE); a read of 0 and a write that would pass 0xfffffffffffffffe
// wait (or EAGAIN when non-blocking), on the file's one queue, as pipes do (transfer in Files.swift).
enum EFD {
    static let SEMAPHORE: Int32 = 1
}

final class EventFile: OpenFile {
    /// ULLONG_MAX: the counter never reaches it (POLLERR if it ever did).
    static let limit = UInt64.max
    unowned let kernel: Kernel
    let queue = WaitQueue()
    private(set) var count: UInt64
    let isSemaphore: Bool
    let id: Int

    init(kernel: Kernel, count: UInt64, flags: Int32) {
        self.kernel = kernel
        self.count = count
        isSemaphore = flags & EFD.SEMAPHORE != 0
        id = Int(kernel.numbers.next(\.eventfdID))
        super.init(flags: O.RDWR | (flags & O.NONBLOCK), dentry: nil)
    }

    override var procLinkName: String { "anon_inode:[eventfd]" }
    override var waitQueue: WaitQueue? { queue }
    override var fdInfo: String {
        let hex = String(count, radix: 16)
        return "eventfd-count: " + String(repeating: " ", count: 16 - hex.count) + hex  // %16llx
            + "\neventfd-id: \(id)\neventfd-semaphore: \(isSemaphore ? 1 : 0)\n"
    }

    /// eventfd_poll.
    override func readyEvents() -> Int16 {
        var ev: Int16 = 0
        if count > 0 { ev |= POLL.IN | POLL.RDNORM }
        if count == EventFile.limit { ev |= POLL.ERR }
        if EventFile.limit - 1 > count { ev |= POLL.OUT | POLL.WRNORM }
        return ev
    }

    /// eventfd_read: 8 bytes at least (EINVAL); the whole count, or 1 for a semaphore.
    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        guard io.count >= 8 else { throw .EINVAL }
        guard count > 0 else { throw .EAGAIN }
        let value = isSemaphore ? 1 : count
        count -= value
        kernel.wake(queue, events: POLL.OUT | POLL.WRNORM)
        return withUnsafeBytes(of: value.littleEndian) { io.copyOut($0) }
    }

    /// eventfd_write: exactly 8 bytes (EINVAL, as the reference kernel, 6.x, answers), not ULLONG_MAX
    /// (EINVAL); EAGAIN while it would not fit.
    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        guard io.count == 8 else { throw .EINVAL }
        let bytes = io.copyIn(limit: 8)
        guard bytes.count == 8 else { throw .EFAULT }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        guard value != EventFile.limit else { throw .EINVAL }
        guard EventFile.limit - count > value else { throw .EAGAIN }
        count += value  // a write of 0 still wakes, as on Linux
        kernel.wake(queue, events: POLL.IN | POLL.RDNORM)
        return 8
    }

    override func stat() throws(LinuxErrno) -> FileStat { .anonymousInode }
}

extension SyscallTable {
    mutating func addEventfdCalls() {
        add(284, [.uint]) { k, t, a throws(LinuxErrno) in try k.eventfd(t, count: a.uint(0), flags: 0) }
        add(290, [.uint, .cloexec("EFD")]) { k, t, a throws(LinuxErrno) in try k.eventfd(t, count: a.uint(0), flags: a.int(1)) }
    }
}

extension Kernel {
    /// do_eventfd: EFD_CLOEXEC, EFD_NONBLOCK and EFD_SEMAPHORE only; the initial count is an unsigned int.
    func eventfd(_ t: Task, count: UInt32, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~(O.CLOEXEC | O.NONBLOCK | EFD.SEMAPHORE) == 0 else { throw .EINVAL }
        let p = t.process
        let file = EventFile(kernel: self, count: UInt64(count), flags: flags)
        return .value(Int(try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)))
    }
}
