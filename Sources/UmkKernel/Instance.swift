import UmkHost

// Instance.swift: the library API. A Configuration says what to boot; Instance.run boots a kernel on its own
// host thread (the tracer of all its stubs), runs the first program to the end and returns its status.

public struct Configuration: Sendable {
    /// Host directory that is the guest's root, seen read-only.
    public var root: String = "/"
    /// A host directory that keeps the root's upper layer between runs (`--upper`), or nil: throwaway.
    public var upper: String? = nil
    /// Mounts over the root, made in order at boot: binds of host paths (`-v`) and tmpfs (`--tmpfs`).
    public var mounts: [MountRequest] = []
    /// Guest RAM in bytes: the size of the physical-memory file.
    public var memoryBytes: Int = 1 << 30
    /// Host CPUs the guest's tasks run on at once, and the CPUs the guest sees (nil: the default, 1).
    public var cpus: Int? = nil
    /// vm.overcommit_memory: heuristic by default, as on Linux.
    public var overcommit = OvercommitPolicy.heuristic
    public var hostname: String = "umk"
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    /// The first program's environment, as KEY=VALUE strings.
    public var environment: [String] = []
    /// The first program's working directory in the guest.
    public var workingDirectory: String = "/"
    /// A working directory to use instead when it exists in the guest (the caller's, as `runsc do` and
    /// proot do, so that `umk run -- ./prog` works); `workingDirectory` otherwise.
    public var preferredWorkingDirectory: String? = nil
    /// The guest's console: process 1's fds 0, 1 and 2 (and /dev/console) are these host descriptors. The
    /// caller owns them: umk never closes them, and they must stay open until `run` returns. umk's own stdin,
    /// stdout and stderr by default; pipes or files for an embedder (open /dev/null for no input). The guest
    /// gets the console as its controlling terminal only when `standardInput` is a terminal.
    public var standardInput: Int32 = 0
    public var standardOutput: Int32 = 1
    public var standardError: Int32 = 2
    /// Where --strace writes (a host fd, 2 for stderr), or nil for no tracing.
    public var straceFD: Int32? = nil
    /// --strace-filter: which calls --strace prints, in strace's -e trace= syntax (nil: all of them).
    public var straceFilter: String? = nil
    /// --strace-timing: the time each call took after its result, as strace -T.
    public var straceTiming = false
    /// Kernel log threshold: messages at this level or above reach stderr.
    public var logLevel: String = "warning"
    /// Forward SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 sent to umk to the guest's process 1,
    /// as `docker run` does, instead of letting them kill umk. For the command line; off for embedders: the
    /// signals are umk's process's, so at most one instance of a host process may forward them.
    public var forwardSignals = false
    /// When the guest fails (a non-zero status or a signal) after calling system calls umk does not have, say
    /// which on stderr in one line: the likeliest reason for the failure. For the command line.
    public var reportUnimplemented = false
    /// gdb may attach to its processes later (Instance.attachDebugger, `umk gdb NAME PID`): the kernel
    /// thread's seccomp filter then lets it talk to gdb.
    public var debuggerAttachable = false
    /// `--gdb ADDR`: listen at ADDR (`HOST:PORT` on 127.0.0.1, `:PORT`, or a UNIX socket path) and let gdb
    /// debug process 1, which waits for it before its first instruction.
    public var gdb: String? = nil

    public init() {}
}

/// One mount asked for on the command line.
public enum MountRequest: Sendable, Equatable {
    /// `-v HOST:GUEST[:ro]`: the host file or directory at GUEST, writable (with the host rights of the user
    /// running umk) unless `readOnly`.
    case bind(host: String, guest: String, readOnly: Bool)
    /// `--tmpfs PATH[:size=N]`: an empty tmpfs at PATH, of at most `sizeBytes` (nil: half of --mem).
    case tmpfs(guest: String, sizeBytes: Int?)
}

