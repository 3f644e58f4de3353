import UmkHost

// ProcPidStatus.swift: a process's state and accounting as /proc/PID/stat (fs/proc/array.c do_task_stat),
// status (proc_pid_status) and statm (proc_pid_statm) show them, from the kernel's own records: the task's
// wait, job-control stop or exit; CPU time from CPUAccounting.swift in USER_HZ ticks; memory from the VMAs
// and the page table.
// Deviations: no fault or context-switch counts (they read 0), and a root process has every capability (no
// capability sets are kept).

/// A process's state as the first letter of stat's third field shows it (fs/proc/array.c task_state_array).
enum ProcState {
    case running, sleeping, diskSleep, stopped, zombie

    var letter: String {
        switch self {
        case .running: return "R"
        case .sleeping: return "S"
        case .diskSleep: return "D"
        case .stopped: return "T"
        case .zombie: return "Z"
        }
    }

    var name: String {
        switch self {
        case .running: return "R (running)"
        case .sleeping: return "S (sleeping)"
        case .diskSleep: return "D (disk sleep)"
        case .stopped: return "T (stopped)"
        case .zombie: return "Z (zombie)"
        }
    }
}

extension Kernel {
    /// Z once exited, T while stopped (even if it was blocked when the stop came), S in an interruptible
    /// wait, D in one a signal cannot cut short (the vfork parent), R otherwise: running guest code, or in
    /// the kernel as the caller reading this is.
    /// The process's state (its first thread's), or one thread's (task/TID, /proc/TID).
    func procState(_ p: Process, thread: Task? = nil) -> ProcState {
        if p.exitStatus != nil { return .zombie }
        if p.stopSignal != nil { return .stopped }
        guard let t = thread ?? p.tasks.first, t.isBlocked else { return .running }
        return t.interruptible ? .sleeping : .diskSleep
    }

    /// What the address space holds, in pages, as task_mem and task_statm count it.
    struct MemoryUsage {
        var size = 0, resident = 0, residentFile = 0, data = 0, stack = 0, exe = 0, lib = 0
        var code: Range<UInt64> = 0..<0, dataSegment: Range<UInt64> = 0..<0
    }

    func memoryUsage(_ p: Process) -> MemoryUsage {
        var u = MemoryUsage()
        guard let mm = p.mmStorage else { return u }
        u.resident = mm.residentPages
        var code: (UInt64, UInt64)? = nil, data: (UInt64, UInt64)? = nil
        for v in mm.vmas.vmas {
            u.size += v.pageCount
            if v.file != nil { u.residentFile += mm.residentPages(in: v.range).count }
            if v.growsDown {
                u.stack += v.pageCount
            } else if v.prot.contains(.write) && !v.shared {
                u.data += v.pageCount
            }
            guard v.file != nil, v.prot.contains(.exec) || v.name == p.executablePath else { continue }
            if v.name != p.executablePath {
                u.lib += v.pageCount
            } else if v.prot.contains(.exec) {
                u.exe += v.pageCount
                code = (min(code?.0 ?? v.start, v.start), max(code?.1 ?? v.end, v.end))
            } else if v.prot.contains(.write) {
                data = (min(data?.0 ?? v.start, v.start), max(data?.1 ?? v.end, v.end))
            }
        }
        if let code { u.code = code.0..<code.1 }
        if let data { u.dataSegment = data.0..<data.1 }
        return u
    }

    /// Signals ignored and caught, one bit each (collect_sigign_sigcatch).
    private static func ignoredAndCaught(_ p: Process) -> (UInt64, UInt64) {
        var ignored: UInt64 = 0, caught: UInt64 = 0
        for sig in 1...64 where sig < p.signalActions.count {
            let bit = UInt64(1) << UInt64(sig - 1)
            switch p.signalActions[sig].handler {
            case 0: break
            case 1: ignored |= bit
            default: caught |= bit
            }
        }
        return (ignored, caught)
    }

    /// The wait status of a zombie, as stat's last field shows it.
    private static func exitCode(_ p: Process) -> Int32 {
        switch p.exitStatus {
        case .exited(let code): return (code & 0xff) << 8
        case .signaled(let sig): return sig & 0x7f
        case nil: return 0
        }
    }

