import CLinuxABI
import UmkHost

// Scheduling.swift: the sched_* family, nice and CPU affinity (kernel/sched/core.c, kernel/sys.c
// getpriority/setpriority). The guest sees --cpus N virtual CPUs, 0...N-1, each one host CPU of the instance
// (Kernel.cpus). A task's nice, policy and affinity are its own (inherited by fork, kept across exec) and are
// followed on its stub where the host lets an unprivileged user do so: affinity onto the matching host CPUs,
// nice and SCHED_BATCH/SCHED_IDLE only ever towards a lower priority than umk's own. Real-time policies are
// kept as the guest's state (its own root may set them) but run as SCHED_OTHER on the host.

/// A task's scheduling attributes as the guest set them.
struct SchedulingState: Equatable {
    var nice: Int32 = 0
    var policy: Int32 = SCHED.OTHER
    /// The real-time priority (1...99 for FIFO and RR, else 0).
    var priority: Int32 = 0
    var resetOnFork = false
    /// The virtual CPUs the task may run on, one bit each; nil: all of them.
    var cpuMask: [UInt64]? = nil

    /// What a fork child starts with (SCHED_RESET_ON_FORK: no real-time policy, no negative nice).
    var forChild: SchedulingState {
        guard resetOnFork else { return self }
        var s = self
        if s.policy == SCHED.FIFO || s.policy == SCHED.RR { (s.policy, s.priority) = (SCHED.OTHER, 0) }
        if s.nice < 0 { s.nice = 0 }
        s.resetOnFork = false
        return s
    }
}

enum SCHED {
    static let OTHER: Int32 = 0, FIFO: Int32 = 1, RR: Int32 = 2, BATCH: Int32 = 3, IDLE: Int32 = 5
    static let DEADLINE: Int32 = 6
    static let RESET_ON_FORK: Int32 = 0x4000_0000
    static func isRealTime(_ p: Int32) -> Bool { p == FIFO || p == RR }
    static func isValid(_ p: Int32) -> Bool { [OTHER, FIFO, RR, BATCH, IDLE].contains(p) }
}

