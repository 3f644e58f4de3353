import UmkHost

// StraceStructs+System.swift: the rest of --strace's struct decoders, in strace's forms: siginfo (waitid,
// rt_sigtimedwait), statfs, sysinfo, rusage, itimerval and itimerspec, fd_set (select), CPU sets, id lists.
// As in StraceStructs.swift, each returns nil when guest memory cannot be read (the caller shows the address).

extension Strace {
    /// A siginfo_t (128 bytes, as the guest gets it or a call fills it) as strace prints it: the fields its
    /// si_code says are there. {} when no signal (waitid's WNOHANG with nothing to report).
    static func siginfo(_ b: [UInt8]) -> String {
        let signo = Int32(bitPattern: b.u32(0)), code = Int32(bitPattern: b.u32(8))
        if signo == 0 { return "{}" }
        var fields = ["si_signo=\(signalName(signo))",
                      "si_code=\(Strace.codeName(SignalInfo(signo: signo, code: code)))"]
        let pid = Int32(bitPattern: b.u32(16)), uid = b.u32(20), value = b.u64(24)
        let sigval = ["si_int=\(Int32(truncatingIfNeeded: value))", "si_ptr=\(Strace.address(value))"]
        switch code {
        case SignalInfo.SI_TIMER: fields += ["si_timerid=\(pid)", "si_overrun=\(uid)"] + sigval
        case -1, -3: fields += ["si_pid=\(pid)", "si_uid=\(uid)"] + sigval  // SI_QUEUE, SI_MESGQ
        case ...0: fields += ["si_pid=\(pid)", "si_uid=\(uid)"]  // SI_USER, SI_TKILL, ...
        case SignalInfo.SI_KERNEL: break
        default:
            switch signo {
            case 17:  // SIGCHLD: an exit status is a number; for the other CLD_* codes it is a signal
                let status = Int32(bitPattern: b.u32(24))
                fields += ["si_pid=\(pid)", "si_uid=\(uid)",
                           "si_status=\(code == SignalInfo.CLD_EXITED ? String(status) : signalName(status))",
                           "si_utime=\(Int64(bitPattern: b.u64(32)))", "si_stime=\(Int64(bitPattern: b.u64(40)))"]
            case 4, 7, 8, 11: fields.append("si_addr=\(Strace.address(b.u64(16)))")  // SIGILL, SIGBUS, SIGFPE, SIGSEGV
            default: break
            }
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// A siginfo_t in guest memory.
    func siginfo(_ task: Task, _ at: UInt64) -> String? {
        bytes(task, at, 48).map { Strace.siginfo($0) }
    }

    /// struct sigevent (timer_create, mq_notify).
    func sigevent(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 32) else { return nil }
        let value = b.u64(0), signo = Int32(bitPattern: b.u32(8)), notify = Int32(bitPattern: b.u32(12))
        var s = "{sigev_value={sival_int=\(Int32(truncatingIfNeeded: value)), sival_ptr=\(Strace.address(value))}, "
        s += "sigev_signo=\(signo == 0 ? "0" : signalName(signo)), sigev_notify="
        s += StraceNames.value(notify, [0: "SIGEV_SIGNAL", 1: "SIGEV_NONE", 2: "SIGEV_THREAD", 4: "SIGEV_THREAD_ID"])
        if notify == 4 { s += ", sigev_notify_thread_id=\(Int32(bitPattern: b.u32(16)))" }
        if notify == 2 { s += ", sigev_notify_function=\(Strace.address(b.u64(16))), sigev_notify_attributes=\(Strace.address(b.u64(24)))" }
        return s + "}"
    }

    /// struct statfs (120 bytes), whole, as strace prints it even without -v.
    func statfs(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 120) else { return nil }
        let type = b.u64(0)
        let magic = Strace.filesystemMagic[type] ?? StraceNames.hex(type)
        let fsid = "{val=[\(StraceNames.hex(b.u32(56))), \(StraceNames.hex(b.u32(60)))]}"
        return "{f_type=\(magic), f_bsize=\(b.u64(8)), f_blocks=\(b.u64(16)), f_bfree=\(b.u64(24)), "
            + "f_bavail=\(b.u64(32)), f_files=\(b.u64(40)), f_ffree=\(b.u64(48)), f_fsid=\(fsid), "
            + "f_namelen=\(b.u64(64)), f_frsize=\(b.u64(72)), f_flags=\(StraceNames.flags(b.u64(80), Strace.statfsFlags))}"
    }

