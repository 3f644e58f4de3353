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
            """,
        version: "umk 0.1.0",
        subcommands: [Run.self, Syscalls.self])
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
        } else if strace {
            config.straceFD = 2
        }

        CommandLineHost.saveTerminalMode()
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
                                   "--log", "-v", "--volume", "--tmpfs", "--upper", "--strace-file", "--gdb"]
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