extension SyscallTable {
    mutating func addSchedulingCalls() {
        add(24, []) { _, _, _ throws(LinuxErrno) in .value(0) }  // sched_yield: the stub is stopped already
        add(140, [.int, .int]) { k, t, a throws(LinuxErrno) in
            let targets = try k.priorityTargets(t, which: a.int(0), who: a.int(1))
            // The raw system call returns 20 - nice (1...40), so that no success is negative.
            return .value(Int(20 - targets.map(\.scheduling.nice).min()!))
        }
        add(141, [.int, .int, .int]) { k, t, a throws(LinuxErrno) in
            let nice = min(max(a.int(2), -20), 19)
            var denied: LinuxErrno? = nil
            for target in try k.priorityTargets(t, which: a.int(0), who: a.int(1)) {
                do throws(LinuxErrno) {
                    try k.checkSchedulingPermission(t, target)
                    if nice < target.scheduling.nice && !k.mayRaisePriority(t, nice: nice) { throw .EACCES }
                    target.scheduling.nice = nice
                } catch {
                    denied = error
                }
            }
            if let denied { throw denied }
            return .value(0)
        }
        add(142, [.int, .pointer]) { k, t, a throws(LinuxErrno) in
            let target = try k.schedulingTarget(t, a.int(0))
            let priority = try k.readPriority(t, a.address(1))
            try k.setScheduler(t, target, policy: target.scheduling.policy, priority: priority,
                               resetOnFork: target.scheduling.resetOnFork)
            return .value(0)
        }
        add(143, [.int, .pointer]) { k, t, a throws(LinuxErrno) in
            guard !a.address(1).isNull else { throw .EINVAL }
            let target = try k.schedulingTarget(t, a.int(0))
            try t.mm.write(a.address(1), target.scheduling.priority)
            return .value(0)
        }
        add(144, [.int, .int, .pointer]) { k, t, a throws(LinuxErrno) in
            let target = try k.schedulingTarget(t, a.int(0))
            let raw = a.int(1)
            let priority = try k.readPriority(t, a.address(2))
            try k.setScheduler(t, target, policy: raw & ~SCHED.RESET_ON_FORK, priority: priority,
                               resetOnFork: raw & SCHED.RESET_ON_FORK != 0)
            return .value(0)
        }
        add(145, [.int]) { k, t, a throws(LinuxErrno) in
            let s = try k.schedulingTarget(t, a.int(0)).scheduling
            return .value(Int(s.policy | (s.resetOnFork ? SCHED.RESET_ON_FORK : 0)))
        }
        add(146, [.int]) { _, _, a throws(LinuxErrno) in
            let p = a.int(0)
            if SCHED.isRealTime(p) { return .value(99) }
            guard SCHED.isValid(p) || p == SCHED.DEADLINE else { throw .EINVAL }
            return .value(0)
        }
        add(147, [.int]) { _, _, a throws(LinuxErrno) in
            let p = a.int(0)
            if SCHED.isRealTime(p) { return .value(1) }
            guard SCHED.isValid(p) || p == SCHED.DEADLINE else { throw .EINVAL }
            return .value(0)
        }
        add(148, [.int, .pointer], .partial("RR reports Linux's 100 ms slice, every other policy 0")) { k, t, a throws(LinuxErrno) in
            let s = try k.schedulingTarget(t, a.int(0)).scheduling
            let ns: Int64 = s.policy == SCHED.RR ? 100_000_000 : 0
            try t.mm.write(a.address(1), linux_timespec(tv_sec: ns / 1_000_000_000, tv_nsec: ns % 1_000_000_000))
            return .value(0)
        }
        add(314, [.int, .pointer, .hex], .partial("no SCHED_DEADLINE (EPERM), no utilization clamps")) { k, t, a throws(LinuxErrno) in
            guard a.uint(2) == 0 else { throw .EINVAL }
            let target = try k.schedulingTarget(t, a.int(0))
            let size = try t.mm.read(a.address(1), as: UInt32.self)
            let length = size == 0 ? 48 : Int(size)
            guard length >= 48, length <= 4096 else {
                try? t.mm.write(a.address(1), UInt32(56))
                throw .E2BIG
            }
            let attr = try t.mm.readBytes(a.address(1), length)
            // Bytes the kernel does not know must be zero (sched_copy_attr).
            guard length <= 56 || attr[56...].allSatisfy({ $0 == 0 }) else {
                try? t.mm.write(a.address(1), UInt32(56))
                throw .E2BIG
            }
            let field = { (at: Int) -> UInt64 in (0..<8).reduce(UInt64(0)) { $0 | UInt64(attr[at + $1]) << (8 * $1) } }
            let policy = Int32(truncatingIfNeeded: field(4))
            let flags = field(8)
            let nice = Int32(truncatingIfNeeded: field(16))
            let priority = Int32(truncatingIfNeeded: field(16) >> 32)
            guard flags & ~UInt64(0x7f) == 0 else { throw .EINVAL }
            if flags & 0x60 != 0 { throw .EINVAL }  // SCHED_FLAG_UTIL_CLAMP_*: not here
            if policy == SCHED.DEADLINE { throw .EPERM }
            let keepParams = flags & 0x10 != 0  // SCHED_FLAG_KEEP_PARAMS
            try k.setScheduler(t, target, policy: flags & 0x8 != 0 ? target.scheduling.policy : policy,  // KEEP_POLICY
                               priority: keepParams ? target.scheduling.priority : priority,
                               resetOnFork: flags & 1 != 0)
            if !SCHED.isRealTime(policy) && !keepParams {
                let n = min(max(nice, -20), 19)
                if n < target.scheduling.nice && !k.mayRaisePriority(t, nice: n) { throw .EPERM }
                target.scheduling.nice = n
            }
            return .value(0)
        }
        add(315, [.int, .pointer, .uint, .hex]) { k, t, a throws(LinuxErrno) in
            let size = a.uint(2)
            guard !a.address(1).isNull, size >= 48, size <= 4096, a.uint(3) == 0 else { throw .EINVAL }
            let s = try k.schedulingTarget(t, a.int(0)).scheduling
            var b = ByteWriter(count: min(Int(size), 56))
            b.put(UInt32(min(size, 56)), at: 0)
            b.put(UInt32(bitPattern: s.policy), at: 4)
            b.put(UInt64(s.resetOnFork ? 1 : 0), at: 8)
            b.put(s.nice, at: 16)
            b.put(UInt32(bitPattern: s.priority), at: 20)
            if size >= 56 { b.put(UInt32(1024), at: 52) }  // util_max: no clamp
            try t.mm.writeBytes(a.address(1), b.bytes)
            return .value(0)
        }
        add(204, [.int32, .uint, .cpuSet]) { k, t, a throws(LinuxErrno) in
            let target = try k.schedulingTarget(t, a.int(0), negativeIsInvalid: false)
            // len is an unsigned int, and Linux's len * 8 wraps in 32 bits: so does this check.
            let len = a.uint(1)
            let words = (k.cpus.count + 63) / 64
            guard len &* 8 >= UInt32(max(k.cpus.count, 1)), len & 7 == 0 else { throw .EINVAL }
            let mask = target.scheduling.cpuMask ?? k.allCPUs
            let out = Array(mask.prefix(max(min(words, Int(len / 8)), 1)))
            var b = ByteWriter(count: out.count * 8)
            for (i, w) in out.enumerated() { b.put(w, at: 8 * i) }
            try t.mm.writeBytes(a.address(2), b.bytes)
            return .value(out.count * 8)
        }
        add(203, [.int, .uint, .pointer]) { k, t, a throws(LinuxErrno) in
            let target = try k.schedulingTarget(t, a.int(0), negativeIsInvalid: false)
            let all = k.allCPUs
            let len = min(Int(a.uint(1)), all.count * 8)  // an unsigned int, as Linux's
            let bytes = try t.mm.readBytes(a.address(2), len)
            var mask = [UInt64](repeating: 0, count: all.count)
            for (i, byte) in bytes.enumerated() { mask[i / 8] |= UInt64(byte) << (8 * (i % 8)) }
            for i in mask.indices { mask[i] &= all[i] }
            guard mask.contains(where: { $0 != 0 }) else { throw .EINVAL }
            try k.checkSchedulingPermission(t, target)
            target.scheduling.cpuMask = mask == all ? nil : mask
            return .value(0)
        }
        add(309, [.pointer, .pointer, .pointer]) { k, t, a throws(LinuxErrno) in
            let cpu = k.virtualCPU(of: t)
            if !a.address(0).isNull { try t.mm.write(a.address(0), cpu) }
            if !a.address(1).isNull { try t.mm.write(a.address(1), UInt32(0)) }
            return .value(0)
        }
    }
}

