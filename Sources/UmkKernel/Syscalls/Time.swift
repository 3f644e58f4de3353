import CLinuxABI
import UmkHost

// Time.swift: clocks and sleeping (kernel/time/posix-timers.c, hrtimer.c, time.c). Guest clocks read the
// host's: one machine, one time. CPU-time clocks read the stub's, the host process the guest runs in.
//
extension SyscallTable {
    mutating func addTimeCalls() {
        add(228, [.clock, .out(.timespec)]) { k, t, a throws(LinuxErrno) in
            let (s, ns) = try k.clockNow(t, a.int(0))
            try k.writeTimespec(t, a.address(1), s, ns)
            return .value(0)
        }
        add(229, [.clock, .out(.timespec)]) { k, t, a throws(LinuxErrno) in
            _ = try k.clockNow(t, a.int(0))  // validates the id
            if !a.address(1).isNull {
                let id = a.int(0) < 0 || a.int(0) == 2 || a.int(0) == 3 ? 1 : a.int(0)
                let r = (try? HostClock.resolution(id)) ?? (seconds: 0, nanoseconds: 1)
                try k.writeTimespec(t, a.address(1), r.seconds, r.nanoseconds)
            }
            return .value(0)
        }
        add(96, [.out(.timeval), .pointer]) { k, t, a throws(LinuxErrno) in
            let (s, ns) = try k.clockNow(t, 0)
            if !a.address(0).isNull {
                try t.mm.write(a.address(0), s)
                try t.mm.write(a.address(0).advanced(by: 8), ns / 1000)
            }
            if !a.address(1).isNull { try t.mm.write(a.address(1), UInt64(0)) }  // struct timezone: UTC
            return .value(0)
        }
        add(201, [.pointer]) { k, t, a throws(LinuxErrno) in
            let (s, _) = try k.clockNow(t, 0)
            if !a.address(0).isNull { try t.mm.write(a.address(0), s) }
            return .value(Int(s))
        }
        add(35, [.timespec, .remainder]) { k, t, a throws(LinuxErrno) in
            try k.sleep(t, clock: 1, absolute: false, request: a.address(0))
        }
        add(230, [.clock, .timerFlags, .timespec, .remainder]) { k, t, a throws(LinuxErrno) in
            let clock = a.int(0)
            guard [0, 1, 7, 11].contains(clock) else { throw clock == 3 || clock < 0 ? .EINVAL : .EOPNOTSUPP }
            guard a.int(1) & ~1 == 0 else { throw .EINVAL }
            return try k.sleep(t, clock: clock, absolute: a.int(1) & 1 != 0, request: a.address(2))
        }
        add(100, [.pointer]) { k, t, a throws(LinuxErrno) in
            let ticks = (HostClock.monotonicNanoseconds() - k.bootNanoseconds) / 10_000_000
            if !a.address(0).isNull {
                let own = k.cpuTimes(t.process), children = t.process.childrenTimes
                let toTicks = { (ns: Int64) in ns / 10_000_000 }  // clock ticks, USER_HZ 100
                try t.mm.write(a.address(0), linux_tms(tms_utime: toTicks(own.user), tms_stime: toTicks(own.system),
                                                       tms_cutime: toTicks(children.user), tms_cstime: toTicks(children.system)))
            }
            return .value(Int(ticks))
        }
    }
}

extension Kernel {
    /// The time on a guest clock id: the host's clock of that id, or a guest process's CPU time.
    func clockNow(_ t: Task, _ clock: Int32) throws(LinuxErrno) -> (Int64, Int64) {
        if let (thread, which) = try threadClock(t, clock) {
            let ns = threadCPUNanoseconds(thread, which)
            return (ns / 1_000_000_000, ns % 1_000_000_000)
        }
        if let (process, which) = try cpuClock(t, clock) {
            let ns = cpuClockNanoseconds(process, which)
            return (ns / 1_000_000_000, ns % 1_000_000_000)
        }
        do {
            let r = try HostClock.now(clock)
            return (r.seconds, r.nanoseconds)
        } catch {
            throw LinuxErrno(host: error)
        }
    }

