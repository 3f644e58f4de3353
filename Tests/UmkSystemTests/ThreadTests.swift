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

    /// sort's parallel merge runs in threads; the input comes on stdin, in a shuffled order.
    /// A thread's own /proc view: task/TID/stat and /proc/TID/stat give its tid and state (blocked: S), status its
    /// Pid beside the process's Tgid, and /proc/TID is found by a lookup though /proc's listing leaves it out.
    func testThreadProcEntries() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        try assertSameAsNative("/usr/bin/python3", ["-c", """
            import threading, os, time
            ready, go = threading.Event(), threading.Event()
            def worker():
                ready.set()
                go.wait()
            t = threading.Thread(target=worker, name="worker")
            t.start()
            ready.wait()
            time.sleep(0.2)
            tid, pid = t.native_id, os.getpid()
            for path in (f"/proc/{pid}/task/{tid}/stat", f"/proc/{tid}/stat"):
                fields = open(path).read().split()
                print(path.count("task"), fields[0] == str(tid), fields[2], fields[3] == str(os.getppid()))
            status = dict(l.split(":", 1) for l in open(f"/proc/{tid}/status").read().splitlines())
            print(status["Pid"].strip() == str(tid), status["Tgid"].strip() == str(pid), status["State"].split()[0])
            print(str(tid) in os.listdir("/proc"), str(pid) in os.listdir("/proc"), os.path.isdir(f"/proc/{tid}/fd"))
            go.set()
            t.join()
            """], compareStderr: true)
    }

    func testSortParallel() throws {
        var numbers = Array(1...50000)
        var seed: UInt64 = 42
        for i in stride(from: numbers.count - 1, to: 0, by: -1) {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            numbers.swapAt(i, Int(seed >> 33) % (i + 1))
        }
        let input = Data(numbers.map(String.init).joined(separator: "\n").utf8 + [10])
        _ = try assertSameAsNative("/usr/bin/sort", ["-n", "--parallel=4", "-S", "1M"], stdin: input, options: ["--cpus", "2"])
    }

    /// make -j4 (its jobserver, four gcc at once) builds a small program, which then runs; -s keeps the
    /// output in a fixed order.
    func testMakeParallel() throws {
        guard access("/usr/bin/make", X_OK) == 0, access("/usr/bin/gcc", X_OK) == 0 else {
            throw XCTSkip("make or gcc is not installed")
        }
        let dir = "/var/tmp/umk-make-j4-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 1...4 {
            try "int f\(i)(void) { return \(i * 10); }\n".write(toFile: "\(dir)/f\(i).c", atomically: true, encoding: .utf8)
        }
        try """
            #include <stdio.h>
            int f1(void), f2(void), f3(void), f4(void);
            int main(void) { printf("sum %d\\n", f1() + f2() + f3() + f4()); return 0; }

            """.write(toFile: "\(dir)/main.c", atomically: true, encoding: .utf8)
        try "prog: main.o f1.o f2.o f3.o f4.o\n\tgcc -o $@ $^\n%.o: %.c\n\tgcc -c -o $@ $<\nclean:\n\trm -f *.o prog\n"
            .write(toFile: "\(dir)/Makefile", atomically: true, encoding: .utf8)
        _ = try assertSameAsNative("/bin/sh", ["-c", "cd \(dir) && make -s -j4 && ./prog && make -s clean && ls"],
                                   compareStderr: true, options: ["--cpus", "2"])
    }

    /// multiprocessing: a pool of processes fed by threads, results through pipes and POSIX semaphores.
    func testPythonMultiprocessingPool() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        _ = try assertSameAsNative("/usr/bin/python3", ["-c", """
            import multiprocessing as mp
            if __name__ == "__main__":
                with mp.Pool(4) as pool:
                    print(sum(pool.map(abs, range(-1000, 1000))))
                    print(pool.apply_async(pow, (2, 10)).get(timeout=30))
            """], compareStderr: true)
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
