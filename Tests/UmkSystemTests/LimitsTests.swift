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

final class ZeroPageTests: SystemTestCase {
    /// Untouched memory nothing was promised for (MAP_NORESERVE, read-only) reads as zero without taking
    /// frames: 512 MiB of each kind under the default 256 MiB --mem.
    func testReadingUnpromisedMemoryTakesNoFrames() throws { try same("noreserve", .glibc) }
}
