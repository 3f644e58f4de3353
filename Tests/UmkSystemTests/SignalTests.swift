// SignalTests.swift: signal delivery as a handler sees it, compared with native runs: the extended register
// state in the frame and across vfork (xstate.c).

import XCTest

final class SignalTests: SystemTestCase {
    /// ymm7 survives a handler that uses AVX, the frame is Linux's fpstate (UC_FP_XSTATE, both magics, the
    /// YMM component), rt_sigreturn restores an edited frame, and a vfork child does not leak its ymm7.
    func testExtendedStateSurvivesHandlersAndVfork() throws { try same("xstate", .glibc) }
    func testExtendedStateSurvivesHandlersAndVforkMusl() throws { try same("xstate", .musl) }
}
