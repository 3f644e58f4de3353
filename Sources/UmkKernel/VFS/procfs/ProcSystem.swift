import UmkHost

// ProcSystem.swift: the system-wide files of /proc, in Linux's formats: meminfo (fs/proc/meminfo.c), uptime
// (uptime.c), loadavg (loadavg.c), stat (stat.c), version, cmdline, filesystems, cpuinfo (SysFS.swift), and
// the read-only part of /proc/sys that programs look at (kernel/, fs/, vm/). Every number is the instance's:
// its --mem, its CPUs, its time since boot, its processes. /proc/sysvipc is ProcSysVIPC.swift's.

extension Kernel {
    /// The entries of /proc besides `self`, `thread-self` and the pid directories. Inode numbers are handed
    /// out in a fixed order, so that they are the same on every lookup.
    func procSystemEntries() -> [(String, ProcInode)] {
        var next = ProcIno.system
        func ino() -> UInt64 {
            next += 1
            return next
        }
        func file(_ make: @escaping () -> String) -> ProcInode { ProcInode(.file { Array(make().utf8) }, ino: ino()) }
        func dir(_ children: [(String, ProcInode)]) -> ProcInode { ProcInode(.directory { children }, ino: ino()) }
        let kernelDir = dir([
            ("hostname", file { [unowned self] in String(decoding: self.hostname, as: UTF8.self) + "\n" }),
            ("domainname", file { [unowned self] in String(decoding: self.domainname, as: UTF8.self) + "\n" }),
            ("osrelease", file { Kernel.release + "\n" }),
            ("ostype", file { "Linux\n" }),
            ("version", file { Kernel.version + "\n" }),
            ("pid_max", file { "\(Kernel.maxPID)\n" }),
            ("tainted", file { "0\n" }),
            ("random", dir([("boot_id", file { [unowned self] in self.bootID }), ("uuid", file { Kernel.randomUUID() + "\n" })])),
        ] + Kernel.ipcSysctls.map { name, value in (name, file { value }) })
        let fsDir = dir([
            ("file-max", file { "9223372036854775807\n" }),
            ("nr_open", file { "1048576\n" }),
            ("pipe-max-size", file { "1048576\n" }),
            ("mqueue", dir([("msg_default", file { "\(MQ.msgMax)\n" }), ("msg_max", file { "\(MQ.msgMax)\n" }),
                            ("msgsize_default", file { "\(MQ.msgSizeMax)\n" }),
                            ("msgsize_max", file { "\(MQ.msgSizeMax)\n" }),
                            ("queues_max", file { "\(MQ.queuesMax)\n" })])),
            ("inotify", dir([("max_queued_events", file { "\(FileNotify.maxQueuedEvents)\n" }),
                             ("max_user_instances", file { "\(FileNotify.maxUserInstances)\n" }),
                             ("max_user_watches", file { "\(FileNotify.maxUserWatches)\n" })])),
        ])
        let (mode, ratio): (Int, Int)
        switch frames.overcommit {
        case .heuristic: (mode, ratio) = (0, 50)
        case .always: (mode, ratio) = (1, 50)
        case .never(let r): (mode, ratio) = (2, r)
        }
        let vmDir = dir([("overcommit_memory", file { "\(mode)\n" }), ("overcommit_ratio", file { "\(ratio)\n" })])
        return [
            ("meminfo", ProcInode(.file { [unowned self] in self.meminfo() }, ino: ino())),
            ("cpuinfo", ProcInode(.file { [unowned self] in self.cpuinfo() }, ino: ino())),
            ("uptime", file { [unowned self] in self.procUptime() }),
            ("loadavg", file { [unowned self] in self.procLoadAverage() }),
            ("stat", file { [unowned self] in self.procStat() }),
            ("version", file { "Linux version \(Kernel.release) (umk@umk) (umk) \(Kernel.version)\n" }),
            ("cmdline", file { "umk\n" }),
            ("filesystems", file { Kernel.filesystems }),
            ("vmstat", file { [unowned self] in self.procVMStat() }),
            ("sys", dir([("kernel", kernelDir), ("fs", fsDir), ("vm", vmDir)])),
            ("mounts", ProcInode(.symlink { Array("self/mounts".utf8) }, ino: ino())),
            ("sysvipc", dir(procSysvipcFiles().map { name, make in (name, file(make)) })),
        ]
    }

    /// /proc/meminfo (fs/proc/meminfo.c), the lines free(1) and top read, in kB. No swap, no huge pages.
    private func meminfo() -> [UInt8] {
        let kB = { (pages: Int) in pages * 4 }
        let total = frames.totalFrames, free = frames.freeFrames, cached = pageCache.count
        let limit = frames.commitLimit
        let lines: [(String, Int)] = [
            ("MemTotal", kB(total)), ("MemFree", kB(free)), ("MemAvailable", kB(free + cached)), ("Buffers", 0),
            ("Cached", kB(cached)), ("SwapCached", 0), ("SwapTotal", 0), ("SwapFree", 0), ("Shmem", 0),
            ("SReclaimable", 0), ("CommitLimit", kB(limit)), ("Committed_AS", kB(frames.committed)),
        ]
        return Array(lines.map { name, value in
            let label = name + ":"
            let number = "\(value)"
            return label + String(repeating: " ", count: max(1, 16 - label.count + 8 - number.count)) + number + " kB\n"
        }.joined().utf8)
    }

    /// Nanoseconds since the instance booted.
    var uptimeNanoseconds: Int64 { max(HostClock.monotonicNanoseconds() - bootNanoseconds, 0) }

    var cpuCount: Int { max(cpus.count, 1) }

