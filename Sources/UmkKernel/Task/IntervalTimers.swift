import UmkHost

// IntervalTimers.swift: interval timers (kernel/time/itimer.c, posix-timers.c, posix-cpu-timers.c). A timer counts
// either on the wall (ITIMER_REAL, alarm, timer_create on CLOCK_REALTIME/MONOTONIC/BOOTTIME/TAI: a deadline
// on the host monotonic clock, like a sleeper's, that the main loop waits for) or on a process's CPU time
// (ITIMER_VIRTUAL, ITIMER_PROF, CPU-clock timers, RLIMIT_CPU: checked once per tick while the process runs,
// so they fire within a tick of their expiry). Expiry sends the timer's signal; a timer whose last signal is
// still pending counts an overrun instead, as Linux does.

final class IntervalTimer {
    enum Base: Equatable {
        /// Host monotonic ns.
        case wall
        /// The CPU time of `process`, in ns: user time only (ITIMER_VIRTUAL, CPUCLOCK_VIRT) or all of it.
        case cpu(userOnly: Bool)
    }

    let owner: Process
    /// The process whose CPU time a CPU timer counts (the owner, or another one named by its clock id).
    let measured: Process
    let base: Base
    /// The guest clock id (for timer_gettime on CLOCK_REALTIME: the same time, told on that clock).
    let clock: Int32
    /// 0 for SIGEV_NONE: the timer runs and can be read, but signals nobody.
    let signal: Int32
    let value: UInt64
    /// SIGEV_THREAD_ID's target; else the owner's first task.
    let targetTID: Int32?
    /// The POSIX timer id, or nil for setitimer's timers (whose signal says SI_KERNEL, not SI_TIMER).
    let id: Int32?
    /// When it next fires on its base (0: disarmed), and every how long after that (0: once).
    var expiry: Int64 = 0
    var interval: Int64 = 0
    /// Expiries since its signal was last queued, and what timer_getoverrun reports for the last one.
    var overrun = 0
    var lastOverrun = 0

    init(owner: Process, measured: Process, base: Base, clock: Int32, signal: Int32, value: UInt64,
         targetTID: Int32?, id: Int32?)
    {
        self.owner = owner
        self.measured = measured
        self.base = base
        self.clock = clock
        self.signal = signal
        self.value = value
        self.targetTID = targetTID
        self.id = id
    }

    var isArmed: Bool { expiry != 0 }
}

extension Kernel {
    /// The timer's clock now, on its base.
    func timerNow(_ timer: IntervalTimer) -> Int64 {
        switch timer.base {
        case .wall: return HostClock.monotonicNanoseconds()
        case .cpu(let userOnly): return cpuClockNanoseconds(timer.measured, userOnly ? 1 : 0)
        }
    }

    /// Arms (value > 0) or disarms (value 0) a timer; `value` is relative to now unless `absolute` (on the
    /// timer's base). Returns what was left of the previous arming and its interval.
    @discardableResult
    func arm(_ timer: IntervalTimer, value: Int64, interval: Int64, absolute: Bool = false) -> (Int64, Int64) {
        let old = remaining(timer)
        armedTimers.removeAll { $0 === timer }
        dropPendingSignal(of: timer)
        timer.overrun = 0
        timer.interval = interval
        if value > 0 {
            let now = timerNow(timer)
            let (sum, o) = now.addingReportingOverflow(value)
            timer.expiry = absolute ? max(value, 1) : (o ? Int64.max / 2 : min(sum, Int64.max / 2))
            armedTimers.append(timer)
        } else {
            timer.expiry = 0
        }
        return old
    }

    /// Time left until the timer fires (at least 1 ns while armed), and its interval.
    func remaining(_ timer: IntervalTimer) -> (Int64, Int64) {
        guard timer.isArmed else { return (0, timer.interval) }
        return (max(timer.expiry - timerNow(timer), 1), timer.interval)
    }

    /// A POSIX timer that is re-armed or deleted takes back the signal it queued and that is still pending
    /// (Linux drops it at delivery: posixtimer_deliver_signal).
    func dropPendingSignal(of timer: IntervalTimer) {
        guard timer.id != nil, timer.signal != 0 else { return }
        for t in timer.owner.tasks { t.pending.discard(timer.signal) { $0.timer === timer } }
        timer.owner.sharedPending.discard(timer.signal) { $0.timer === timer }
    }

