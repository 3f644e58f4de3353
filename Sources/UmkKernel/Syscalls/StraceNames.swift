// StraceNames.swift: the names --strace gives to constants and flag bits, spelled as strace's xlat/*.in
// files spell them (SIG_BLOCK, FUTEX_WAIT_PRIVATE, CLONE_VM|SIGCHLD, ...). Pure functions of the value.

enum StraceNames {
    /// Bits by name, as strace's printflags: known bits in table order, the rest as hex, `zero` for none.
    static func flags<T: FixedWidthInteger>(_ v: T, _ names: [(T, String)], zero: String = "0") -> String {
        if v == 0 { return zero }
        var parts: [String] = []
        var left = v
        for (bit, name) in names where bit != 0 && left & bit == bit {
            parts.append(name)
            left &= ~bit
        }
        if left != 0 { parts.append("0x" + String(left.magnitude, radix: 16)) }
        return parts.joined(separator: "|")
    }

    /// A value by name, as strace's printxval: the number itself when unknown.
    static func value<T: FixedWidthInteger>(_ v: T, _ names: [T: String], unknown: (T) -> String = { "\($0)" }) -> String {
        names[v] ?? unknown(v)
    }

    static func hex<T: FixedWidthInteger>(_ v: T) -> String { v == 0 ? "0" : "0x" + String(v.magnitude, radix: 16) }

    // MARK: signals

    /// A signal set as strace prints it: names without SIG, `~[...]` for the complement when more than half
    /// of the `bits` signals are in it ([CHLD], ~[RTMIN RT_1], ~[]).
    static func sigset(_ mask: UInt64, bits: Int = 64) -> String {
        let all: UInt64 = bits >= 64 ? .max : (1 << UInt64(bits)) - 1
        var m = mask & all
        var out = ""
        if m.nonzeroBitCount > bits / 2 {
            out = "~"
            m = ~m & all
        }
        var names: [String] = []
        while m != 0 {
            let s = Int32(m.trailingZeroBitCount + 1)
            m &= m - 1
            names.append(String(signalName(s).dropFirst(3)))
        }
        return out + "[" + names.joined(separator: " ") + "]"
    }

