// umk: the command line. `umk run [options] -- PROGRAM [ARGS...]` boots an instance and runs PROGRAM as its
// first process. Exit status: the guest's; 128+N when signal N killed it; 125 when umk itself fails; 126
// when PROGRAM cannot be executed; 127 when it is not found.
import ArgumentParser
import UmkKernel

struct Umk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "umk",
        abstract: "A user-mode Linux kernel: run unmodified x86-64 Linux programs, every system call served by umk.",
        discussion: """
            Examples:
              umk run -- /bin/sh -c 'ls /'        the host's root, read-only, under a throwaway layer
              umk run --root ./rootfs -- /bin/busybox sh -c 'echo hi'
              umk run --strace -- /bin/true       every guest system call, strace's format, on stderr
              umk syscalls                        which system calls are supported, partial or missing
              umk run -d --name web -- /bin/sh -c 'while :; do sleep 1; done'
              umk exec web -- ps                  another program in the running instance
              umk ls; umk ps web; umk logs web; umk stop web
            """,
        version: "umk 0.1.0",
        subcommands: [Run.self, Exec.self, List.self, ProcessStatus.self, Stop.self, Kill.self, Logs.self, Gdb.self, Syscalls.self,
                      BenchInstances.self])
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot an instance and run PROGRAM in it as process 1.",
        discussion: """
            PROGRAM without a slash is looked up in the guest's PATH. The guest environment is PATH, HOME and \
            TERM plus each -e. Exit status: the program's; 128+N if signal N killed it; 125 if umk failed; \
            126 if PROGRAM cannot be executed; 127 if it is not found.
            """)

    @Option(help: "Host directory to use as the guest's root (read-only).")
    var root: String = "/"

    @Option(name: [.customShort("v"), .customLong("volume")], help: ArgumentHelp("""
        Bind-mount a host file or directory at GUEST (absolute), read-write unless :ro; writes reach the host \
        with the rights of the user running umk. May be repeated.
        """, valueName: "HOST:GUEST[:ro]"))
    var volumes: [String] = []

    @Option(help: ArgumentHelp("""
        Keep the root's upper layer in host directory DIR (made if missing): a later run with the same DIR \
        starts from this run's changes. Removed names are .wh.NAME files, as in OCI layers.
        """, valueName: "DIR"))
    var upper: String?

    @Option(help: ArgumentHelp("An empty tmpfs at PATH, of at most N bytes (default half of --mem). May be repeated.",
                               valueName: "PATH[:size=N]"))
    var tmpfs: [String] = []

    @Option(help: "Guest memory: a size such as 64M, 1.5G or 2GiB (binary multiples; at least 4M).")
    var mem: String = "1G"

    @Option(help: ArgumentHelp("Host CPUs the guest's tasks may run on at once; the guest sees this many CPUs.", valueName: "N"))
    var cpus: Int = 1

    @Option(help: ArgumentHelp("""
        Overcommit policy, as Linux's vm.overcommit_memory: 0 refuses only a mapping larger than --mem, 1 \
        refuses nothing, 2 promises at most RATIO percent of --mem in all (default 50).
        """, valueName: "0|1|2[:RATIO]"))
    var overcommit: String = "0"

    @Flag(help: "Print every guest system call to stderr, as strace does (--strace=FILE writes to FILE).")
    var strace = false

    @Option(name: .customLong("strace-file"), help: .hidden)
    var straceFile: String?

    @Option(name: .customLong("strace-filter"), help: ArgumentHelp("""
        Which calls --strace prints, as strace's -e trace=: names, %file, %process, %network, %signal, %ipc, \
        %desc, %memory, %creds, %clock, %stat, ..., comma-separated; a leading ! negates.
        """, valueName: "EXPR"))
    var straceFilter: String?

    @Flag(name: .customLong("strace-timing"), help: "With --strace, the time spent in each call (strace -T).")
    var straceTiming = false

    @Option(name: .customShort("e"), help: ArgumentHelp("Set a guest environment variable (KEY=VALUE, or KEY to copy umk's).", valueName: "KEY=VALUE"))
    var env: [String] = []

    @Option(name: .customShort("w"), help: ArgumentHelp("""
        Working directory of PROGRAM in the guest (default: umk's own when the guest has it, else /).
        """, valueName: "DIR"))
    var workdir: String?

    @Option(help: "The guest's host name.")
    var hostname: String = "umk"

    @Option(help: ArgumentHelp("Run as this numeric uid (and gid).", valueName: "UID[:GID]"))
    var user: String?

    @Option(help: ArgumentHelp("Kernel log level: trace, debug, info, notice, warning, error.", valueName: "LEVEL"))
    var log: String = "warning"

    @Option(help: ArgumentHelp("""
        Name the instance: other umk commands reach it by NAME (umk exec, ps, stop, kill, logs) through its \
        control socket, which only the user running it may use.
        """, valueName: "NAME"))
    var name: String?

    @Flag(name: [.customShort("d"), .customLong("detach")], help: """
        Run in the background: the guest's console goes to a log (umk logs NAME); prints the name (a made-up \
        one without --name) once the instance runs.
        """)
    var detach = false

    @Option(help: ArgumentHelp("""
        Let gdb debug PROGRAM: listen at ADDR (HOST:PORT on 127.0.0.1, :PORT, or a UNIX socket path) and hold \
        PROGRAM before its first instruction until gdb connects (target remote ADDR).
        """, valueName: "ADDR"))
    var gdb: String?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The program and its arguments (after --, or after the options).", valueName: "PROGRAM"))
    var command: [String] = []

    func validate() throws {
        if command.first == "--" { return }
        // Passthrough starts at the first argument umk does not know: an option there is a mistake, not PROGRAM.
        if let first = command.first, first.hasPrefix("-") { throw ValidationError("unknown option '\(first)'") }
        if command.isEmpty { throw ValidationError("missing PROGRAM: umk run [options] -- PROGRAM [ARGS...]") }
    }

    mutating func run() throws {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else { throw ValidationError("missing PROGRAM after --") }

        var config = Configuration()
        config.root = root
        guard let bytes = parseSize(mem), bytes >= 4 << 20, bytes <= 1 << 40 else {
            throw ValidationError("--mem \(mem): expected a size from 4M to 1T, such as 256M, 1.5G or 2GiB")
        }
        config.memoryBytes = (bytes + 4095) & ~4095
        switch overcommit.split(separator: ":", omittingEmptySubsequences: false).map(String.init) {
        case ["0"]: config.overcommit = .heuristic
        case ["1"]: config.overcommit = .always
        case ["2"]: config.overcommit = .never(ratio: 50)
        case let parts where parts.count == 2 && parts[0] == "2" && (Int(parts[1]).map { 0...100 ~= $0 } ?? false):
            config.overcommit = .never(ratio: Int(parts[1])!)
        default: throw ValidationError("--overcommit \(overcommit): expected 0, 1, 2 or 2:RATIO (a percentage)")
        }
        guard cpus >= 1, cpus <= 1024 else { throw ValidationError("--cpus \(cpus): expected a number of CPUs from 1") }
        config.cpus = cpus
        config.hostname = hostname
        guard hostname.utf8.count <= 64 else { throw ValidationError("--hostname: at most 64 bytes") }
        config.upper = upper
        for v in volumes { config.mounts.append(try parseVolume(v)) }
        for t in tmpfs { config.mounts.append(try parseTmpfs(t)) }
        if let workdir {
            config.workingDirectory = workdir
        } else {
            config.preferredWorkingDirectory = CommandLineHost.currentDirectory()
        }
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(log) else { throw ValidationError("--log \(log): expected one of \(levels.joined(separator: ", "))") }
        config.logLevel = log
        config.forwardSignals = true
        config.gdb = gdb
        config.reportUnimplemented = true
        config.debuggerAttachable = name != nil || detach  // umk gdb NAME PID
        if let user {
            let parts = user.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw ValidationError("--user \(user): expected UID or UID:GID, numeric")
            }
            config.uid = uid
            config.gid = parts.count == 2 ? UInt32(parts[1])! : uid
        }
        var environment = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "HOME=" + (config.uid == 0 ? "/root" : "/"),
                           "TERM=" + (CommandLineHost.outputIsTerminal ? CommandLineHost.environmentValue("TERM") ?? "xterm" : "xterm")]
        for e in env {
            var entry = e
            if !e.contains("=") {
                guard let v = CommandLineHost.environmentValue(e) else { continue }
                entry = e + "=" + v
            }
            let key = entry.prefix { $0 != "=" }
            environment.removeAll { $0.prefix { $0 != "=" } == key }
            environment.append(entry)
        }
        config.environment = environment
        if let straceFile {
            switch CommandLineHost.createTraceFile(straceFile) {
            case .success(let fd): config.straceFD = fd
            case .failure(let e): throw ValidationError("--strace=\(straceFile): \(e.reason)")
            }
        } else if strace || straceFilter != nil || straceTiming {  // the filter and -T imply --strace, as in strace
            config.straceFD = 2
        }
        if let straceFilter {
            if let problem = StraceFilterCheck.problem(straceFilter) { throw ValidationError("--strace-filter: \(problem)") }
            config.straceFilter = straceFilter
        }
        config.straceTiming = straceTiming

        if detach {
            let name = self.name ?? NamedInstances.generatedName()
            // umk again with the same options less -d (and with the name), before PROGRAM only.
            let args = rewriteArguments(Array(CommandLine.arguments.dropFirst()))
            var options = Array(args.prefix(args.count - command.count))
            options.removeAll { $0 == "-d" || $0 == "--detach" }
            if self.name == nil { options += ["--name", name] }
            do {
                try NamedInstances.detach(name, arguments: options + command)
            } catch {
                CommandLineHost.printError("umk: \(error)")
                CommandLineHost.exit(error.exitStatus)
            }
            print(name)
            CommandLineHost.exit(0)
        }
        CommandLineHost.saveTerminalMode()
        if let name {
            CommandLineHost.exit(NamedInstances.run(name, configuration: config, argv: argv))
        }
        do {
            let status = try Instance(config).run(argv)
            CommandLineHost.exit(status.shellStatus)
        } catch {
            CommandLineHost.printError("umk: \(error)")
            CommandLineHost.exit(error.exitStatus)
        }
    }
}

