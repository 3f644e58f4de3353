// CrashReportTests.swift: a kernel bug does not look like a crash of the host program (issue 10.4). The test
// hook UMK_TEST_KERNEL_BUG=NAME[:KIND] (umk's own environment, out of a guest's reach) makes the kernel thread
// hit a bug on the guest's first system call NAME: umk prints an oops report naming the task and the call, with
// its last system calls and the kernel backtrace, kills every stub and exits 125.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class CrashReportTests: SystemTestCase {
    /// A shell with two background children runs `uname`, whose uname(2) meets the bug.
    private func crash(_ kind: String, file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        var environment = ProcessInfo.processInfo.environment
        environment["UMK_TEST_KERNEL_BUG"] = "uname:\(kind)"
        let script = "sleep 5 & sleep 5 & sleep 0.2; uname -s; echo not reached"
        let outcome = Runner.run(try umkBinary(), ["run"] + identityOptions + ["--", "/bin/sh", "-c", script],
                                 environment: environment, timeout: 30)
        XCTAssertEqual(outcome.termination, .exited(125), outcome.report, file: file, line: line)
        XCTAssertFalse(outcome.out.contains("not reached"), outcome.report, file: file, line: line)
        let err = outcome.err
        for expected in ["umk: kernel bug: ", " in the kernel thread", "(uname): system call 63 uname(0x",
                         "umk: guest registers:", "orig_rax=0x3f", "umk: last 20 system calls of tid ", "  mprotect (10) = 0",
                         "  uname (63) = ? (in progress)", "umk: kernel backtrace", "umk: killing every stub process:"]
        {
            XCTAssertTrue(err.contains(expected), "no \"\(expected)\" in the report\n\(outcome.report)",
                          file: file, line: line)
        }
        // Every stub the report names is gone, and none was left behind.
        let killed = err.components(separatedBy: "\n").first { $0.hasPrefix("umk: killing every stub process:") }?
            .split(separator: ":").last?.split(separator: " ").compactMap { pid_t($0) } ?? []
        XCTAssertGreaterThanOrEqual(killed.count, 3, "the shell, two sleeps and uname have stubs\n\(outcome.report)",
                                    file: file, line: line)
        let deadline = Date().addingTimeInterval(2)
        while killed.contains(where: HostProcesses.isAlive) && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(killed.filter(HostProcesses.isAlive), [], outcome.report, file: file, line: line)
        assertNoStrayStubs(after: outcome, file: file, line: line)
        return outcome
    }

    /// A failed precondition (ud2, SIGILL): the Swift runtime's own kind of trap.
    func testCrashReportOnTrap() throws {
        let outcome = try crash("trap")
        XCTAssertTrue(outcome.err.contains("SIGILL"), outcome.report)
        XCTAssertTrue(outcome.err.contains("dispatch"), "the backtrace names the dispatcher\n\(outcome.report)")
    }

    func testCrashReportOnOverflow() throws { _ = try crash("overflow") }

    func testCrashReportOnBadMemoryAccess() throws {
        let outcome = try crash("segv")
        XCTAssertTrue(outcome.err.contains("SIGSEGV"), outcome.report)
    }

    func testCrashReportOnAbort() throws { _ = try crash("abort") }

    /// An unexpected host error in the kernel loop: the same report less the backtrace, exit 125, no stub left.
    func testCrashReportOnHostError() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["UMK_TEST_KERNEL_BUG"] = "uname:host"
        let script = "sleep 5 & sleep 0.2; uname -s; sleep 5"
        let outcome = Runner.run(try umkBinary(), ["run"] + identityOptions + ["--", "/bin/sh", "-c", script],
                                 environment: environment, timeout: 30)
        XCTAssertEqual(outcome.termination, .exited(125), outcome.report)
        for expected in ["umk: kernel bug: unexpected host error: ", "(uname): system call 63 uname(0x", "umk: guest registers:",
                         "umk: last 20 system calls of tid ", "  uname (63) = 0"]
        {
            XCTAssertTrue(outcome.err.contains(expected), "no \"\(expected)\" in the report\n\(outcome.report)")
        }
        assertNoStrayStubs(after: outcome)
    }
}