    static let sigprocmaskHow: [Int32: String] = [0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"]

    static let sigactionFlags: [(UInt64, String)] = [
        (0x0400_0000, "SA_RESTORER"), (0x0800_0000, "SA_ONSTACK"), (0x1000_0000, "SA_RESTART"),
        (0x4000_0000, "SA_NODEFER"), (0x8000_0000, "SA_RESETHAND"), (4, "SA_SIGINFO"), (1, "SA_NOCLDSTOP"),
        (2, "SA_NOCLDWAIT"), (0x400, "SA_UNSUPPORTED"), (0x800, "SA_EXPOSE_TAGBITS"),
    ]

    // MARK: processes

    static let cloneFlags: [(UInt64, String)] = [
        (0x100, "CLONE_VM"), (0x200, "CLONE_FS"), (0x400, "CLONE_FILES"), (0x800, "CLONE_SIGHAND"),
        (0x1000, "CLONE_PIDFD"), (0x2000, "CLONE_PTRACE"), (0x4000, "CLONE_VFORK"), (0x8000, "CLONE_PARENT"),
        (0x10000, "CLONE_THREAD"), (0x20000, "CLONE_NEWNS"), (0x40000, "CLONE_SYSVSEM"), (0x80000, "CLONE_SETTLS"),
        (0x100000, "CLONE_PARENT_SETTID"), (0x200000, "CLONE_CHILD_CLEARTID"), (0x400000, "CLONE_DETACHED"),
        (0x800000, "CLONE_UNTRACED"), (0x1000000, "CLONE_CHILD_SETTID"), (0x2000000, "CLONE_NEWCGROUP"),
        (0x4000000, "CLONE_NEWUTS"), (0x8000000, "CLONE_NEWIPC"), (0x10000000, "CLONE_NEWUSER"),
        (0x20000000, "CLONE_NEWPID"), (0x40000000, "CLONE_NEWNET"), (0x80000000, "CLONE_IO"),
        (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"), (0x2_0000_0000, "CLONE_INTO_CGROUP"),
    ]

    /// clone's flags: the flag bits, then the exit signal in the low byte (CLONE_VM|SIGCHLD).
    static func cloneFlags(_ v: UInt64) -> String {
        let sig = Int32(v & 0xff)
        var s = flags(v & ~0xff, cloneFlags, zero: "")
        if sig != 0 { s += (s.isEmpty ? "" : "|") + signalName(sig) }
        return s.isEmpty ? "0" : s
    }

    static let waitOptions: [(UInt32, String)] = [
        (1, "WNOHANG"), (4, "WEXITED"), (2, "WSTOPPED"), (8, "WCONTINUED"), (0x0100_0000, "WNOWAIT"),
        (0x8000_0000, "__WCLONE"), (0x4000_0000, "__WALL"), (0x2000_0000, "__WNOTHREAD"),
    ]

    /// A wait status as strace prints it, in brackets: [{WIFEXITED(s) && WEXITSTATUS(s) == 0}].
    static func waitStatus(_ s: Int32) -> String {
        let body: String
        let sig = s & 0x7f
        if sig == 0 {
            body = "WIFEXITED(s) && WEXITSTATUS(s) == \((s >> 8) & 0xff)"
        } else if s & 0xff == 0x7f {
            body = "WIFSTOPPED(s) && WSTOPSIG(s) == \(signalName((s >> 8) & 0xff))"
        } else if s == 0xffff {
            body = "WIFCONTINUED(s)"
        } else {
            body = "WIFSIGNALED(s) && WTERMSIG(s) == \(signalName(sig))" + (s & 0x80 != 0 ? " && WCOREDUMP(s)" : "")
        }
        return "[{\(body)}]"
    }

    static let prctlOptions: [Int32: String] = [
        1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE", 4: "PR_SET_DUMPABLE",
        5: "PR_GET_UNALIGN", 6: "PR_SET_UNALIGN", 7: "PR_GET_KEEPCAPS", 8: "PR_SET_KEEPCAPS", 9: "PR_GET_FPEMU",
        10: "PR_SET_FPEMU", 11: "PR_GET_FPEXC", 12: "PR_SET_FPEXC", 13: "PR_GET_TIMING", 14: "PR_SET_TIMING",
        15: "PR_SET_NAME", 16: "PR_GET_NAME", 19: "PR_GET_ENDIAN", 20: "PR_SET_ENDIAN", 21: "PR_GET_SECCOMP",
        22: "PR_SET_SECCOMP", 23: "PR_CAPBSET_READ", 24: "PR_CAPBSET_DROP", 25: "PR_GET_TSC", 26: "PR_SET_TSC",
        27: "PR_GET_SECUREBITS", 28: "PR_SET_SECUREBITS", 29: "PR_SET_TIMERSLACK", 30: "PR_GET_TIMERSLACK",
        31: "PR_TASK_PERF_EVENTS_DISABLE", 32: "PR_TASK_PERF_EVENTS_ENABLE", 33: "PR_MCE_KILL",
        34: "PR_MCE_KILL_GET", 35: "PR_SET_MM", 36: "PR_SET_CHILD_SUBREAPER", 37: "PR_GET_CHILD_SUBREAPER",
        38: "PR_SET_NO_NEW_PRIVS", 39: "PR_GET_NO_NEW_PRIVS", 40: "PR_GET_TID_ADDRESS", 41: "PR_SET_THP_DISABLE",
        42: "PR_GET_THP_DISABLE", 45: "PR_SET_FP_MODE", 46: "PR_GET_FP_MODE", 47: "PR_CAP_AMBIENT",
        52: "PR_GET_SPECULATION_CTRL", 53: "PR_SET_SPECULATION_CTRL", 0x59616d61: "PR_SET_PTRACER",
        0x53564d41: "PR_SET_VMA",
    ]

    static let archPrctlCodes: [Int32: String] = [
        0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS", 0x1004: "ARCH_GET_GS",
        0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID", 0x1021: "ARCH_GET_XCOMP_SUPP",
        0x1022: "ARCH_GET_XCOMP_PERM", 0x1023: "ARCH_REQ_XCOMP_PERM",
    ]

    static let rlimitResources: [Int32: String] = [
        0: "RLIMIT_CPU", 1: "RLIMIT_FSIZE", 2: "RLIMIT_DATA", 3: "RLIMIT_STACK", 4: "RLIMIT_CORE", 5: "RLIMIT_RSS",
        6: "RLIMIT_NPROC", 7: "RLIMIT_NOFILE", 8: "RLIMIT_MEMLOCK", 9: "RLIMIT_AS", 10: "RLIMIT_LOCKS",
        11: "RLIMIT_SIGPENDING", 12: "RLIMIT_MSGQUEUE", 13: "RLIMIT_NICE", 14: "RLIMIT_RTPRIO", 15: "RLIMIT_RTTIME",
    ]

    /// One rlimit value: RLIM64_INFINITY, multiples of 1024 as N*1024 (strace's print_rlim64_t).
    static func rlim(_ v: UInt64) -> String {
        if v == .max { return "RLIM64_INFINITY" }
        return v > 1024 && v % 1024 == 0 ? "\(v / 1024)*1024" : String(v)
    }

    // MARK: futexes

    static let futexCommands: [Int32: String] = [
        0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 2: "FUTEX_FD", 3: "FUTEX_REQUEUE", 4: "FUTEX_CMP_REQUEUE",
        5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI", 8: "FUTEX_TRYLOCK_PI", 9: "FUTEX_WAIT_BITSET",
        10: "FUTEX_WAKE_BITSET", 11: "FUTEX_WAIT_REQUEUE_PI", 12: "FUTEX_CMP_REQUEUE_PI", 13: "FUTEX_LOCK_PI2",
    ]

    /// futex's op: FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME.
    static func futexOp(_ op: Int32) -> String {
        guard let name = futexCommands[op & 0x7f] else { return hex(UInt32(bitPattern: op)) }
        var s = name + (op & 128 != 0 ? "_PRIVATE" : "")
        if op & 256 != 0 { s += "|FUTEX_CLOCK_REALTIME" }
        let rest = op & ~(0x7f | 128 | 256)
        if rest != 0 { s += "|" + hex(UInt32(bitPattern: rest)) }
        return s
    }

    // MARK: memory

    static let madvice: [Int32: String] = [
        0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED", 4: "MADV_DONTNEED",
        8: "MADV_FREE", 9: "MADV_REMOVE", 10: "MADV_DONTFORK", 11: "MADV_DOFORK", 12: "MADV_MERGEABLE",
        13: "MADV_UNMERGEABLE", 14: "MADV_HUGEPAGE", 15: "MADV_NOHUGEPAGE", 16: "MADV_DONTDUMP", 17: "MADV_DODUMP",
        18: "MADV_WIPEONFORK", 19: "MADV_KEEPONFORK", 20: "MADV_COLD", 21: "MADV_PAGEOUT", 22: "MADV_POPULATE_READ",
        23: "MADV_POPULATE_WRITE", 24: "MADV_DONTNEED_LOCKED", 25: "MADV_COLLAPSE", 100: "MADV_HWPOISON",
        101: "MADV_SOFT_OFFLINE",
    ]

    static let mremapFlags: [(UInt32, String)] = [(1, "MREMAP_MAYMOVE"), (2, "MREMAP_FIXED"), (4, "MREMAP_DONTUNMAP")]

    // MARK: sockets

    static let addressFamilies: [Int32: String] = [
        0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6", 16: "AF_NETLINK", 17: "AF_PACKET",
    ]

    static let socketTypes: [Int32: String] = [
        1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM", 5: "SOCK_SEQPACKET", 6: "SOCK_DCCP",
        10: "SOCK_PACKET",
    ]

    /// socket's type: the type, then SOCK_CLOEXEC and SOCK_NONBLOCK.
    static func socketType(_ v: Int32) -> String {
        let base = value(v & 0xf, socketTypes, unknown: { hex(UInt32(bitPattern: $0)) })
        let rest = flags(UInt32(bitPattern: v & ~0xf), [(0x80000, "SOCK_CLOEXEC"), (0x800, "SOCK_NONBLOCK")], zero: "")
        return rest.isEmpty ? base : base + "|" + rest
    }

    static let messageFlags: [(UInt32, String)] = [
        (1, "MSG_OOB"), (2, "MSG_PEEK"), (4, "MSG_DONTROUTE"), (8, "MSG_CTRUNC"), (0x10, "MSG_PROBE"),
        (0x20, "MSG_TRUNC"), (0x40, "MSG_DONTWAIT"), (0x80, "MSG_EOR"), (0x100, "MSG_WAITALL"), (0x200, "MSG_FIN"),
        (0x400, "MSG_SYN"), (0x800, "MSG_CONFIRM"), (0x1000, "MSG_RST"), (0x2000, "MSG_ERRQUEUE"),
        (0x4000, "MSG_NOSIGNAL"), (0x8000, "MSG_MORE"), (0x10000, "MSG_WAITFORONE"), (0x20000, "MSG_BATCH"),
        (0x4000000, "MSG_ZEROCOPY"), (0x20000000, "MSG_FASTOPEN"), (0x40000000, "MSG_CMSG_CLOEXEC"),
    ]

    static let shutdownHow: [Int32: String] = [0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"]

    // MARK: files

    static let fdFlags: [(UInt64, String)] = [(1, "FD_CLOEXEC")]

    /// Flags of the *2/*1 calls that take O_CLOEXEC and O_NONBLOCK under their own prefix (EFD_CLOEXEC).
    static func cloexecFlags(_ v: Int32, prefix: String) -> String {
        let names: [(UInt32, String)] = prefix == "O"
            ? [(0x800, "O_NONBLOCK"), (0x80000, "O_CLOEXEC"), (0x4000, "O_DIRECT")]
            : [(0x80000, prefix + "_CLOEXEC"), (0x800, prefix + "_NONBLOCK"), (1, prefix == "EFD" ? "EFD_SEMAPHORE" : "0x1")]
        return flags(UInt32(bitPattern: v), names)
    }

    static let pollEvents: [(UInt16, String)] = [
        (1, "POLLIN"), (2, "POLLPRI"), (4, "POLLOUT"), (8, "POLLERR"), (0x10, "POLLHUP"), (0x20, "POLLNVAL"),
        (0x40, "POLLRDNORM"), (0x80, "POLLRDBAND"), (0x100, "POLLWRNORM"), (0x200, "POLLWRBAND"), (0x400, "POLLMSG"),
        (0x1000, "POLLREMOVE"), (0x2000, "POLLRDHUP"),
    ]

    static let ioctlRequests: [UInt32: String] = [
        // strace names every ioctl of a number: OSS's sequencer took TCSETS's ('T', 2..4) too.
        0x5401: "TCGETS", 0x5402: "SNDCTL_TMR_START or TCSETS", 0x5403: "SNDCTL_TMR_STOP or TCSETSW",
        0x5404: "SNDCTL_TMR_CONTINUE or TCSETSF", 0x5409: "TCSBRK", 0x540a: "TCXONC",
        0x540b: "TCFLSH", 0x540c: "TIOCEXCL", 0x540d: "TIOCNXCL", 0x540e: "TIOCSCTTY", 0x540f: "TIOCGPGRP",
        0x5410: "TIOCSPGRP", 0x5411: "TIOCOUTQ", 0x5412: "TIOCSTI", 0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ",
        0x541b: "FIONREAD", 0x5421: "FIONBIO", 0x5422: "TIOCNOTTY", 0x5429: "TIOCGSID", 0x5441: "TIOCGPTPEER",
        0x5450: "FIONCLEX", 0x5451: "FIOCLEX", 0x5452: "FIOASYNC", 0x8004_5430: "TIOCGPTN", 0x4004_5431: "TIOCSPTLCK",
    ]

    static let statxMask: [(UInt32, String)] = [
        (0xfff, "STATX_ALL"), (0x7ff, "STATX_BASIC_STATS"), (1, "STATX_TYPE"), (2, "STATX_MODE"), (4, "STATX_NLINK"), (8, "STATX_UID"),
        (0x10, "STATX_GID"), (0x20, "STATX_ATIME"), (0x40, "STATX_MTIME"), (0x80, "STATX_CTIME"), (0x100, "STATX_INO"),
        (0x200, "STATX_SIZE"), (0x400, "STATX_BLOCKS"), (0x800, "STATX_BTIME"), (0x1000, "STATX_MNT_ID"),
        (0x2000, "STATX_DIOALIGN"), (0x4000, "STATX_MNT_ID_UNIQUE"), (0x8000, "STATX_SUBVOL"),
        (0x10000, "STATX_WRITE_ATOMIC"),
    ]

    static let statxAttributes: [(UInt64, String)] = [
        (0x4, "STATX_ATTR_COMPRESSED"), (0x10, "STATX_ATTR_IMMUTABLE"), (0x20, "STATX_ATTR_APPEND"),
        (0x40, "STATX_ATTR_NODUMP"), (0x800, "STATX_ATTR_ENCRYPTED"), (0x1000, "STATX_ATTR_AUTOMOUNT"),
        (0x2000, "STATX_ATTR_MOUNT_ROOT"), (0x100000, "STATX_ATTR_VERITY"), (0x200000, "STATX_ATTR_DAX"),
    ]

    /// A file mode as strace prints it: S_IFREG|0644 (type, set-id and sticky bits by name, the rest in octal).
    static func mode(_ m: UInt32, withType: Bool = true) -> String {
        var parts: [String] = []
        if withType {
            let types: [UInt32: String] = [0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG",
                                           0o060000: "S_IFBLK", 0o040000: "S_IFDIR", 0o020000: "S_IFCHR",
                                           0o010000: "S_IFIFO"]
            if let t = types[m & 0o170000] { parts.append(t) } else if m & 0o170000 != 0 { parts.append(octal(m & 0o170000)) }
        }
        if m & 0o4000 != 0 { parts.append("S_ISUID") }
        if m & 0o2000 != 0 { parts.append("S_ISGID") }
        if m & 0o1000 != 0 { parts.append("S_ISVTX") }
        parts.append(octal(m & 0o777))
        return parts.joined(separator: "|")
    }

    /// C's "%#03o".
    static func octal(_ v: UInt32) -> String {
        let s = v == 0 ? "0" : "0" + String(v, radix: 8)
        return String(repeating: "0", count: max(0, 3 - s.count)) + s
    }
}