extension Kernel {
    /// Every virtual CPU, as a mask.
    var allCPUs: [UInt64] {
        let n = max(cpus.count, 1)
        return (0..<((n + 63) / 64)).map { w in
            let bits = min(n - 64 * w, 64)
            return bits == 64 ? .max : (UInt64(1) << UInt64(bits)) - 1
        }
    }

    /// The virtual CPU a task last ran on: the host CPU of its stub, as the guest numbers it.
    func virtualCPU(of t: Task) -> UInt32 {
        guard cpus.count > 1, let host = HostScheduling.lastCPU(of: t.context.id) else { return 0 }
        return UInt32(cpus.firstIndex(of: host) ?? 0)
    }

    /// The task `pid` names for a sched_* call: 0 is the caller; ESRCH if none. A negative pid is EINVAL,
    /// except for the affinity calls, which look it up (and find nothing).
    func schedulingTarget(_ t: Task, _ pid: Int32, negativeIsInvalid: Bool = true) throws(LinuxErrno) -> Task {
        guard pid >= 0 || !negativeIsInvalid else { throw .EINVAL }
        if pid == 0 || pid == t.tid { return t }
        guard let p = processes[pid], p.exitStatus == nil, let target = p.tasks.first else { throw .ESRCH }
        return target
    }

