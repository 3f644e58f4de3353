import UmkHost

// TimerFD.swift: timerfd_create, timerfd_settime, timerfd_gettime (fs/timerfd.c): a timer whose expirations
// are read from a file as a 64-bit count. Like the wall interval timers (Task/IntervalTimers.swift) its
// deadline is on the host monotonic clock and the kernel loop expires it (expireTimerFiles), waking the
// file's queue (readers, poll, epoll) whether or not a task waits. An absolute time on CLOCK_REALTIME or
// CLOCK_BOOTTIME becomes a monotonic deadline when it is set.
// Deviations: TFD_TIMER_CANCEL_ON_SET is accepted, but a read never fails with ECANCELED, since no guest can
// set the clock; the _ALARM clocks need root (CAP_WAKE_ALARM), then behave as their base clocks (nothing
// here suspends); TFD_IOC_SET_TICKS is not implemented (ENOTTY).
enum TFD {
    static let TIMER_ABSTIME: Int32 = 1, TIMER_CANCEL_ON_SET: Int32 = 2
}

final class TimerFile: OpenFile {
    unowned let kernel: Kernel
    let queue = WaitQueue()
    /// The guest clock (an _ALARM clock as its base) that absolute times are given on.
    let clock: Int32
    let originalClock: Int32
    /// Host monotonic ns of the next expiry (0: disarmed), and the period after it (0: once).
    private(set) var expiry: Int64 = 0
    private(set) var interval: Int64 = 0
    /// Expirations not yet read.
    private(set) var ticks: UInt64 = 0
    private var isReleased = false

    init(kernel: Kernel, clock: Int32, flags: Int32) {
        self.kernel = kernel
        originalClock = clock
        self.clock = clock == 8 ? 0 : clock == 9 ? 7 : clock
        super.init(flags: O.RDWR | (flags & O.NONBLOCK), dentry: nil)
    }

    override var procLinkName: String { "anon_inode:[timerfd]" }
    override var waitQueue: WaitQueue? { queue }
    var isArmed: Bool { expiry != 0 }

    override var fdInfo: String {
        let (value, period) = remaining()
        func ts(_ ns: Int64) -> String { "(\(ns / 1_000_000_000), \(ns % 1_000_000_000))" }
        return "clockid: \(originalClock)\nticks: \(ticks)\nsettime flags: 00\nit_value: \(ts(value))\nit_interval: \(ts(period))\n"
    }

    /// Counts the expirations up to `now` (a periodic timer's missed periods too, as hrtimer_forward does)
    /// and moves the deadline past it, waking the queue (timerfd_tmrproc), whoever noticed first: the loop,
    /// or a poll or read that came before it. Returns whether any happened.
    @discardableResult
    func catchUp(now: Int64) -> Bool {
        guard isArmed, expiry <= now else { return false }
        var n: UInt64 = 1
        if interval > 0 {
            let missed = (now - expiry) / interval
            n = UInt64(missed) &+ 1
            let (step, o1) = (missed + 1).multipliedReportingOverflow(by: interval)
            let (next, o2) = expiry.addingReportingOverflow(step)
            expiry = o1 || o2 ? Int64.max / 2 : next
        } else {
            expiry = 0
            kernel.armedTimerFiles.removeAll { $0 === self }
        }
        let (sum, o) = ticks.addingReportingOverflow(n)
        ticks = o ? UInt64.max : sum
        kernel.wake(queue, events: POLL.IN | POLL.RDNORM)
        return true
    }

    /// timerfd_setup: a new value (0 disarms) and interval, both ns; the count of unread expirations goes.
    func set(deadline: Int64, interval: Int64) {
        ticks = 0
        self.interval = interval
        kernel.armedTimerFiles.removeAll { $0 === self }
        expiry = deadline
        if deadline != 0 { kernel.armedTimerFiles.append(self) }
    }

    /// What timerfd_gettime answers: the time to the next expiry (0 when disarmed) and the interval.
    func remaining() -> (Int64, Int64) {
        let now = HostClock.monotonicNanoseconds()
        catchUp(now: now)
        return (isArmed ? max(expiry - now, 1) : 0, interval)
    }

    override func readyEvents() -> Int16 {
        catchUp(now: HostClock.monotonicNanoseconds())
        return ticks > 0 ? POLL.IN | POLL.RDNORM : 0
    }

    /// timerfd_read: 8 bytes at least (EINVAL); the expirations so far, or EAGAIN (a wait) when none.
    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        guard io.count >= 8 else { throw .EINVAL }
        catchUp(now: HostClock.monotonicNanoseconds())
        guard ticks > 0 else { throw .EAGAIN }
        let value = ticks
        ticks = 0
        return withUnsafeBytes(of: value.littleEndian) { io.copyOut($0) }
    }

    override func stat() throws(LinuxErrno) -> FileStat { .anonymousInode }

    /// timerfd_release: the timer stops with the last fd.
    override func released() {
        super.released()
        guard !isReleased else { return }
        isReleased = true
        set(deadline: 0, interval: 0)
    }
}

