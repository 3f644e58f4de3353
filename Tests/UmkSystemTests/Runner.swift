// Runner.swift: runs a host program, natively or under `umk run`, with a fixed environment, stdin and working
// directory, collects its stdout, stderr and how it ended, and kills it when it outlives its timeout so a hung
// guest cannot hang the suite.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// How a run ended. Natively a program dies by signal N; under umk the same death is exit status 128+N.
enum Termination: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    /// Still running at the deadline: it was killed with SIGKILL.
    case timedOut(TimeInterval)
    /// The host could not start the program at all (Process.run threw).
    case launchFailed(String)

    /// The status a shell would report: the exit code, or 128+N for signal N.
    var shellStatus: Int32? {
        switch self {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        case .timedOut, .launchFailed: return nil
        }
    }

    var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal): return "killed by signal \(signal) (status \(128 + signal))"
        case .timedOut(let seconds): return "timed out after \(Int(seconds)) s and was killed"
        case .launchFailed(let why): return "could not be started: \(why)"
        }
    }
}

/// What one run produced.
struct Outcome {
    var command: [String]
    var stdout: Data
    var stderr: Data
    var termination: Termination
    /// What the runner had to do beyond waiting: kills at the timeout, leftovers.
    var notes: [String] = []
    /// Processes the program left running after its exit, found because they delayed its end (killed since).
    var leftovers: [String] = []

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }

    /// The run, its status and both streams, for failure messages.
    var report: String {
        """
        $ \(command.map(shellQuoted).joined(separator: " "))
        \(([termination.description] + notes).joined(separator: "\n"))
        --- stdout (\(stdout.count) bytes)
        \(clipped(out))
        --- stderr (\(stderr.count) bytes)
        \(clipped(err))
        """
    }
}

/// A word as it would be typed in a shell, for showing commands in failure messages.
func shellQuoted(_ word: String) -> String {
    let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !word.isEmpty && word.unicodeScalars.allSatisfy({ plain.contains($0) }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// Long outputs are cut in the middle in failure messages, so that both ends stay readable.
func clipped(_ text: String, limit: Int = 6000) -> String {
    guard text.count > limit else { return text }
    return String(text.prefix(limit / 2)) + "\n[... \(text.count - limit) characters left out ...]\n"
        + String(text.suffix(limit / 2))
}

/// Collects bytes read on another thread.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

enum Runner {
    /// The guest environment umk gives by default, and so what native runs get too.
    static let defaultEnvironment = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "TERM": "xterm",
    ]

    /// stdin is written into its pipe before the program starts, so it must fit the pipe buffer: that way no
    /// writer thread is needed and the test process never meets SIGPIPE.
    static let maxStdin = 1 << 20

    /// Runs `executable` with `arguments` (argv[0] is `executable` itself), the environment `environment`
    /// (exactly: nothing is inherited), `stdin` on a pipe, stdout and stderr on pipes. `onStart` sees the pid
    /// once the program runs. Kills the program with SIGKILL when it runs longer than `timeout` seconds.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        cwd: String = "/", stdin: Data = Data(), timeout: TimeInterval = 60,
        onStart: ((pid_t) -> Void)? = nil
    ) -> Outcome {
        let command = [executable] + arguments
        precondition(stdin.count <= maxStdin, "stdin larger than the pipe buffer")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment ?? ProcessInfo.processInfo.environment
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)

        let input = Pipe(), output = Pipe(), errors = Pipe()
        if stdin.count > 1 << 16 {
            let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ
            let size = fcntl(input.fileHandleForWriting.fileDescriptor, setPipeSize, Int32(maxStdin))
            precondition(size >= stdin.count, "cannot grow the stdin pipe to \(stdin.count) bytes")
        }
        if !stdin.isEmpty { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors

        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do {
            try process.run()
        } catch {
            return Outcome(command: command, stdout: Data(), stderr: Data(), termination: .launchFailed("\(error)"))
        }
        onStart?(process.processIdentifier)

        // Read both streams to their end on other threads, so a chatty program never blocks on a full pipe.
        let readers = DispatchGroup()
        let out = Collected(), err = Collected()
        for (pipe, sink) in [(output, out), (errors, err)] {
            readers.enter()
            Thread.detachNewThread {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                readers.leave()
            }
        }

        // Foundation learns of the exit when every holder of a socket it leaves in the child has closed it, so
        // a descendant that keeps it delays the handler. Watch the process itself too: a zombie that stays
        // unreaped means something it left behind holds that socket, and is itself a finding.
        let pid = process.processIdentifier
        let deadline = Date().addingTimeInterval(timeout)
        var notes: [String] = [], leftovers: [String] = []
        var timedOut = false, exitSeen: Date?
        while ended.wait(timeout: .now() + 0.05) == .timedOut {
            if Date() >= deadline, !timedOut {
                timedOut = true
                notes.append(HostProcesses.isAlive(pid)
                    ? "still running after \(Int(timeout)) s: killed with SIGKILL"
                    : "it ended, but processes it left behind kept Foundation from seeing its exit")
                kill(pid, SIGKILL)
            } else if Date() >= deadline.addingTimeInterval(20) {
                notes.append("gave up waiting for its exit")
                break
            }
            guard HostProcess(pid: pid)?.isZombie ?? true else { continue }
            if exitSeen == nil { exitSeen = Date() }
            if Date().timeIntervalSince(exitSeen!) > 2 {
                let left = HostProcesses.children(of: getpid()).filter { $0.pid != pid && !$0.isZombie }
                if !left.isEmpty {
                    leftovers += left.map(\.description)
                    notes.append("it exited, but it left behind (now killed): "
                                 + left.map(\.description).joined(separator: "; "))
                    for process in left { kill(process.pid, SIGKILL) }
                }
                exitSeen = Date()
            }
        }
        let termination: Termination
        if timedOut || process.isRunning {
            termination = .timedOut(timeout)
        } else if process.terminationReason == .uncaughtSignal {
            termination = .signaled(process.terminationStatus)
        } else {
            termination = .exited(process.terminationStatus)
        }
        // A leftover descendant could hold the pipes open too.
        if readers.wait(timeout: .now() + 10) == .timedOut {
            notes.append("stdout or stderr stayed open 10 s after the exit: output may be cut")
        }
        var outcome = Outcome(command: command, stdout: out.get(), stderr: err.get(), termination: termination)
        outcome.notes = notes
        outcome.leftovers = leftovers
        return outcome
    }
}