    /// /proc/PID/stat: 52 fields on one line (do_task_stat). Times are in USER_HZ (100 Hz) ticks; starttime
    /// counts from the instance's boot.
    /// stat's tty_nr (the controlling terminal's device, new_encode_dev) and tpgid (its foreground group):
    /// 0 and -1 without one. The console's number is that of the host terminal behind it.
    private func controllingTerminalNumbers(_ p: Process) -> (Int, Int32) {
        guard p.exitStatus == nil, let end = controllingTerminal(of: p) else { return (0, -1) }
        let major: UInt32, minor: UInt32
        switch end {
        case .master(let pty), .slave(let pty): (major, minor) = (PseudoTerminal.major, UInt32(pty.index))
        case .console:
            guard let st = try? consoleStreams.input.status() else { return (0, -1) }
            (major, minor) = (st.rdevMajor, st.rdevMinor)
        }
        let number = Int(minor & 0xff) | Int(major & 0xfff) << 8 | Int(minor & ~0xff) << 12
        return (number, end.control.foreground == 0 ? -1 : end.control.foreground)
    }

    /// /proc/PID/stat, or a thread's (task/TID/stat, /proc/TID/stat: its tid, name, state and signals).
    func procStat(_ p: Process, thread: Task? = nil) -> String {
        let tick: Int64 = 10_000_000
        let state = procState(p, thread: thread)
        let task = thread ?? p.tasks.first
        let name = thread?.name ?? p.name
        let sched = task?.scheduling ?? SchedulingState()
        let realtime = sched.policy == SCHED.FIFO || sched.policy == SCHED.RR
        let times = cpuTimes(p)
        let mem = memoryUsage(p)
        let mm = p.mmStorage
        let (ignored, caught) = Kernel.ignoredAndCaught(p)
        let low: UInt64 = 0x7fff_ffff
        let cpu = task.flatMap { t in p.mmStorage == nil ? nil : virtualCPU(of: t) } ?? 0
        let (tty, foreground) = controllingTerminalNumbers(p)
        let fields: [String] = [
            "\(thread?.tid ?? p.pid)", "(" + String(decoding: name, as: UTF8.self) + ")", state.letter,
            "\(p.parentPid)", "\(p.processGroup)", "\(p.session)", "\(tty)", "\(foreground)",
            "\(p.didExec || p.parentPid == 0 ? 0 : 0x40)",  // PF_FORKNOEXEC; process 1 was exec'd at boot
            "0", "0", "0", "0",  // minflt cminflt majflt cmajflt
            "\(times.user / tick)", "\(times.system / tick)",
            "\(p.childrenTimes.user / tick)", "\(p.childrenTimes.system / tick)",
            "\(realtime ? -1 - sched.priority : 20 + sched.nice)", "\(realtime ? 0 : sched.nice)",
            "\(max(p.tasks.count, 1))", "0",
            "\(max(p.startNanoseconds - bootNanoseconds, 0) / tick)",
            "\(UInt64(mem.size) * 4096)", "\(mem.resident)", "\(p.limits[RLIMIT.RSS].soft)",
            "\(mem.code.lowerBound)", "\(mem.code.upperBound)", "\(mm?.stackStart ?? 0)",
            "0", "0",  // kstkesp, kstkeip: 0 unless the task is dumping core, as on Linux
            "\((task?.pendingSignals ?? 0) & low)", "\((task?.signalMask ?? 0) & low)", "\(ignored & low)", "\(caught & low)",
            state == .running ? "0" : "1",  // wchan: only whether it waits
            "0", "0", "17", "\(cpu)", "\(realtime ? sched.priority : 0)", "\(sched.policy)",
            "0", "0", "0",  // delayacct_blkio_ticks, guest_time, cguest_time
            "\(mem.dataSegment.lowerBound)", "\(mem.dataSegment.upperBound)", "\(mm?.brkStart ?? 0)",
            "\(mm?.argumentStrings.lowerBound ?? 0)", "\(mm?.argumentStrings.upperBound ?? 0)",
            "\(mm?.environmentStrings.lowerBound ?? 0)", "\(mm?.environmentStrings.upperBound ?? 0)",
            "\(Kernel.exitCode(p))",
        ]
        return fields.joined(separator: " ") + "\n"
    }

    /// /proc/PID/statm: size resident shared text lib data dt, in pages (task_statm).
    func procStatm(_ p: Process) -> String {
        let m = memoryUsage(p)
        return "\(m.size) \(m.resident) \(m.residentFile) \(m.exe) 0 \(m.data + m.stack) 0\n"
    }