struct Syscalls: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the x86-64 system calls and how far umk implements each.")

    func run() {
        var counts = [String: Int]()
        for row in SyscallReport.rows {
            print("\(row.number)\t\(row.name)\t\(row.status)")
            counts[String(row.status.prefix { $0 != ":" }), default: 0] += 1
        }
        print("# \(counts["supported"] ?? 0) supported, \(counts["partial"] ?? 0) partial, \(counts["missing"] ?? 0) missing")
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a program in a running named instance, with umk's stdin, stdout and stderr.",
        discussion: """
            The program is a child of the guest kernel (parent pid 0) in a session of its own, with the \
            instance's environment plus each -e. Signals umk gets (^C at its terminal) go to the program's \
            process group. Exit status: the program's; 128+N for signal N; 125 if umk failed (no such instance); \
            126 if it cannot be executed; 127 if it is not found.
            """)

    @Option(name: .customShort("e"), help: ArgumentHelp("Set an environment variable (KEY=VALUE, or KEY to copy umk's).", valueName: "KEY=VALUE"))
    var env: [String] = []

    @Option(name: .customShort("w"), help: ArgumentHelp("Working directory (default: umk's own when the guest has it, else the instance's).", valueName: "DIR"))
    var workdir: String?

    @Option(help: ArgumentHelp("Run as this numeric uid (and gid).", valueName: "UID[:GID]"))
    var user: String?

    @Flag(name: [.customShort("t"), .customLong("tty")], help: """
        Give the program a pseudo-terminal of the instance as its controlling terminal (job control, `tty`), \
        umk's own terminal passing keys through raw.
        """)
    var tty = false

    @Flag(name: [.customShort("i"), .customLong("interactive")], help: .hidden)
    var interactive = false  // docker's -i: stdin is always passed

    @Argument(help: "The instance's name.")
    var name: String

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The program and its arguments.", valueName: "PROGRAM"))
    var command: [String] = []

    mutating func run() throws {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard !argv.isEmpty else { throw ValidationError("missing PROGRAM: umk exec NAME -- PROGRAM [ARGS...]") }
        var environment: [String] = []
        for e in env {
            if e.contains("=") { environment.append(e) } else if let v = CommandLineHost.environmentValue(e) { environment.append(e + "=" + v) }
        }
        let ids = try user.map { u throws -> (uid: UInt32, gid: UInt32) in
            let parts = u.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw ValidationError("--user \(u): expected UID or UID:GID, numeric")
            }
            return (uid, parts.count == 2 ? UInt32(parts[1])! : uid)
        }
        do {
            let status = try NamedInstances.exec(name, argv: argv, environment: environment, workingDirectory: workdir,
                                                 user: ids, terminal: tty)
            CommandLineHost.exit(status)
        } catch {
            CommandLineHost.printError("umk: \(error)")
            CommandLineHost.exit(error.exitStatus)
        }
    }
}

