import UmkHost

// Strace.swift: --strace, every guest system call in strace -f's own format:
//   [pid 1] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//   [pid 1] read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
//   [pid 1] open("/nope", O_RDONLY)         = -1 ENOENT (No such file or directory)
//   [pid 1] wait4(-1,  <unfinished ...>
//   [pid 2] exit_group(0)                   = ?
//   [pid 2] +++ exited with 0 +++
//   [pid 1] <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 2
// Arguments the call reads are shown as they were on entry; what it fills (ArgFormat.out and friends), as
// it is on return. A call that blocks prints its entry part; if another line comes before it returns, the
// line is cut (<unfinished ...>) and finished later (<... NAME resumed>), as strace does.
// All of this runs only with --strace. Without it the system call path pays for `if let strace` in the
// dispatcher and for an empty-array check (Task.ignoredSignals) when a task resumes.
final class Strace {
    private let out: HostFile
    private let filter: StraceFilter?
    private let timing: Bool
    /// strace's -s: string bytes and array elements shown.
    static let maxString = 32
    /// The result decoders see for a call a signal interrupted (ERESTARTSYS and kin).
    static let interruptedResult = Int.min
    /// strace's -a: the column results are aligned to.
    static let resultColumn = 40

    init(fd: Int32, filter: StraceFilter? = nil, timing: Bool = false) {
        out = HostFile(fd: fd, owned: fd > 2)
        self.filter = filter
        self.timing = timing
    }

    /// One traced call, from entry to return.
    final class Pending {
        let tid: Int32
        let nr: Int
        let name: String
        let entry: SyscallEntry?
        let raw: SyscallArgs
        /// Each shown argument's text; nil until the call returns for those shown on return.
        var shown: [String?] = []
        /// Which raw argument each shown one is (strace leaves some out: fcntl(3, F_GETFD)).
        var index: [Int] = []
        /// Values read on entry for in-out arguments (accept's address length).
        var saved: [Int: UInt64] = [:]
        /// The entry part is on the output (the call blocked).
        var started = false
        let startTime: Int64

        init(tid: Int32, nr: Int, name: String, entry: SyscallEntry?, raw: SyscallArgs, startTime: Int64) {
            self.tid = tid
            self.nr = nr
            self.name = name
            self.entry = entry
            self.raw = raw
            self.startTime = startTime
        }

        var prefix: String { "[pid \(tid)] " }

        /// The arguments shown on entry: those up to the first one shown on return.
        var entryCount: Int { shown.firstIndex { $0 == nil } ?? shown.count }
        /// How many arguments the printed entry part has.
        var printed = 0
        var entryText = ""
    }

    /// The call whose entry part ends the output, its line still open.
    private var openLine: Pending?
    /// The call being served, and the lines about its caller that came meanwhile (a signal the call raised,
    /// the caller's end): strace prints them after the call's line, as Linux delivers after the call.
    private var active: Pending?
    private var held: [String] = []

