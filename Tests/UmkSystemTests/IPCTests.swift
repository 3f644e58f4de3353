// IPCTests.swift: System V IPC compared with native runs: sysvipc.c (shared memory between a process and its
// children, attach counts, SHM_RDONLY, SHM_RND, SHM_REMAP, IPC_RMID of an attached segment; semaphores with
// atomic multi-operation semops, waiters completed in order, GETNCNT/GETZCNT, SEM_UNDO at exit, timeouts,
// EINTR, EIDRM; message queues with types, MSG_EXCEPT, MSG_NOERROR, MSG_COPY, a receiver handed its message,
// a sender waiting for room, EINTR, EIDRM; permissions as a user that is not root; /proc/sysvipc and the
// kernel.shm*/sem/msg* sysctls); and mqueue.c (POSIX message queues: priorities, full and empty queues,
// absolute timeouts, waiting senders and receivers, EINTR and SA_RESTART, mq_notify and its end on close,
// mq_getsetattr, poll, the descriptor's read, mq_unlink, errors).

import XCTest

final class IPCTests: SystemTestCase {
    func testSysVIPC() throws { try same("sysvipc", .glibc) }
    func testSysVIPCMusl() throws { try same("sysvipc", .musl) }
    func testPosixMessageQueues() throws { try same("mqueue", .glibc) }
    func testPosixMessageQueuesMusl() throws { try same("mqueue", .musl) }
}