    /// The CPU time every process of the instance has used, the exited ones included.
    func totalCPUTimes() -> CPUTimes {
        processes.values.filter { $0.exitStatus == nil }.reduce(exitedCPU) { $0 + cpuTimes($1) }
    }

    /// /proc/uptime: seconds since boot, and seconds the CPUs were idle summed over them (Linux's idle
    /// threads' time; here every CPU's uptime less what the guest ran on it).
    private func procUptime() -> String {
        let up = uptimeNanoseconds
        let idle = max(up * Int64(cpuCount) - totalCPUTimes().total, 0)
        func format(_ ns: Int64) -> String {
            let centis = ns / 10_000_000
            let frac = centis % 100
            return "\(centis / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
        }
        return format(up) + " " + format(idle) + "\n"
    }

    /// Folds the tasks active now into the load averages, for the periods that have ended. A reader of the
    /// averages does not count itself: on Linux it is seldom the one running at the sampling tick.
    func sampleLoad(now: Int64, reader: Process? = nil) {
        guard now >= loadAverage.due else { return }
        let counts = taskCounts()
        let readerRunning = reader.map { procState($0) == .running ? $0.tasks.count : 0 } ?? 0
        loadAverage.sample(now: now, active: max(counts.running + counts.blocked - readerRunning, 0))
    }

    /// Tasks that can run now (R), and those in uninterruptible waits (D).
    func taskCounts() -> (running: Int, blocked: Int, total: Int) {
        var running = 0, blocked = 0, total = 0
        for p in processes.values where p.exitStatus == nil {
            for _ in p.tasks {
                total += 1
                switch procState(p) {
                case .running: running += 1
                case .diskSleep: blocked += 1
                default: break
                }
            }
        }
        return (running, blocked, total)
    }

    /// /proc/loadavg: the load averages, runnable/total tasks, and the last pid handed out.
    private func procLoadAverage() -> String {
        sampleLoad(now: HostClock.monotonicNanoseconds(), reader: current?.process)
        let counts = taskCounts()
        return loadAverage.text + " \(counts.running)/\(counts.total) \(lastPID)\n"
    }

    /// /proc/stat (fs/proc/stat.c): time per CPU in USER_HZ ticks (user nice system idle iowait irq softirq
    /// steal guest guest_nice), then the counters. The guest's CPU time is spread evenly over its CPUs: which
    /// host CPU ran which stub is not recorded.
    /// FIXME: intr and ctxt read 0 (no interrupt or context-switch counts are kept).
    private func procStat() -> String {
        let n = Int64(cpuCount)
        let busy = totalCPUTimes()
        let tick: Int64 = 10_000_000
        let user = busy.user / tick / n, system = busy.system / tick / n
        let idle = max(uptimeNanoseconds / tick - user - system, 0)
        func line(_ name: String, _ scale: Int64) -> String {
            name + " \(user * scale) 0 \(system * scale) \(idle * scale) 0 0 0 0 0 0\n"
        }
        var out = line("cpu ", n)
        for i in 0..<cpuCount { out += line("cpu\(i)", 1) }
        let wall = (try? HostClock.now(0)).map { $0.seconds * 1_000_000_000 + $0.nanoseconds } ?? 0
        let counts = taskCounts()
        out += "intr 0\nctxt 0\n"
        out += "btime \((wall - uptimeNanoseconds) / 1_000_000_000)\n"
        out += "processes \(processesCreated)\nprocs_running \(counts.running)\nprocs_blocked \(counts.blocked)\n"
        out += "softirq 0 0 0 0 0 0 0 0 0 0 0\n"
        return out
    }

    /// /proc/vmstat (mm/vmstat.c), the counters vmstat(8) and top read: page counts from the frame allocator
    /// and the page cache. FIXME: no paging or fault events are counted (they read 0), and there is no swap.
    private func procVMStat() -> String {
        let free = frames.freeFrames, cached = pageCache.count
        let used = max(frames.totalFrames - free - cached, 0)
        let rows: [(String, Int)] = [
            ("nr_free_pages", free), ("nr_zone_inactive_anon", 0), ("nr_zone_active_anon", used),
            ("nr_zone_inactive_file", 0), ("nr_zone_active_file", cached), ("nr_zone_unevictable", 0),
            ("nr_zone_write_pending", 0), ("nr_mlock", 0), ("nr_inactive_anon", 0), ("nr_active_anon", used),
            ("nr_inactive_file", 0), ("nr_active_file", cached), ("nr_unevictable", 0), ("nr_anon_pages", used),
            ("nr_mapped", cached), ("nr_file_pages", cached), ("nr_dirty", 0), ("nr_writeback", 0), ("nr_shmem", 0),
            ("nr_dirty_threshold", 0), ("nr_dirty_background_threshold", 0), ("pgpgin", 0), ("pgpgout", 0),
            ("pswpin", 0), ("pswpout", 0), ("pgalloc_normal", 0), ("pgfree", 0), ("pgfault", 0), ("pgmajfault", 0),
        ]
        return rows.map { "\($0.0) \($0.1)\n" }.joined()
    }

    /// The filesystems the guest's mounts are made of.
    static let filesystems = "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevpts\nnodev\toverlay\nnodev\thostfs\n"

    /// A random version-4 UUID, as /proc/sys/kernel/random/uuid gives a new one on each read.
    static func randomUUID() -> String {
        var b = [UInt8](repeating: 0, count: 16)
        b.withUnsafeMutableBytes { HostRandom.fill($0) }
        b[6] = b[6] & 0x0f | 0x40
        b[8] = b[8] & 0x3f | 0x80
        let hex = b.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}