public enum ExitStatus: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)

    /// As a shell reports it: the exit code, or 128+N for a signal.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let c): return c & 0xff
        case .signaled(let s): return 128 + s
        }
    }
}

/// Why the first program could not start: each maps to a documented `umk run` exit status.
public enum LaunchError: Error, Equatable, CustomStringConvertible {
    /// 127: nothing of that name on the guest PATH or at that path.
    case notFound(String)
    /// 126: it exists but cannot be executed (permissions, not an executable, malformed ELF).
    case cannotExecute(String, reason: String)
    /// 125: umk itself could not boot.
    case kernelFailure(String)

    public var description: String {
        switch self {
        case .notFound(let p): return "\(p): not found"
        case .cannotExecute(let p, let r): return "\(p): cannot execute: \(r)"
        case .kernelFailure(let r): return "cannot boot: \(r)"
        }
    }

    public var exitStatus: Int32 {
        switch self {
        case .notFound: return 127
        case .cannotExecute: return 126
        case .kernelFailure: return 125
        }
    }
}

/// A booted kernel: run one program to its end (`run`), or start it and give it programs one after another
/// or at once (`start`, `spawn`), each with its own stdin, stdout and stderr, then `shutDown`. Each instance
/// runs on a kernel thread of its own; any thread may call these methods.
public final class Instance: Sendable {
    public let configuration: Configuration
    private let shared = InstanceState()

    public init(_ configuration: Configuration) { self.configuration = configuration }

    deinit { shutDown() }

    /// Boots, runs `argv` (argv[0] is the program: a guest path, or a name looked up in the guest PATH) as
    /// process 1, and returns its exit status when it ends.
    public func run(_ argv: [String]) throws(LaunchError) -> ExitStatus {
        try boot(argv)
        return try shared.waitForEnd(deadline: nil)!.get()
    }

    /// Boots the instance and returns once it runs: with `argv` as its process 1 (the instance ends when it
    /// does; its stdio is the configured console), or with no program (`spawn` starts them; the instance
    /// runs until `shutDown`, and its processes start at pid 2).
    @discardableResult
    public func start(_ argv: [String]? = nil) throws(LaunchError) -> GuestProcess? {
        let first = argv.map { _ in GuestProcess(pid: 1, instance: shared, outputs: []) }
        try boot(argv, first: first)
        return first
    }