    /// A call's entry: nil when --strace-filter leaves it out.
    func begin(_ task: Task, nr: Int, entry: SyscallEntry?, args: SyscallArgs) -> Pending? {
        release()
        if let filter, !filter.traces(nr) { return nil }
        // A number without a name is syscall_0x3e7 to strace.
        let name = entry?.name ?? (nr >= 0 && nr < SyscallNames.table.count ? SyscallNames.table[nr] : nil)
            ?? "syscall_0x" + String(UInt64(bitPattern: Int64(nr)), radix: 16)
        let p = Pending(tid: task.tid, nr: nr, name: name, entry: entry, raw: args,
                        startTime: timing ? HostClock.monotonicNanoseconds() : 0)
        if let entry {
            for (i, f) in entry.args.enumerated() {
                if case .socklenInOut = f, args[i] != 0, let n = try? task.mm.read(args.address(i), as: UInt32.self) {
                    p.saved[i] = UInt64(n)
                }
                if f.shownOnReturn || (f == .prctlArgument && args.int(0) == 16) {  // PR_GET_NAME's name
                    p.shown.append(nil)
                    p.index.append(i)
                } else if let text = format(f, p, i, task, result: nil) {
                    p.shown.append(text)
                    p.index.append(i)
                }
            }
        } else {
            p.shown = (0..<6).map { Strace.address(args[$0]) }
            p.index = Array(0..<6)
        }
        // As strace: open's and openat's mode only when the call can create (O_CREAT, O_TMPFILE).
        if nr == 2 || nr == 257, p.shown.count == (nr == 2 ? 3 : 4),
           args.int(nr == 2 ? 1 : 2) & O.CREAT == 0, args.int(nr == 2 ? 1 : 2) & 0x41_0000 != 0x41_0000 {
            p.shown.removeLast()
            p.index.removeLast()
        }
        // Calls that do not return print now, as strace does.
        if nr == 60 || nr == 231 {
            write(p, p.prefix + p.name + "(" + p.shown.map { $0 ?? "?" }.joined(separator: ", ") + ")", result: "?")
            return nil
        }
        active = p
        return p
    }

    /// The caller died during the call (a fatal signal it sent itself, SIGPIPE from a write): the call's
    /// line as strace prints it, then the held signal and exit lines. kill and its kin returned 0 before
    /// the signal was delivered, a write that raised SIGPIPE EPIPE; a call whose caller got SIGKILL, or
    /// whose result is unknown, shows "?".
    func died(_ p: Pending, _ task: Task, _ outcome: SyscallOutcome) {
        if case .value(let v) = outcome {
            end(p, task, result: v)
            return
        }
        let selfSignal = [62, 200, 234, 129, 297].contains(p.nr) && held.contains { $0.contains("] --- SIG") }
        if selfSignal {
            end(p, task, result: 0)
        } else if held.contains(where: { $0.contains("] --- SIGPIPE ") }) {
            end(p, task, result: -Int(LinuxErrno.EPIPE.rawValue))
        } else {
            finish(p, task, result: Strace.interruptedResult, text: "?")
        }
    }

    /// Writes the lines held during the call that just ended.
    private func release() {
        active = nil
        let lines = held
        held = []
        for line in lines { emit(line) }
    }

    /// A program's start (process 1's, or one started from outside), as the execve strace runs it with; its
    /// -T time is the loading's, from `since`.
    func boot(_ task: Task, path: String, argv: [String], envp: UInt64, environmentCount n: Int, since: Int64) {
        if let filter, !filter.traces(59) { return }
        var shown = argv.prefix(Strace.maxString).map { Strace.quote(Array($0.utf8), limit: Strace.maxString) }
        if argv.count > Strace.maxString { shown.append("...") }
        let args = [Strace.quote(Array(path.utf8), limit: 4096), "[" + shown.joined(separator: ", ") + "]",
                    Strace.address(envp) + " /* \(n) var\(n == 1 ? "" : "s") */"]
        emit(Strace.padded("[pid \(task.tid)] execve(" + args.joined(separator: ", ") + ")") + "= 0"
             + (timing ? Strace.elapsed(since: since) : "") + "\n")
    }

    /// The call blocked: its entry part goes out now, as strace prints it on entry.
    func suspend(_ p: Pending) {
        guard !p.started else { return }
        let k = p.entryCount
        p.printed = k
        var line = p.prefix + p.name + "(" + p.shown[..<k].map { $0! }.joined(separator: ", ")
        if k < p.shown.count { line += ", " }
        p.entryText = line
        if active === p { active = nil }
        emit(line, open: p)
        p.started = true
        release()
    }

