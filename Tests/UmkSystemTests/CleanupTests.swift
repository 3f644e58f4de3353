// CleanupTests.swift: nothing of an instance outlives umk. Every run in the suite already checks that no stub
// is left once umk exits (SystemTestCase.umk); here umk is killed with SIGKILL while its guest runs (one
// process, or many: a pipeline, background jobs, a fork and exec loop), which
// only PTRACE_O_EXITKILL and PR_SET_PDEATHSIG in the stubs can clean up after. While the guest runs, the
// stubs' open host files are checked too: the physical-memory memfd only.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The processes seen under a running umk and the host files they held open, recorded from another thread.
private final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var pids: [pid_t: String] = [:]
    private var fds: [String] = []
    func add(_ process: HostProcess) {
        let dir = "/proc/\(process.pid)/fd"
        // A link that cannot be read belongs to a stub exiting right now (its files are going): skip it.
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap { fd -> String? in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\(fd)") else {
                return nil
            }
            return "pid \(process.pid) (\(process.comm)) fd \(fd) -> " + target
        }
        lock.lock()
        pids[process.pid] = process.comm
        for fd in open where !fds.contains(fd) { fds.append(fd) }
        lock.unlock()
    }
    var all: [pid_t: String] { lock.lock(); defer { lock.unlock() }; return pids }
    var openFiles: [String] { lock.lock(); defer { lock.unlock() }; return fds }
}

final class CleanupTests: SystemTestCase {
    /// Runs `umk run -- PROGRAM ARGS`, records umk's child processes while it runs, SIGKILLs umk after
    /// `after` seconds (the runner's timeout kill), and checks that within 2 s none of them is alive.
    private func killUmk(running program: String, _ arguments: [String], after seconds: TimeInterval,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let seen = Seen()
        let stop = DispatchSemaphore(value: 0)
        let watching = DispatchGroup()
        let outcome = Runner.run(try umkBinary(), ["run"] + identityOptions + ["--", program] + arguments,
                                 timeout: seconds) { umk in
            watching.enter()
            Thread.detachNewThread {
                defer { watching.leave() }
                repeat {
                    for child in HostProcesses.children(of: umk) { seen.add(child) }
                } while stop.wait(timeout: .now() + 0.02) == .timedOut
            }
        }
        stop.signal()
        watching.wait()

        guard case .timedOut = outcome.termination else {
            XCTFail("umk ended by itself before it could be killed\n\(outcome.report)", file: file, line: line)
            return
        }
        XCTAssertFalse(seen.all.isEmpty, "no stub process was ever seen under umk\n\(outcome.report)",
                       file: file, line: line)
        // A stub holds no host file but the physical-memory memfd: not umk's stdin, stdout or stderr, not
        // the fds umk inherited (Foundation leaves a socket in it).
        let foreign = seen.openFiles.filter { !$0.contains("-> /memfd:") }
        XCTAssertTrue(foreign.isEmpty, "stubs held host files other than a memfd:\n"
                      + foreign.joined(separator: "\n"), file: file, line: line)
        let deadline = Date().addingTimeInterval(2)
        var alive: [pid_t] = []
        repeat {
            _ = HostProcesses.strays(waiting: 0)  // reaps the stubs reparented to the test process
            alive = seen.all.keys.filter(HostProcesses.isAlive)
            if alive.isEmpty { break }
            usleep(50_000)
        } while Date() < deadline
        let left = alive.compactMap { HostProcess(pid: $0)?.description }
        XCTAssertTrue(left.isEmpty, "alive 2 s after umk was killed: \(left.joined(separator: "; "))\n"
                      + outcome.report, file: file, line: line)
        for pid in alive { kill(pid, SIGKILL) }
        assertNoStrayStubs(after: outcome, file: file, line: line)
    }

    /// A guest blocked in a sleep.
    func testNoStubSurvivesUmkKilledDuringSleep() throws {
        try killUmk(running: "/bin/sleep", ["30"], after: 3)
    }

    /// A guest spinning in user mode, never entering the kernel.
    func testNoStubSurvivesUmkKilledDuringBusyLoop() throws {
        try killUmk(running: try Userland.program("loop"), [], after: 3)
    }

    /// A pipeline: several guest processes, each in its own stub, running or blocked on full and empty pipes.
    /// It never ends by itself, so it is always killed in the middle.
    func testNoStubSurvivesUmkKilledDuringPipeline() throws {
        try killUmk(running: "/bin/sh", ["-c", "yes | cat | cat | wc -c"], after: 3)
    }

    /// Background jobs blocked in sleeps and in a pipe, and pid 1 blocked in wait.
    func testNoStubSurvivesUmkKilledWithBackgroundJobs() throws {
        try killUmk(running: "/bin/sh", ["-c", "sleep 30 & sleep 30 | cat & sleep 30 & wait"], after: 3)
    }

    /// A loop of fork, exec and exit: umk is killed while stubs are being created and torn down.
    func testNoStubSurvivesUmkKilledDuringForkExecLoop() throws {
        try killUmk(running: "/bin/sh", ["-c", "while :; do /bin/true; done"], after: 3)
    }
}
