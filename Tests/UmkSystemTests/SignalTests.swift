// SignalTests.swift: signal delivery as a handler sees it, compared with native runs: the extended register
// state in the frame and across vfork (xstate.c).

import XCTest

final class SignalTests: SystemTestCase {
    /// ymm7 survives a handler that uses AVX, the frame is Linux's fpstate (UC_FP_XSTATE, both magics, the
    /// YMM component), rt_sigreturn restores an edited frame, and a vfork child does not leak its ymm7.
    func testExtendedStateSurvivesHandlersAndVfork() throws { try same("xstate", .glibc) }
    func testExtendedStateSurvivesHandlersAndVforkMusl() throws { try same("xstate", .musl) }
}

final class SignalInfoTests: SystemTestCase {
    /// si_code and si_pid of kill, tgkill and sigqueue; real-time signals queue in order and their frames
    /// nest as Linux sets them up; rt_sigtimedwait; rt_sigqueueinfo's rules.
    func testSignalInfoAndQueueing() throws { try same("siginfo", .glibc) }
    func testSignalInfoAndQueueingMusl() throws { try same("siginfo", .musl) }
    /// The si_code and si_addr of each hardware fault: SEGV_MAPERR, SEGV_ACCERR, BUS_ADRERR past the end of a
    /// mapped file, FPE_INTDIV, ILL_ILLOPN, and SI_KERNEL for int3 and a privileged instruction.
    func testFaultSignalInfo() throws { try same("faults", .glibc) }
    func testFaultSignalInfoMusl() throws { try same("faults", .musl) }
}

final class JobControlTests: SystemTestCase {
    /// SIGSTOP/SIGTSTP/SIGCONT on computing and sleeping children, WUNTRACED/WCONTINUED/WSTOPPED/WNOWAIT,
    /// SIGCHLD's codes and SA_NOCLDSTOP, SIGCONT and stop signals discarding each other.
    func testStopAndContinue() throws { try same("jobs", .glibc) }
    func testStopAndContinueMusl() throws { try same("jobs", .musl) }
}

final class TimerTests: SystemTestCase {
    /// alarm, setitimer (REAL, VIRTUAL, PROF), POSIX timers on wall and CPU clocks with their overruns,
    /// SIGEV_NONE, TIMER_ABSTIME, nanosleep's remainder after a signal, getrusage and wait4's CPU times,
    /// RLIMIT_CPU's SIGXCPU and SIGKILL.
    func testTimersAndCPUTime() throws { try same("timers", .glibc) }
    func testTimersAndCPUTimeMusl() throws { try same("timers", .musl) }
}

final class SignalfdTests: SystemTestCase {
    /// signalfd records for kill, sigqueue and SIGCHLD, readiness, EAGAIN and EINVAL, a new mask on the same
    /// fd, and a forked child reading only its own signals.
    func testSignalfd() throws { try same("signalfd", .glibc) }
    func testSignalfdMusl() throws { try same("signalfd", .musl) }
}
