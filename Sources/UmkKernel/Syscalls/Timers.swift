import CLinuxABI
import UmkHost

// Timers.swift: alarm, setitimer/getitimer and the POSIX timers (kernel/time/itimer.c, alarm.c,
// posix-timers.c). The timers themselves, their clocks and their expiry are Task/IntervalTimers.swift's.
extension SyscallTable {
    mutating func addTimerCalls() {
        add(37, [.uint]) { k, t, a throws(LinuxErrno) in
            let timer = k.itimer(t.process, 0)
            let (left, _) = k.arm(timer, value: Int64(a.uint(0)) * 1_000_000_000, interval: 0)
            // Never 0 while an alarm was pending: round to the nearest second, and up from below one.
            let seconds = left / 1_000_000_000, rest = left % 1_000_000_000
            return .value(Int(seconds + ((seconds == 0 && rest > 0) || rest >= 500_000_000 ? 1 : 0)))
        }
        add(38, [.itimerWhich, .itimerval, .out(.itimerval)]) { k, t, a throws(LinuxErrno) in
            let which = a.int(0)
            guard (0...2).contains(which) else { throw .EINVAL }
            var value: Int64 = 0, interval: Int64 = 0
            if !a.address(1).isNull {  // NULL disarms, as Linux has it
                interval = try k.readTimeval(t, a.address(1))
                value = try k.readTimeval(t, a.address(1).advanced(by: 16))
            }
            let old = k.arm(k.itimer(t.process, Int(which)), value: value, interval: interval)
            if !a.address(2).isNull { try k.writeItimerval(t, a.address(2), old) }
            return .value(0)
        }
        add(36, [.itimerWhich, .out(.itimerval)]) { k, t, a throws(LinuxErrno) in
            let which = a.int(0)
            guard (0...2).contains(which) else { throw .EINVAL }
            let current = t.process.itimers[Int(which)].map { k.remaining($0) } ?? (0, 0)
            try k.writeItimerval(t, a.address(1), current)
            return .value(0)
        }
        add(222, [.clock, .sigevent, .out(.intRef)]) { k, t, a throws(LinuxErrno) in try k.sysTimerCreate(t, a) }
        add(223, [.int32, .timerFlags, .itimerspec, .out(.itimerspec)]) { k, t, a throws(LinuxErrno) in
            let timer = try k.posixTimer(t, a.int(0))
            guard !a.address(2).isNull else { throw .EINVAL }
            let (intervalS, intervalNs) = try k.readTimespec(t, a.address(2))
            let (valueS, valueNs) = try k.readTimespec(t, a.address(2).advanced(by: 16))
            let interval = k.nanoseconds(intervalS, intervalNs), value = k.nanoseconds(valueS, valueNs)
            let absolute = a.int(1) & 1 != 0  // TIMER_ABSTIME
            let old: (Int64, Int64)
            if absolute && value > 0 && timer.base == .wall {
                // An absolute time on the timer's own clock, as a monotonic deadline.
                let (s, ns) = try k.clockNow(t, timer.clock)
                old = k.arm(timer, value: max(value - k.nanoseconds(s, ns), 1), interval: interval)
            } else {
                old = k.arm(timer, value: value, interval: interval, absolute: absolute)
            }
            if !a.address(3).isNull { try k.writeItimerspec(t, a.address(3), old) }
            return .value(0)
        }
        add(224, [.int32, .out(.itimerspec)]) { k, t, a throws(LinuxErrno) in
            let timer = try k.posixTimer(t, a.int(0))
            try k.writeItimerspec(t, a.address(1), k.remaining(timer))
            return .value(0)
        }
        add(225, [.int]) { k, t, a throws(LinuxErrno) in .value(min(try k.posixTimer(t, a.int(0)).lastOverrun, Int(Int32.max))) }
        add(226, [.int]) { k, t, a throws(LinuxErrno) in
            let timer = try k.posixTimer(t, a.int(0))
            k.arm(timer, value: 0, interval: 0)  // and its pending signal goes
            t.process.posixTimers[a.int(0)] = nil
            return .value(0)
        }
    }
}

extension Kernel {
    /// setitimer's timer `which` of a process, made on first use: ITIMER_REAL on the wall, sending SIGALRM;
    /// ITIMER_VIRTUAL on user time, SIGVTALRM; ITIMER_PROF on all CPU time, SIGPROF.
    func itimer(_ p: Process, _ which: Int) -> IntervalTimer {
        if let timer = p.itimers[which] { return timer }
        let base: IntervalTimer.Base = which == 0 ? .wall : .cpu(userOnly: which == 1)
        let timer = IntervalTimer(owner: p, measured: p, base: base, clock: which == 0 ? 0 : 2,
                                  signal: [14, 26, 27][which], value: 0, targetTID: nil, id: nil)
        p.itimers[which] = timer
        return timer
    }

