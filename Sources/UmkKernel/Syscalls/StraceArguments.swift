import UmkHost

// StraceArguments.swift: how --strace shows one argument (ArgFormat), as strace's decoders do. Values are
// read from guest memory at addresses the guest chose: every read may fail, and a failed read shows the
// address in hex, as strace does; counts are capped (strace's -s, 32 by default) before anything is read.

extension Strace {
    /// One argument's text, or nil when strace leaves the argument out (fcntl's F_GETFD has two arguments).
    /// `result` is the call's result when the argument is shown on exit.
    func format(_ f: ArgFormat, _ p: Pending, _ i: Int, _ task: Task, result: Int?) -> String? {
        pointee(f, p, i, task, result: result)  // which hands the others to constant()
    }

    /// An argument shown from guest memory it points to (strings, buffers, structs); its address when that
    /// cannot be read. `result` is the call's result when the argument is shown on return.
    private func pointee(_ f: ArgFormat, _ p: Pending, _ i: Int, _ task: Task, result: Int?) -> String? {
        let a = p.raw
        let v = a[i]
        let text: String?
        switch f {
        // Arguments that depend on others, and may be left out.
        case .ioctlArgument: return ioctlArgument(p, task, result: result)
        case .futexArgument: return futexArgument(p, i, task)
        case .prctlArgument: return prctlArgument(p, i, task, result: result)
        // What the call filled: decoded only if it succeeded.
        case .out(let inner):
            guard let result, result >= 0, v != 0 else { return Strace.address(v) }
            return format(inner, p, i, task, result: result)
        case .outBuffer, .outBufferHex:
            guard let result, result >= 0 else { return Strace.address(v) }
            return bufferString(task, a.address(i), result, hex: f == .outBufferHex)
        case .epollEvents:
            guard let result, result > 0 else { return Strace.address(v) }
            text = array(task, v, count: result, size: 12) { epollEvent(task, $0) }
        case .cpuSet, .idList:
            guard let result, result >= 0 else { return Strace.address(v) }
            text = f == .cpuSet ? cpuSet(task, v, count: result) : idList(task, v, count: result)
        case .waitStatus:
            guard let result, result > 0 else { return Strace.address(v) }
            text = load(task, v, as: Int32.self).map(StraceNames.waitStatus)
        case .sockaddrOut(let lengthArg):
            guard let result, result >= 0, let len = load(task, a[lengthArg], as: UInt32.self) else { return Strace.address(v) }
            text = sockaddr(task, v, length: Int(len))
        case .socklenInOut: return socklen(task, v, before: p.saved[i], returned: result)
        case .dirents:
            guard let result, result >= 0 else { return Strace.address(v) }
            text = dirents(task, v, count: result)
        case .remainder:
            // nanosleep's remaining time: decoded only when a signal cut the sleep short.
            guard result == Strace.interruptedResult else { return Strace.address(v) }
            text = timespec(task, v)
        // What the call reads.
        case .path, .string:
            let limit = f == .path ? 4096 : Strace.maxString
            text = cString(task, v, max: limit + 1).map { Strace.quote($0, limit: limit) }
        case .inBuffer(let n): return bufferString(task, a.address(i), Int(min(a[n], 1 << 20)))
        case .argv: text = stringArray(task, v)
        case .envp: return environment(task, v)
        case .epollEvent: text = epollEvent(task, v)
        case .stat: text = stat(task, v)
        case .statx: text = statx(task, v)
        case .sigaction: text = sigaction(task, v)
        case .sigset(let sizeArg): return sigset(task, v, size: a[sizeArg])
        case .timespec: text = timespec(task, v)
        case .timeval: text = timeval(task, v)
        // writev: all the data; readv (shown on return): the bytes the call read.
        case .iovec(let countArg): text = iovecs(task, v, count: a.count(countArg), data: result ?? Int.max)
        case .msghdr: text = msghdr(task, v, data: result ?? Int.max)
        case .sockaddr(let lengthArg): text = sockaddr(task, v, length: a.count(lengthArg))
        case .pollfds(let countArg): text = pollfds(task, v, count: a.count(countArg), returned: false)
        case .rlimit: text = rlimit(task, v)
        case .utsname: text = utsname(task, v)
        case .fdPair: text = load(task, v, as: (Int32, Int32).self).map { "[\($0.0), \($0.1)]" }
        case .intRef: text = load(task, v, as: Int32.self).map { "[\($0)]" }
        case .clone3: text = clone3(task, v)
        case .stack: text = stack(task, v)
        case .sockopt(let lengthArg): text = sockoptValue(task, v, level: a.int(1), name: a.int(2), length: a.count(lengthArg))
        case .sockoptOut(let lengthArg):
            guard let result, result >= 0, let len = load(task, a[lengthArg], as: UInt32.self) else { return Strace.address(v) }
            text = sockoptValue(task, v, level: a.int(1), name: a.int(2), length: Int(len))
        case .siginfo: text = siginfo(task, v)
        case .sigevent: text = sigevent(task, v)
        case .statfs: text = statfs(task, v)
        case .sysinfo: text = sysinfo(task, v)
        case .rusage: text = rusage(task, v)
        case .itimerval: text = interval(task, v, nanoseconds: false)
        case .itimerspec: text = interval(task, v, nanoseconds: true)
        case .fdSet: text = fdSet(task, v, count: Int(a.int(0)))
        case .pselectMask: text = load(task, v, as: (UInt64, UInt64).self).map { "{\(sigset(task, $0.0, size: $0.1)), \($0.1)}" }
        case .sigreturnFrame: return sigreturnMask(task)
        default: return constant(f, a, i)
        }
        return text ?? Strace.address(v)
    }