    /// What a CPU-time clock id names: the process and CPUCLOCK_PROF (0, user+system), _VIRT (1, user) or
    /// _SCHED (2, user+system); nil for the host clocks a guest may read; EINVAL for anything else.
    /// (clock_getcpuclockid's ids: ~pid << 3 | which, bit 2 for a thread; 2 and 3 are the caller's own.)
    func cpuClock(_ t: Task, _ clock: Int32) throws(LinuxErrno) -> (Process, Int32)? {
        switch clock {
        case 0, 1, 4, 5, 6, 7, 8, 9, 11: return nil
        case 2, 3: return (t.process, 2)
        default:
            guard clock < 0, clock & 3 != 3 else { throw .EINVAL }  // CPUCLOCK_WHICH 3 is past CPUCLOCK_MAX
            let pid = ~clock >> 3
            if pid == 0 || pid == t.process.pid { return (t.process, clock & 3) }
            guard clock & 4 == 0, let p = processes[pid], p.exitStatus == nil else { throw .EINVAL }
            return (p, clock & 3)
        }
    }

    /// A thread's CPU-time clock: CLOCK_THREAD_CPUTIME_ID, or ~tid << 3 | 4 | which for a thread of the
    /// caller's own process (0: the caller), as posix_cpu_clock_get allows; nil for any other clock.
    func threadClock(_ t: Task, _ clock: Int32) throws(LinuxErrno) -> (Task, Int32)? {
        if clock == 3 { return (t, 2) }
        guard clock < 0, clock & 4 != 0 else { return nil }
        guard clock & 3 != 3 else { throw .EINVAL }
        let tid = ~clock >> 3
        if tid == 0 { return (t, clock & 3) }
        guard let thread = threads[tid], thread.process === t.process else { throw .EINVAL }
        return (thread, clock & 3)
    }

    func cpuClockNanoseconds(_ p: Process, _ which: Int32) -> Int64 {
        let times = cpuTimes(p)
        return which == 1 ? times.user : times.total
    }

    func writeTimespec(_ t: Task, _ at: GuestAddress, _ s: Int64, _ ns: Int64) throws(LinuxErrno) {
        try t.mm.write(at, linux_timespec(tv_sec: s, tv_nsec: ns))
    }

    /// A timespec as nanoseconds, saturating at "forever" rather than overflowing.
    func timeoutNanoseconds(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> Int64 {
        let (s, ns) = try readTimespec(t, at)
        return nanoseconds(s, ns)
    }

    /// The monotonic deadline `ns` from now, saturating.
    func deadline(after ns: Int64) -> Int64 {
        let (d, o) = HostClock.monotonicNanoseconds().addingReportingOverflow(ns)
        return o ? Int64.max / 2 : min(d, Int64.max / 2)
    }

    func readTimespec(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> (Int64, Int64) {
        let ts = try t.mm.read(at, as: linux_timespec.self)
        guard ts.tv_sec >= 0, ts.tv_nsec >= 0, ts.tv_nsec < 1_000_000_000 else { throw .EINVAL }
        return (ts.tv_sec, ts.tv_nsec)
    }

    /// nanosleep and clock_nanosleep: the task waits until the deadline on `clock`, measured on the host
    /// monotonic clock, and the kernel goes on with other tasks. A handled signal ends it with EINTR and
    /// the remaining time (finishInterrupted).
    func sleep(_ t: Task, clock: Int32, absolute: Bool, request: GuestAddress) throws(LinuxErrno) -> SyscallOutcome {
        let now = HostClock.monotonicNanoseconds()
        if let deadline = t.deadline {  // woken: the timer ran out
            if now >= deadline {
                t.deadline = nil
                return .value(0)
            }
            return .block(nil)
        }
        // Saturating: a time near 2^63 ns (tv_sec 9223372036) is forever, never a wrapped negative total.
        let total = try timeoutNanoseconds(t, request)
        var duration = total
        if absolute {
            let (ns0, ns1) = try clockNow(t, clock)
            duration = total - (ns0 * 1_000_000_000 + ns1)
        }
        guard duration > 0 else { return .value(0) }
        let (deadline, o) = now.addingReportingOverflow(duration)
        t.deadline = o ? Int64.max / 2 : deadline
        return .block(nil)
    }
}
