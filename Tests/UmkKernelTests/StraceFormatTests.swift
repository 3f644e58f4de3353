import XCTest
@testable import UmkKernel

/// --strace's pure pieces, as strace spells them: flags, signal sets, wait statuses, strings, filters.
/// (StraceTests in UmkSystemTests diffs whole traces against the real strace.)
final class StraceFormatTests: XCTestCase {
    func testSignalSets() {
        XCTAssertEqual(StraceNames.sigset(0), "[]")
        XCTAssertEqual(StraceNames.sigset(1 << 16), "[CHLD]")  // SIGCHLD is 17
        XCTAssertEqual(StraceNames.sigset(~UInt64(0)), "~[]")
        XCTAssertEqual(StraceNames.sigset(~UInt64(0) & ~(UInt64(7) << 31)), "~[RTMIN RT_1 RT_2]")
        XCTAssertEqual(StraceNames.sigset(~UInt64(0) & ~(1 << 8 | 1 << 18)), "~[KILL STOP]")
    }

    func testFlagsAndValues() {
        XCTAssertEqual(StraceNames.cloneFlags(0x1200011), "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD")
        XCTAssertEqual(StraceNames.futexOp(128), "FUTEX_WAIT_PRIVATE")
        XCTAssertEqual(StraceNames.futexOp(9 | 256), "FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME")
        XCTAssertEqual(StraceNames.socketType(1 | 0x80000 | 0x800), "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK")
        XCTAssertEqual(StraceNames.mode(0o100644), "S_IFREG|0644")
        XCTAssertEqual(StraceNames.mode(0o41777), "S_IFDIR|S_ISVTX|0777")
        XCTAssertEqual(StraceNames.octal(0), "000")
        XCTAssertEqual(StraceNames.rlim(8 << 20), "8192*1024")
        XCTAssertEqual(StraceNames.rlim(.max), "RLIM64_INFINITY")
        XCTAssertEqual(StraceNames.rlim(1000), "1000")
        XCTAssertEqual(StraceNames.flags(UInt32(0x12), [(2, "A"), (0x10, "B")]), "A|B")
        XCTAssertEqual(StraceNames.flags(UInt32(0x23), [(2, "A")]), "A|0x21")
        XCTAssertEqual(Strace.makedev(0x0103), "makedev(0x1, 0x3)")
        XCTAssertEqual(Strace.ioctlNumber(0x8008_7601), "_IOC(_IOC_READ, 0x76, 0x1, 0x8)")
    }

    /// A terminal's termios as strace 6 prints it (stty's defaults on a pty).
    func testTermios() {
        XCTAssertEqual(Strace.termios(iflag: 0x500, oflag: 5, cflag: 0o277, lflag: 0x8a3b),
                       "{c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, "
                       + "c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}")
        XCTAssertEqual(StraceNames.ioctlRequests[0x5403], "SNDCTL_TMR_STOP or TCSETSW")
    }

    func testWaitStatuses() {
        XCTAssertEqual(StraceNames.waitStatus(3 << 8), "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]")
        XCTAssertEqual(StraceNames.waitStatus(9), "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]")
        XCTAssertEqual(StraceNames.waitStatus(11 | 0x80), "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]")
        XCTAssertEqual(StraceNames.waitStatus(19 << 8 | 0x7f), "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]")
        XCTAssertEqual(StraceNames.waitStatus(0xffff), "[{WIFCONTINUED(s)}]")
    }

    /// strace's string_quote: C escapes, octal with as few digits as the next byte allows, hex when asked.
    func testQuoting() {
        XCTAssertEqual(Strace.quote(Array("a\"b\\\n\t".utf8), limit: 32), #""a\"b\\\n\t""#)
        XCTAssertEqual(Strace.quote([0x78, 1, 2, 0x37], limit: 32), #""x\1\0027""#)
        XCTAssertEqual(Strace.quote([0x7f, 0x45], limit: 32), #""\177E""#)
        XCTAssertEqual(Strace.quote([0xab, 0x01], limit: 32, hex: true), #""\xab\x01""#)
        XCTAssertEqual(Strace.quote(Array("abcdef".utf8), limit: 3), #""abc"..."#)
    }

    func testFilters() throws {
        let process = try StraceFilter.parse("%process,uname").get()
        XCTAssertTrue(process.traces(61))  // wait4
        XCTAssertTrue(process.traces(63))  // uname
        XCTAssertFalse(process.traces(0))  // read
        let negated = try StraceFilter.parse("!%desc,mmap").get()
        XCTAssertFalse(negated.traces(0))
        XCTAssertFalse(negated.traces(9))
        XCTAssertTrue(negated.traces(59))
        XCTAssertTrue(negated.traces(9999))
        XCTAssertTrue(try StraceFilter.parse("file,?nosuch").get().traces(257))
        XCTAssertFalse(try StraceFilter.parse("none").get().traces(0))
        XCTAssertNotNil(StraceFilterCheck.problem("opne"))
        XCTAssertNotNil(StraceFilterCheck.problem("%nosuch"))
        XCTAssertNil(StraceFilterCheck.problem("trace=all"))
        // Every class names only calls the table knows.
        for (name, calls) in StraceFilter.classes {
            for call in calls { XCTAssertNotNil(SyscallNames.table.firstIndex(of: call), "\(name): \(call)") }
        }
    }
}