    /// An argument shown from its value alone (numbers, flags, constants); nil when strace leaves it out.
    func constant(_ f: ArgFormat, _ a: SyscallArgs, _ i: Int) -> String? {
        let v = a[i]
        switch f {
        case .int: return String(a.long(i))
        case .int32: return String(a.int(i))
        case .uint: return String(v)
        case .hex: return StraceNames.hex(v)
        case .pointer: return Strace.address(v)
        case .fd: return String(a.int(i))
        case .dirfd: return a.int(i) == AT.FDCWD ? "AT_FDCWD" : String(a.int(i))
        case .openFlags: return openFlags(a.int(i))
        case .mode: return StraceNames.octal(a.uint(i))
        case .accessMode: return StraceNames.flags(a.int(i), [(4, "R_OK"), (2, "W_OK"), (1, "X_OK")], zero: "F_OK")
        case .atFlags:
            return StraceNames.flags(a.int(i), [(0x100, "AT_SYMLINK_NOFOLLOW"), (0x200, "AT_EACCESS"),
                                                (0x400, "AT_SYMLINK_FOLLOW"), (0x800, "AT_NO_AUTOMOUNT"),
                                                (0x1000, "AT_EMPTY_PATH"), (0x2000, "AT_STATX_FORCE_SYNC"),
                                                (0x4000, "AT_STATX_DONT_SYNC"), (0x8000, "AT_RECURSIVE")], zero: "0")
        case .statxFlags:
            let s = StraceNames.flags(a.int(i) & ~0x6000, [(0x100, "AT_SYMLINK_NOFOLLOW"), (0x800, "AT_NO_AUTOMOUNT"),
                                                           (0x1000, "AT_EMPTY_PATH")], zero: "")
            let sync = ["AT_STATX_SYNC_AS_STAT", "AT_STATX_FORCE_SYNC", "AT_STATX_DONT_SYNC", "AT_STATX_SYNC_TYPE"][Int(a.int(i) >> 13 & 3)]
            return s.isEmpty ? sync : sync + "|" + s
        case .statxMask: return StraceNames.flags(a.uint(i), StraceNames.statxMask)
        case .whence:
            return ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"][safe: Int(a.int(i))] ?? String(a.int(i))
        case .mmapProt:
            return StraceNames.flags(a.int(i), [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"), (8, "PROT_SEM"),
                                                (0x0100_0000, "PROT_GROWSDOWN"), (0x0200_0000, "PROT_GROWSUP")],
                                     zero: "PROT_NONE")
        case .mmapFlags: return mmapFlags(a.int(i))
        case .signal: return a.int(i) == 0 ? "0" : signalName(a.int(i))
        case .clock: return Strace.clockName(a.int(i))
        case .fcntlCommand:
            let names: [Int32: String] = [1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ",
                                          36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
                                          1024: "F_SETLEASE", 1025: "F_GETLEASE", 1033: "F_ADD_SEALS",
                                          1034: "F_GET_SEALS", 8: "F_SETOWN", 9: "F_GETOWN", 10: "F_SETSIG",
                                          11: "F_GETSIG", 15: "F_SETOWN_EX", 16: "F_GETOWN_EX"]
            return ["F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "F_GETLK", "F_SETLK", "F_SETLKW"][safe: Int(a.int(i))]
                ?? names[a.int(i)] ?? String(a.int(i))
        case .fcntlArgument:
            switch a.int(1) {
            case 1, 3, 9, 11, 1025, 1032, 1034: return nil  // F_GETFD, F_GETFL, F_GETOWN, F_GETSIG, ...: no argument
            case 2: return StraceNames.flags(v, StraceNames.fdFlags)
            case 4: return openFlags(a.int(i))
            case 0, 1030, 1031, 8: return String(a.int(i))
            case 10: return a.int(i) == 0 ? "0" : signalName(a.int(i))
            default: return Strace.address(v)
            }
        case .inotifyMask: return IN.names(a.uint(i))
        case .epollOp: return ["EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD"][safe: Int(a.int(i)) - 1] ?? String(a.int(i))
        case .flockOperation:
            return StraceNames.flags(a.int(i), [(LOCK.SH, "LOCK_SH"), (LOCK.EX, "LOCK_EX"), (LOCK.UN, "LOCK_UN"),
                                                (LOCK.NB, "LOCK_NB"), (LOCK.MAND, "LOCK_MAND")], zero: "0")
        case .ioctlRequest:
            return StraceNames.ioctlRequests[UInt32(truncatingIfNeeded: v)] ?? Strace.ioctlNumber(UInt32(truncatingIfNeeded: v))
        case .waitOptions: return StraceNames.flags(a.uint(i), StraceNames.waitOptions)
        case .cloneFlags:
            // x86-64's order is flags, stack, parent_tid, child_tid, tls; strace shows the ones the flags use.
            var s = "child_stack=\(Strace.address(a[1])), flags=\(StraceNames.cloneFlags(v))"
            if v & 0x101000 != 0 { s += ", parent_tid=\(Strace.address(a[2]))" }  // CLONE_PARENT_SETTID, CLONE_PIDFD
            if v & 0x80000 != 0 { s += ", tls=\(Strace.address(a[4]))" }  // CLONE_SETTLS
            if v & 0x1200000 != 0 { s += ", child_tidptr=\(Strace.address(a[3]))" }  // CLONE_CHILD_SETTID, _CLEARTID
            return s
        case .hidden: return nil
        case .archPrctl: return StraceNames.value(a.int(i), StraceNames.archPrctlCodes, unknown: { StraceNames.hex(UInt32(bitPattern: $0)) })
        case .sigprocmaskHow: return StraceNames.value(a.int(i), StraceNames.sigprocmaskHow)
        case .futexOp: return StraceNames.futexOp(a.int(i))
        case .prctlOption:
            return StraceNames.value(a.int(i), StraceNames.prctlOptions, unknown: { StraceNames.hex(UInt32(bitPattern: $0)) })
        case .addressFamily: return StraceNames.value(a.int(i), StraceNames.addressFamilies)
        case .socketType: return StraceNames.socketType(a.int(i))
        case .socketProtocol:
            if a.int(0) == 2 || a.int(0) == 10 {
                return StraceNames.value(a.int(i), [0: "IPPROTO_IP", 6: "IPPROTO_TCP", 17: "IPPROTO_UDP", 1: "IPPROTO_ICMP"])
            }
            return String(a.int(i))
        case .madvice: return StraceNames.value(a.int(i), StraceNames.madvice)
        case .rlimitResource: return StraceNames.value(a.int(i), StraceNames.rlimitResources)
        case .messageFlags: return StraceNames.flags(a.uint(i), StraceNames.messageFlags)
        case .cloexec(let prefix): return StraceNames.cloexecFlags(a.int(i), prefix: prefix)
        case .mremapFlags: return StraceNames.flags(a.uint(i), StraceNames.mremapFlags)
        case .shutdownHow: return StraceNames.value(a.int(i), StraceNames.shutdownHow)
        case .getrandomFlags:
            return StraceNames.flags(a.uint(i), [(1, "GRND_NONBLOCK"), (2, "GRND_RANDOM"), (4, "GRND_INSECURE")])
        case .timerFlags: return StraceNames.flags(a.int(i), [(1, "TIMER_ABSTIME")])
        case .sockoptLevel: return StraceNames.value(a.int(i), Strace.socketLevels)
        case .sockoptName:
            let names = a.int(1) == 1 ? Strace.socketOptions : a.int(1) == 6 ? Strace.tcpOptions : [:]
            return StraceNames.value(a.int(i), names)
        case .rusageWho: return StraceNames.value(a.int(i), [0: "RUSAGE_SELF", -1: "RUSAGE_CHILDREN", 1: "RUSAGE_THREAD"])
        case .itimerWhich: return StraceNames.value(a.int(i), [0: "ITIMER_REAL", 1: "ITIMER_VIRTUAL", 2: "ITIMER_PROF"])
        case .idtype: return StraceNames.value(a.int(i), [0: "P_ALL", 1: "P_PID", 2: "P_PGID", 3: "P_PIDFD"])
        case .timerfdFlags: return StraceNames.flags(a.int(i), [(1, "TFD_TIMER_ABSTIME"), (2, "TFD_TIMER_CANCEL_ON_SET")])
        default: return Strace.address(v)
        }
    }

    /// A sigset_t of `size` bytes (the kernel's is 8); its address if the size is wrong or it is unreadable.
    func sigset(_ task: Task, _ at: UInt64, size: UInt64) -> String {
        guard at != 0 else { return "NULL" }
        guard size > 0 && size <= 8, let m = bytes(task, at, Int(size)) else { return Strace.address(at) }
        let mask = m.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        return StraceNames.sigset(mask, bits: Int(size) * 8)
    }

    static func address(_ v: UInt64) -> String { v == 0 ? "NULL" : "0x" + String(v, radix: 16) }

    static func clockName(_ c: Int32) -> String {
        ["CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID",
         "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME",
         "CLOCK_REALTIME_ALARM", "CLOCK_BOOTTIME_ALARM", "CLOCK_SGI_CYCLE", "CLOCK_TAI"][safe: Int(c)] ?? String(c)
    }

    /// An ioctl number strace has no name for: _IOC(dir, type, nr, size).
    static func ioctlNumber(_ v: UInt32) -> String {
        let dir = ["_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE"][Int(v >> 30)]
        let type = (v >> 8) & 0xff, nr = v & 0xff, size = (v >> 16) & 0x3fff
        return "_IOC(\(dir), \(StraceNames.hex(type)), \(StraceNames.hex(nr)), \(StraceNames.hex(size)))"
    }

    func openFlags(_ f: Int32) -> String {
        let mode = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(f & 3)]
        // strace's xlat/open_mode_flags.in order (O_SYNC before O_DSYNC, O_TMPFILE before O_DIRECTORY).
        let others = StraceNames.flags(f & ~3, [(O.CREAT, "O_CREAT"), (O.EXCL, "O_EXCL"), (O.NOCTTY, "O_NOCTTY"),
                                                (O.TRUNC, "O_TRUNC"), (O.APPEND, "O_APPEND"), (O.NONBLOCK, "O_NONBLOCK"),
                                                (0x10_1000, "O_SYNC"), (0x10_0000, "__O_SYNC"), (O.DSYNC, "O_DSYNC"),
                                                (O.DIRECT, "O_DIRECT"), (O.LARGEFILE, "O_LARGEFILE"),
                                                (O.NOFOLLOW, "O_NOFOLLOW"), (O.NOATIME, "O_NOATIME"),
                                                (O.CLOEXEC, "O_CLOEXEC"), (O.PATH, "O_PATH"), (0x41_0000, "O_TMPFILE"),
                                                (0x40_0000, "__O_TMPFILE"), (O.DIRECTORY, "O_DIRECTORY"),
                                                (0x2000, "FASYNC")], zero: "")
        return others.isEmpty ? mode : mode + "|" + others
    }