struct Gdb: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Attach gdb to a process of a running named instance.",
        discussion: """
            In gdb: target remote | umk gdb NAME PID (the connection is this command's stdin), or run \
            umk gdb --listen :1234 NAME PID and then target remote :1234. The process stops; detach lets it go on.
            """)

    @Option(help: ArgumentHelp("Wait for gdb at ADDR (HOST:PORT on 127.0.0.1, :PORT, or a UNIX socket path) instead of stdin.", valueName: "ADDR"))
    var listen: String?

    @Argument(help: "The instance's name.")
    var name: String

    @Argument(help: "The guest pid to debug.")
    var pid: Int32

    func run() {
        exitOnFailure {
            try NamedInstances.gdb(name, pid: pid, listen: listen)
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the running named instances of this user.")

    func run() {
        exitOnFailure {
            let rows = try NamedInstances.list().map { i in
                [i.name, String(i.umkPID), formatDuration(i.uptimeSeconds), String(i.processes), formatBytes(i.memoryBytes), i.command]
            }
            printTable(["NAME", "PID", "UPTIME", "PROCESSES", "MEMORY", "COMMAND"], rows)
        }
    }
}

struct ProcessStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List the processes of a running named instance.")

    @Argument(help: "The instance's name.")
    var name: String

    func run() {
        exitOnFailure {
            let rows = try NamedInstances.processes(name).map { p in
                [String(p.pid), String(p.parentPid), String(p.state), String(p.threads), formatBytes(p.residentBytes), p.command]
            }
            printTable(["PID", "PPID", "STAT", "THREADS", "RSS", "COMMAND"], rows)
        }
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a named instance: SIGTERM to its process 1, then SIGKILL to everything after the grace period.")

    @Option(name: [.customShort("t"), .customLong("time")], help: ArgumentHelp("Seconds to wait before SIGKILL.", valueName: "SECONDS"))
    var time: Double = 10

    @Argument(help: "The instance's name.")
    var name: String

    func validate() throws {
        guard time >= 0, time <= 3600 else { throw ValidationError("--time \(time): expected 0 to 3600 seconds") }
    }

    func run() {
        exitOnFailure {
            try NamedInstances.stop(name, grace: time)
        }
    }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a signal (default KILL) to the process 1 of a named instance.")

    @Argument(help: "The instance's name.")
    var name: String

    @Argument(help: ArgumentHelp("A signal name or number (TERM, SIGTERM, 15).", valueName: "SIGNAL"))
    var signal: String = "KILL"

    func run() throws {
        guard let sig = NamedInstances.signalNumber(signal) else { throw ValidationError("unknown signal \(signal)") }
        exitOnFailure {
            try NamedInstances.kill(name, signal: sig)
        }
    }
}

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the console output of a named instance started with -d (kept after it ends).")

    @Flag(name: [.customShort("f"), .customLong("follow")], help: "Go on printing what it writes until it ends.")
    var follow = false

    @Argument(help: "The instance's name.")
    var name: String

    func run() {
        exitOnFailure {
            try NamedInstances.printLog(name, follow: follow)
        }
    }
}

