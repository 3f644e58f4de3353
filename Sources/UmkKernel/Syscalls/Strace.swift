import UmkHost

// Strace.swift: --strace, every guest system call in strace's own format:
//   [pid 1] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//   [pid 1] read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
//   [pid 1] open("/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
// Arguments the call reads are shown as they were on entry; buffers it fills, as they are on return.
final class Strace {
    private let out: HostFile
    static let maxString = 32

    init(fd: Int32) { out = HostFile(fd: fd, owned: fd > 2) }

    struct Pending {
        var prefix: String
        var args: [String?]
        var entry: SyscallEntry?
        var raw: SyscallArgs
    }

    func begin(_ task: Task, nr: Int, entry: SyscallEntry?, args: SyscallArgs) -> Pending {
        let name = entry?.name ?? SyscallNames.name(nr)
        var shown: [String?] = []
        if let entry {
            for (i, f) in entry.args.enumerated() {
                if case .outBuffer = f { shown.append(nil) } else { shown.append(format(f, args, i, task)) }
            }
        } else {
            shown = (0..<6).map { "0x" + String(args[$0], radix: 16) }
        }
        // As strace: open's and openat's mode only when the call can create (O_CREAT, O_TMPFILE).
        if nr == 2 || nr == 257, shown.count == (nr == 2 ? 3 : 4),
           args.int(nr == 2 ? 1 : 2) & (O.CREAT | 0x41_0000) == 0 {
            shown.removeLast()
        }
        // strace -f names the thread: its tid (the pid for a process's first thread).
        let p = Pending(prefix: "[pid \(task.tid)] \(name)(", args: shown, entry: entry, raw: args)
        // Calls that may not return print now, as strace does.
        if name == "exit_group" || name == "exit" {
            write(p.prefix + shown.map { $0 ?? "?" }.joined(separator: ", ") + ") = ?\n")
        }
        return p
    }

    func end(_ p: Pending, _ task: Task, result: Int) {
        var shown = p.args
        if let entry = p.entry {
            for (i, f) in entry.args.enumerated() where i < shown.count && shown[i] == nil {
                if case .outBuffer = f {
                    shown[i] = result >= 0 ? bufferString(task, p.raw.address(i), result) : hex(p.raw[i])
                }
            }
        }
        var line = p.prefix + shown.map { $0 ?? "?" }.joined(separator: ", ") + ") = "
        if result < 0 && result > -4096 {
            let e = LinuxErrno(Int32(-result))
            line += "-1 \(e.name) (\(e.message))"
        } else if p.entry?.result == .hex {
            line += hex(UInt64(bitPattern: Int64(result)))
        } else {
            line += String(result)
        }
        write(line + "\n")
    }

    /// A signal delivered to a handler, as strace prints a signal-delivery stop:
    ///   [pid 1] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=1, si_uid=0} ---
    func signal(_ task: Task, _ info: SignalInfo) {
        let name = signalName(info.signo)
        var fields = ["si_signo=\(name)", "si_code=\(Strace.codeName(info))"]
        switch info.signo {
        case 4, 7, 8, 11: fields.append("si_addr=\(hex(info.address))")  // SIGILL, SIGBUS, SIGFPE, SIGSEGV
        case 17:
            fields += ["si_pid=\(info.pid)", "si_uid=\(info.uid)", "si_status=\(info.code == SignalInfo.CLD_KILLED ? signalName(info.status) : String(info.status))"]
            if let times = info.childTimes { fields += ["si_utime=\(times.user)", "si_stime=\(times.system)"] }
        default:
            if info.code <= 0 || info.code == SignalInfo.SI_KERNEL { fields += ["si_pid=\(info.pid)", "si_uid=\(info.uid)"] }
        }
        write("[pid \(task.tid)] --- \(name) {\(fields.joined(separator: ", "))} ---\n")
    }

    private static func codeName(_ info: SignalInfo) -> String {
        if info.signo == 17 {
            switch info.code {
            case 1: return "CLD_EXITED"
            case 2: return "CLD_KILLED"
            case 3: return "CLD_DUMPED"
            case 5: return "CLD_STOPPED"
            case 6: return "CLD_CONTINUED"
            default: break
            }
        }
        if info.signo == 11 && (info.code == 1 || info.code == 2) { return info.code == 1 ? "SEGV_MAPERR" : "SEGV_ACCERR" }
        switch info.code {
        case 0: return "SI_USER"
        case 0x80: return "SI_KERNEL"
        case -1: return "SI_QUEUE"
        case -2: return "SI_TIMER"
        case -6: return "SI_TKILL"
        default: return String(info.code)
        }
    }