    /// getpriority/setpriority's targets: a process, a process group or a user's processes (0: the caller's).
    func priorityTargets(_ t: Task, which: Int32, who: Int32) throws(LinuxErrno) -> [Task] {
        let live = processes.values.filter { $0.exitStatus == nil }
        let chosen: [Process]
        switch which {
        case 0: chosen = who == 0 ? [t.process] : live.filter { $0.pid == who }
        case 1: chosen = live.filter { $0.processGroup == (who == 0 ? t.process.processGroup : who) }
        case 2:
            let uid = who == 0 ? t.process.credentials.uid : UInt32(bitPattern: who)
            chosen = live.filter { $0.credentials.uid == uid }
        default: throw .EINVAL
        }
        let tasks = chosen.compactMap { $0.tasks.first }
        guard !tasks.isEmpty else { throw .ESRCH }
        return tasks
    }

    /// check_same_owner: a task may change another's scheduling if it is root or their users match.
    func checkSchedulingPermission(_ t: Task, _ target: Task) throws(LinuxErrno) {
        let c = t.process.credentials, other = target.process.credentials
        guard c.euid == 0 || c.euid == other.uid || c.euid == other.euid else { throw .EPERM }
    }

    /// can_nice: a lower nice value needs root (CAP_SYS_NICE) or room under RLIMIT_NICE.
    func mayRaisePriority(_ t: Task, nice: Int32) -> Bool {
        t.process.credentials.euid == 0 || UInt64(20 - Int64(nice)) <= t.process.limits[RLIMIT.NICE].soft
    }

    func readPriority(_ t: Task, _ param: GuestAddress) throws(LinuxErrno) -> Int32 {
        guard !param.isNull else { throw .EINVAL }
        return try t.mm.read(param, as: Int32.self)
    }

    /// __sched_setscheduler's checks: the priority must fit the policy, and real-time needs root or
    /// RLIMIT_RTPRIO.
    func setScheduler(_ t: Task, _ target: Task, policy: Int32, priority: Int32, resetOnFork: Bool) throws(LinuxErrno) {
        guard SCHED.isValid(policy) else { throw .EINVAL }
        if SCHED.isRealTime(policy) {
            guard priority >= 1, priority <= 99 else { throw .EINVAL }
        } else {
            guard priority == 0 else { throw .EINVAL }
        }
        try checkSchedulingPermission(t, target)
        let root = t.process.credentials.euid == 0
        if SCHED.isRealTime(policy) && !root {
            let limit = t.process.limits[RLIMIT.RTPRIO].soft
            guard SCHED.isRealTime(target.scheduling.policy) || limit > 0 else { throw .EPERM }
            guard UInt64(priority) <= max(limit, UInt64(target.scheduling.priority)) else { throw .EPERM }
        }
        if target.scheduling.resetOnFork && !resetOnFork && !root { throw .EPERM }
        target.scheduling.policy = policy
        target.scheduling.priority = priority
        target.scheduling.resetOnFork = resetOnFork
    }

    /// Makes the task's stub follow its scheduling attributes as far as the host allows, before it runs.
    /// Failures are not the guest's business: its own view stays what it set.
    func applyScheduling(_ t: Task) {
        let s = t.scheduling
        let pid = t.context.id
        let applied = t.appliedScheduling
        // A host thread whose priority was lowered cannot be raised again unprivileged: it is not reused (nor
        // one with an affinity of its own: a reuser would not know to undo it).
        if s != SchedulingState() { t.context.reusable = false }
        if s.nice != applied.nice {
            try? HostScheduling.setNice(of: pid, to: min(max(s.nice, baseNice), 19))
        }
        let hostPolicy = { (p: Int32) in p == SCHED.BATCH || p == SCHED.IDLE ? p : SCHED.OTHER }
        if hostPolicy(s.policy) != hostPolicy(applied.policy) {
            try? HostScheduling.setPolicy(of: pid, to: hostPolicy(s.policy))
        }
        if s.cpuMask != applied.cpuMask && cpus.count > 1 {
            let mask = s.cpuMask ?? allCPUs
            let chosen = cpus.indices.filter { mask[$0 / 64] & (UInt64(1) << UInt64($0 % 64)) != 0 }.map { cpus[$0] }
            try? HostCPU.setAffinity(of: pid, to: chosen)
        }
        t.appliedScheduling = s
    }
}