    static let statfsFlags: [(UInt64, String)] = [
        (0x20, "ST_VALID"), (1, "ST_RDONLY"), (2, "ST_NOSUID"), (4, "ST_NODEV"), (8, "ST_NOEXEC"),
        (0x10, "ST_SYNCHRONOUS"), (0x40, "ST_MANDLOCK"), (0x400, "ST_NOATIME"), (0x800, "ST_NODIRATIME"),
        (0x1000, "ST_RELATIME"), (0x2000, "ST_NOSYMFOLLOW"),
    ]

    static let filesystemMagic: [UInt64: String] = [
        0xef53: "EXT2_SUPER_MAGIC", 0x0102_1994: "TMPFS_MAGIC", 0x794c_7630: "OVERLAYFS_SUPER_MAGIC",
        0x9fa0: "PROC_SUPER_MAGIC", 0x6265_6572: "SYSFS_MAGIC", 0x1cd1: "DEVPTS_SUPER_MAGIC",
        0x5049_5045: "PIPEFS_MAGIC", 0x534f_434b: "SOCKFS_MAGIC", 0x0904_1934: "ANON_INODE_FS_MAGIC",
        0x9123_683e: "BTRFS_SUPER_MAGIC", 0x5846_5342: "XFS_SUPER_MAGIC", 0x6367_7270: "CGROUP2_SUPER_MAGIC",
        0x27e0eb: "CGROUP_SUPER_MAGIC", 0x6969: "NFS_SUPER_MAGIC", 0x6573_5546: "FUSE_SUPER_MAGIC",
        0x7371_7368: "SQUASHFS_MAGIC", 0x0102_1997: "V9FS_MAGIC", 0x8584_58f6: "RAMFS_MAGIC",
        0x1980_0202: "MQUEUE_MAGIC", 0x9584_58f6: "HUGETLBFS_MAGIC", 0x6462_6720: "DEBUGFS_MAGIC",
        0x7472_6163: "TRACEFS_MAGIC", 0xcafe_4a11: "BPF_FS_MAGIC", 0x7363_6673: "SECURITYFS_MAGIC",
    ]