    /// Starts a program in the running instance, with its own streams (the console, /dev/null, bytes, host
    /// files or descriptors, pipes, or memory kept for the caller), environment (the configuration's by
    /// default), working directory and user. The program is the kernel's own child: parent pid 0, a session of
    /// its own, as `docker exec` makes it.
    public func spawn(_ argv: [String], _ options: SpawnOptions = SpawnOptions()) throws(LaunchError) -> GuestProcess {
        guard let inbox = shared.inbox else { throw .kernelFailure("the instance is not running") }
        var streams: [HostFile] = []
        var callerEnds: [HostFile?] = [nil, nil, nil]
        let console = [configuration.standardInput, configuration.standardOutput, configuration.standardError]
        let allConsole = options.standardInput == .console && options.standardOutput == .console
            && options.standardError == .console
        if !allConsole {
            do throws(Errno) {
                let input: HostFile
                switch options.standardInput {
                case .console: input = try HostStreams.duplicate(console[0])
                case .null: input = try HostStreams.open("/dev/null", forWriting: false)
                case .bytes(let b): input = try HostStreams.memoryFile("umk-stdin", contents: b)
                case .file(let path): input = try HostStreams.open(path, forWriting: false)
                case .descriptor(let fd): input = try HostStreams.duplicate(fd)
                case .pipe:
                    let p = try HostStreams.pipe()
                    (input, callerEnds[0]) = (p.read, p.write)
                }
                streams.append(input)
                for (i, output) in [options.standardOutput, options.standardError].enumerated() {
                    let file: HostFile
                    switch output {
                    case .console: file = try HostStreams.duplicate(console[i + 1])
                    case .null: file = try HostStreams.open("/dev/null", forWriting: true)
                    case .capture:
                        file = try HostStreams.memoryFile(i == 0 ? "umk-stdout" : "umk-stderr")
                    case .file(let path, let append): file = try HostStreams.open(path, forWriting: true, append: append)
                    case .descriptor(let fd): file = try HostStreams.duplicate(fd)
                    case .pipe:
                        let p = try HostStreams.pipe()
                        (file, callerEnds[i + 1]) = (p.write, p.read)
                    }
                    streams.append(file)
                }
            } catch {
                throw .kernelFailure("the program's streams: \(LinuxErrno(host: error).message)")
            }
        }
        let process = GuestProcess(pid: 0, instance: shared, outputs: allConsole ? [] : Array(streams[1...]), callerEnds: callerEnds,
                                   captured: [options.standardOutput == .capture, options.standardError == .capture])
        let request = SpawnRequest(
            argv: argv, environment: options.environment ?? configuration.environment,
            workingDirectory: options.workingDirectory ?? configuration.workingDirectory,
            preferredWorkingDirectory: options.workingDirectory == nil ? options.preferredWorkingDirectory : nil,
            uid: options.uid ?? configuration.uid, gid: options.gid ?? configuration.gid,
            standardStreams: allConsole ? nil : streams,
            terminal: options.terminalSize,
            onExit: { [process] status in process.ended(status) })
        let started = inbox.call { kernel -> Result<(Int32, Int64), LaunchError> in
            Result { () throws(LaunchError) in
                let pid = try kernel.spawn(request)
                return (pid, kernel.processes[pid]?.startNanoseconds ?? 0)
            }
        }
        guard let started else { throw .kernelFailure("the instance has ended") }
        let (pid, token) = try started.get()
        process.started(pid: pid, token: token)
        return process
    }

    /// Signals process 1 (`umk kill`); false when there is none (as kill(2), true even if it ignores it).
    @discardableResult
    public func signal(_ sig: Int32) -> Bool {
        guard (1...64).contains(sig), let inbox = shared.inbox else { return false }
        return inbox.call { kernel in
            guard let p = kernel.processes[1], p.exitStatus == nil else { return false }
            kernel.sendToProcess(p, sig, info: SignalInfo(signo: sig, code: SignalInfo.SI_USER))
            return true
        } ?? false
    }

    /// The instance's processes, as `umk ps` lists them (empty once it has ended).
    public func processes() -> [GuestProcessInfo] {
        shared.inbox?.call { $0.processList() } ?? []
    }

    /// Puts process `pid` under gdb, whose remote-protocol connection is the socket `descriptor` (the
    /// caller's: umk uses a duplicate). Needs `debuggerAttachable`. nil when attached, else why not.
    public func attachDebugger(descriptor: Int32, pid: Int32) -> String? {
        guard configuration.debuggerAttachable else { return "the instance was not started to be debugged" }
        guard let inbox = shared.inbox else { return "the instance has ended" }
        guard let fd = try? HostStreams.duplicate(descriptor) else { return "cannot take gdb's connection" }
        return inbox.call { kernel -> String? in
            guard kernel.debugger == nil else { return "gdb is attached to a process of the instance already" }
            guard let p = kernel.processes[pid], p.exitStatus == nil else { return "no process \(pid)" }
            kernel.attachDebugger(connection: DebugConnection(fd: fd.release()), to: p, attached: true)
            return nil
        } ?? "the instance has ended"
    }

    /// Guest memory in use: bytes of the physical-memory file holding pages (`umk ls`).
    public func memoryInUse() -> Int {
        shared.inbox?.call { ($0.frames.totalFrames - $0.frames.freeFrames) * 4096 } ?? 0
    }

