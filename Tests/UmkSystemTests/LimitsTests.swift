// LimitsTests.swift: Linux's resource limits as a guest meets them, compared with a native run.

import Foundation
import XCTest

final class LimitsTests: SystemTestCase {
    /// execve: E2BIG for a string of MAX_ARG_STRLEN or more, and for more than a quarter of RLIMIT_STACK in all.
    func testArgumentLimits() throws { try same("argmax", .glibc) }
    func testArgumentLimitsMusl() throws { try same("argmax", .musl) }
}
