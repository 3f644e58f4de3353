// HostProgramTests.swift: the host's own (dynamic) programs, run natively and under umk, and busybox applets
// when /bin/busybox is installed. Output and status must be identical.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class HostProgramTests: SystemTestCase {
    /// The host program `name` from /usr/bin or /bin, or a skip.
    private func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/bin"] where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        throw XCTSkip("\(name) is not installed in /usr/bin or /bin")
    }

    private func lines(_ text: String) -> Data { Data(text.utf8) }

    func testTrue() throws { try assertSameAsNative(try tool("true")) }
    func testFalse() throws { try assertSameAsNative(try tool("false")) }
    func testEcho() throws { try assertSameAsNative(try tool("echo"), ["hello", "from", "umk", "", "a  b"]) }
    func testCatFile() throws { try assertSameAsNative(try tool("cat"), [Fixture.data + "/lines.txt"]) }
    func testCatStdin() throws { try assertSameAsNative(try tool("cat"), stdin: lines(Fixture.words)) }
    func testCatMissingFile() throws {
        try assertSameAsNative(try tool("cat"), [Fixture.files + "/missing"], compareStderr: true)
    }

    /// `ls -la /`, less the entries whose link count, size or time changes on a live host from one moment to
    /// the next (pseudo file systems, /tmp, /run) and the `total` line that sums their sizes; columns are
    /// compared without their padding, which those entries widen.
    func testLsRoot() throws {
        let volatile: Set<String> = ["proc", "sys", "dev", "run", "tmp"]
        try assertSameAsNative(try tool("ls"), ["-la", "/"]) { text in
            text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
                let name = line.split(separator: " ").last.map(String.init) ?? ""
                return !line.hasPrefix("total ") && !volatile.contains(name)
            }.map { $0.split(separator: " ").joined(separator: " ") }.joined(separator: "\n")
        }
    }

    func testLsFixture() throws { try assertSameAsNative(try tool("ls"), ["-la", "--full-time", Fixture.files]) }

    /// env prints the environment in envp's order, which the test harness does not fix: compare sorted.
    func testEnv() throws {
        let sorted: (String) -> String = { $0.split(separator: "\n").sorted().joined(separator: "\n") }
        try assertSameAsNative(try tool("env"), normalize: sorted)
        try assertSameAsNative(try tool("env"), environment: ["FOO": "bar", "HOME": "/home/x"], normalize: sorted)
    }

    func testSha256sum() throws { try assertSameAsNative(try tool("sha256sum"), [Fixture.data + "/blob.bin"]) }
    func testSort() throws { try assertSameAsNative(try tool("sort"), ["-k2,2n", "-k1,1"], stdin: lines(Fixture.lines)) }
    func testWc() throws { try assertSameAsNative(try tool("wc"), stdin: lines(Fixture.lines)) }
    func testHead() throws { try assertSameAsNative(try tool("head"), ["-n", "3"], stdin: lines(Fixture.lines)) }
    func testPwdInWorkingDirectory() throws { try assertSameAsNative(try tool("pwd"), cwd: "/usr/share") }

    /// `uname -a` cannot match: the nodename and release are umk's. The rest must.
    func testUname() throws { try assertSameAsNative(try tool("uname"), ["-s", "-m", "-o"]) }

    // MARK: umk only

    /// glibc, Python and test suites gate features on the release: umk reports a current 6.x.
    func testUmkOnlyUnameReleaseIsSix() throws {
        let outcome = try runUnderUmk(try tool("uname"), ["-r"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertTrue(outcome.out.hasPrefix("6."), "uname -r under umk should start with 6.\n\(outcome.report)")
    }

    func testUmkOnlyHostnameOption() throws {
        let outcome = try runUnderUmk(try tool("uname"), ["-n"], options: ["--hostname", "foo"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "foo\n", outcome.report)
    }

    func testUmkOnlyDefaultHostnameIsUmk() throws {
        let outcome = try runUnderUmk(try tool("uname"), ["-n"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "umk\n", outcome.report)
    }
}

/// busybox applets, `/bin/busybox APPLET ...`: busybox-static is a static binary with its own libc usage.
final class BusyboxTests: SystemTestCase {
    private func busybox(_ arguments: [String], stdin: String = "", file: StaticString = #filePath,
                         line: UInt = #line) throws {
        let busybox = "/bin/busybox"
        guard access(busybox, X_OK) == 0 else { throw XCTSkip("\(busybox) is not installed (Debian: busybox-static)") }
        try assertSameAsNative(busybox, arguments, stdin: Data(stdin.utf8), file: file, line: line)
    }

    func testEcho() throws { try busybox(["echo", "hello", "busybox"]) }
    func testCat() throws { try busybox(["cat", Fixture.files + "/hello.txt", Fixture.data + "/words.txt"]) }
    func testLs() throws { try busybox(["ls", "-la", Fixture.files]) }
    func testWc() throws { try busybox(["wc", Fixture.data + "/lines.txt"]) }
    func testWcStdin() throws { try busybox(["wc", "-l"], stdin: Fixture.lines) }
    func testSort() throws { try busybox(["sort", "-k2,2n", "-k1,1"], stdin: Fixture.lines) }
    func testGrep() throws { try busybox(["grep", "-n", "apple", Fixture.data + "/lines.txt"]) }
    func testGrepNoMatch() throws { try busybox(["grep", "zebra", Fixture.data + "/lines.txt"]) }
    func testSed() throws { try busybox(["sed", "-e", "s/o/0/g", Fixture.data + "/words.txt"]) }
    func testAwk() throws { try busybox(["awk", "{ s += $2 } END { print s, NR }", Fixture.data + "/lines.txt"]) }
    func testHead() throws { try busybox(["head", "-n", "3"], stdin: Fixture.lines) }
    func testTail() throws { try busybox(["tail", "-n", "2", Fixture.data + "/lines.txt"]) }
    func testMd5sum() throws { try busybox(["md5sum", Fixture.data + "/blob.bin"]) }
    func testTr() throws { try busybox(["tr", "a-z", "A-Z"], stdin: Fixture.words) }
    func testCut() throws { try busybox(["cut", "-d", " ", "-f", "2", Fixture.data + "/lines.txt"]) }
    func testSeq() throws { try busybox(["seq", "1", "3", "20"]) }
}
