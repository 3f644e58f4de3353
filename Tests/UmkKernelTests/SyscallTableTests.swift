import XCTest
@testable import UmkKernel

/// The syscall table is data: names match the x86-64 numbering, and what issue 2 requires is there.
final class SyscallTableTests: XCTestCase {
    func testNamesMatchNumbers() {
        let expected: [Int: String] = [0: "read", 1: "write", 9: "mmap", 12: "brk", 39: "getpid", 59: "execve",
                                       158: "arch_prctl", 231: "exit_group", 257: "openat", 262: "newfstatat",
                                       332: "statx", 334: "rseq", 439: "faccessat2"]
        for (nr, name) in expected {
            XCTAssertEqual(SyscallNames.name(nr), name)
            if let e = SyscallTable.standard.entry(nr) { XCTAssertEqual(e.name, name) }
        }
        XCTAssertEqual(SyscallNames.name(9999), "syscall_9999")
    }

    func testFoundationCallsAreImplemented() {
        let required = ["brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "openat", "close", "read", "write",
                        "pread64", "pwrite64", "readv", "writev", "lseek", "fstat", "newfstatat", "statx", "getdents64",
                        "readlinkat", "faccessat", "faccessat2", "getcwd", "chdir", "fchdir", "dup", "dup2", "dup3",
                        "fcntl", "ioctl", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                        "getrlimit", "uname", "getuid", "geteuid", "getgid", "getegid", "getrandom", "clock_gettime",
                        "gettimeofday", "time", "clock_getres", "nanosleep", "sysinfo", "exit", "exit_group",
                        "rt_sigaction", "rt_sigprocmask", "sched_getaffinity", "getcpu"]
        let implemented = Set(SyscallReport.rows.filter { $0.status != "missing" }.map { $0.name })
        for name in required { XCTAssertTrue(implemented.contains(name), "\(name) is missing") }
    }

    func testUnimplementedCallsAreReportedMissing() {
        let rows = Dictionary(uniqueKeysWithValues: SyscallReport.rows.map { ($0.name, $0.status) })
        XCTAssertEqual(rows["kexec_load"], "missing")
        XCTAssertEqual(rows["init_module"], "missing")
        XCTAssertTrue(rows["clone3"]?.hasPrefix("partial") ?? false)
        XCTAssertTrue(rows["madvise"]?.hasPrefix("partial") ?? false)
    }

    func testErrnoNamesAreStraceNames() {
        XCTAssertEqual(LinuxErrno.ENOENT.name, "ENOENT")
        XCTAssertEqual(LinuxErrno(11).name, "EAGAIN")
        XCTAssertEqual(LinuxErrno(95).name, "EOPNOTSUPP")
        XCTAssertEqual(LinuxErrno.EFAULT.message, "Bad address")
    }
}