    /// struct sysinfo, whole.
    func sysinfo(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 112) else { return nil }
        return "{uptime=\(Int64(bitPattern: b.u64(0))), loads=[\(b.u64(8)), \(b.u64(16)), \(b.u64(24))], "
            + "totalram=\(b.u64(32)), freeram=\(b.u64(40)), sharedram=\(b.u64(48)), bufferram=\(b.u64(56)), "
            + "totalswap=\(b.u64(64)), freeswap=\(b.u64(72)), procs=\(UInt16(b[80]) | UInt16(b[81]) << 8), "
            + "totalhigh=\(b.u64(88)), freehigh=\(b.u64(96)), mem_unit=\(b.u32(104))}"
    }

    /// struct rusage, abbreviated: the two times, then "...".
    func rusage(_ task: Task, _ at: UInt64) -> String? {
        guard let b = bytes(task, at, 32) else { return nil }
        return "{ru_utime={tv_sec=\(Int64(bitPattern: b.u64(0))), tv_usec=\(Int64(bitPattern: b.u64(8)))}, "
            + "ru_stime={tv_sec=\(Int64(bitPattern: b.u64(16))), tv_usec=\(Int64(bitPattern: b.u64(24)))}, ...}"
    }

    /// struct itimerval (usec) or itimerspec (nsec): the interval, then the value.
    func interval(_ task: Task, _ at: UInt64, nanoseconds: Bool) -> String? {
        guard let t = load(task, at, as: (Int64, Int64, Int64, Int64).self) else { return nil }
        let unit = nanoseconds ? "tv_nsec" : "tv_usec"
        return "{it_interval={tv_sec=\(t.0), \(unit)=\(t.1)}, it_value={tv_sec=\(t.2), \(unit)=\(t.3)}}"
    }

    /// An fd_set of `count` descriptors: the members, [0 3].
    func fdSet(_ task: Task, _ at: UInt64, count: Int) -> String? {
        guard at != 0 else { return "NULL" }
        let n = min(max(count, 0), 1024)
        guard let b = bytes(task, at, (n + 7) / 8) else { return nil }
        let members = (0..<n).filter { b[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }.map(String.init)
        return "[" + members.joined(separator: " ") + "]"
    }

    /// select's and pselect6's result: which descriptors are ready, and the time left.
    func selectResult(_ p: Pending, _ task: Task, _ result: Int) -> String? {
        guard result > 0 else { return result == 0 ? "0 (Timeout)" : nil }
        let count = Int(p.raw.int(0))
        var parts: [String] = []
        for (k, label) in [(1, "in"), (2, "out"), (3, "except")] where p.raw[k] != 0 {
            if let set = fdSet(task, p.raw[k], count: count), set != "[]" { parts.append("\(label) \(set)") }
        }
        if p.raw[4] != 0, let left = p.nr == 23 ? timeval(task, p.raw[4]) : timespec(task, p.raw[4]) {
            parts.append("left \(left)")
        }
        return "\(result) (\(parts.joined(separator: ", ")))"
    }

    /// A CPU mask of `count` bytes: the CPUs in it, [0 1].
    func cpuSet(_ task: Task, _ at: UInt64, count: Int) -> String? {
        guard let b = bytes(task, at, min(max(count, 0), 1024)) else { return nil }
        let cpus = (0..<(b.count * 8)).filter { b[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }.map(String.init)
        return "[" + cpus.joined(separator: " ") + "]"
    }

    /// An array of `count` 32-bit ids (getgroups): [0, 4].
    func idList(_ task: Task, _ at: UInt64, count: Int) -> String? {
        array(task, at, count: count, size: 4) { address in load(task, address, as: UInt32.self).map { String($0) } }
    }

    /// execve's environment, as strace shows it without -v: the address and how many strings.
    func environment(_ task: Task, _ at: UInt64) -> String {
        var n = 0
        while n < 4096, let q = load(task, at &+ UInt64(8 * n), as: UInt64.self), q != 0 { n += 1 }
        return Strace.address(at) + " /* \(n) var\(n == 1 ? "" : "s") */"
    }

    /// An in-out socklen_t (accept, getsockname): [in => out] when the call changed it, else [value].
    func socklen(_ task: Task, _ at: UInt64, before: UInt64?, returned result: Int?) -> String {
        guard at != 0 else { return "NULL" }
        let entry = before.map { String(UInt32(truncatingIfNeeded: $0)) }
        guard let result, result >= 0, let after = load(task, at, as: UInt32.self) else {
            return entry.map { "[\($0)]" } ?? Strace.address(at)
        }
        if let entry, entry != String(after) { return "[\(entry) => \(after)]" }
        return "[\(after)]"
    }

    /// getdents64's buffer (without -v): the address and how many linux_dirent64 records the call returned.
    func dirents(_ task: Task, _ at: UInt64, count: Int) -> String? {
        guard let b = bytes(task, at, min(count, 1 << 20)) else { return nil }
        var n = 0, off = 0
        while off + 18 < b.count {
            let reclen = Int(b[off + 16]) | Int(b[off + 17]) << 8
            guard reclen > 0 else { break }
            n += 1
            off += reclen
        }
        return Strace.address(at) + " /* \(n) entr\(n == 1 ? "y" : "ies") */"
    }

    /// stack_t (sigaltstack).
    func stack(_ task: Task, _ at: UInt64) -> String? {
        guard let s = load(task, at, as: (UInt64, Int32, Int32, UInt64).self) else { return nil }
        let flags = StraceNames.flags(UInt32(bitPattern: s.1), [(1, "SS_ONSTACK"), (2, "SS_DISABLE"), (0x8000_0000, "SS_AUTODISARM")])
        return "{ss_sp=\(Strace.address(s.0)), ss_flags=\(flags), ss_size=\(s.3)}"
    }

    /// rt_sigreturn's {mask=[...]}: the rt_sigframe's ucontext starts at the stack pointer once the handler
    /// returned, and uc_flags, uc_link, uc_stack (24 bytes) and uc_mcontext (256) come before uc_sigmask.
    func sigreturnMask(_ task: Task) -> String {
        let at = task.regs.rsp &+ 296
        return "{mask=" + (load(task, at, as: UInt64.self).map { StraceNames.sigset($0) } ?? Strace.address(at)) + "}"
    }

    static let socketLevels: [Int32: String] = [0: "SOL_IP", 1: "SOL_SOCKET", 6: "SOL_TCP", 17: "SOL_UDP", 41: "SOL_IPV6"]

    static let socketOptions: [Int32: String] = [
        1: "SO_DEBUG", 2: "SO_REUSEADDR", 3: "SO_TYPE", 4: "SO_ERROR", 5: "SO_DONTROUTE", 6: "SO_BROADCAST",
        7: "SO_SNDBUF", 8: "SO_RCVBUF", 9: "SO_KEEPALIVE", 10: "SO_OOBINLINE", 11: "SO_NO_CHECK", 12: "SO_PRIORITY",
        13: "SO_LINGER", 14: "SO_BSDCOMPAT", 15: "SO_REUSEPORT", 16: "SO_PASSCRED", 17: "SO_PEERCRED",
        18: "SO_RCVLOWAT", 19: "SO_SNDLOWAT", 20: "SO_RCVTIMEO_OLD", 21: "SO_SNDTIMEO_OLD", 30: "SO_ACCEPTCONN",
        31: "SO_PEERSEC", 32: "SO_SNDBUFFORCE", 33: "SO_RCVBUFFORCE", 34: "SO_PASSSEC", 38: "SO_PROTOCOL",
        39: "SO_DOMAIN",
    ]

    static let tcpOptions: [Int32: String] = [1: "TCP_NODELAY", 2: "TCP_MAXSEG", 3: "TCP_CORK", 4: "TCP_KEEPIDLE",
                                              5: "TCP_KEEPINTVL", 6: "TCP_KEEPCNT"]

    /// A socket option's value of `length` bytes: an int as [1], SO_PEERCRED's ucred, SO_LINGER's linger, the
    /// timeouts' timeval; nil (the address) for other lengths, as strace.
    func sockoptValue(_ task: Task, _ at: UInt64, level: Int32, name: Int32, length: Int) -> String? {
        switch (level, name) {
        case (1, 17) where length >= 12:  // SO_PEERCRED
            return load(task, at, as: (Int32, UInt32, UInt32).self).map { "{pid=\($0.0), uid=\($0.1), gid=\($0.2)}" }
        case (1, 13) where length >= 8:  // SO_LINGER
            return load(task, at, as: (Int32, Int32).self).map { "{l_onoff=\($0.0), l_linger=\($0.1)}" }
        case (1, 20), (1, 21):  // SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD
            return length >= 16 ? timeval(task, at) : nil
        default:
            return length == 4 ? load(task, at, as: Int32.self).map { "[\($0)]" } : nil
        }
    }
}