    private func mmapFlags(_ f: Int32) -> String {
        let t = f & 3
        var s = t == 1 ? "MAP_SHARED" : t == 2 ? "MAP_PRIVATE" : t == 3 ? "MAP_SHARED_VALIDATE" : "0"
        let rest = StraceNames.flags(f & ~3, [(0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"), (0x40, "MAP_32BIT"),
                                              (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"),
                                              (0x1000, "MAP_EXECUTABLE"), (0x2000, "MAP_LOCKED"),
                                              (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"),
                                              (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"),
                                              (0x40000, "MAP_HUGETLB"), (0x80000, "MAP_SYNC"),
                                              (0x100000, "MAP_FIXED_NOREPLACE")], zero: "")
        if !rest.isEmpty { s += "|" + rest }
        return s
    }

    /// fcntl's and ioctl's results that strace decodes: F_GETFD's and F_GETFL's flags.
    func resultSuffix(_ p: Pending, _ task: Task, _ result: Int) -> String? {
        switch p.nr {
        case 72 where result >= 0:  // fcntl
            if p.raw.int(1) == 1 { return result == 0 ? "0" : "\(StraceNames.hex(UInt64(result))) (flags \(StraceNames.flags(UInt64(result), StraceNames.fdFlags)))" }
            if p.raw.int(1) == 3 { return "\(StraceNames.hex(UInt64(result))) (flags \(openFlags(Int32(truncatingIfNeeded: result))))" }
            return nil
        case 7, 271:  // poll, ppoll: the fds with events, or Timeout
            if result == 0 { return "0 (Timeout)" }
            guard result > 0, let fds = pollfds(task, p.raw[0], count: p.raw.count(1), returned: true) else { return nil }
            return "\(result) (\(fds))"
        case 23, 270: return selectResult(p, task, result)  // select, pselect6
        case 128 where result > 0: return "\(result) (\(signalName(Int32(truncatingIfNeeded: result))))"  // rt_sigtimedwait
        default: return nil
        }
    }

    private func ioctlArgument(_ p: Pending, _ task: Task, result: Int?) -> String? {
        let v = p.raw[2]
        switch UInt32(truncatingIfNeeded: p.raw[1]) {
        case 0x5422, 0x5450, 0x5451, 0x540c, 0x540d: return nil  // TIOCNOTTY, FIONCLEX, FIOCLEX, TIOCEXCL, ...
        case 0x5413, 0x5414:  // TIOCGWINSZ, TIOCSWINSZ
            guard result.map({ $0 >= 0 }) ?? true, let w = try? task.mm.read(GuestAddress(v), as: (UInt16, UInt16, UInt16, UInt16).self)
            else { return Strace.address(v) }
            return "{ws_row=\(w.0), ws_col=\(w.1), ws_xpixel=\(w.2), ws_ypixel=\(w.3)}"
        case 0x5401, 0x5402, 0x5403, 0x5404:  // TCGETS (filled: only if it succeeded), TCSETS, TCSETSW, TCSETSF
            guard result.map({ $0 >= 0 }) == true || UInt32(truncatingIfNeeded: p.raw[1]) != 0x5401,
                  let t = load(task, v, as: (UInt32, UInt32, UInt32, UInt32).self) else { return Strace.address(v) }
            return Strace.termios(iflag: t.0, oflag: t.1, cflag: t.2, lflag: t.3)
        case 0x540f, 0x541b, 0x8004_5430, 0x5429, 0x5411:  // results in an int: TIOCGPGRP, FIONREAD, TIOCGPTN, ...
            guard let result, result >= 0, let n = try? task.mm.read(GuestAddress(v), as: Int32.self) else { return Strace.address(v) }
            return "[\(n)]"
        case 0x5410, 0x5421, 0x4004_5431:  // TIOCSPGRP, FIONBIO, TIOCSPTLCK
            guard let n = try? task.mm.read(GuestAddress(v), as: Int32.self) else { return Strace.address(v) }
            return "[\(n)]"
        case 0x540e, 0x540b, 0x5409, 0x540a: return String(p.raw.int(2))  // TIOCSCTTY, TCFLSH, TCSBRK, TCXONC
        default: return Strace.address(v)
        }
    }

    /// struct termios as strace 6 abbreviates it: the four flag words, then "...".
    static func termios(iflag: UInt32, oflag: UInt32, cflag: UInt32, lflag: UInt32) -> String {
        let iflags: [(UInt32, String)] = [
            (1, "IGNBRK"), (2, "BRKINT"), (4, "IGNPAR"), (8, "PARMRK"), (0x10, "INPCK"), (0x20, "ISTRIP"),
            (0x40, "INLCR"), (0x80, "IGNCR"), (0x100, "ICRNL"), (0x200, "IUCLC"), (0x400, "IXON"), (0x800, "IXANY"),
            (0x1000, "IXOFF"), (0x2000, "IMAXBEL"), (0x4000, "IUTF8"),
        ]
        let oflags: [(UInt32, String)] = [
            (1, "OPOST"), (2, "OLCUC"), (4, "ONLCR"), (8, "OCRNL"), (0x10, "ONOCR"), (0x20, "ONLRET"), (0x40, "OFILL"),
            (0x80, "OFDEL"),
        ]
        let cflags: [(UInt32, String)] = [
            (0x40, "CSTOPB"), (0x80, "CREAD"), (0x100, "PARENB"), (0x200, "PARODD"), (0x400, "HUPCL"), (0x800, "CLOCAL"),
            (0x4000_0000, "CMSPAR"), (0x8000_0000, "CRTSCTS"),
        ]
        let lflags: [(UInt32, String)] = [
            (1, "ISIG"), (2, "ICANON"), (4, "XCASE"), (8, "ECHO"), (0x10, "ECHOE"), (0x20, "ECHOK"), (0x40, "ECHONL"),
            (0x80, "NOFLSH"), (0x8000, "IEXTEN"), (0x200, "ECHOCTL"), (0x400, "ECHOPRT"), (0x800, "ECHOKE"),
            (0x1000, "FLUSHO"), (0x4000, "PENDIN"), (0x100, "TOSTOP"), (0x10000, "EXTPROC"),
        ]
        // c_oflag's delay fields by value (NL0|CR0|TAB0|BS0|VT0|FF0), then its flags.
        let delays = ["NL\(oflag >> 8 & 1)", "CR\(oflag >> 9 & 3)", "TAB\(oflag >> 11 & 3)", "BS\(oflag >> 13 & 1)",
                      "VT\(oflag >> 14 & 1)", "FF\(oflag >> 15 & 1)"]
        let oRest = StraceNames.flags(oflag & ~0xff00, oflags, zero: "")
        // c_cflag: the output speed, the input speed if set apart, the character size, then the flags.
        var c = [baud(cflag)]
        if cflag >> 16 & 0o10017 != 0 { c.append(baud(cflag >> 16) + "<<IBSHIFT") }
        c.append("CS\(5 + (cflag >> 4 & 3))")
        let cRest = StraceNames.flags(cflag & ~(0o10017 | 0o10017 << 16 | 0x30), cflags, zero: "")
        if !cRest.isEmpty { c.append(cRest) }
        return "{c_iflag=\(StraceNames.flags(iflag, iflags)), c_oflag=\((delays + (oRest.isEmpty ? [] : [oRest])).joined(separator: "|")), "
            + "c_cflag=\(c.joined(separator: "|")), c_lflag=\(StraceNames.flags(lflag, lflags)), ...}"
    }

    static func baud(_ cflag: UInt32) -> String {
        let rates = ["B0", "B50", "B75", "B110", "B134", "B150", "B200", "B300", "B600", "B1200", "B1800", "B2400",
                     "B4800", "B9600", "B19200", "B38400"]
        let high = ["BOTHER", "B57600", "B115200", "B230400", "B460800", "B500000", "B576000", "B921600", "B1000000",
                    "B1152000", "B1500000", "B2000000", "B2500000", "B3000000", "B3500000", "B4000000"]
        let b = Int(cflag & 0o10017)
        return b & 0o10000 != 0 ? high[b & 0xf] : rates[b]
    }

    /// futex's arguments after the op, as many as the op uses (strace's futex.c).
    private func futexArgument(_ p: Pending, _ i: Int, _ task: Task) -> String? {
        let cmd = p.raw.int(1) & 0x7f
        let v = p.raw[i]
        switch (cmd, i) {
        case (_, 2): return String(p.raw.int(2))
        case (0, 3), (9, 3), (11, 3): return timespec(task, v) ?? Strace.address(v)  // WAIT, WAIT_BITSET, WAIT_REQUEUE_PI
        case (6, 3), (13, 3): return timespec(task, v) ?? Strace.address(v)  // LOCK_PI: timeout
        case (3, 3), (4, 3), (5, 3), (12, 3): return String(p.raw.uint(3))  // val2
        case (3, 4), (4, 4), (5, 4), (11, 4), (12, 4): return Strace.address(v)  // uaddr2
        case (4, 5), (12, 5): return String(p.raw.int(5))  // val3
        case (5, 5): return StraceNames.hex(p.raw.uint(5))
        case (9, 5), (10, 5): return p.raw.uint(5) == .max ? "FUTEX_BITSET_MATCH_ANY" : StraceNames.hex(p.raw.uint(5))
        default: return nil
        }
    }

    /// prctl's arguments after the option, as strace shows the common ones.
    private func prctlArgument(_ p: Pending, _ i: Int, _ task: Task, result: Int?) -> String? {
        let v = p.raw[i]
        switch p.raw.int(0) {
        case 15: return i == 1 ? format(.string, p, i, task, result: nil) : nil  // PR_SET_NAME
        case 16: return i == 1 ? (result.map { $0 >= 0 } == true ? format(.string, p, i, task, result: nil) : Strace.address(v)) : nil
        case 1: return i == 1 ? (p.raw.int(1) == 0 ? "0" : signalName(p.raw.int(1))) : nil  // PR_SET_PDEATHSIG
        case 2, 40: return i == 1 ? Strace.address(v) : nil
        case 3, 37, 39, 42, 21, 30: return nil  // the PR_GET_* that answer in the result
        case 4, 36, 38, 8, 29: return i == 1 ? String(v) : (p.raw.int(0) == 38 ? String(v) : nil)
        default: return StraceNames.hex(v)
        }
    }
}

