// ProcessTests.swift: the differential tests of processes: fork and copy-on-write, wait and its statuses,
// process groups and sessions, orphans (fork.c); execve and execveat of binaries and #! scripts with every
// error case (exec.c); pipes (pipe.c); tasks blocked in the kernel beside others (sleep.c). Each runs natively
// and under umk, as a glibc static binary, a static-pie one and a musl one where musl-gcc is installed (a skip
// otherwise). Output and exit status must be identical. The fork bomb runs under umk only.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class ProcessTests: SystemTestCase {

    /// What exec.c executes: scripts, a non-executable file, garbage, symlink loops (Userland/scripts/exec).
    private var execFixtures: String { Paths.userland + "/scripts/exec" }

    // MARK: fork, CoW, wait, groups, sessions, orphans (fork FILE reads its own binary)

    func testFork() throws { try same("fork", .glibc, { [$0] }) }
    func testForkStaticPie() throws { try same("fork", .staticPie, { [$0] }) }
    func testForkMusl() throws { try same("fork", .musl, { [$0] }) }

    // MARK: execve, execveat, #! scripts, errors, what survives an exec

    func testExec() throws { try same("exec", .glibc, { _ in [self.execFixtures] }, compareStderr: true) }
    func testExecStaticPie() throws { try same("exec", .staticPie, { _ in [self.execFixtures] }, compareStderr: true) }
    func testExecMusl() throws { try same("exec", .musl, { _ in [self.execFixtures] }, compareStderr: true) }

    // MARK: pipes

    func testPipe() throws { try same("pipe", .glibc) }
    func testPipeStaticPie() throws { try same("pipe", .staticPie) }
    func testPipeMusl() throws { try same("pipe", .musl) }

    // MARK: blocked tasks do not block the others

    func testSleepersAndBlockedTasks() throws { try same("sleep", .glibc) }
    func testSleepersAndBlockedTasksMusl() throws { try same("sleep", .musl) }

    /// Children that spin without system calls: a sleeper beside them wakes, and signals reach them.
    func testSpinningTasksNeverStallTheOthers() throws { try same("spin", .glibc) }
    func testSpinningTasksNeverStallTheOthersMusl() throws { try same("spin", .musl) }

    // MARK: umk only

    /// A fork bomb in a 64 MiB guest: fork ends with EAGAIN or ENOMEM, the guest reaps every child, and umk
    /// exits with the guest's status and leaves nothing behind (SystemTestCase.umk checks for strays).
    func testUmkOnlyForkBombEndsWithEAGAINOrENOMEM() throws {
        let outcome = try runUnderUmk(try Userland.program("forkbomb"), options: ["--mem", "64M"], timeout: 180)
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertTrue(outcome.out.contains("first fork failure: EAGAIN\n")
                      || outcome.out.contains("first fork failure: ENOMEM\n"),
                      "expected fork to fail with EAGAIN or ENOMEM within 5000 forks\n\(outcome.report)")
        XCTAssertTrue(outcome.out.contains("reaped all\n"), outcome.report)
        XCTAssertTrue(outcome.out.contains("every child exited 0: yes\n"), outcome.report)
    }

    /// The shell fork bomb, `b(){ b|b& }; b`, in a 64 MiB guest. It never ends by itself: pid 1 (the shell)
    /// sleeps 3 s and exits, which ends the instance and kills every guest process. umk must come back by
    /// itself (not at the timeout), with no failure of its own, and leave no stub behind.
    func testUmkOnlyShellForkBombEndsWithPidOne() throws {
        let script = "b() { b | b & }; b; sleep 3; echo 'pid 1 is still here'"
        let outcome = try runUnderUmk("/bin/sh", ["-c", script], options: ["--mem", "64M"], timeout: 120)
        guard let status = outcome.termination.shellStatus else {
            return XCTFail("umk did not end by itself\n\(outcome.report)")
        }
        XCTAssertNotEqual(status, 125, "umk itself failed\n\(outcome.report)")
        XCTAssertFalse(outcome.err.contains("Fatal error"), "umk crashed\n\(outcome.report)")
        if status == 0 { XCTAssertTrue(outcome.out.contains("pid 1 is still here"), outcome.report) }
    }

    /// pid 1 exits while its children still run: the instance ends at once, every guest process is killed,
    /// and umk returns pid 1's status.
    func testUmkOnlyInstanceEndsWhenPidOneExits() throws {
        let start = Date()
        let outcome = try runUnderUmk("/bin/sh", ["-c", "sleep 30 & sleep 30 | cat & exit 7"], timeout: 60)
        XCTAssertEqual(outcome.termination, .exited(7), outcome.report)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20,
                          "umk waited for pid 1's children instead of killing them\n\(outcome.report)")
    }

    /// The guest sees virtual pids: its first process is pid 1, and its parent is 0.
    func testUmkOnlyFirstProcessIsPidOne() throws {
        let outcome = try runUnderUmk("/bin/sh", ["-c", "echo $$ $PPID; sh -c 'echo $PPID'; true"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "1 0\n1\n", outcome.report)
    }
}
