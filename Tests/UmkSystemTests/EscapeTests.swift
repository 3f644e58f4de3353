// EscapeTests.swift: the sandbox holds. A guest tries every way it has to the stub's own pages and to the host
// (Userland/escape.c), with a canary file outside its root; and every stub runs under its seccomp filter,
// with no_new_privs, before it ever runs guest code.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class EscapeTests: SystemTestCase {
    func testGuestCannotReachTheStubOrTheHost() throws {
        let program = try Userland.program("escape")
        let root = try Fixture.temporaryDirectory("escape-root")
        let outside = try Fixture.temporaryDirectory("escape-outside")
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: outside)
        }
        try FileManager.default.copyItem(atPath: program, toPath: root + "/escape")
        let canary = outside + "/canary", newFile = outside + "/new-file"
        try "host secret\n".write(toFile: canary, atomically: true, encoding: .utf8)

        // 2G: the two splitting cases fork a 547 MiB heap, strictly accounted.
        let outcome = try umk(["run"] + identityOptions + ["--mem", "2G", "--root", root, "--", "/escape", canary, newFile])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, """
            mmap MAP_FIXED over the stub code: ENOMEM
            mmap MAP_FIXED over the control pages: ENOMEM
            mprotect the control pages writable: ENOMEM
            munmap the stub code: EINVAL
            madvise DONTNEED the control pages: ENOMEM
            mremap onto the control pages: EINVAL
            write to the control pages: SIGSEGV
            write to the stub code: SIGSEGV
            process_vm_writev to the control pages: ENOSYS
            open /proc/self/mem: ENOENT
            vsyscall gettimeofday: 0, now
            copy-on-write on every other page: child killed by signal 9
            MADV_DONTNEED on every other page: child: madvise ENOMEM
            MADV_DONTNEED on every other page: child exited 0
            open the canary: ENOENT
            create the new file: ENOENT
            raw syscall open the canary: ENOENT

            """, outcome.report)
        XCTAssertEqual(try String(contentsOfFile: canary, encoding: .utf8), "host secret\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: newFile), "the guest created a file on the host")
    }

    /// Every path trick (Userland/confine.c) against a root made for the test and a writable bind: `..`,
    /// symlinks absolute and climbing (made in the bind, where the host sees them), O_PATH fds, openat2, a
    /// directory moved under a process inside it, /proc's magic links, hard links and renames out of the
    /// bind, the fd-kept-from-before way out of a chroot, and a bind of / inside the bind. The canary beside
    /// the bind's host directory is never reached.
    func testPathsStayInsideTheRootAndTheBinds() throws {
        let program = try Userland.program("confine")
        let top = try Fixture.temporaryDirectory("confine")
        defer { try? FileManager.default.removeItem(atPath: top) }
        let root = top + "/root", shared = top + "/shared", canary = top + "/canary"
        for d in [root, root + "/mnt", shared] { mkdir(d, 0o755) }
        try FileManager.default.copyItem(atPath: program, toPath: root + "/confine")
        try "host secret\n".write(toFile: canary, atomically: true, encoding: .utf8)
        let outcome = try umk(["run", "--root", root, "-v", "\(shared):/mnt/b", "--", "/confine", canary, "/mnt/b"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, """
            the canary by its host path: ENOENT
            dot-dots above the root: ENOENT
            the bind's host sibling through ..: ENOENT
            an absolute symlink in the bind: ENOENT
            a climbing symlink in the bind: ENOENT
            a symlink to the host sibling: ENOENT
            openat(bind fd, ../canary): ENOENT
            openat(bind fd, ../../../..canary): ENOENT
            openat2 IN_ROOT ../canary: ENOENT
            openat2 BENEATH ../canary: EXDEV
            chdir(inner): 0
            rename(path, moved): 0
            ../../../canary from a moved cwd: ENOENT
            ../../canary from a moved cwd: ENOENT
            chdir("/"): 0
            /proc/self/root + the canary's path: ENOENT
            /proc/self/fd/BIND/../canary: ENOENT
            /proc/1/cwd/../../../canary: ENOENT
            link(path, "/tmp/linked"): EXDEV
            rename(path, "/tmp/renamed"): EXDEV
            chroot("/jail"): 0
            fchdir(rootfd): 0
            the canary after leaving a chroot: ENOENT
            chroot("."): 0
            mount("/", path, NULL, MS_BIND, NULL): 0
            the bind seen again through a bind of /: ENOENT
            umount(path): 0

            """, outcome.report)
        XCTAssertEqual(try String(contentsOfFile: canary, encoding: .utf8), "host secret\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: top).sorted(), ["canary", "root", "shared"])
    }

    /// The vsyscall page is a system call like any other: umk answers it, and --strace shows it.
    func testVsyscallIsEmulatedByUmk() throws {
        let program = try Userland.program("escape")
        let outcome = try umk(["run"] + identityOptions + ["--strace", "--", program, "/nonexistent", "/nonexistent"])
        XCTAssertTrue(outcome.err.contains("gettimeofday("), "no gettimeofday in the trace\n\(outcome.report)")
    }

    /// The stubs, and umk's own kernel thread once booted (issue 6: umk's attack surface).
    func testEveryStubRunsUnderItsSeccompFilter() throws {
        let statuses = StatusLines()
        let outcome = Runner.run(try umkBinary(), ["run"] + identityOptions + ["--", "/bin/sh", "-c", "sleep 1 | cat"],
                                 timeout: SystemTestCase.timeout) { umk in
            Thread.detachNewThread {
                usleep(300_000)  // sleep and cat are running by now
                for _ in 0..<100 {
                    // Stubs after their exec (a child still named umk-kernel is one being spawned).
                    let stubs = HostProcesses.children(of: umk)
                    let lines = stubs.compactMap { try? String(contentsOfFile: "/proc/\($0.pid)/status", encoding: .utf8) }
                        .filter { $0.hasPrefix("Name:\tmemfd:umk-stub") }
                    let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(umk)/task")) ?? []
                    let kernel = threads.compactMap { try? String(contentsOfFile: "/proc/\(umk)/task/\($0)/status", encoding: .utf8) }
                        .filter { $0.hasPrefix("Name:\tumk-kernel") }
                    if lines.count >= 2 && !kernel.isEmpty {
                        statuses.set(lines + kernel)
                        return
                    }
                    usleep(20_000)
                }
            }
        }
        assertNoStrayStubs(after: outcome)
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        let seen = statuses.get()
        XCTAssertGreaterThanOrEqual(seen.count, 3, "never saw the stubs of sleep and cat, and umk's kernel thread")
        XCTAssertTrue(seen.contains { $0.hasPrefix("Name:\tumk-kernel") }, "umk's kernel thread was not looked at")
        for status in seen {
            let fields = status.split(separator: "\n").filter { $0.hasPrefix("Seccomp:") || $0.hasPrefix("NoNewPrivs:") }
            XCTAssertEqual(fields.map { $0.split(separator: "\t").last.map(String.init) ?? "" }, ["1", "2"], status)
        }
    }

}

private final class StatusLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func set(_ l: [String]) { lock.lock(); lines = l; lock.unlock() }
    func get() -> [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