    /// /proc/PID/status (proc_pid_status): one "Name:\tvalue" line each, in Linux's order.
    func procStatus(_ p: Process, thread: Task? = nil) -> String {
        let task = thread ?? p.tasks.first
        let c = p.credentials
        let m = memoryUsage(p)
        let (ignored, caught) = Kernel.ignoredAndCaught(p)
        func kB(_ pages: Int) -> String {
            let s = "\(pages * 4)"
            return String(repeating: " ", count: max(8 - s.count, 0)) + s + " kB"
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(16 - s.count, 0)) + s
        }
        let fdSize = max(64, 1 << (Int.bitWidth - max(p.fds.entries.count - 1, 1).leadingZeroBitCount))
        let allCaps: UInt64 = (1 << 41) - 1  // CAP_LAST_CAP 40
        let caps = c.euid == 0 ? allCaps : 0
        let cpus = Kernel.cpuList(task?.scheduling.cpuMask ?? allCPUs, count: cpuCount)
        var lines: [(String, String)] = [
            ("Name", String(decoding: thread?.name ?? p.name, as: UTF8.self)),
            ("Umask", "0" + String(p.umask, radix: 8).leftPadded(to: 3)),
            ("State", procState(p, thread: thread).name),
            ("Tgid", "\(p.pid)"), ("Ngid", "0"), ("Pid", "\(thread?.tid ?? p.pid)"), ("PPid", "\(p.parentPid)"), ("TracerPid", "0"),
            ("Uid", "\(c.uid)\t\(c.euid)\t\(c.suid)\t\(c.fsuid)"),
            ("Gid", "\(c.gid)\t\(c.egid)\t\(c.sgid)\t\(c.fsgid)"),
            ("FDSize", "\(fdSize)"),
            ("Groups", c.groups.map { "\($0)" }.joined(separator: " ") + " "),
            ("NStgid", "\(p.pid)"), ("NSpid", "\(thread?.tid ?? p.pid)"), ("NSpgid", "\(p.processGroup)"), ("NSsid", "\(p.session)"),
            ("Kthread", "0"),
        ]
        if p.mmStorage != nil {
            let peakResident = max(m.resident, p.maxResidentPages)
            lines += [
                ("VmPeak", kB(m.size)), ("VmSize", kB(m.size)), ("VmLck", kB(0)), ("VmPin", kB(0)),
                ("VmHWM", kB(peakResident)), ("VmRSS", kB(m.resident)), ("RssAnon", kB(m.resident - m.residentFile)),
                ("RssFile", kB(m.residentFile)), ("RssShmem", kB(0)), ("VmData", kB(m.data)), ("VmStk", kB(m.stack)),
                ("VmExe", kB(m.exe)), ("VmLib", kB(m.lib)), ("VmPTE", kB(0)), ("VmSwap", kB(0)),
                ("HugetlbPages", kB(0)),
            ]
        }
        lines += [
            ("CoreDumping", "0"), ("THP_enabled", "0"),
            ("Threads", "\(max(p.tasks.count, 1))"),
            ("SigQ", "\(task?.pending.count ?? 0)/\(p.limits[RLIMIT.SIGPENDING].soft)"),
            ("SigPnd", hex(task?.pendingSignals ?? 0)), ("ShdPnd", hex(0)), ("SigBlk", hex(task?.signalMask ?? 0)),
            ("SigIgn", hex(ignored)), ("SigCgt", hex(caught)),
            ("CapInh", hex(0)), ("CapPrm", hex(caps)), ("CapEff", hex(caps)), ("CapBnd", hex(allCaps)), ("CapAmb", hex(0)),
            ("NoNewPrivs", p.noNewPrivileges ? "1" : "0"), ("Seccomp", "0"), ("Seccomp_filters", "0"),
            ("Speculation_Store_Bypass", "vulnerable"), ("SpeculationIndirectBranch", "always enabled"),
            ("Cpus_allowed", cpus.mask), ("Cpus_allowed_list", cpus.list),
            ("Mems_allowed", "00000001"), ("Mems_allowed_list", "0"),
            ("voluntary_ctxt_switches", "0"), ("nonvoluntary_ctxt_switches", "0"),
        ]
        return lines.map { "\($0.0):\t\($0.1)\n" }.joined()
    }

    /// A CPU mask as %*pb prints it (hex, 32 bits per comma-separated group, the first one as wide as the
    /// CPUs it holds need) and as %*pbl does (ranges).
    static func cpuList(_ words: [UInt64], count: Int) -> (mask: String, list: String) {
        func bit(_ i: Int) -> Bool { i / 64 < words.count && words[i / 64] >> UInt64(i % 64) & 1 != 0 }
        let groups = (count + 31) / 32
        var parts: [String] = []
        for g in (0..<groups).reversed() {
            var v: UInt64 = 0
            for i in 0..<32 where bit(g * 32 + i) { v |= 1 << UInt64(i) }
            let width = g == groups - 1 ? (count - 32 * g + 3) / 4 : 8
            parts.append(String(v, radix: 16).leftPadded(to: width))
        }
        var ranges: [String] = []
        var i = 0
        while i < count {
            guard bit(i) else {
                i += 1
                continue
            }
            var j = i
            while j + 1 < count && bit(j + 1) { j += 1 }
            ranges.append(i == j ? "\(i)" : "\(i)-\(j)")
            i = j + 1
        }
        return (parts.joined(separator: ","), ranges.joined(separator: ","))
    }
}
