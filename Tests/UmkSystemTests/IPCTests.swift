// IPCTests.swift: System V IPC compared with native runs: sysvipc.c (shared memory between a process and its
// children, attach counts, SHM_RDONLY, SHM_RND, SHM_REMAP, IPC_RMID of an attached segment; semaphores with
// atomic multi-operation semops, waiters completed in order, GETNCNT/GETZCNT, SEM_UNDO at exit, timeouts,
// EINTR, EIDRM; message queues with types, MSG_EXCEPT, MSG_NOERROR, MSG_COPY, a receiver handed its message,
// a sender waiting for room, EINTR, EIDRM; permissions as a user that is not root; /proc/sysvipc and the
// kernel.shm*/sem/msg* sysctls); and mqueue.c (POSIX message queues: priorities, full and empty queues,
// absolute timeouts, waiting senders and receivers, EINTR and SA_RESTART, mq_notify and its end on close,
// mq_getsetattr, poll, the descriptor's read, mq_unlink, errors); and python3's multiprocessing locks, shared
// values and semaphores between forked processes (POSIX semaphores: futexes in /dev/shm files).

import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class IPCTests: SystemTestCase {
    func testSysVIPC() throws { try same("sysvipc", .glibc) }
    func testSysVIPCMusl() throws { try same("sysvipc", .musl) }
    func testPosixMessageQueues() throws { try same("mqueue", .glibc) }
    func testPosixMessageQueuesMusl() throws { try same("mqueue", .musl) }

    func testPythonMultiprocessing() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        try assertSameAsNative("/usr/bin/python3", ["-c", IPCTests.multiprocessingScript], compareStderr: true)
    }

    /// The fork start method: the others start a helper that needs threads.
    static let multiprocessingScript = """
        import multiprocessing as mp

        def work(lock, v, n):
            for _ in range(n):
                with lock:
                    v.value += 1

        mp.set_start_method("fork")
        lock = mp.Lock()
        v = mp.Value("i", 0, lock=False)
        ps = [mp.Process(target=work, args=(lock, v, 200)) for _ in range(3)]
        for p in ps: p.start()
        for p in ps: p.join()
        print(v.value, [p.exitcode for p in ps])
        s = mp.Semaphore(2)
        print(s.acquire(timeout=0.1), s.acquire(timeout=0.1), s.acquire(timeout=0.1))
        q = mp.SimpleQueue()
        p = mp.Process(target=q.put, args=("hi",))
        p.start()
        print(q.get())
        p.join()
        """
}