    func posixTimer(_ t: Task, _ id: Int32) throws(LinuxErrno) -> IntervalTimer {
        guard let timer = t.process.posixTimers[id] else { throw .EINVAL }
        return timer
    }

    /// Most POSIX timers one process may have (Linux's bound is memory; umk's keeps the kernel small).
    static let maxPosixTimers = 4096

    func sysTimerCreate(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let clock = a.int(0)
        let p = t.process
        let base: IntervalTimer.Base
        var measured = p
        switch clock {
        case 0, 1, 7, 11: base = .wall
        case 8, 9:  // the ALARM clocks need CAP_WAKE_ALARM
            guard p.credentials.euid == 0 else { throw .EPERM }
            base = .wall
        case 4, 5, 6: throw .EOPNOTSUPP  // MONOTONIC_RAW and the COARSE clocks have no timers
        default:
            guard let (process, which) = try cpuClock(t, clock) else { throw .EINVAL }
            measured = process
            base = .cpu(userOnly: which == 1)
        }
        guard p.posixTimers.count < Kernel.maxPosixTimers else { throw .EAGAIN }
        var id = p.nextTimerID
        while p.posixTimers[id] != nil { id = id == Int32.max ? 0 : id + 1 }
        var signal: Int32 = 14, value = UInt64(UInt32(bitPattern: id)), target: Int32? = nil
        if !a.address(1).isNull {
            value = try t.mm.read(a.address(1), as: UInt64.self)
            signal = try t.mm.read(a.address(1).advanced(by: 8), as: Int32.self)
            let notify = try t.mm.read(a.address(1).advanced(by: 12), as: Int32.self)
            switch notify {
            case 1: signal = 0  // SIGEV_NONE
            case 0, 2: break  // SIGEV_SIGNAL, and SIGEV_THREAD (which libc builds on SIGEV_THREAD_ID)
            case 4:  // SIGEV_THREAD_ID: a thread of the caller's own process
                let tid = try t.mm.read(a.address(1).advanced(by: 16), as: Int32.self)
                guard p.tasks.contains(where: { $0.tid == tid }) else { throw .EINVAL }
                target = tid
            default: throw .EINVAL
            }
            if notify != 1 { guard signal >= 1, signal <= 64 else { throw .EINVAL } }
        }
        let timer = IntervalTimer(owner: p, measured: measured, base: base, clock: clock, signal: signal, value: value,
                                  targetTID: target, id: id)
        try t.mm.write(a.address(2), id)
        p.posixTimers[id] = timer
        p.nextTimerID = id == Int32.max ? 0 : id + 1
        return .value(0)
    }

    /// A timeval (struct timeval: seconds, microseconds) as ns; EINVAL out of range.
    func readTimeval(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> Int64 {
        let tv = try t.mm.read(at, as: linux_timeval.self)
        guard tv.tv_sec >= 0, tv.tv_usec >= 0, tv.tv_usec < 1_000_000 else { throw .EINVAL }
        return nanoseconds(tv.tv_sec, tv.tv_usec * 1000)
    }

    /// Seconds and nanoseconds as ns, saturating at "forever".
    func nanoseconds(_ s: Int64, _ ns: Int64) -> Int64 {
        let (whole, o) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return o ? Int64.max / 2 : min(whole, Int64.max / 2) + ns
    }

    /// struct itimerval: the interval, then the value, as timevals (an armed timer reads at least 1 us).
    func writeItimerval(_ t: Task, _ at: GuestAddress, _ timer: (value: Int64, interval: Int64)) throws(LinuxErrno) {
        let value = timer.value > 0 ? max(timer.value, 1000) : 0
        let tv = { (ns: Int64) in linux_timeval(tv_sec: ns / 1_000_000_000, tv_usec: (ns % 1_000_000_000) / 1000) }
        try t.mm.write(at, linux_itimerval(it_interval: tv(timer.interval), it_value: tv(value)))
    }

    /// struct itimerspec: the interval, then the value, as timespecs.
    func writeItimerspec(_ t: Task, _ at: GuestAddress, _ timer: (value: Int64, interval: Int64)) throws(LinuxErrno) {
        let ts = { (ns: Int64) in linux_timespec(tv_sec: ns / 1_000_000_000, tv_nsec: ns % 1_000_000_000) }
        try t.mm.write(at, linux_itimerspec(it_interval: ts(timer.interval), it_value: ts(timer.value)))
    }
}
