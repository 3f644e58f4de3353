// LimitsTests.swift: Linux's resource limits as a guest meets them, compared with a native run.

import Foundation
import XCTest

final class LimitsTests: SystemTestCase {
    /// execve: E2BIG for a string of MAX_ARG_STRLEN or more, and for more than a quarter of RLIMIT_STACK in all.
    func testArgumentLimits() throws { try same("argmax", .glibc) }
    func testArgumentLimitsMusl() throws { try same("argmax", .musl) }

    /// RLIMIT_AS counts every mapping, RLIMIT_DATA private writable ones (brk included): ENOMEM past them.
    func testAddressSpaceAndDataLimits() throws { try same("rlimits", .glibc) }
    func testAddressSpaceAndDataLimitsMusl() throws { try same("rlimits", .musl) }
}

final class OvercommitTests: SystemTestCase {
    /// The default, heuristic overcommit: three reservations of 3/4 of RAM each succeed, one larger than RAM is
    /// ENOMEM, and the reserving process can touch and fork as natively.
    func testHeuristicOvercommitAllowsLargeReservations() throws { try same("overcommit", .glibc) }

    /// --overcommit 2 is strict accounting: promises in all stay within RATIO percent of --mem.
    func testUmkOnlyStrictOvercommitRefusesPromisesPastTheLimit() throws {
        let program = try Userland.program("overcommit")
        let strict = try runUnderUmk(program, options: ["--overcommit", "2:100"])
        XCTAssertEqual(strict.termination, .exited(0), strict.report)
        XCTAssertEqual(strict.out, """
            overcommit_memory: 2
            meminfo: ok
            3/4 of RAM: ok
            3/4 of RAM again: ENOMEM
            3/4 of RAM a third time: ENOMEM
            RAM and swap and 1 MiB more: ENOMEM
            touched 4 MiB of each: ok
            fork: ENOMEM
            Committed_AS counts the reservations: yes

            """, strict.report)
        // Linux's default ratio, 50: not even the first.
        let half = try runUnderUmk(program, options: ["--overcommit", "2"])
        XCTAssertTrue(half.out.contains("3/4 of RAM: ENOMEM\n"), half.report)
        let bad = try umk(["run", "--overcommit", "3", "--", program])
        XCTAssertEqual(bad.termination, .exited(125), bad.report)
        XCTAssertTrue(bad.err.contains("--overcommit 3: expected"), bad.report)
    }
}

final class ZeroPageTests: SystemTestCase {
    /// Untouched memory nothing was promised for (MAP_NORESERVE, read-only) reads as zero without taking
    /// frames: 512 MiB of each kind under the default 256 MiB --mem.
    func testReadingUnpromisedMemoryTakesNoFrames() throws { try same("noreserve", .glibc) }
}

final class OutOfMemoryTests: SystemTestCase {
    /// The OOM killer takes the largest process (a 160 MiB hog), and the smaller one that ran the instance
    /// out (120 MiB of 256) goes on once the hog's frames are back. Natively both live (the host has more).
    func testOutOfMemoryKillsTheLargestProcess() throws {
        let outcome = try runUnderUmk(try Userland.program("oom"), ["160", "120"], options: ["--mem", "256M"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "small: exited 0\nhog: killed by signal 9\n", outcome.report)
        XCTAssertTrue(outcome.err.contains("out of guest memory: killing pid 2"), outcome.report)
    }
}