    /// Waits for the instance to end (process 1's exit, or `shutDown`): its status, or nil at the deadline
    /// (in seconds from now; nil waits for ever).
    public func wait(timeout: Double? = nil) -> ExitStatus? {
        let deadline = Instance.deadline(after: timeout)
        guard let result = shared.waitForEnd(deadline: deadline) else { return nil }
        return (try? result.get()) ?? .signaled(9)
    }

    /// Ends the instance: every process is killed, then every host resource it had is given back. Returns
    /// once that is done; nothing if it was not running.
    public func shutDown() {
        shared.waitUntilBootSettles()  // a start on another thread: running, or failed
        if let inbox = shared.inbox { _ = inbox.call { $0.shutDownFromOutside() } }
        shared.joinKernelThread()
    }

    /// A wait's deadline `seconds` from now: nil (no limit) for nil, infinity or NaN; at most a year away.
    static func deadline(after seconds: Double?) -> Int64? {
        guard let seconds, seconds.isFinite else { return nil }
        return HostClock.monotonicNanoseconds() + Int64(min(max(seconds, 0), 365 * 86400) * 1e9)
    }

    private func boot(_ argv: [String]?, first: GuestProcess? = nil) throws(LaunchError) {
        let config = configuration
        let shared = self.shared
        guard shared.claimBoot() else { throw .kernelFailure("the instance was started already") }
        if config.forwardSignals { SignalProxy.blockInThisThread() }
        let inbox = KernelInbox()
        let thread = HostThread(name: "umk-kernel") {
            if config.forwardSignals { SignalProxy.install() }
            let result = Result { () throws(LaunchError) in
                let kernel = try Kernel(config, inbox: inbox)
                defer { kernel.releaseFilesystems() }  // after --upper is saved: nothing reads them any more
                if let first { kernel.exitWatchers[1] = { [first] status in first.ended(status) } }
                return try kernel.boot(argv) { shared.running(inbox, writer: kernel.consoleOutput.writer) }
            }
            shared.ended(result)
        }
        shared.setThread(thread)
        try shared.waitUntilRunning()
    }
}

/// Where a spawned program's stdin comes from.
public enum GuestInput: Sendable, Equatable {
    /// The instance's console (Configuration.standardInput).
    case console
    case null
    /// These bytes, then end of file (a file in memory: the program sees a regular file, as with `< FILE`).
    case bytes([UInt8])
    /// A host file, read from its start.
    case file(String)
    /// A host descriptor of the caller's (umk uses a duplicate: the caller may close its own).
    case descriptor(Int32)
    /// A pipe whose write end the caller gets (GuestProcess.standardInputPipe).
    case pipe
}

/// Where a spawned program's stdout or stderr goes.
public enum GuestOutput: Sendable, Equatable {
    case console
    case null
    /// Kept in memory for the caller (GuestProcess.standardOutput and .standardError after `wait`).
    case capture
    /// A host file, created or truncated (or appended to).
    case file(String, append: Bool = false)
    case descriptor(Int32)
    /// A pipe whose read end the caller gets (GuestProcess.standardOutputPipe, .standardErrorPipe).
    case pipe
}

public struct SpawnOptions: Sendable {
    public var standardInput: GuestInput = .null
    public var standardOutput: GuestOutput = .capture
    public var standardError: GuestOutput = .capture
    /// KEY=VALUE strings; nil: the configuration's.
    public var environment: [String]? = nil
    public var workingDirectory: String? = nil
    /// A working directory to use instead when the guest has it (as Configuration's).
    public var preferredWorkingDirectory: String? = nil
    public var uid: UInt32? = nil
    public var gid: UInt32? = nil
    /// A pseudo-terminal of this size (rows, columns) between the program and its streams, its controlling
    /// terminal (`umk exec -t`): the streams then carry raw terminal bytes. Needs non-console streams.
    public var terminalSize: (rows: UInt16, columns: UInt16)? = nil

