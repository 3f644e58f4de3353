// SchedulingTests.swift: the CPUs a guest sees and uses (--cpus), and the sched_* and nice calls, compared
// with a native run on as many CPUs.

import Foundation
import XCTest

final class SchedulingTests: SystemTestCase {
    /// The host CPUs this test process may use: what a native run sees.
    private var hostCPUs: Int {
        // Cpus_allowed in /proc/self/status: the affinity mask in hex, 32-bit groups separated by commas.
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
        else { return 1 }
        let hex = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
        return max(1, hex.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount })
    }

    /// sysconf, sched_getaffinity, /proc/cpuinfo and /sys agree on --cpus N; affinity, nice and policies
    /// behave as natively.
    func testCPUsAndSchedulingCalls() throws {
        let program = try Userland.program("sched")
        try assertSameAsNative(program, options: ["--cpus", "\(hostCPUs)"])
    }

    func testCPUsAndSchedulingCallsMusl() throws {
        let program = try Userland.program("sched", .musl)
        try assertSameAsNative(program, options: ["--cpus", "\(hostCPUs)"])
    }

    /// --cpus 2: two CPU-bound processes run in parallel, so they take about as long as one (a generous
    /// bound; the bench has the figure). --cpus 1 (the default) is the one-CPU case.
    func testUmkOnlyTwoCPUsRunTwoProcessesInParallel() throws {
        guard hostCPUs >= 2 else { throw XCTSkip("needs two host CPUs") }
        let burn = try Userland.program("burn")
        func seconds(_ n: Int, cpus: Int) throws -> Double {
            let start = Date()
            let outcome = try runUnderUmk(burn, ["\(n)"], options: ["--cpus", "\(cpus)"])
            XCTAssertEqual(outcome.out, "\(n) of \(n) done\n", outcome.report)
            return Date().timeIntervalSince(start)
        }
        // A shared machine can take a CPU away for a moment: the best of three runs counts.
        var best = Double.infinity
        for _ in 0..<3 where best >= 1.7 {
            let one = try seconds(1, cpus: 2), two = try seconds(2, cpus: 2)
            best = min(best, two / one)
        }
        XCTAssertLessThan(best, 1.7, "two CPU-bound processes on --cpus 2 took \(best)x the time of one")
    }

    /// More CPUs than umk may use is a one-line error, exit status 125.
    func testUmkOnlyTooManyCPUsIsAnError() throws {
        let outcome = try umk(["run", "--cpus", "\(hostCPUs + 1)", "--", "/bin/true"])
        XCTAssertEqual(outcome.termination, .exited(125), outcome.report)
        XCTAssertEqual(outcome.err, "umk: cannot boot: --cpus \(hostCPUs + 1): umk may use only \(hostCPUs) host CPUs here\n",
                       outcome.report)
    }
}
