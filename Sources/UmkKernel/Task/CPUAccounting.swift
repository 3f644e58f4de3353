import CLinuxABI
import UmkHost

// CPUAccounting.swift: the CPU time of guest processes (kernel/sched/cputime.c). Guest code runs in stubs, so
// a process's CPU time is its stub's host CPU time over the intervals it ran there: a stub changes hands
// (pooled after one address space, lent to a vfork child), so each process keeps what it had before and
// where its stub's clock stood when its current interval began. The kernel thread's own time serving
// system calls is not charged to anyone.

/// CPU time in ns, as getrusage splits it.
struct CPUTimes: Equatable {
    var user: Int64 = 0
    var system: Int64 = 0
    var total: Int64 { user + system }

    static func + (a: CPUTimes, b: CPUTimes) -> CPUTimes { CPUTimes(user: a.user + b.user, system: a.system + b.system) }

    /// What a stub ran between two readings; never negative (the split is sampled).
    static func since(_ origin: CPUTimes, _ now: CPUTimes) -> CPUTimes {
        let total = max(now.total - origin.total, 0)
        let user = min(max(now.user - origin.user, 0), total)
        return CPUTimes(user: user, system: total - user)
    }
}

extension Kernel {
    private func stubTimes(_ p: Process) -> CPUTimes? {
        guard let mm = p.mmStorage, let t = mm.space.cpuTimes else { return nil }
        return CPUTimes(user: t.user, system: t.system)
    }

    /// The process starts running on its (possibly new) stub.
    func startCPUInterval(_ p: Process) {
        p.cpuOrigin = stubTimes(p)
    }

    /// The process leaves its stub (exec, vfork, exit): what it ran there becomes its own.
    func endCPUInterval(_ p: Process) {
        if let origin = p.cpuOrigin, let now = stubTimes(p) { p.cpuBase = p.cpuBase + .since(origin, now) }
        p.cpuOrigin = nil
        p.maxResidentPages = max(p.maxResidentPages, p.mmStorage?.residentPages ?? 0)
    }

    /// The process's CPU time so far.
    /// A task starts running on its context: its thread clock counts from here (a context may have run
    /// other threads before).
    func startThreadClock(_ t: Task) {
        t.threadCPUOrigin = HostClock.threadTimes(tid: t.context.id) ?? (0, 0)
    }

    /// A thread's CPU time: user (CPUCLOCK_VIRT, 1) or all of it, on its context since it started there.
    func threadCPUNanoseconds(_ t: Task, _ which: Int32) -> Int64 {
        guard t.isAlive, let now = HostClock.threadTimes(tid: t.context.id) else { return 0 }
        let o = t.threadCPUOrigin
        return max(0, which == 1 ? now.user - o.user : now.total - o.total)
    }

    func cpuTimes(_ p: Process) -> CPUTimes {
        guard let origin = p.cpuOrigin, let now = stubTimes(p) else { return p.cpuBase }
        return p.cpuBase + .since(origin, now)
    }

    /// struct rusage: user and system time, and the peak resident set in KiB.
    func writeRusage(_ t: Task, _ at: GuestAddress, _ times: CPUTimes, maxResidentPages: Int) throws(LinuxErrno) {
        let tv = { (ns: Int64) in linux_timeval(tv_sec: ns / 1_000_000_000, tv_usec: (ns % 1_000_000_000) / 1000) }
        var r = linux_rusage()
        r.ru_utime = tv(times.user)
        r.ru_stime = tv(times.system)
        r.ru_maxrss = Int64(maxResidentPages * 4)
        try t.mm.write(at, r)
    }
}
