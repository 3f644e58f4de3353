import UmkHost

// SignalFD.swift: signalfd and signalfd4 (fs/signalfd.c): a file from which the caller reads its own pending
// signals of a mask, as struct signalfd_siginfo records, instead of having handlers run. As on Linux the file
// names no task: a read or poll takes the signals of whoever reads (after fork, the child's own), and the
// signals must be blocked to stay pending for it.
final class SignalFile: OpenFile {
    unowned let kernel: Kernel
    var mask: UInt64

    init(kernel: Kernel, mask: UInt64, flags: Int32) {
        self.kernel = kernel
        self.mask = mask
        super.init(flags: O.RDONLY | (flags & O.NONBLOCK), dentry: nil)
    }

    override var procLinkName: String { "anon_inode:[signalfd]" }
    /// FIXME: epoll watches the queue of the task that added the file, not of whoever waits later.
    override var waitQueue: WaitQueue? { kernel.current?.signalfdQueue }

    override func readyEvents() -> Int16 {
        guard let t = kernel.current, t.pendingSignals & mask != 0 else { return 0 }
        return POLL.IN | POLL.RDNORM
    }

    /// Whole records only (EINVAL for a buffer smaller than one); EAGAIN, so a wait, when none is pending.
    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        let room = io.count / 128
        guard room > 0 else { throw .EINVAL }
        guard let t = kernel.current else { throw .EAGAIN }
        var out: [UInt8] = []
        while out.count / 128 < room, let sig = PendingSignals.lowest(t.pendingSignals & mask) {
            var info = t.pending.take(sig) ?? t.process.sharedPending.take(sig) ?? SignalInfo(signo: sig)
            kernel.takeOverruns(&info)
            out += SignalFile.record(info)
        }
        if out.isEmpty { throw .EAGAIN }
        return io.copyOut(out)
    }

    override func stat() throws(LinuxErrno) -> FileStat { .anonymousInode }

    /// signalfd_copyinfo: the siginfo's fields by what sent the signal.
    static func record(_ info: SignalInfo) -> [UInt8] {
        let si = info.bytes
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(si[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        var b = ByteWriter(count: 128)
        b.put(UInt32(bitPattern: info.signo), at: 0)
        b.put(u32(4), at: 4)  // errno
        b.put(u32(8), at: 8)  // code
        if info.address != 0 {
            b.put(u64(16), at: 72)  // ssi_addr
        } else if info.code == SignalInfo.SI_TIMER {
            b.put(u32(16), at: 24)  // ssi_tid: the timer
            b.put(u32(20), at: 32)  // ssi_overrun
            b.put(u32(24), at: 44)
            b.put(u64(24), at: 48)
        } else if info.signo == Signal.CHLD && info.childTimes != nil {
            b.put(u32(16), at: 12)
            b.put(u32(20), at: 16)
            b.put(u32(24), at: 40)  // ssi_status
            b.put(u64(32), at: 56)
            b.put(u64(40), at: 64)
        } else {
            b.put(u32(16), at: 12)  // ssi_pid
            b.put(u32(20), at: 16)  // ssi_uid
            b.put(u32(24), at: 44)  // ssi_int
            b.put(u64(24), at: 48)  // ssi_ptr
        }
        return b.bytes
    }
}

extension SyscallTable {
    mutating func addSignalfdCalls() {
        add(282, [.fd, .sigset(2), .uint]) { k, t, a throws(LinuxErrno) in
            try k.signalfd(t, fd: a.int(0), mask: a.address(1), size: a[2], flags: 0)
        }
        add(289, [.fd, .sigset(2), .uint, .cloexec("SFD")]) { k, t, a throws(LinuxErrno) in
            try k.signalfd(t, fd: a.int(0), mask: a.address(1), size: a[2], flags: a.int(3))
        }
    }
}

extension Kernel {
    /// A new signalfd (fd -1), or a new mask for an existing one (EINVAL if `fd` is another kind of file).
    func signalfd(_ t: Task, fd: Int32, mask: GuestAddress, size: UInt64, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard size == 8 else { throw .EINVAL }
        guard flags & ~(O.CLOEXEC | O.NONBLOCK) == 0 else { throw .EINVAL }
        let set = try t.mm.read(mask, as: UInt64.self) & ~Signal.unblockable
        let p = t.process
        if fd != -1 {
            guard let file = try p.fds.get(fd) as? SignalFile else { throw .EINVAL }
            file.mask = set
            return .value(Int(fd))
        }
        let file = SignalFile(kernel: self, mask: set, flags: flags)
        return .value(Int(try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)))
    }
}