    /// A timer signal is being delivered: its si_overrun is the expiries since it was queued
    /// (what timer_getoverrun reports from then on).
    func takeOverruns(_ info: inout SignalInfo) {
        guard let timer = info.timer else { return }
        info.uid = UInt32(clamping: timer.overrun)
        timer.lastOverrun = timer.overrun
        timer.overrun = 0
    }

    /// A process's timers go: all of them at exit, the POSIX ones at exec (`interval` false keeps setitimer's).
    func deleteTimers(_ p: Process, interval: Bool) {
        for timer in p.posixTimers.values { dropPendingSignal(of: timer) }
        let gone = Array(p.posixTimers.values) + (interval ? p.itimers.compactMap { $0 } : [])
        armedTimers.removeAll { t in gone.contains { $0 === t } || (interval && t.measured === p) }
        p.posixTimers.removeAll()
        if interval { p.itimers = [nil, nil, nil] }
    }

    /// Fires every wall timer that is due; returns the next wall deadline, if any.
    func expireWallTimers(now: Int64) -> Int64? {
        var next: Int64? = nil
        for timer in armedTimers where timer.base == .wall {
            if timer.expiry <= now { fire(timer, now: now) }
            if timer.isArmed { next = min(next ?? timer.expiry, timer.expiry) }
        }
        return next
    }

    /// Whether anything counts CPU time (a CPU timer, or a process under a finite RLIMIT_CPU): then the tick
    /// runs while tasks run, to look at them.
    var watchesCPUTime: Bool {
        armedTimers.contains { $0.base != .wall } || cpuLimitedProcesses > 0
    }

    /// The tick's look at CPU time: fires CPU timers that are due and enforces RLIMIT_CPU (SIGXCPU past the
    /// soft limit, again each second after it, SIGKILL at the hard one: kernel/time/posix-cpu-timers.c).
    func checkCPUTime() {
        for timer in armedTimers where timer.base != .wall {
            let now = timerNow(timer)
            if timer.expiry <= now { fire(timer, now: now) }
        }
        guard cpuLimitedProcesses > 0 else { return }
        for p in processes.values where p.exitStatus == nil && p.limits[RLIMIT.CPU].soft != ResourceLimit.infinity {
            let seconds = UInt64(cpuTimes(p).total / 1_000_000_000)
            let limit = p.limits[RLIMIT.CPU]
            if seconds >= limit.hard {
                terminate(p, .signaled(9))
            } else if seconds >= limit.soft {
                sendToProcess(p, 24, info: SignalInfo(signo: 24, code: SignalInfo.SI_KERNEL))  // SIGXCPU
                if limit.soft < limit.hard { p.limits[RLIMIT.CPU].soft = limit.soft + 1 }
            }
        }
    }

    /// Processes with a finite RLIMIT_CPU, counted again whenever a limit or the set of processes changes.
    func recountCPULimits() {
        cpuLimitedProcesses = processes.values.filter {
            $0.exitStatus == nil && $0.limits[RLIMIT.CPU].soft != ResourceLimit.infinity
        }.count
    }

    private func fire(_ timer: IntervalTimer, now: Int64) {
        if timer.interval > 0 {
            // Periods missed entirely (a busy kernel, a long CPU burst between ticks) are overruns.
            let late = (now - timer.expiry) / timer.interval
            timer.overrun = Int(min(Int64(timer.overrun) + late, Int64(Int32.max)))  // DELAYTIMER_MAX, never a trap
            timer.expiry += (late + 1) * timer.interval
        } else {
            timer.expiry = 0
            armedTimers.removeAll { $0 === timer }
        }
        let owner = timer.owner
        guard timer.signal != 0, owner.exitStatus == nil else { return }
        let target = timer.targetTID.flatMap { tid in owner.tasks.first { $0.tid == tid } }
            ?? wantingThread(owner, timer.signal)
        guard let target else { return }
        if timer.id != nil,
           (target.pending.peek(timer.signal) ?? owner.sharedPending.peek(timer.signal))?.timer === timer {
            timer.overrun = min(timer.overrun + 1, Int(Int32.max))  // still queued: Linux counts, it does not queue another
            return
        }
        var info = SignalInfo(signo: timer.signal, code: SignalInfo.SI_KERNEL)
        if let id = timer.id {
            info.code = SignalInfo.SI_TIMER
            info.pid = id  // si_timerid; si_overrun (uid's place) is filled in at delivery
            info.value = timer.value
            info.timer = timer
        }
        _ = send(target, timer.signal, info: info, shared: timer.targetTID == nil)
    }
}