    /// The call returned `result` (a value or -errno).
    func end(_ p: Pending, _ task: Task, result: Int) {
        if result == -Int(LinuxErrno.EINTR.rawValue), let code = Strace.restartCode(p, restarted: false) {
            return finish(p, task, result: Strace.interruptedResult, text: "? " + code + elapsed(p))
        }
        var text: String
        if result < 0 && result > -4096 {
            let e = LinuxErrno(Int32(-result))
            text = "-1 \(e.name) (\(e.message))"
        } else if let special = resultSuffix(p, task, result) {
            text = special
        } else if p.entry?.result == .hex {
            text = Strace.address(UInt64(bitPattern: Int64(result)))
        } else {
            text = String(result)
        }
        finish(p, task, result: result, text: text + elapsed(p))
    }

    /// The call was interrupted by a signal (`restarted`: it will run again), or returned `result`.
    func interrupted(_ p: Pending, _ task: Task, restarted: Bool, result: Int) {
        guard restarted, let code = Strace.restartCode(p, restarted: true) else { return end(p, task, result: result) }
        finish(p, task, result: Strace.interruptedResult, text: "? " + code + elapsed(p))
    }

    /// What strace shows for a call a signal interrupted: the kernel's restart code, which it sees on return
    /// before signal delivery turns it into EINTR or a restart. umk has no such codes: they are told from the
    /// call, as Linux picks them (nil: the call returns EINTR itself, epoll_wait say).
    static func restartCode(_ p: Pending, restarted: Bool) -> String? {
        switch p.nr {
        case _ where restarted || Kernel.restartable.contains(p.nr) || p.nr == 202 || p.nr == 61 || p.nr == 247:
            return "ERESTARTSYS (To be restarted if SA_RESTART is set)"
        case 35, 230: return "ERESTART_RESTARTBLOCK (Interrupted by signal)"  // nanosleep, clock_nanosleep
        case 7 where p.raw.int(2) >= 0: return "ERESTART_RESTARTBLOCK (Interrupted by signal)"  // poll with a timeout
        case 34, 130, 23, 270, 271, 7:  // pause, rt_sigsuspend, select, pselect6, ppoll, poll
            return "ERESTARTNOHAND (To be restarted if no handler)"
        default: return nil
        }
    }

    private func elapsed(_ p: Pending) -> String { timing ? Strace.elapsed(since: p.startTime) : "" }

    /// The caller died (killed, or its process ended) during the call: it never returns. Arguments that were
    /// to be shown on return never are: " <unfinished ...>" stands for them, as in strace.
    func vanished(_ p: Pending) {
        guard p.started else { return }
        let rest = p.printed < p.shown.count ? " <unfinished ...>" : ""
        write(p, openLine === p ? rest + ")" : p.prefix + "<... \(p.name) resumed>" + rest + ")", result: "?")
    }

    private func finish(_ p: Pending, _ task: Task, result: Int, text: String) {
        var omitted: [Int] = []
        for (k, f) in p.shown.enumerated() where f == nil {
            let i = p.index[k]
            if let t = format(p.entry!.args[i], p, i, task, result: result) { p.shown[k] = t } else { omitted.append(k) }
        }
        // clone3 tells the parent_tid it wrote: {flags=...} => {parent_tid=[2]}.
        if p.nr == 435, result > 0, let args = bytes(task, p.raw[0], 32), args.u64(0) & 0x100000 != 0,
           let tid = load(task, args.u64(24), as: Int32.self), !p.shown.isEmpty, let first = p.shown[0] {
            p.shown[0] = first + " => {parent_tid=[\(tid)]}"
        }
        // Arguments strace leaves out (ioctl(3, FIOCLEX)); never any of the entry part already printed.
        for k in omitted.reversed() where !p.started || k >= p.printed {
            p.shown.remove(at: k)
            p.index.remove(at: k)
        }
        if active === p { active = nil }
        defer { release() }
        if !p.started {
            write(p, p.prefix + p.name + "(" + p.shown.map { $0! }.joined(separator: ", ") + ")", result: text)
            return
        }
        let rest = p.shown[p.printed...].map { $0! }.joined(separator: ", ") + ")"
        if openLine === p {
            openLine = nil
            writeRest(rest, result: text, of: p)  // the line goes on where it stopped
        } else {
            write(p, p.prefix + "<... \(p.name) resumed>" + rest, result: text)
        }
    }

