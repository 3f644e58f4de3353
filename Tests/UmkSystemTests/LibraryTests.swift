// LibraryTests.swift: umk as a library (UmkKernel's Instance API), used by the test process itself: many
// instances booted at once, each on its own kernel thread, with the guest's console on pipes of the test.
// Instances share no mutable state: each has its own stubs, timer interrupt, console writer and numbers, and
// nothing of one may outlive its `run`.

import Foundation
import UmkKernel
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What one instance gave: its status (or why it could not start) and the bytes of its stdout and stderr.
private struct InstanceRun {
    var status: ExitStatus?
    var launchError: LaunchError?
    var stdout: String
    var stderr: String
}

/// A host pipe whose read end a thread of its own drains while the instance runs, as an embedder would (a
/// guest writing more than the pipe holds would otherwise wait forever).
private final class DrainedPipe: @unchecked Sendable {
    let readEnd: Int32
    private(set) var writeEnd: Int32
    private var bytes: [UInt8] = []
    private let done = DispatchSemaphore(value: 0)

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe: \(errno)")
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        readEnd = fds[0]
        writeEnd = fds[1]
        Thread.detachNewThread { [self] in
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                bytes += chunk[0..<n]
            }
            done.signal()
        }
    }

    /// Closes the write end (the instance is over) and returns everything read, up to EOF.
    func finish() -> String {
        close(writeEnd)
        done.wait()
        close(readEnd)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The runs of the instances, by index, filled in from their threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [InstanceRun?]
    init(count: Int) { runs = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ run: InstanceRun) { lock.lock(); runs[i] = run; lock.unlock() }
    var all: [InstanceRun?] { lock.lock(); defer { lock.unlock() }; return runs }
}

final class LibraryTests: SystemTestCase {
    /// Boots an instance with `/bin/sh -c SCRIPT` as process 1 on the calling thread's behalf (Instance.run
    /// starts the kernel thread and waits for it), stdin /dev/null, stdout and stderr pipes.
    private static func run(_ script: String, hostname: String) -> InstanceRun {
        let stdout = DrainedPipe(), stderr = DrainedPipe()
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        var config = Configuration()
        config.memoryBytes = 256 << 20
        config.hostname = hostname
        config.uid = getuid()
        config.gid = getgid()
        config.environment = ["PATH=/usr/bin:/bin", "HOME=/", "LC_ALL=C"]
        config.standardInput = devNull
        config.standardOutput = stdout.writeEnd
        config.standardError = stderr.writeEnd
        var result = InstanceRun(status: nil, launchError: nil, stdout: "", stderr: "")
        do {
            result.status = try Instance(config).run(["/bin/sh", "-c", script])
        } catch {
            result.launchError = error
        }
        result.stdout = stdout.finish()
        result.stderr = stderr.finish()
        return result
    }

