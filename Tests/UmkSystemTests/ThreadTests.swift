// ThreadTests.swift: threads compared with native runs: threads.c (mutexes, condition variables, barriers,
// rwlocks, TLS, tids, cancellation, pthread_kill, process-directed signals, sigwait, thread and process exit,
// exec and fork from a thread, /proc/self/task, names, busy threads), and python3's threading and
// concurrent.futures.

import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class ThreadTests: SystemTestCase {
    func testThreads() throws { try same("threads", .glibc) }
    func testThreadsMusl() throws { try same("threads", .musl) }

    func testPythonThreads() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        try assertSameAsNative("/usr/bin/python3", ["-c", ThreadTests.pythonScript], compareStderr: true)
    }

    static let pythonScript = """
        import concurrent.futures, queue, threading

        lock = threading.Lock()
        total = 0
        def add(n):
            global total
            for _ in range(n):
                with lock:
                    total += 1
        threads = [threading.Thread(target=add, args=(2000,)) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("total", total)

        q = queue.Queue()
        def produce():
            for i in range(100): q.put(i)
            q.put(None)
        threading.Thread(target=produce).start()
        got = []
        while (item := q.get()) is not None: got.append(item)
        print("queue", sum(got))

        ev = threading.Event()
        t = threading.Timer(0.05, ev.set)
        t.start()
        print("event", ev.wait(5))

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            print("pool", sorted(pool.map(lambda x: x * x, range(10))))
        print("threads left", threading.active_count())
        """
}
