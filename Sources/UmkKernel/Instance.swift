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
    /// Kernel log threshold: messages at this level or above reach stderr.
    public var logLevel: String = "warning"
    /// Forward SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 sent to umk to the guest's process 1,
    /// as `docker run` does, instead of letting them kill umk. For the command line; off for embedders: the
    /// signals are umk's process's, so at most one instance of a host process may forward them.
    public var forwardSignals = false
    /// When the guest fails (a non-zero status or a signal) after calling system calls umk does not have, say
    /// which on stderr in one line: the likeliest reason for the failure. For the command line.
    public var reportUnimplemented = false
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

public final class Instance: @unchecked Sendable {
    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Boots, runs `argv` (argv[0] is the program: a guest path, or a name looked up in the guest PATH) as
    /// process 1, and returns its exit status when it ends.
    public func run(_ argv: [String]) throws(LaunchError) -> ExitStatus {
        var result: Result<ExitStatus, LaunchError> = .failure(.kernelFailure("kernel thread did not run"))
        let config = configuration
        if config.forwardSignals { SignalProxy.blockInThisThread() }
        let thread = HostThread(name: "umk-kernel") {
            if config.forwardSignals { SignalProxy.install() }
            result = Result { () throws(LaunchError) in
                let kernel = try Kernel(config)
                defer { kernel.releaseFilesystems() }  // after --upper is saved: nothing reads them any more
                return try kernel.boot(argv)
            }
        }
        thread.join()
        return try result.get()
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