    public init(standardInput: GuestInput = .null, standardOutput: GuestOutput = .capture,
                standardError: GuestOutput = .capture, environment: [String]? = nil, workingDirectory: String? = nil) {
        self.standardInput = standardInput
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// A program running in an instance: wait for it, signal it, read what it wrote.
public final class GuestProcess: @unchecked Sendable {
    /// Its guest pid (unique among the instance's live processes).
    public private(set) var pid: Int32
    private var token: Int64 = 0
    private let instance: InstanceState
    private let monitor = HostMonitor()
    private var status: ExitStatus?
    /// The program's stdout and stderr, held weakly (a pipe's write end must close when the guest's last
    /// copy goes), to wait for the console writer to have written them; the memory files of captured ones;
    /// the host ends of pipes the caller asked for.
    private let outputs: [Weak]
    private let captures: [HostFile?]
    private var callerEnds: [HostFile?]
    private struct Weak { weak var file: HostFile? }
    private var outputBytes: [[UInt8]] = [[], []]
    private var drained = false

    init(pid: Int32, instance: InstanceState, outputs: [HostFile], callerEnds: [HostFile?] = [nil, nil, nil],
         captured: [Bool] = [false, false]) {
        self.pid = pid
        self.instance = instance
        self.outputs = outputs.map { Weak(file: $0) }
        self.captures = outputs.indices.map { captured.indices.contains($0) && captured[$0] ? outputs[$0] : nil }
        self.callerEnds = callerEnds
    }

    func started(pid: Int32, token: Int64) {
        monitor.update {
            self.pid = pid
            self.token = token
        }
    }

    func ended(_ status: ExitStatus) { monitor.update { self.status = status } }

    /// Waits for the program to end: its status, or nil if `timeout` seconds pass first (nil: no limit).
    public func wait(timeout: Double? = nil) -> ExitStatus? {
        let deadline = Instance.deadline(after: timeout)
        guard monitor.wait(until: deadline, for: { status != nil }) else { return nil }
        collectOutput()
        return monitor.locked { status }
    }

    /// Sends signal `sig` to the program (to its process group with `group`, as a terminal's keys do): false
    /// when it has ended or `sig` is not a signal (as kill(2), true even if the program ignores it).
    @discardableResult
    public func signal(_ sig: Int32, group: Bool = false) -> Bool {
        guard (1...64).contains(sig), let inbox = instance.inbox else { return false }
        let (pid, token) = monitor.locked { (self.pid, self.token) }
        return inbox.call { kernel in
            // The pid may have been reused by now: the process must be the one that started then.
            guard let p = kernel.processes[pid], p.exitStatus == nil, p.startNanoseconds == token || pid == 1 else { return false }
            if group {
                kernel.signalGroup(p.processGroup, sig)
                return true
            }
            kernel.sendToProcess(p, sig, info: SignalInfo(signo: sig, code: SignalInfo.SI_USER))
            return true
        } ?? false
    }

    /// What the program wrote to a captured stdout or stderr (after `wait` returned a status).
    public var standardOutput: [UInt8] { collectOutput(); return monitor.locked { outputBytes[0] } }
    public var standardError: [UInt8] { collectOutput(); return monitor.locked { outputBytes[1] } }

    /// The caller's ends of `.pipe` streams: write to stdin's (close it for end of file), read the others'.
    /// They belong to this object and close with it.
    public var standardInputPipe: Int32? { monitor.locked { callerEnds[0]?.fd } }
    public var standardOutputPipe: Int32? { monitor.locked { callerEnds[1]?.fd } }
    public var standardErrorPipe: Int32? { monitor.locked { callerEnds[2]?.fd } }

    /// The window size of its pseudo-terminal (SpawnOptions.terminalSize) changed: SIGWINCH to its foreground.
    public func resizeTerminal(rows: UInt16, columns: UInt16) {
        let (pid, token) = monitor.locked { (self.pid, self.token) }
        _ = instance.inbox?.call { kernel in
            guard kernel.processes[pid]?.startNanoseconds == token else { return }  // not a reused pid
            kernel.relaysByPid[pid]?.resize(rows: rows, columns: columns)
        }
    }

    /// Closes the caller's end of a stdin pipe: the program reads end of file. (Do not close() it yourself.)
    public func closeStandardInput() { monitor.update { callerEnds[0] = nil } }

    /// Once the program has ended and the console writer has written all it wrote, the captured bytes.
    private func collectOutput() {
        guard monitor.locked({ status != nil && !drained }) else { return }
        for output in outputs { if let file = output.file { instance.writer?.drain(file) } }
        var bytes: [[UInt8]] = [[], []]
        for (i, file) in captures.enumerated() { if let file { bytes[i] = HostStreams.contents(file) } }
        monitor.update {
            outputBytes = bytes
            drained = true
        }
    }
}

/// What the threads around one instance share: its kernel thread, inbox and end.
final class InstanceState: @unchecked Sendable {
    private let monitor = HostMonitor()
    private var booted = false
    private var runningInbox: KernelInbox?
    private var consoleWriter: ConsoleWriter?
    private var result: Result<ExitStatus, LaunchError>?
    private var thread: HostThread?

    func claimBoot() -> Bool {
        monitor.update {
            guard !booted else { return false }
            booted = true
            return true
        }
    }

    func setThread(_ t: HostThread) { monitor.update { thread = t } }
    func running(_ inbox: KernelInbox, writer: ConsoleWriter) {
        monitor.update {
            runningInbox = inbox
            consoleWriter = writer
        }
    }
    func ended(_ r: Result<ExitStatus, LaunchError>) {
        monitor.update {
            result = r
            runningInbox = nil
        }
    }

    var inbox: KernelInbox? { monitor.locked { runningInbox } }
    var writer: ConsoleWriter? { monitor.locked { consoleWriter } }

    /// If a boot has begun, until the kernel runs its loop or has ended.
    func waitUntilBootSettles() {
        _ = monitor.wait { !booted || runningInbox != nil || result != nil }
    }

    /// Until the kernel runs its loop, or could not boot.
    func waitUntilRunning() throws(LaunchError) {
        _ = monitor.wait { runningInbox != nil || result != nil }
        if let failure = monitor.locked({ result }), case .failure(let e) = failure {
            joinKernelThread()
            throw e
        }
    }

    func waitForEnd(deadline: Int64?) -> Result<ExitStatus, LaunchError>? {
        guard monitor.wait(until: deadline, for: { result != nil || !booted }) else { return nil }
        joinKernelThread()
        return monitor.locked { result }
    }

    /// Joins the kernel thread once (its host resources are all given back by then).
    func joinKernelThread() {
        guard let t = monitor.update({ () -> HostThread? in
            defer { thread = nil }
            return thread
        }) else { return }
        t.join()
    }
}

/// The few host services the command line uses, so that it never calls the host itself.
public enum CommandLineHost {
    public static func environmentValue(_ name: String) -> String? { HostProcess.environmentValue(name) }
    public static func currentDirectory() -> String? { HostProcess.currentDirectory() }
    /// Whether umk's stdout is a terminal (the guest then gets the host's TERM).
    public static var outputIsTerminal: Bool { HostFile.standardOutput.isTerminal }

    /// Opens FILE for --strace=FILE: its fd, or why not (one line).
    public static func createTraceFile(_ path: String) -> Result<Int32, TraceFileError> {
        do {
            return .success(try HostProcess.createFile(path))
        } catch {
            return .failure(TraceFileError(reason: LinuxErrno(host: error).message))
        }
    }

    public struct TraceFileError: Error {
        public let reason: String
    }

    public static func printError(_ line: String) { HostProcess.printError(line) }
    /// Saves the terminal's mode, to be restored on exit and on a crash of umk.
    public static func saveTerminalMode() { HostTerminal.saveMode() }
    public static func exit(_ status: Int32) -> Never { HostProcess.exit(status) }
}
