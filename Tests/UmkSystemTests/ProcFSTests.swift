// ProcFSTests.swift: the guest's /proc. Userland/procfs.c reads its own and a child's files and the system-wide
// ones, natively and under umk, printing only what must agree; the procps programs (ps, free, uptime, pgrep,
// top) then run under umk with their expected output written here, since the host's processes differ.

import Foundation
import XCTest

final class ProcFSTests: SystemTestCase {
    func testProcFS() throws { try same("procfs", .glibc) }
    func testProcFSStaticPie() throws { try same("procfs", .staticPie) }
    func testProcFSMusl() throws { try same("procfs", .musl) }

    /// A procps program from /usr/bin or /bin, or a skip (Debian: procps).
    private func procps(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/bin"] where access(dir + "/" + name, X_OK) == 0 { return dir + "/" + name }
        throw XCTSkip("\(name) is not installed (Debian: procps)")
    }

    /// ps lists the guest's processes with guest pids and parents: the shell as process 1, its background
    /// sleep, and ps itself.
    func testUmkOnlyPsListsTheGuestProcesses() throws {
        let ps = try procps("ps")
        let outcome = try umk(["run", "--", "/bin/sh", "-c", "sleep 5 & \(ps) -eo pid,ppid,stat,comm; kill $!"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, """
                PID    PPID STAT COMMAND
                  1       0 Ss   sh
                  2       1 S    sleep
                  3       1 R    ps

            """, outcome.report)
    }

    /// ps aux and ps -ef: every column has a value (no errors about /proc), one line per process.
    func testUmkOnlyPsAuxAndEf() throws {
        let ps = try procps("ps")
        let outcome = try umk(["run", "--", "/bin/sh", "-c", "\(ps) aux | wc -l; \(ps) -ef | wc -l"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "4\n4\n", outcome.report)  // the header, sh, ps and wc
        XCTAssertEqual(outcome.err, "", outcome.report)
    }

    /// free's total is the instance's --mem, in KiB.
    func testUmkOnlyFreeShowsTheInstanceMemory() throws {
        let free = try procps("free")
        let outcome = try umk(["run", "--mem", "64M", "--", free])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        let mem = outcome.out.split(separator: "\n").first { $0.hasPrefix("Mem:") }
        XCTAssertEqual(mem?.split(separator: " ").dropFirst().first, "65536", outcome.report)
    }

    /// uptime counts from the instance's boot, and pgrep finds a guest process by name.
    func testUmkOnlyUptimeAndPgrep() throws {
        let uptime = try procps("uptime"), pgrep = try procps("pgrep")
        let outcome = try umk(["run", "--", "/bin/sh", "-c",
                               "\(uptime) -p; sleep 5 & \(pgrep) sleep; \(pgrep) -x nosuchthing; echo $?; kill $!"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "up 0 minutes\n3\n1\n", outcome.report)  // uptime was process 2
    }

    /// top's batch mode reads every process and the CPU lines.
    func testUmkOnlyTopBatch() throws {
        let top = try procps("top")
        let outcome = try umk(["run", "-e", "TERM=dumb", "--", "/bin/sh", "-c", "\(top) -bn1 | head -5; echo $?"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        let lines = outcome.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 6, outcome.report)
        XCTAssertTrue(lines.first?.hasPrefix("top - ") == true, outcome.report)
        XCTAssertTrue(lines.contains { $0.hasPrefix("Tasks:   3 total,") }, outcome.report)
        XCTAssertTrue(lines.contains { $0.hasPrefix("MiB Mem :   1024.0 total") }, outcome.report)  // the default --mem
        XCTAssertEqual(lines.last, "0", outcome.report)
    }
}
