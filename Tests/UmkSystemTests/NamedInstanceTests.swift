// NamedInstanceTests.swift: `umk run --name NAME -d` and the commands that reach the instance by name (ls, exec,
// ps, logs, kill, stop), in a control directory of the test's own (UMK_RUNTIME_DIR).

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class NamedInstanceTests: SystemTestCase {
    private var runtimeDirectory = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        runtimeDirectory = NSTemporaryDirectory() + "umk-named-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() {
        // Whatever a failed test left running goes, then the directory.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: runtimeDirectory)) ?? [] where name.hasSuffix(".sock") {
            _ = try? named(["stop", "-t", "0", String(name.dropLast(5))])
        }
        try? FileManager.default.removeItem(atPath: runtimeDirectory)
        super.tearDown()
    }

    /// `umk ARGS` with the test's control directory (and nothing else of the test's environment).
    @discardableResult
    private func named(_ arguments: [String], stdin: Data = Data(), user: (uid: UInt32, gid: UInt32)? = nil,
                       directory: String? = nil) throws -> Outcome {
        var environment = Runner.defaultEnvironment
        environment["UMK_RUNTIME_DIR"] = directory ?? runtimeDirectory
        if let user {
            return Runner.run("/usr/bin/setpriv", ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups",
                                                   try umkBinary()] + arguments, environment: environment, stdin: stdin)
        }
        return Runner.run(try umkBinary(), arguments, environment: environment, stdin: stdin)
    }

    private func assertStatus(_ outcome: Outcome, _ status: Int32, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.termination.shellStatus, status, outcome.report, file: file, line: line)
    }

    func testDetachedInstanceLifecycle() throws {
        let start = try named(["run", "-d", "--name", "box", "--", "/bin/sh", "-c", "echo up; echo err >&2; while :; do sleep 1; done"])
        assertStatus(start, 0)
        XCTAssertEqual(start.out, "box\n")

        let list = try named(["ls"])
        assertStatus(list, 0)
        let row = list.out.split(separator: "\n").first { $0.hasPrefix("box ") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        XCTAssertEqual(row?.last, "done", list.report)  // the command, last column
        XCTAssertNotNil(row.flatMap { Int32($0[1]) }.flatMap { HostProcess(pid: $0) }, "umk's pid in ls: \(list.out)")

        // Programs in the running instance: status, stdout, stderr, stdin, environment, working directory.
        let exec = try named(["exec", "-e", "X=42", "-w", "/tmp", "box", "--", "/bin/sh", "-c", "echo $X $(pwd) $PPID; echo oops >&2; exit 3"])
        assertStatus(exec, 3)
        XCTAssertEqual(exec.out, "42 /tmp 0\n")
        XCTAssertEqual(exec.err, "oops\n")
        let cat = try named(["exec", "box", "--", "/bin/cat"], stdin: Data("through exec\n".utf8))
        assertStatus(cat, 0)
        XCTAssertEqual(cat.out, "through exec\n")
        assertStatus(try named(["exec", "box", "--", "no-such-program"]), 127)
        assertStatus(try named(["exec", "box", "--", "/bin/sh", "-c", "kill -TERM $$"]), 128 + SIGTERM)

        let ps = try named(["ps", "box"])
        assertStatus(ps, 0)
        XCTAssertTrue(ps.out.hasPrefix("PID"), ps.report)
        XCTAssertTrue(ps.out.split(separator: "\n").contains { $0.hasPrefix("1 ") && $0.hasSuffix("/bin/sh -c echo up; echo err >&2; while :; do sleep 1; done") }, ps.report)

        let logs = try named(["logs", "box"])
        assertStatus(logs, 0)
        XCTAssertEqual(logs.out, "up\nerr\n")

        let taken = try named(["run", "-d", "--name", "box", "--", "/bin/true"])
        assertStatus(taken, 125)
        XCTAssertEqual(taken.err, "umk: an instance named box is running already\n")

        assertStatus(try named(["stop", "box"]), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runtimeDirectory + "/box.sock"))
        let gone = try named(["exec", "box", "--", "/bin/true"])
        assertStatus(gone, 125)
        XCTAssertEqual(gone.err, "umk: no instance named box is running\n")
        XCTAssertEqual(try named(["ls"]).out, "NAME  PID  UPTIME  PROCESSES  MEMORY  COMMAND\n")
        XCTAssertEqual(try named(["logs", "box"]).out, "up\nerr\n", "the log outlives the instance")
        assertStatus(try named(["run", "-d", "--name", "../x", "--", "/bin/true"]), 125)
        let notFound = try named(["run", "-d", "--name", "nf", "--", "/no/such"])
        assertStatus(notFound, 127)
        XCTAssertEqual(notFound.err, "umk: /no/such: not found\n")
        XCTAssertTrue(HostProcesses.strays().isEmpty)
    }

    /// `exec -t`: the program's stdin, stdout and stderr are a pseudo-terminal of the instance, its controlling
    /// terminal, of the client's size; the client's own terminal (here python's pty.spawn) sees raw bytes.
    func testExecWithAPseudoTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("no /usr/bin/python3 (its pty module is the terminal)") }
        assertStatus(try named(["run", "-d", "--name", "tty", "--", "/bin/sleep", "1000"]), 0)
        var environment = Runner.defaultEnvironment
        environment["UMK_RUNTIME_DIR"] = runtimeDirectory
        let script = "import pty, sys, os; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))"
        let outcome = Runner.run("/usr/bin/python3", ["-c", script, try umkBinary(), "exec", "-t", "tty", "--", "/bin/sh", "-c",
                                                       "tty; ps -o tty= -p $$; test -t 0 && echo interactive; exit 3"],
                                 environment: environment)
        assertStatus(outcome, 3)
        XCTAssertEqual(outcome.out, "/dev/pts/0\r\npts/0\r\ninteractive\r\n", outcome.report)
        let piped = try named(["exec", "-t", "tty", "--", "/bin/true"])
        assertStatus(piped, 125)
        XCTAssertEqual(piped.err, "umk: -t: the input is not a terminal\n")
        assertStatus(try named(["stop", "-t", "0", "tty"]), 0)
        XCTAssertTrue(HostProcesses.strays().isEmpty)
    }

    /// `umk gdb NAME PID`: gdb attaches to a process of a running instance (its connection handed over the
    /// control socket), sees where it is, detaches, and can attach again; the process runs on.
    func testGdbAttachesToARunningInstance() throws {
        guard let gdb = Paths.which("gdb") else { throw XCTSkip("gdb is not installed (Debian: gdb)") }
        assertStatus(try named(["run", "-d", "--name", "dbg", "--", "/bin/sleep", "1000"]), 0)
        var environment = Runner.defaultEnvironment
        environment["UMK_RUNTIME_DIR"] = runtimeDirectory
        for _ in 0..<2 {
            let session = Runner.run(gdb, ["-q", "-batch", "-ex", "target remote | \(try umkBinary()) gdb dbg 1",
                                           "-ex", "bt 1", "-ex", "info threads", "-ex", "detach"],
                                     environment: environment, timeout: 120)
            XCTAssertTrue(session.out.contains("clock_nanosleep"), session.report)
            XCTAssertTrue(session.out.contains("Thread 1.1 (sleep)"), session.report)
            XCTAssertTrue(session.out.contains("[Inferior 1 (process 1) detached]"), session.report)
        }
        XCTAssertTrue(try named(["ps", "dbg"]).out.contains("/bin/sleep 1000"))
        let notSocket = try named(["gdb", "dbg", "1"])
        assertStatus(notSocket, 125)
        XCTAssertTrue(notSocket.err.hasPrefix("umk: gdb's connection goes on stdin"), notSocket.report)
        let session = Runner.run(gdb, ["-q", "-batch", "-ex", "target remote | \(try umkBinary()) gdb dbg 99"],
                                 environment: environment, timeout: 120)
        XCTAssertTrue(session.err.contains("umk: dbg: no process 99"), session.report)
        assertStatus(try named(["stop", "-t", "0", "dbg"]), 0)
        XCTAssertTrue(HostProcesses.strays().isEmpty)
    }

    /// A detached instance whose control socket is removed (its directory cleaned up, as at logout) cannot be
    /// reached any more: it stops by itself instead of running on, stubs and all.
    func testInstanceStopsWhenItsSocketIsGone() throws {
        assertStatus(try named(["run", "-d", "--name", "lost", "--", "/bin/sh", "-c", "while :; do sleep 1; done"]), 0)
        let pid = try XCTUnwrap(try named(["ls"]).out.split(separator: "\n").first { $0.hasPrefix("lost ") }
            .flatMap { Int32($0.split(separator: " ", omittingEmptySubsequences: true)[1]) })
        XCTAssertEqual(unlink(runtimeDirectory + "/lost.sock"), 0)
        let deadline = Date().addingTimeInterval(20)
        while HostProcesses.isAlive(pid) && Date() < deadline { _ = HostProcesses.strays(waiting: 0.1) }
        XCTAssertFalse(HostProcesses.isAlive(pid), "umk went on without its control socket")
        XCTAssertTrue(HostProcesses.strays().isEmpty)
        XCTAssertTrue(try String(contentsOfFile: runtimeDirectory + "/lost.log", encoding: .utf8)
            .contains("umk: lost: the control socket \(runtimeDirectory)/lost.sock is gone; stopping the instance"))
    }

    /// `logs -f` follows the console until the instance ends, then returns with all of it.
    func testLogsFollow() throws {
        assertStatus(try named(["run", "-d", "--name", "talk", "--", "/bin/sh", "-c", "for i in 1 2 3 4; do echo line $i; sleep 0.2; done"]), 0)
        let follow = try named(["logs", "-f", "talk"])
        assertStatus(follow, 0)
        XCTAssertEqual(follow.out, "line 1\nline 2\nline 3\nline 4\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: runtimeDirectory + "/talk.sock"))
        let none = try named(["logs", "nothere"])
        assertStatus(none, 125)
        XCTAssertEqual(none.err, "umk: no log for nothere: it was not started with -d\n")
    }

    /// A guest that spins without system calls does not keep exec, ps or kill from being served.
    func testExecWhileTheInstanceIsBusy() throws {
        assertStatus(try named(["run", "-d", "--name", "busy", "--", "/bin/sh", "-c", "while :; do :; done"]), 0)
        let exec = try named(["exec", "busy", "--", "/bin/echo", "served"])
        assertStatus(exec, 0)
        XCTAssertEqual(exec.out, "served\n")
        XCTAssertTrue(try named(["ps", "busy"]).out.contains("R"))
        assertStatus(try named(["kill", "busy", "KILL"]), 0)
        let deadline = Date().addingTimeInterval(10)
        while FileManager.default.fileExists(atPath: runtimeDirectory + "/busy.sock") && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: runtimeDirectory + "/busy.sock"))
        XCTAssertTrue(HostProcesses.strays().isEmpty)
    }

    /// Another user cannot use the socket: umk will not use a control directory that is not the user's own
    /// (nor could it enter this one), and the instance refuses a peer of another uid (SO_PEERCRED) that reaches
    /// its socket all the same. A socket whose umk died is found stale and removed.
    func testOtherUsersAndStaleSockets() throws {
        assertStatus(try named(["run", "-d", "--name", "mine", "--", "/bin/sleep", "1000"]), 0)
        if getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            let denied = try named(["ps", "mine"], user: (65534, 65534))
            assertStatus(denied, 125)
            XCTAssertEqual(denied.err, "umk: \(runtimeDirectory): not a private directory of this user's (it must be mode 0700 and owned by uid 65534)\n")
            // The socket linked into a directory of the other user's, and opened up: the instance refuses them.
            let theirs = runtimeDirectory + "-nobody"
            XCTAssertEqual(mkdir(theirs, 0o700), 0)
            defer { unlink(theirs + "/mine.sock"); rmdir(theirs) }
            XCTAssertEqual(chown(theirs, 65534, 65534), 0)
            XCTAssertEqual(link(runtimeDirectory + "/mine.sock", theirs + "/mine.sock"), 0)
            XCTAssertEqual(chmod(theirs + "/mine.sock", 0o666), 0)
            let refused = try named(["exec", "mine", "--", "/bin/true"], user: (65534, 65534), directory: theirs)
            assertStatus(refused, 125)
            XCTAssertEqual(refused.err, "umk: permission denied: the instance belongs to uid 0\n", refused.report)
            XCTAssertEqual(try named(["ps", "mine"]).termination, .exited(0), "the instance serves its owner still")
        }
        let pid = try XCTUnwrap(try named(["ls"]).out.split(separator: "\n").first { $0.hasPrefix("mine ") }
            .flatMap { Int32($0.split(separator: " ", omittingEmptySubsequences: true)[1]) })
        kill(pid, SIGKILL)
        // Gone for good (the test process, the subreaper of what it starts, reaps it): only then is the socket stale.
        let deadline = Date().addingTimeInterval(20)
        while HostProcesses.isAlive(pid) && Date() < deadline { _ = HostProcesses.strays(waiting: 0.1) }
        _ = HostProcesses.strays()
        XCTAssertTrue(FileManager.default.fileExists(atPath: runtimeDirectory + "/mine.sock"))
        XCTAssertEqual(try named(["ls"]).out, "NAME  PID  UPTIME  PROCESSES  MEMORY  COMMAND\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: runtimeDirectory + "/mine.sock"), "stale socket left")
        assertStatus(try named(["run", "-d", "--name", "mine", "--", "/bin/true"]), 0)
        XCTAssertTrue(HostProcesses.strays().isEmpty)
    }
}