extension SyscallTable {
    mutating func addTimerfdCalls() {
        let note = SyscallSupport.partial("TFD_TIMER_CANCEL_ON_SET never cancels (the guest cannot set the clock)")
        add(283, [.clock, .cloexec("TFD")]) { k, t, a throws(LinuxErrno) in try k.timerfdCreate(t, clock: a.int(0), flags: a.int(1)) }
        add(286, [.fd, .timerfdFlags, .itimerspec, .out(.itimerspec)], note) { k, t, a throws(LinuxErrno) in
            try k.timerfdSettime(t, fd: a.int(0), flags: a.int(1), new: a.address(2), old: a.address(3))
        }
        add(287, [.fd, .out(.itimerspec)]) { k, t, a throws(LinuxErrno) in
            let file = try k.timerFile(t, a.int(0))
            try k.writeItimerspec(t, a.address(1), file.remaining())
            return .value(0)
        }
    }
}

extension Kernel {
    /// Most timerfds armed at once in the instance (Linux's bound is memory).
    static let maxTimerFiles = 1 << 16

    /// timerfd_create: CLOCK_REALTIME, MONOTONIC, BOOTTIME and their _ALARM versions (root only).
    func timerfdCreate(_ t: Task, clock: Int32, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~(O.CLOEXEC | O.NONBLOCK) == 0, [0, 1, 7, 8, 9].contains(clock) else { throw .EINVAL }
        let p = t.process
        if clock == 8 || clock == 9 { guard p.credentials.euid == 0 else { throw .EPERM } }
        let file = TimerFile(kernel: self, clock: clock, flags: flags)
        return .value(Int(try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)))
    }

    func timerFile(_ t: Task, _ fd: Int32) throws(LinuxErrno) -> TimerFile {
        guard let file = try t.process.fds.get(fd) as? TimerFile else { throw .EINVAL }
        return file
    }

    /// timerfd_settime, its checks in Linux's order: the itimerspec (EFAULT), the flags, the values (EINVAL),
    /// the fd (EBADF, EINVAL). The old setting is written after the new one is in force.
    func timerfdSettime(_ t: Task, fd: Int32, flags: Int32, new: GuestAddress, old: GuestAddress) throws(LinuxErrno)
        -> SyscallOutcome
    {
        let raw = try t.mm.readBytes(new, 32)
        let v = raw.withUnsafeBytes { b in (0..<4).map { b.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
        guard flags & ~(TFD.TIMER_ABSTIME | TFD.TIMER_CANCEL_ON_SET) == 0 else { throw .EINVAL }
        guard v.allSatisfy({ $0 >= 0 }), v[1] < 1_000_000_000, v[3] < 1_000_000_000 else { throw .EINVAL }
        let file = try timerFile(t, fd)
        let interval = nanoseconds(v[0], v[1]), value = nanoseconds(v[2], v[3])
        let previous = file.remaining()
        var deadline: Int64 = 0
        if value > 0 {
            if flags & TFD.TIMER_ABSTIME != 0 {
                // An absolute time on the file's clock, as a monotonic deadline (at least 1: 0 means disarmed).
                let (s, ns) = try clockNow(t, file.clock)
                let (delta, o) = value.subtractingReportingOverflow(nanoseconds(s, ns))
                deadline = max(1, o ? 1 : min(HostClock.monotonicNanoseconds() &+ max(delta, -Int64.max / 4), Int64.max / 2))
            } else {
                deadline = self.deadline(after: value)
            }
            guard file.isArmed || armedTimerFiles.count < Kernel.maxTimerFiles else { throw .ENOMEM }
        }
        file.set(deadline: deadline, interval: interval)
        if !old.isNull { try writeItimerspec(t, old, previous) }
        return .value(0)
    }

    /// The loop's look at the timerfds: each that expired counts it and wakes its queue. Returns the next
    /// deadline; one whose expirations nobody has read yet is looked at again a tick later at the soonest,
    /// so that a tiny interval cannot keep the kernel busy.
    func expireTimerFiles(now: Int64) -> Int64? {
        var next: Int64? = nil
        for file in armedTimerFiles {
            let unread = file.ticks > 0
            file.catchUp(now: now)
            guard file.isArmed else { continue }
            let due = unread ? max(file.expiry, now + Kernel.tickInterval) : file.expiry
            next = min(next ?? due, due)
        }
        return next
    }
}