    /// A signal about to be delivered, as strace prints a signal-delivery stop:
    ///   [pid 1] --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=1, si_uid=0} ---
    func signal(_ task: Task, _ info: SignalInfo) {
        let fields = Strace.siginfo(info.bytes)  // what the guest's handler gets
        emit("[pid \(task.tid)] --- \(signalName(info.signo)) \(fields) ---\n", about: task.tid)
    }

    static func codeName(_ info: SignalInfo) -> String {
        if info.signo == 17 {
            switch info.code {
            case 1: return "CLD_EXITED"
            case 2: return "CLD_KILLED"
            case 3: return "CLD_DUMPED"
            case 4: return "CLD_TRAPPED"
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
        case -3: return "SI_MESGQ"
        case -4: return "SI_ASYNCIO"
        case -5: return "SI_SIGIO"
        case -6: return "SI_TKILL"
        default: return String(info.code)
        }
    }

    /// A group stop, as strace prints it after the signal: --- stopped by SIGSTOP ---.
    func stopped(_ task: Task, _ sig: Int32) {
        emit("[pid \(task.tid)] --- stopped by \(signalName(sig)) ---\n", about: task.tid)
    }

    /// A thread's or process's end: +++ exited with N +++, +++ killed by SIGKILL +++.
    func exit(_ tid: Int32, _ status: ExitStatus) {
        switch status {
        case .exited(let c): emit("[pid \(tid)] +++ exited with \(c) +++\n", about: tid)
        // FIXME: strace adds " (core dumped)"; umk writes no core dumps.
        case .signaled(let s): emit("[pid \(tid)] +++ killed by \(signalName(s)) +++\n", about: tid)
        }
    }

    // MARK: output

    /// A whole line: `head` (up to the closing parenthesis), padded to resultColumn, "= ", the result.
    private func write(_ p: Pending, _ head: String, result: String) {
        emit(Strace.padded(head) + "= " + result + "\n")
    }

    private func writeRest(_ rest: String, result: String, of p: Pending) {
        // The open line's own length decides the padding: entry part plus rest.
        let entryPart = p.entryText
        let full = Strace.padded(entryPart + rest)
        emit(String(full.dropFirst(entryPart.count)) + "= " + result + "\n")
    }

    /// strace's tabto: ") " then spaces up to the result column.
    private static func padded(_ head: String) -> String {
        let n = head.count + 1
        return head + " " + String(repeating: " ", count: max(0, resultColumn - n))
    }

    /// Writes `s`, first cutting the open line of another call (" <unfinished ...>"); a line `about` the
    /// task whose call is being served waits for that call's line.
    private func emit(_ s: String, open: Pending? = nil, about tid: Int32? = nil) {
        if let tid, let active, active.tid == tid {
            held.append(s)
            return
        }
        var text = s
        if openLine != nil {
            text = " <unfinished ...>\n" + text
            openLine = nil
        }
        openLine = open
        _ = try? out.write(Array(text.utf8))
    }

    /// -T: the time the call took, " <0.000123>".
    private static func elapsed(since start: Int64) -> String {
        let ns = max(HostClock.monotonicNanoseconds() - start, 0)
        let micros = String(ns / 1000 % 1_000_000)
        return " <\(ns / 1_000_000_000).\(String(repeating: "0", count: 6 - micros.count))\(micros)>"
    }
}

extension ArgFormat {
    /// Shown when the call returns: what the call fills.
    var shownOnReturn: Bool {
        switch self {
        case .out, .outBuffer, .outBufferHex, .epollEvents, .dirents, .remainder, .cpuSet, .idList, .sockoptOut, .waitStatus, .sockaddrOut, .socklenInOut, .fdPair,
             .ioctlArgument:
            return true
        default: return false
        }
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