/// For Tools/bench: instances booted through the library, in this process.
struct BenchInstances: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-instances", shouldDisplay: false)

    @Option var count = 20
    @Option var parallel = 10
    @Option var idle = "/bin/sleep 1000"
    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        for line in InstanceBenchmark.run(argv.isEmpty ? ["/bin/true"] : argv, idle: idle.split(separator: " ").map(String.init),
                                          count: max(1, count), parallel: max(1, parallel)) {
            print(line)
        }
    }
}

/// Runs a command about a named instance: its failure is one line on stderr and umk's exit status (125).
func exitOnFailure(_ body: () throws -> Void) {
    do {
        try body()
    } catch {
        CommandLineHost.printError("umk: \(error)")
        CommandLineHost.exit((error as? NamedInstances.Failure)?.exitStatus ?? 125)
    }
}

func formatDuration(_ s: Int) -> String {
    s < 60 ? "\(s)s" : s < 3600 ? "\(s / 60)m\(s % 60)s" : "\(s / 3600)h\(s % 3600 / 60)m"
}

func formatBytes(_ b: Int) -> String {
    if b < 1 << 20 { return "\(b >> 10)K" }
    if b < 1 << 30 { return "\(b >> 20)M" }
    let tenths = b * 10 >> 30
    return "\(tenths / 10).\(tenths % 10)G"
}

