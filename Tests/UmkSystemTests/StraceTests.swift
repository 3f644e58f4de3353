// StraceTests.swift: `umk run --strace` against the real strace: the same program traced natively with
// `strace -f -o FILE` and under `umk run --strace=FILE` gives the same lines, process by process, once the
// differences that are not --strace's are normalised away (StraceLog.normalised says which and why).

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class StraceTests: SystemTestCase {
    /// Userland/strace.c (static glibc): structs, flags, signals, a blocked call cut by another process's
    /// lines, a child killed in pause(), a read restarted after a handler. Every line must match.
    func testSameLinesAsStrace() throws {
        let program = try Userland.program("strace")
        let (native, umk) = try traces(program, [])
        for pid in Set(native.processes.keys).union(umk.processes.keys).sorted() {
            let n = native.processes[pid] ?? [], u = umk.processes[pid] ?? []
            XCTAssertEqual(StraceLog.withoutSignals(n), StraceLog.withoutSignals(u),
                           "process \(pid) differs:\n\(StraceLog.diff(n, u))")
            // A SIGCHLD comes when the child ends, before or during the parent's wait4 depending on who
            // ran first: the same signals, in an order that may differ.
            XCTAssertEqual(StraceLog.signals(n).sorted(), StraceLog.signals(u).sorted(), "process \(pid)")
        }
        XCTAssertEqual(native.processes.count, 5, native.text)
        // The raw trace has strace's cut lines where another process printed during a blocked call.
        let flat = umk.text.replacingOccurrences(of: #"\s+= "#, with: " = ", options: .regularExpression)
        for line in ["[pid 1] wait4(2,  <unfinished ...>",
                     "[pid 1] <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 2",
                     "[pid 4] pause( <unfinished ...>", "[pid 4] <... pause resumed>) = ?", "[pid 4] +++ killed by SIGKILL +++",
                     "[pid 1] <... read resumed>0x", ", 1) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
                     "[pid 1] execve(\"\(program)\", [\"\(program.prefix(32))\"...], 0x"] {
            XCTAssertTrue(flat.contains(line), "no \(line) in:\n\(umk.text)")
        }
    }

    /// A process killed by a signal: the call that raised it, the signal, the end (+++ killed by ...).
    func testFatalSignalsAsStrace() throws {
        let program = try Userland.program("strace")
        for mode in ["segv", "term", "pipe"] {
            let (native, umk) = try traces(program, [mode], sameStatus: false)
            XCTAssertEqual(native.processes["P0"], umk.processes["P0"],
                           "\(mode):\n\(StraceLog.diff(native.processes["P0"] ?? [], umk.processes["P0"] ?? []))")
            XCTAssertTrue(umk.processes["P0"]?.last?.hasPrefix("+++ killed by SIG") == true, umk.text)
        }
    }

    /// A thread: clone3's struct and the tid it wrote, the thread's own calls and its exit. The main thread's
    /// pthread_join waits on a futex only if the thread has not ended yet: futex lines are left out.
    func testThreadsAsStrace() throws {
        let program = try Userland.program("strace")
        let (native, umk) = try traces(program, ["threads"])
        XCTAssertEqual(native.processes.count, 2, native.text)
        let steady = { (lines: [String]) in lines.filter { !$0.hasPrefix("futex(") } }
        for pid in native.processes.keys.sorted() {
            let n = steady(native.processes[pid] ?? []), u = steady(umk.processes[pid] ?? [])
            XCTAssertEqual(n, u, "thread \(pid):\n\(StraceLog.diff(n, u))")
        }
        XCTAssertEqual(umk.processes["P1"]?.last, "+++ exited with 0 +++", umk.text)
    }

    /// A shell pipeline: which process runs when differs, so each process's lines are compared as a set
    /// (the shell's own wait4 and SIGCHLD lines depend on which child ends first, and are left out).
    func testPipelineHasStracesLines() throws {
        let busybox = "/bin/busybox"
        guard access(busybox, X_OK) == 0 else { throw XCTSkip("no \(busybox)") }
        let (native, umk) = try traces(busybox, ["sh", "-c", "echo hi | cat; echo done"])
        XCTAssertEqual(native.processes.count, 3, native.text)
        for pid in native.processes.keys.sorted() {
            let volatile = ["wait4(", "--- SIGCHLD", "rt_sigreturn(", "+++ exited"]
            let keep = { (lines: [String]) in Set(lines.filter { l in !volatile.contains { l.hasPrefix($0) } }) }
            let n = keep(native.processes[pid] ?? []), u = keep(umk.processes[pid] ?? [])
            XCTAssertEqual(n, u, "process \(pid): only natively: \(n.subtracting(u).sorted()), only under umk: "
                           + "\(u.subtracting(n).sorted())")
        }
    }

    /// --strace-filter in strace's -e trace= syntax and --strace-timing as -T.
    func testFilterAndTiming() throws {
        let program = try Userland.program("strace")
        let (native, umk) = try traces(program, [], straceOptions: ["-e", "trace=%process,uname,%clock"],
                                       umkOptions: ["--strace-filter", "%process,uname,%clock", "--strace-timing"])
        XCTAssertEqual(native.processes.keys.sorted(), umk.processes.keys.sorted())
        for (pid, lines) in native.processes {
            let timed = (umk.processes[pid] ?? []).map { StraceLog.withoutTime($0) }
            XCTAssertEqual(StraceLog.withoutSignals(lines), StraceLog.withoutSignals(timed),
                           "process \(pid):\n\(StraceLog.diff(lines, timed))")
        }
        let calls = umk.text.split(separator: "\n").filter { $0.contains(") ") && $0.contains(" = ") }
        XCTAssertFalse(calls.isEmpty)
        for line in calls where !line.hasSuffix("= ?") {
            XCTAssertNotNil(line.range(of: #" <\d+\.\d{6}>$"#, options: .regularExpression), "no time in \(line)")
        }
        // Negation, and a name that is not a call.
        let negated = try self.umk(["run", "--strace", "--strace-filter", "!%memory,%desc", "--", "/bin/true"])
        XCTAssertEqual(negated.termination, Termination.exited(0), negated.report)
        XCTAssertFalse(negated.err.contains("mmap("), negated.err)
        XCTAssertTrue(negated.err.contains("arch_prctl("), negated.err)
        let bad = try self.umk(["run", "--strace", "--strace-filter", "opne", "--", "/bin/true"])
        XCTAssertNotEqual(bad.termination, Termination.exited(0))
        XCTAssertTrue(bad.err.contains("invalid system call 'opne'"), bad.report)
    }

    /// Hostile arguments: --strace reads guest memory at the addresses and counts the guest chose, and must
    /// neither trap nor hang umk (Userland/fuzz.c, two of FuzzTests' seeds, traced to /dev/null).
    func testHostileArgumentsUnderStrace() throws {
        let fuzz = try Userland.program("fuzz")
        for seed in [42, 715_053_711] {
            let outcome = try runUnderUmk(fuzz, ["\(seed)", "20"], options: ["--strace=/dev/null"], timeout: 120)
            XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
            XCTAssertTrue(outcome.out.contains("seed \(seed): "), outcome.report)
        }
    }

    /// Runs PROGRAM under `strace -f` natively and under `umk run --strace`, from / with the default
    /// environment, and returns both traces, parsed.
    /// `sameStatus`: whether to compare the exit statuses (strace dies of its tracee's fatal signal, umk
    /// exits with 128 + the signal's number).
    private func traces(_ program: String, _ arguments: [String], straceOptions: [String] = [],
                        umkOptions: [String] = [], sameStatus: Bool = true) throws -> (native: StraceLog, umk: StraceLog) {
        guard let strace = Paths.which("strace") else { throw XCTSkip("strace is not installed") }
        let nativeFile = "/var/tmp/umk-strace-native-\(getpid()).txt", umkFile = "/var/tmp/umk-strace-umk-\(getpid()).txt"
        defer { unlink(nativeFile); unlink(umkFile) }
        let native = try runNatively(strace, ["-f", "-o", nativeFile] + straceOptions + [program] + arguments)
        let umk = try runUnderUmk(program, arguments, options: ["--strace=\(umkFile)"] + umkOptions)
        XCTAssertEqual(native.out, umk.out, umk.report)
        if sameStatus { XCTAssertEqual(umk.termination, native.termination, umk.report) }
        let n = try String(contentsOfFile: nativeFile, encoding: .utf8), u = try String(contentsOfFile: umkFile, encoding: .utf8)
        return (StraceLog(n), StraceLog(u))
    }
}

/// A trace as strace -f writes it (`PID  line`, or umk's `[pid N] line`), rebuilt per process: a cut line
/// (<unfinished ...>) is joined with its <... resumed> part, pids are named P0, P1, ... in the order the
/// processes were created, and what legitimately differs between a native run and umk is normalised.
struct StraceLog {
    let text: String
    /// Each process's lines, in its own order.
    var processes: [String: [String]] = [:]

    init(_ text: String) {
        self.text = text
        var lines: [(pid: Int, text: String)?] = []
        var cut: [Int: (index: Int, head: String)] = [:]
        for raw in text.split(separator: "\n").map(String.init) {
            guard let (pid, timed) = StraceLog.split(raw) else { continue }
            let line = StraceLog.withoutTime(timed)
            if line.hasSuffix(" <unfinished ...>") {
                cut[pid] = (lines.count, String(line.dropLast(" <unfinished ...>".count)))
                lines.append(nil)
            } else if line.hasPrefix("<... "), let end = line.range(of: " resumed>"), let head = cut.removeValue(forKey: pid) {
                lines[head.index] = (pid, head.head + line[end.upperBound...])
            } else {
                lines.append((pid, line))
            }
        }
        let all = lines.compactMap { $0 }
        guard let root = all.first?.pid else { return }
        // Processes in creation order: the first, then the children each one's fork/clone returned.
        var order = [root]
        var k = 0
        while k < order.count {
            for l in all where l.pid == order[k] {
                if let child = StraceLog.match(#"^(clone|clone3|fork|vfork)\(.*\)\s+= (\d+)$"#, l.text, group: 2) {
                    order.append(Int(child)!)
                }
            }
            k += 1
        }
        var names: [Int: String] = [:]
        for (i, pid) in order.enumerated() { names[pid] = "P\(i)" }
        for l in all {
            guard let line = StraceLog.normalised(l.text, names) else { continue }
            processes[names[l.pid] ?? "?\(l.pid)", default: []].append(line)
        }
    }

    /// `PID  text` (strace -o) or `[pid PID] text` (umk).
    static func split(_ raw: String) -> (Int, String)? {
        if let pid = match(#"^\[pid (\d+)\] "#, raw, group: 1) { return (Int(pid)!, String(raw.drop { $0 != "]" }.dropFirst(2))) }
        if let pid = match(#"^(\d+) +"#, raw, group: 1) { return (Int(pid)!, String(raw.drop { $0 != " " }.drop { $0 == " " })) }
        return nil
    }

    /// What differs between the runs for reasons other than --strace, rewritten the same on both sides:
    /// - pids (umk's start at 1) become P0, P1, ... where a call takes or returns one; getppid's answer for
    ///   the first process (the process that started it: strace natively, none under umk) becomes PPID;
    /// - addresses (0x and 5 or more hex digits): the two address spaces are laid out differently;
    /// - the spaces before " = ": strace pads to column 40 counting its own prefix, which differs;
    /// - execve's environment count (/* N vars */): umk's guest environment is not the host's;
    /// - getdents64's entry count, uname's nodename, getrandom's bytes, clock_gettime's time, a child's
    ///   CPU times in SIGCHLD: host facts or random;
    /// - statx's stx_mask: which fields a filesystem fills (the host's ext4 or overlay; umk's hostfs adds
    ///   STATX_BTIME) is the filesystem's business, not strace's;
    /// - the lines of Userland/strace.c's waitUntilBlockedIn poll loop (/proc/PID/syscall natively,
    ///   /proc/PID/stat under umk, its nanosleep), which runs as many times as scheduling makes it (glibc's
    ///   nanosleep is clock_nanosleep): dropped.
    static func normalised(_ line: String, _ names: [Int: String]) -> String? {
        var l = line.replacingOccurrences(of: #"\s+= "#, with: " = ", options: .regularExpression)
        if l.contains("\"/proc/") && l.hasPrefix("openat(") || l.hasPrefix("read(5, ") || l.hasPrefix("close(5)")
            || l.hasPrefix("nanosleep({tv_sec=0, tv_nsec=1000000}")
            || l.hasPrefix("clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000000}") { return nil }
        for (pid, name) in names {
            for pattern in [#"^((?:clone|clone3|fork|vfork|getpid|gettid|getppid|set_tid_address|wait4|waitid)\(.*\) = )"# + "\(pid)$",
                            #"((?:^kill|^tgkill|^tkill|^wait4|^rt_sigqueueinfo|^rt_tgsigqueueinfo)\()"# + "\(pid)\\b", #"(^tgkill\(\w+, )"# + "\(pid)\\b",
                            #"(^waitid\(P_PID, )"# + "\(pid)\\b",
                            #"(si_pid=|\{pid=)"# + "\(pid)\\b", #"(parent_tid=\[)"# + "\(pid)\\b", #"(/proc/)"# + "\(pid)\\b"] {
                l = l.replacingOccurrences(of: pattern, with: "$1\(name)", options: .regularExpression)
            }
        }
        let rewrites: [(String, String)] = [
            (#"^getppid\(\) = \d+$"#, "getppid() = PPID"),
            (#"0x[0-9a-f]{5,}"#, "0xADDR"), (#"/\* \d+ (vars?|entr(y|ies)) \*/"#, "/* N $1 */"),
            (#"nodename="[^"]*""#, "nodename=\"NODE\""), (#"^getrandom\("[^"]*""#, "getrandom(\"RANDOM\""),
            (#"si_utime=\d+, si_stime=\d+"#, "si_utime=T, si_stime=T"), (#"stx_mask=[A-Z_|]+"#, "stx_mask=MASK"),
        ]
        for (pattern, replacement) in rewrites {
            l = l.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        if l.hasPrefix("clock_gettime(") {
            l = l.replacingOccurrences(of: #"tv_sec=\d+, tv_nsec=\d+"#, with: "tv_sec=S, tv_nsec=NS", options: .regularExpression)
        }
        return l
    }

    static func withoutTime(_ line: String) -> String {
        line.replacingOccurrences(of: #" <\d+\.\d{6}>$"#, with: "", options: .regularExpression)
    }

    static func signals(_ lines: [String]) -> [String] { lines.filter { $0.hasPrefix("--- SIGCHLD") } }
    static func withoutSignals(_ lines: [String]) -> [String] { lines.filter { !$0.hasPrefix("--- SIGCHLD") } }

    static func match(_ pattern: String, _ s: String, group: Int) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern),
              let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)),
              let r = Range(m.range(at: group), in: s) else { return nil }
        return String(s[r])
    }

    /// The lines only one side has, for a failure message.
    static func diff(_ a: [String], _ b: [String]) -> String {
        let d = b.difference(from: a)
        return d.map { change in
            switch change {
            case .insert(let o, let e, _): return "+ [\(o)] \(e)"
            case .remove(let o, let e, _): return "- [\(o)] \(e)"
            }
        }.joined(separator: "\n")
    }
}
