// DebuggingTests.swift: debugging umk's kernel with host tools keeps working (README "Debugging umk"):
// gdb stops in the kernel thread where a chosen guest system call is dispatched (UMK_BREAK_SYSCALL, as
// Tools/gdb-syscall runs it), with Swift frames in the backtrace, and strace -f on umk sees the stubs' host
// calls but never a guest's.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class DebuggingTests: SystemTestCase {
    func testGdbStopsAtAGuestSystemCall() throws {
        guard let gdb = Paths.which("gdb") else { throw XCTSkip("gdb is not installed (Debian: gdb)") }
        let outcome = Runner.run(gdb, ["-q", "-batch", "-ex", "set breakpoint pending on",
                                       "-ex", "handle SIGCHLD SIG40 nostop noprint pass",
                                       "-ex", "break umk_debug_syscall", "-ex", "run", "-ex", "bt 4", "-ex", "kill",
                                       "--args", try umkBinary(), "run", "--", "/bin/uname", "-s"],
                                 environment: ["UMK_BREAK_SYSCALL": "uname", "UMK_SECCOMP": "off",
                                               "PATH": "/usr/bin:/bin"], timeout: 120)
        XCTAssertTrue(outcome.out.contains("umk_debug_syscall (nr=63)"), outcome.report)
        XCTAssertTrue(outcome.out.contains("dispatch"), "no kernel frame in the backtrace:\n\(outcome.report)")
        XCTAssertTrue(outcome.out.contains("umk-kernel"), "not on the kernel thread:\n\(outcome.report)")
    }

    /// perf record -g on umk, then perf report with Swift's names demangled: the kernel's own frames show.
    func testPerfRecordsKernelFrames() throws {
        guard let perf = Paths.which("perf") else { throw XCTSkip("perf is not installed (Debian: linux-perf)") }
        guard let swift = Paths.which("swift") else { throw XCTSkip("no swift to demangle with") }
        let data = "/var/tmp/umk-perf-\(getpid()).data"
        defer { unlink(data); unlink(data + ".old") }
        let record = Runner.run(perf, ["record", "-g", "-o", data, try umkBinary(), "run", "--", "/bin/sh", "-c",
                                       "for i in 1 2 3 4 5 6 7 8; do /bin/true; done"], timeout: 120)
        guard record.termination == .exited(0) else {
            throw XCTSkip("perf cannot record here (perf_event_paranoid, a container?): \(record.err.suffix(300))")
        }
        let report = Runner.run(perf, ["report", "-i", data, "--stdio", "--no-children"], timeout: 120)
        XCTAssertEqual(report.termination, .exited(0), report.report)
        let input = "/var/tmp/umk-perf-\(getpid()).txt"
        defer { unlink(input) }
        FileManager.default.createFile(atPath: input, contents: report.stdout)
        let demangled = Runner.run("/bin/sh", ["-c", "\(swift) demangle --simplified < \(input)"], timeout: 120)
        XCTAssertTrue(demangled.out.contains("Kernel.loop()") || demangled.out.contains("Kernel.dispatch("),
                      "no kernel frame in perf's report:\n\(demangled.out.prefix(3000))")
    }

    func testStraceOnUmk() throws {
        guard let strace = Paths.which("strace") else { throw XCTSkip("strace is not installed") }
        let log = "/var/tmp/umk-strace-\(getpid()).txt"
        defer { unlink(log) }
        let outcome = Runner.run(strace, ["-f", "-o", log, "-e", "trace=ptrace,uname", try umkBinary(), "run", "--",
                                          "/bin/uname", "-s"], environment: ["UMK_SECCOMP": "off"], timeout: 120)
        XCTAssertEqual(outcome.termination, Termination.exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "Linux\n")
        let trace = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(trace.contains("PTRACE_SYSEMU"), "umk's own ptrace calls are not in the trace")
        XCTAssertFalse(trace.contains("uname("), "a guest's system call reached the host:\n\(trace.suffix(2000))")
    }

    /// --strace lines as strace -f prints them: the thread's id, open's mode only with O_CREAT, a signal
    /// delivered to a handler, the exit.
    func testStraceFormat() throws {
        let outcome = try umk(["run", "--strace", "--", "/bin/sh", "-c",
                               "trap 'echo got' USR2; kill -USR2 $$; cat /dev/null; echo x > /dev/null"])
        XCTAssertEqual(outcome.out, "got\n", outcome.report)
        for line in ["[pid 2] openat(AT_FDCWD, \"/dev/null\", O_RDONLY) = 3",
                     "[pid 1] openat(AT_FDCWD, \"/dev/null\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3",
                     "[pid 1] --- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_USER, si_pid=1, si_uid=",
                     "[pid 1] +++ exited with 0 +++"] {
            XCTAssertTrue(outcome.err.contains(line), "no \(line) in:\n\(outcome.err)")
        }
    }

    /// --log lines name their area.
    func testLogLinesNameTheirArea() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        let outcome = try umk(["run", "--log", "info", "--", "/usr/bin/python3", "-c",
                               "import ctypes; print(ctypes.CDLL(None).syscall(999))"])
        XCTAssertEqual(outcome.out, "-1\n", outcome.report)
        XCTAssertTrue(outcome.err.contains("notice umk: [syscalls] unimplemented system call syscall_999 (999): ENOSYS"),
                      outcome.report)
    }
}