    /// The host resources of the test process that an instance holds while it runs: open fds, POSIX timers
    /// (the timer interrupt), mappings (guest memory), zombie children (stubs not reaped).
    private static func hostResources() -> [String: Int] {
        func count(_ path: String) -> Int {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        let zombies = HostProcesses.children(of: getpid()).filter(\.isZombie).count
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
        return ["fds": fds, "threads": threads, "timers": count("/proc/self/timers"), "zombies": zombies,
                "memfd mappings": ((try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? "")
                    .split(separator: "\n").filter { $0.contains("memfd:") }.count]
    }

    /// Every stub of an instance is gone once its `run` returns: the test process (a child subreaper, see
    /// HostProcesses) has no umk child left.
    private func assertNoStubsLeft(file: StaticString = #filePath, line: UInt = #line) {
        let strays = HostProcesses.strays()
        XCTAssert(strays.isEmpty, "stubs left behind: \(strays.map(\.description).joined(separator: "; "))",
                  file: file, line: line)
        for stray in strays { kill(stray.pid, SIGKILL) }
    }

    /// 20 instances at once, each on a thread of its own, each running a three-process pipeline with a
    /// different answer and host name (so that output crossing between instances would show), then more
    /// output than a pipe holds (through the console writer thread, which must wake its own kernel thread).
    func testTwentyInstancesAtOnce() {
        let count = 20
        // What the first instance of a process makes once and keeps (the stub executable's memfd) is made now.
        XCTAssertEqual(LibraryTests.run("true", hostname: "first").status, .exited(0))
        let before = LibraryTests.hostResources()
        let runs = Results(count: count)
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            let thread = Thread {
                let run = LibraryTests.run("seq 1 \(1000 + i) | sort -rn | head -1; seq 1 30000; uname -n >&2",
                                           hostname: "instance\(i)")
                runs.set(i, run)
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        guard group.wait(timeout: .now() + SystemTestCase.timeout * 2) == .success else {
            XCTFail("the instances did not all finish in time")
            return
        }
        let many = (1...30000).map { "\($0)\n" }.joined()
        for (i, run) in runs.all.enumerated() {
            guard let run else { XCTFail("instance \(i) gave nothing"); continue }
            XCTAssertNil(run.launchError, "instance \(i)")
            XCTAssertEqual(run.status, .exited(0), "instance \(i): stderr \(run.stderr)")
            XCTAssertEqual(run.stdout, "\(1000 + i)\n" + many, "instance \(i)")
            XCTAssertEqual(run.stderr, "instance\(i)\n", "instance \(i)")
        }
        assertNoStubsLeft()
        // At most what there was before: an earlier test's instance may still have been letting go of its own.
        let after = LibraryTests.hostResources()
        for (name, count) in after {
            XCTAssertLessThanOrEqual(count, before[name] ?? 0, "host resources not given back: \(name), before \(before), after \(after)")
        }
    }

    private static func libraryConfiguration() -> Configuration {
        var config = Configuration()
        config.memoryBytes = 256 << 20
        config.uid = getuid()
        config.gid = getgid()
        config.environment = ["PATH=/usr/bin:/bin", "HOME=/", "LC_ALL=C"]
        return config
    }

    /// One instance started with no program, then many programs in it: one after another and at once, with
    /// stdin as bytes, stdout and stderr kept in memory, a pipe, a file; wait with a timeout, signals, pids
    /// that are the kernel's own children; then shutDown gives every host resource back.
    func testSpawnManyProgramsInOneInstance() throws {
        XCTAssertEqual(LibraryTests.run("true", hostname: "first").status, .exited(0))
        let before = LibraryTests.hostResources()
        try spawnManyPrograms()
        assertNoStubsLeft()
        let after = LibraryTests.hostResources()
        for (name, count) in after {
            XCTAssertLessThanOrEqual(count, before[name] ?? 0, "host resources not given back: \(name), before \(before), after \(after)")
        }
    }

    private func spawnManyPrograms() throws {
        let instance = Instance(LibraryTests.libraryConfiguration())
        XCTAssertNil(try instance.start())
        XCTAssertThrowsError(try instance.start()) { XCTAssertEqual($0 as? LaunchError, .kernelFailure("the instance was started already")) }

        // One after another: a pipeline, stdin from bytes, both outputs captured.
        for i in 0..<5 {
            let p = try instance.spawn(["/bin/sh", "-c", "tr a-z A-Z; echo err\(i) >&2; exit \(i)"],
                                       SpawnOptions(standardInput: .bytes(Array("hello \(i)\n".utf8))))
            XCTAssertEqual(p.wait(timeout: SystemTestCase.timeout), .exited(Int32(i)))
            XCTAssertEqual(String(decoding: p.standardOutput, as: UTF8.self), "HELLO \(i)\n")
            XCTAssertEqual(String(decoding: p.standardError, as: UTF8.self), "err\(i)\n")
        }
        // The kernel's children: parent pid 0, a session of their own; no process 1 in such an instance.
        let ids = try instance.spawn(["/bin/sh", "-c", "cut -d' ' -f4,6 /proc/$$/stat; test -e /proc/1 || echo no-init"])
        XCTAssertEqual(ids.wait(timeout: SystemTestCase.timeout), .exited(0))
        XCTAssertEqual(String(decoding: ids.standardOutput, as: UTF8.self), "0 \(ids.pid)\nno-init\n")

        // Ten at once, each writing more than a pipe holds.
        let many = try (0..<10).map { i in try instance.spawn(["/bin/sh", "-c", "seq 1 \(20000 + i)"]) }
        for (i, p) in many.enumerated() {
            XCTAssertEqual(p.wait(timeout: SystemTestCase.timeout), .exited(0))
            let lines = String(decoding: p.standardOutput, as: UTF8.self).split(separator: "\n")
            XCTAssertEqual(lines.count, 20000 + i)
            XCTAssertEqual(lines.last.map(String.init), "\(20000 + i)")
        }

        // A program that runs on: wait times out, a signal ends it, and a signal to an ended one is refused.
        let sleeper = try instance.spawn(["/bin/sleep", "100"])
        XCTAssertNil(sleeper.wait(timeout: 0.2))
        XCTAssertNil(sleeper.wait(timeout: -1))  // a deadline already passed: no wait, no trap
        XCTAssertEqual(instance.processes().map(\.command), ["/bin/sleep 100"])
        XCTAssertTrue(sleeper.signal(SIGTERM))
        XCTAssertEqual(sleeper.wait(timeout: SystemTestCase.timeout), .signaled(SIGTERM))
        XCTAssertFalse(sleeper.signal(SIGTERM))
        XCTAssertFalse(sleeper.signal(0))
        XCTAssertEqual(instance.processes(), [])

        // A pipe both ways, written and read by the test while the program runs.
        let cat = try instance.spawn(["/bin/cat"], SpawnOptions(standardInput: .pipe, standardOutput: .pipe))
        let message = Array("through a pipe\n".utf8)
        XCTAssertEqual(write(cat.standardInputPipe!, message, message.count), message.count)
        var buffer = [UInt8](repeating: 0, count: 64)
        XCTAssertEqual(read(cat.standardOutputPipe!, &buffer, buffer.count), message.count)
        XCTAssertEqual(Array(buffer[0..<message.count]), message)
        cat.closeStandardInput()
        XCTAssertEqual(cat.wait(timeout: SystemTestCase.timeout), .exited(0))

        // Not found, and a file as output.
        XCTAssertThrowsError(try instance.spawn(["no-such-program"])) { XCTAssertEqual($0 as? LaunchError, .notFound("no-such-program")) }
        let path = NSTemporaryDirectory() + "umk-spawn-\(getpid()).txt"
        defer { unlink(path) }
        let echo = try instance.spawn(["/bin/echo", "to a file"], SpawnOptions(standardOutput: .file(path)))
        XCTAssertEqual(echo.wait(timeout: SystemTestCase.timeout), .exited(0))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "to a file\n")

        // shutDown kills what still runs; the instance is then over and gives everything back.
        let last = try instance.spawn(["/bin/sleep", "100"])
        instance.shutDown()
        XCTAssertEqual(last.wait(timeout: 1), .signaled(SIGKILL))
        XCTAssertThrowsError(try instance.spawn(["/bin/true"]))
        XCTAssertEqual(instance.processes(), [])
    }

    /// process 1 from start(argv): more programs beside it; its end is the instance's end, and kills them.
    func testStartedInstanceEndsWithProcessOne() throws {
        var config = LibraryTests.libraryConfiguration()
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        var input: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&input), 0)
        defer { close(devNull); close(input[0]); close(input[1]) }
        (config.standardInput, config.standardOutput, config.standardError) = (input[0], devNull, devNull)
        let instance = Instance(config)
        let first = try XCTUnwrap(try instance.start(["/bin/sh", "-c", "read line; exit 7"]))
        XCTAssertEqual(first.pid, 1)
        XCTAssertNil(instance.wait(timeout: 0.1))
        let other = try instance.spawn(["/bin/sleep", "100"])
        XCTAssertEqual(other.pid, 2)
        XCTAssertEqual(instance.processes().map(\.pid), [1, 2])
        XCTAssertEqual(write(input[1], "go\n", 3), 3)
        XCTAssertEqual(first.wait(timeout: SystemTestCase.timeout), .exited(7))
        XCTAssertEqual(instance.wait(timeout: SystemTestCase.timeout), .exited(7))
        XCTAssertFalse(first.signal(SIGKILL))
        XCTAssertEqual(other.wait(timeout: 1), .signaled(SIGKILL))
        assertNoStubsLeft()
    }

    /// A program that is not there: a LaunchError, not a crash, and the instance's resources given back.
    func testMissingProgramIsALaunchError() {
        var config = Configuration()
        config.memoryBytes = 64 << 20
        XCTAssertThrowsError(try Instance(config).run(["/no/such/program"])) { error in
            XCTAssertEqual(error as? LaunchError, .notFound("/no/such/program"))
        }
        assertNoStubsLeft()
    }
}
