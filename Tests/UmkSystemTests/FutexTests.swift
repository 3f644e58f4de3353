// FutexTests.swift: futexes compared with native runs: futex.c (wait and wake with bitsets, requeue and
// cmp_requeue across several waiter processes, wake_op's operations and comparisons, private against shared
// keys, PI lock, trylock, unlock and hand-over, EDEADLK, EPERM, ESRCH, a dying PI owner, requeue-PI,
// futex_waitv, timeouts on both clocks, EINTR and restarts after a handler, robust lists walked at exit,
// hostile ones included, and robust and PI pthread mutexes shared between processes whose owner dies).

import XCTest

final class FutexTests: SystemTestCase {
    func testFutex() throws { try same("futex", .glibc) }
    func testFutexStaticPie() throws { try same("futex", .staticPie) }
    func testFutexMusl() throws { try same("futex", .musl) }
}