/// Columns padded to their widest cell, the last one left as it is.
func printTable(_ header: [String], _ rows: [[String]]) {
    let all = [header] + rows
    let widths = (0..<header.count).map { c in all.map { $0[c].count }.max() ?? 0 }
    for row in all {
        print(row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count)
        }.joined(separator: "  "))
    }
}

/// `-v HOST:GUEST[:ro|:rw]`, as docker spells it.
func parseVolume(_ v: String) throws -> MountRequest {
    let parts = v.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
        throw ValidationError("-v \(v): expected HOST:GUEST[:ro], GUEST an absolute path")
    }
    let mode = parts.count == 3 ? parts[2] : "rw"
    guard mode == "ro" || mode == "rw" else { throw ValidationError("-v \(v): the option after GUEST is ro or rw") }
    return .bind(host: parts[0], guest: parts[1], readOnly: mode == "ro")
}

/// `--tmpfs PATH[:size=N]` (docker's form; `rw` is accepted, being what a tmpfs is anyway).
func parseTmpfs(_ t: String) throws -> MountRequest {
    let colon = t.firstIndex(of: ":") ?? t.endIndex
    let path = String(t[..<colon])
    guard path.hasPrefix("/") else { throw ValidationError("--tmpfs \(t): the path must be absolute") }
    var size: Int? = nil
    if colon != t.endIndex {
        for option in t[t.index(after: colon)...].split(separator: ",").map(String.init) {
            if option == "rw" { continue }
            guard option.hasPrefix("size="), let n = parseSize(String(option.dropFirst(5))), n > 0 else {
                throw ValidationError("--tmpfs \(t): unknown option \(option) (size=N is the one there is)")
            }
            size = n
        }
    }
    return .tmpfs(guest: path, sizeBytes: size)
}

/// "256M", "1.5G", "2GiB", "1GB", "65536": binary multiples (K, M, G, T, with or without "iB" or "B", as
/// docker's units are), a decimal fraction allowed before the unit.
func parseSize(_ s: String) -> Int? {
    var text = s
    for suffix in ["iB", "ib", "B", "b"] where text.count > suffix.count && text.hasSuffix(suffix) {
        text.removeLast(suffix.count)
        break
    }
    guard let last = text.last else { return nil }
    let units: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30, "t": 1 << 40, "T": 1 << 40]
    guard let unit = units[last] else { return s == text ? Int(text) : nil }
    let number = text.dropLast()
    guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
          number.filter({ $0 == "." }).count <= 1, let value = Double(number), value.isFinite, value >= 0,
          value * Double(unit) < Double(1 << 50) else { return nil }
    return Int(value * Double(unit))
}

/// `--strace=FILE` is an option with an optional value, which ArgumentParser does not have: rewrite it before
/// parsing, among umk's own options only (before `--` or PROGRAM, so the guest's arguments are never touched).
func rewriteArguments(_ args: [String]) -> [String] {
    let takesValue: Set<String> = ["--root", "--mem", "--cpus", "--overcommit", "-e", "-w", "--hostname", "--user",
                                   "--log", "-v", "--volume", "--tmpfs", "--upper", "--strace-file", "--strace-filter",
                                   "--name", "-t", "--time", "--gdb", "--listen"]
    var out: [String] = []
    var positionals = 0  // the subcommand, then PROGRAM: after it everything is the guest's
    var valueNext = false
    for (i, a) in args.enumerated() {
        if a == "--" || positionals >= 2 {
            return out + args[i...]
        }
        if valueNext {
            valueNext = false
        } else if a.hasPrefix("--strace=") {
            out += ["--strace-file", String(a.dropFirst("--strace=".count))]
            continue
        } else if takesValue.contains(a) {
            valueNext = true
        } else if !a.hasPrefix("-") {
            positionals += 1
            if positionals == 2 { return out + args[i...] }
        }
        out.append(a)
    }
    return out
}

do {
    var command = try Umk.parseAsRoot(rewriteArguments(Array(CommandLine.arguments.dropFirst())))
    try command.run()
} catch {
    let code = Umk.exitCode(for: error)
    if code == .success {
        print(Umk.fullMessage(for: error))
        CommandLineHost.exit(0)
    }
    // One line, as for every other umk failure; `umk run --help` has the rest.
    let message = Umk.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    CommandLineHost.printError("umk: \(message)")
    CommandLineHost.exit(125)
}