    func exit(_ pid: Int32, _ status: ExitStatus) {
        switch status {
        case .exited(let c): write("[pid \(pid)] +++ exited with \(c) +++\n")
        case .signaled(let s): write("[pid \(pid)] +++ killed by \(signalName(s)) +++\n")
        }
    }

    private func write(_ s: String) {
        _ = try? out.write(Array(s.utf8))
    }

    private func hex(_ v: UInt64) -> String { v == 0 ? "NULL" : "0x" + String(v, radix: 16) }

    private func format(_ f: ArgFormat, _ a: SyscallArgs, _ i: Int, _ task: Task) -> String {
        let v = a[i]
        switch f {
        case .int: return String(a.long(i))
        case .uint: return String(v)
        case .hex: return v == 0 ? "0" : hex(v)
        case .pointer: return hex(v)
        case .fd: return String(a.int(i))
        case .dirfd: return a.int(i) == AT.FDCWD ? "AT_FDCWD" : String(a.int(i))
        case .path, .string:
            guard let s = try? task.mm.readString(a.address(i)) else { return hex(v) }
            return quote(s, limit: f == .path ? 4096 : Strace.maxString)
        case .inBuffer(let n): return bufferString(task, a.address(i), Int(min(a[n], 1 << 20)))
        case .outBuffer: return hex(v)
        case .openFlags: return openFlags(a.int(i))
        case .mode: return "0" + String(a.uint(i), radix: 8)
        case .accessMode: return flags(a.int(i), [(4, "R_OK"), (2, "W_OK"), (1, "X_OK")], zero: "F_OK")
        case .atFlags:
            return flags(a.int(i), [(0x100, "AT_SYMLINK_NOFOLLOW"), (0x200, "AT_EACCESS"), (0x400, "AT_SYMLINK_FOLLOW"),
                                    (0x800, "AT_NO_AUTOMOUNT"), (0x1000, "AT_EMPTY_PATH")], zero: "0")
        case .whence: return ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"][safe: Int(a.int(i))] ?? String(a.int(i))
        case .mmapProt:
            return flags(a.int(i), [(1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC")], zero: "PROT_NONE")
        case .mmapFlags:
            let t = a.int(i) & 3
            var s = t == 1 ? "MAP_SHARED" : t == 2 ? "MAP_PRIVATE" : t == 3 ? "MAP_SHARED_VALIDATE" : "0"
            let rest = flags(a.int(i) & ~3, [(0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"), (0x40, "MAP_32BIT"),
                                              (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x1000, "MAP_EXECUTABLE"),
                                              (0x2000, "MAP_LOCKED"), (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"),
                                              (0x10000, "MAP_NONBLOCK"), (0x20000, "MAP_STACK"), (0x40000, "MAP_HUGETLB"),
                                              (0x100000, "MAP_FIXED_NOREPLACE")], zero: "")
            if !rest.isEmpty { s += "|" + rest }
            return s
        case .signal: return a.int(i) == 0 ? "0" : signalName(a.int(i))
        case .clock:
            return ["CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID",
                    "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME"][safe: Int(a.int(i))]
                ?? String(a.int(i))
        case .fcntlCommand:
            let names: [Int32: String] = [1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ",
                                          36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
                                          1024: "F_SETLEASE", 1025: "F_GETLEASE"]
            return ["F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "F_GETLK", "F_SETLK", "F_SETLKW"][safe: Int(a.int(i))]
                ?? names[a.int(i)] ?? String(a.int(i))
        case .inotifyMask: return IN.names(a.uint(i))
        case .epollOp: return ["EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD"][safe: Int(a.int(i)) - 1] ?? String(a.int(i))
        case .epollEvent:
            guard let ev = try? task.mm.read(a.address(i), as: UInt32.self),
                  let data = try? task.mm.read(a.address(i).advanced(by: 4), as: UInt64.self) else { return hex(v) }
            return "{events=\(epollEvents(ev)), data=\(hex(data))}"
        case .flockOperation:
            return flags(a.int(i), [(LOCK.SH, "LOCK_SH"), (LOCK.EX, "LOCK_EX"), (LOCK.UN, "LOCK_UN"), (LOCK.NB, "LOCK_NB"),
                                    (LOCK.MAND, "LOCK_MAND")], zero: "0")
        case .ioctlRequest:
            let names: [UInt64: String] = [0x5401: "TCGETS", 0x5402: "TCSETS", 0x5403: "TCSETSW", 0x5404: "TCSETSF",
                                           0x5413: "TIOCGWINSZ", 0x5414: "TIOCSWINSZ", 0x541b: "FIONREAD"]
            return names[v & 0xffff_ffff] ?? hex(v)
        case .argv:
            var items: [String] = []
            var at = a.address(i)
            while items.count < 32, let p = try? task.mm.read(at, as: UInt64.self), p != 0 {
                items.append((try? task.mm.readString(GuestAddress(p))).map { quote($0, limit: Strace.maxString) } ?? hex(p))
                at = at.advanced(by: 8)
            }
            return "[" + items.joined(separator: ", ") + "]"
        }
    }

    private func epollEvents(_ ev: UInt32) -> String {
        let names: [(UInt32, String)] = [
            (EPOLL.IN, "EPOLLIN"), (EPOLL.PRI, "EPOLLPRI"), (EPOLL.OUT, "EPOLLOUT"), (EPOLL.ERR, "EPOLLERR"),
            (EPOLL.HUP, "EPOLLHUP"), (EPOLL.RDNORM, "EPOLLRDNORM"), (0x80, "EPOLLRDBAND"), (0x100, "EPOLLWRNORM"),
            (0x200, "EPOLLWRBAND"), (0x400, "EPOLLMSG"), (EPOLL.RDHUP, "EPOLLRDHUP"), (EPOLL.EXCLUSIVE, "EPOLLEXCLUSIVE"),
            (EPOLL.WAKEUP, "EPOLLWAKEUP"), (EPOLL.ONESHOT, "EPOLLONESHOT"), (EPOLL.ET, "EPOLLET"),
        ]
        var parts = names.filter { ev & $0.0 != 0 }.map(\.1)
        let rest = names.reduce(ev) { $0 & ~$1.0 }
        if rest != 0 || parts.isEmpty { parts.append("0x" + String(rest, radix: 16)) }
        return parts.joined(separator: "|")
    }

    private func bufferString(_ task: Task, _ at: GuestAddress, _ count: Int) -> String {
        let n = min(count, Strace.maxString)
        guard let bytes = try? task.mm.readBytes(at, n) else { return hex(at.raw) }
        return quote(bytes, limit: n) + (count > n ? "..." : "")
    }

    private func quote(_ s: [UInt8], limit: Int) -> String {
        var out = "\""
        for b in s.prefix(limit) {
            switch b {
            case 0x0a: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0d: out += "\\r"
            case 0x22: out += "\\\""
            case 0x5c: out += "\\\\"
            case 0x20...0x7e: out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += "\\" + String(b, radix: 8)
            }
        }
        return out + "\"" + (s.count > limit ? "..." : "")
    }

    private func openFlags(_ f: Int32) -> String {
        let mode = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(f & 3)]
        let rest = flags(f & ~3, [(O.CREAT, "O_CREAT"), (O.EXCL, "O_EXCL"), (O.NOCTTY, "O_NOCTTY"), (O.TRUNC, "O_TRUNC"),
                                  (O.APPEND, "O_APPEND"), (O.NONBLOCK, "O_NONBLOCK"), (O.DSYNC, "O_DSYNC"),
                                  (O.DIRECT, "O_DIRECT"), (O.LARGEFILE, "O_LARGEFILE"), (O.DIRECTORY, "O_DIRECTORY"),
                                  (O.NOFOLLOW, "O_NOFOLLOW"), (O.NOATIME, "O_NOATIME"), (O.CLOEXEC, "O_CLOEXEC"),
                                  (O.PATH, "O_PATH")], zero: "")
        return rest.isEmpty ? mode : mode + "|" + rest
    }

    private func flags(_ v: Int32, _ names: [(Int32, String)], zero: String) -> String {
        if v == 0 { return zero }
        var parts: [String] = []
        var left = v
        for (bit, name) in names where left & bit == bit {
            parts.append(name)
            left &= ~bit
        }
        if left != 0 { parts.append("0x" + String(UInt32(bitPattern: left), radix: 16)) }
        return parts.joined(separator: "|")
    }
}

func signalName(_ s: Int32) -> String {
    let names = ["", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
                 "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
                 "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
                 "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"]
    if s > 0 && Int(s) < names.count { return names[Int(s)] }
    if s >= 32 && s <= 64 { return s == 32 ? "SIGRTMIN" : "SIGRT_\(s - 32)" }
    return String(s)
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
