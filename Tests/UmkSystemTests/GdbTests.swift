// GdbTests.swift: debugging a guest program with gdb (`umk run --gdb ADDR`, README "Debugging a guest program
// with gdb"): the real gdb, in batch mode, connects over a UNIX socket in a temporary directory and drives
// Userland/gdb-target (built with -g -O0, static and dynamic): breakpoints, backtraces through libc, registers,
// memory, next and step, threads, a fatal signal, kill, and the exit status gdb reports.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class GdbTests: SystemTestCase {
    /// The program gdb debugs: Userland/gdb-target.c with debug information, statically or dynamically linked.
    private func target(static linkStatic: Bool) throws -> String {
        guard let cc = ["cc", "gcc"].lazy.compactMap(Paths.which).first else { throw XCTSkip("no C compiler") }
        let source = "\(Paths.userland)/gdb-target.c"
        let output = "\(Paths.cache)/gdb/gdb-target-\(linkStatic ? "static" : "dynamic")"
        let sourceDate = (try? FileManager.default.attributesOfItem(atPath: source))?[.modificationDate] as? Date
        let builtDate = (try? FileManager.default.attributesOfItem(atPath: output))?[.modificationDate] as? Date
        if let builtDate, let sourceDate, builtDate >= sourceDate { return output }
        try FileManager.default.createDirectory(atPath: Paths.dirname(output), withIntermediateDirectories: true)
        let temporary = "\(output).\(getpid()).tmp"
        let build = Runner.run(cc, ["-g", "-O0", "-Wall", "-pthread"] + (linkStatic ? ["-static"] : [])
                               + ["-o", temporary, source], timeout: 300)
        guard build.termination == .exited(0), rename(temporary, output) == 0 else {
            throw BuildFailure(description: "building gdb-target failed:\n\(build.report)")
        }
        return output
    }

    /// Runs `program ARGS` under `umk run --gdb SOCKET` and gdb with `commands` against it; both outcomes.
    private func debug(_ program: String, _ arguments: [String] = [], _ commands: [String],
                       file: StaticString = #filePath, line: UInt = #line) throws -> (gdb: Outcome, umk: Outcome) {
        guard let gdb = Paths.which("gdb") else { throw XCTSkip("gdb is not installed (Debian: gdb)") }
        let umk = try umkBinary()
        let dir = NSTemporaryDirectory() + "umk-gdb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/gdb.sock"

        let umkRun = Background()
        let argv = ["run"] + identityOptions + ["--gdb", socket, "--", program] + arguments
        Thread { umkRun.finish(Runner.run(umk, argv, timeout: 120)) }.start()
        // umk listens once it has loaded the program: wait for its socket (or for it to fail first).
        let deadline = Date().addingTimeInterval(60)
        while access(socket, F_OK) != 0 && umkRun.outcome == nil && Date() < deadline { usleep(20_000) }
        guard access(socket, F_OK) == 0 else {
            let outcome = umkRun.wait(seconds: 130)
            XCTFail("umk never listened at \(socket):\n\(outcome?.report ?? "(still running)")", file: file, line: line)
            throw BuildFailure(description: "no gdb socket")
        }
        let script = ["-iex", "set debuginfod enabled off", "-ex", "target remote \(socket)"]
            + commands.flatMap { ["-ex", $0] }
        let gdbOutcome = Runner.run(gdb, ["-batch", "-nx"] + script,
                                    environment: ["PATH": "/usr/bin:/bin", "HOME": dir, "TERM": "dumb"], timeout: 120)
        guard let umkOutcome = umkRun.wait(seconds: 130) else {
            XCTFail("umk did not end after gdb:\n\(gdbOutcome.report)", file: file, line: line)
            throw BuildFailure(description: "umk hung")
        }
        assertNoStrayStubs(after: umkOutcome, file: file, line: line)
        return (gdbOutcome, umkOutcome)
    }

    private func assertContains(_ outcome: Outcome, _ texts: [String], file: StaticString = #filePath, line: UInt = #line) {
        for text in texts where !outcome.out.contains(text) {
            XCTFail("gdb's output lacks \"\(text)\":\n\(outcome.report)", file: file, line: line)
        }
    }

    /// The line of Userland/gdb-target.c that holds `text`.
    private func sourceLine(_ text: String) throws -> Int {
        let source = try String(contentsOfFile: "\(Paths.userland)/gdb-target.c", encoding: .utf8)
        guard let i = source.components(separatedBy: "\n").firstIndex(where: { $0.contains(text) }) else {
            throw BuildFailure(description: "gdb-target.c has no line with \(text)")
        }
        return i + 1
    }

    func testGdbStaticProgram() throws {
        let callLine = try sourceLine("int r = helper(argc);")
        let (gdb, umk) = try debug(try target(static: true), [], [
            "break main", "continue", "bt", "info registers rip", "print some_global", "print/x some_global",
            "x/2gx &some_global", "next", "tbreak gdb-target.c:\(callLine)", "continue", "step", "bt", "finish",
            "break other", "continue", "bt", "print x",
            "set var some_global = 100", "print $xmm1.v2_int64[0] = 0x5566", "print $xmm1.v2_int64[0]",
            "stepi", "info registers eflags", "info registers fctrl mxcsr",
            "print $ymm2.v4_int64[3] = 0x77", "print $ymm2.v4_int64[3]", "continue",
        ])
        assertContains(gdb, [
            "Breakpoint 1, main (argc=1",
            "#0  main (argc=1",
            "$1 = 4660", "$2 = 0x1234",
            "0x0000000000001234",  // x/2gx
            "helper (x=1) at",  // step went into helper
            "#1  0x", "in main (argc=1, argv=",  // bt inside helper
            "Value returned is $3 = 2",  // finish
            "Breakpoint 3, other (x=2)",
            "$4 = 2",  // print x
            "$5 = 21862", "$6 = 21862",  // 0x5566 written to xmm1 and read back
            "eflags", "fctrl          0x37f", "mxcsr          0x1f80",
            "[Inferior 1 (process 1) exited with code 03]",
        ])
        // AVX's upper halves (ymm0h..ymm15h), on a host that has AVX.
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if cpuinfo.contains(" avx") {
            assertContains(gdb, ["$7 = 119", "$8 = 119"])
        }
        XCTAssertEqual(umk.termination, .exited(3), umk.report)
        // other(2) added x to the 100 gdb wrote: the program saw gdb's store.
        XCTAssertEqual(umk.out, "value 2\nother 102 5\n", umk.report)
    }

    func testGdbDynamicProgram() throws {
        let (gdb, umk) = try debug(try target(static: false), [], [
            "break main", "continue", "bt", "break fputs", "continue", "bt", "info sharedlibrary",
            "info auxv", "info proc", "info proc mappings", "delete", "continue",
        ])
        assertContains(gdb, [
            "Breakpoint 1, main (argc=1",
            "fputs",  // stopped in libc's fputs, found through its symbols
            "in main (argc=1",
            "libc.so.6",
            "AT_ENTRY", "AT_BASE",  // qXfer:auxv
            "process 1\n", "cmdline = '",  // info proc: /proc/1 of the guest, read through vFile
            "[stack]",  // info proc mappings: the guest's /proc/1/maps
            "[Inferior 1 (process 1) exited with code 03]",
        ])
        XCTAssertTrue(gdb.out.contains("#0  ") && gdb.out.range(of: #"#0 .*fputs"#, options: .regularExpression) != nil,
                      "no libc frame at the top of the backtrace:\n\(gdb.report)")
        XCTAssertEqual(umk.termination, .exited(3), umk.report)
        XCTAssertEqual(umk.out, "value 2\nother 4662 5\n", umk.report)
    }

    func testGdbThreads() throws {
        let (gdb, umk) = try debug(try target(static: false), ["threads"], [
            "break worker_step", "continue", "info threads", "bt", "delete", "continue",
        ])
        assertContains(gdb, [
            "hit Breakpoint 1, worker_step (id=",
            "Thread 1.1",  // the main thread, held while the worker is at the breakpoint
            "in worker (arg=",
            "[Inferior 1 (process 1) exited normally]",
        ])
        XCTAssertEqual(umk.termination, .exited(0), umk.report)
        XCTAssertEqual(umk.out, "counter 9\n", umk.report)
    }

    func testGdbFatalSignalAndKill() throws {
        let (gdb, umk) = try debug(try target(static: true), ["segv"], [
            "continue", "bt", "print $_siginfo._sifields._sigfault.si_addr", "continue",
        ])
        assertContains(gdb, [
            "Program received signal SIGSEGV",
            "in main (argc=2",
            "(void *) 0x8",  // qXfer:siginfo: the faulting address
            "Program terminated with signal SIGSEGV",
        ])
        XCTAssertEqual(umk.termination, .exited(139), umk.report)

        let (gdb2, umk2) = try debug(try target(static: true), [], ["break other", "continue", "kill"])
        assertContains(gdb2, ["Breakpoint 1, other (x=2)", "[Inferior 1 (process 1) killed]"])
        XCTAssertEqual(umk2.termination, .exited(137), umk2.report)
    }

    /// Signals stop the program before it takes them, as ptrace's signal-delivery stops do: abort()'s SIGABRT
    /// with its frames in bt, then the death; a SIGUSR1 gdb passes on reaches the program's handler.
    func testGdbSignalStops() throws {
        let (gdb, umk) = try debug(try target(static: false), ["abort"], ["continue", "bt", "continue"])
        assertContains(gdb, [
            "Program received signal SIGABRT",
            "abort", "in main (argc=2",
            "Program terminated with signal SIGABRT",
        ])
        XCTAssertEqual(umk.termination, .exited(134), umk.report)

        let (gdb2, umk2) = try debug(try target(static: false), ["usr1"], ["continue", "bt", "continue"])
        assertContains(gdb2, ["Program received signal SIGUSR1", "raise", "[Inferior 1 (process 1) exited normally]"])
        XCTAssertEqual(umk2.termination, .exited(0), umk2.report)
        XCTAssertEqual(umk2.out, "handled 10\n", umk2.report)
    }

    /// exec-events: gdb hears of the exec, loads the new program and sets its breakpoints in it again.
    func testGdbFollowsExec() throws {
        let (gdb, umk) = try debug(try target(static: true), ["exec"], ["break other", "continue", "bt", "continue"])
        assertContains(gdb, [
            "process 1 is executing new program",
            "Breakpoint 1, other (x=2)",
            "in main (argc=1",
            "[Inferior 1 (process 1) exited with code 03]",
        ])
        XCTAssertEqual(umk.termination, .exited(3), umk.report)
    }

    /// Hardware watchpoints and breakpoints (the debug registers): a write stops the writing thread,
    /// whichever it is; after a detach with one set, nothing traps any more.
    func testGdbHardwareWatchpoints() throws {
        let (gdb, umk) = try debug(try target(static: true), [], ["break main", "continue", "watch some_global",
                                                                  "continue", "bt", "continue"])
        assertContains(gdb, [
            "Hardware watchpoint 2: some_global",
            "Old value = 4660", "New value = 4662",
            "other (x=2) at",
            "[Inferior 1 (process 1) exited with code 03]",
        ])
        XCTAssertEqual(umk.termination, .exited(3), umk.report)

        let (gdb2, umk2) = try debug(try target(static: false), ["threads"], [
            "break main", "continue", "watch counter", "continue", "continue", "detach",
        ])
        assertContains(gdb2, ["hit Hardware watchpoint 2: counter", "Old value = 0", "worker_step (id=",
                              "[Inferior 1 (process 1) detached]"])
        XCTAssertEqual(umk2.termination, .exited(0), umk2.report)
        XCTAssertEqual(umk2.out, "counter 9\n", umk2.report)

        // A hardware breakpoint (hbreak), hit by both threads: three calls each.
        let (gdb3, umk3) = try debug(try target(static: false), ["threads"],
                                     ["hbreak worker_step"] + Array(repeating: "continue", count: 7))
        XCTAssertEqual(gdb3.out.components(separatedBy: "hit Breakpoint 1, worker_step").count - 1, 6, gdb3.report)
        assertContains(gdb3, ["Hardware assisted breakpoint 1", "[Inferior 1 (process 1) exited normally]"])
        XCTAssertEqual(umk3.out, "counter 9\n", umk3.report)
    }

    func testGdbDetach() throws {
        let (gdb, umk) = try debug(try target(static: true), [], ["break helper", "continue", "detach"])
        assertContains(gdb, ["Breakpoint 1, helper (x=1)", "[Inferior 1 (process 1) detached]"])
        // Detached with its breakpoint taken out: the program runs on to its end.
        XCTAssertEqual(umk.termination, .exited(3), umk.report)
        XCTAssertEqual(umk.out, "value 2\nother 4662 5\n", umk.report)
    }

    /// The protocol by hand (Tools/gdb-raw-protocol.py): malformed packets each get an answer and break nothing, and
    /// Ctrl-C (0x03) stops a program that computes without system calls, with SIGINT.
    func testGdbMalformedPacketsAndInterrupt() throws {
        guard let python = Paths.which("python3") else { throw XCTSkip("python3 is not installed") }
        guard Paths.which("gdb") != nil else { throw XCTSkip("gdb is not installed (Debian: gdb)") }
        let dir = NSTemporaryDirectory() + "umk-gdb-raw-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/gdb.sock"
        let umkRun = Background()
        let argv = ["run"] + identityOptions + ["--gdb", socket, "--", "/bin/sh", "-c", "while :; do :; done"]
        let umk = try umkBinary()
        Thread { umkRun.finish(Runner.run(umk, argv, timeout: 120)) }.start()
        let deadline = Date().addingTimeInterval(60)
        while access(socket, F_OK) != 0 && umkRun.outcome == nil && Date() < deadline { usleep(20_000) }
        let client = Runner.run(python, [Paths.package + "/Tools/gdb-raw-protocol.py", socket], timeout: 120)
        guard let outcome = umkRun.wait(seconds: 130) else { return XCTFail("umk did not end:\n\(client.report)") }
        XCTAssertEqual(client.termination, .exited(0), client.report + "\n" + outcome.report)
        XCTAssertTrue(client.out.contains("stop: b'T02"), client.report)
        XCTAssertEqual(outcome.termination, .exited(137), outcome.report)  // killed by gdb's k
        assertNoStrayStubs(after: outcome)
    }

    func testGdbAddressIsChecked() throws {
        let outcome = try runUnderUmk("/bin/true", options: ["--gdb", "10.0.0.1:1234"])
        XCTAssertEqual(outcome.termination, .exited(125), outcome.report)
        XCTAssertTrue(outcome.err.contains("--gdb"), outcome.report)
    }
}

/// The outcome of a run on another thread.
private final class Background: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var result: Outcome?

    var outcome: Outcome? {
        lock.lock()
        defer { lock.unlock() }
        return result
    }

    func finish(_ o: Outcome) {
        lock.lock()
        result = o
        lock.unlock()
        done.signal()
    }

    func wait(seconds: Double) -> Outcome? {
        _ = done.wait(timeout: .now() + seconds)
        return outcome
    }
}
