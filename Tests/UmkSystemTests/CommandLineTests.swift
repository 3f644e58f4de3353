// CommandLineTests.swift: umk's own exit statuses: 127 when PROGRAM is not found, 126 when it cannot be
// executed (with a one-line reason on stderr), 125 when umk itself fails, as `docker run` does.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class CommandLineTests: SystemTestCase {
    private func assertStatus(_ arguments: [String], _ status: Int32, oneLineError: Bool = true,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let outcome = try umk(arguments, file: file, line: line)
        XCTAssertEqual(outcome.termination, .exited(status), outcome.report, file: file, line: line)
        let message = outcome.err.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(message.isEmpty, "umk should say why on stderr\n\(outcome.report)", file: file, line: line)
        if oneLineError {
            XCTAssertFalse(message.contains("\n"), "the reason should be one line\n\(outcome.report)",
                           file: file, line: line)
        }
    }

    /// With no -w the guest starts in umk's own directory when the guest has it (so `./prog` works), else /.
    func testCallersDirectoryIsTheDefault() throws {
        let dir = Fixture.files
        let here = Runner.run(try umkBinary(), ["run"] + identityOptions + ["--", "/bin/sh", "-c", "pwd; cat ./hello.txt"], cwd: dir)
        XCTAssertEqual(here.out, dir + "\nhello, world\n", here.report)
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.copyItem(atPath: try Userland.program("exit"), toPath: root + "/exit")
        let elsewhere = Runner.run(try umkBinary(), ["run", "--root", root, "--", "/exit", "0"], cwd: dir)
        XCTAssertEqual(elsewhere.termination, .exited(0), elsewhere.report)
        let explicit = Runner.run(try umkBinary(), ["run", "-w", "/", "--", "/bin/pwd"], cwd: dir)
        XCTAssertEqual(explicit.out, "/\n", explicit.report)
    }

    func testMemorySizes() throws {
        for (size, kB) in [("1.5G", 1_572_864), ("2GiB", 2_097_152), ("1GB", 1_048_576), ("64M", 65536), ("67108864", 65536)] {
            let outcome = try umk(["run", "--mem", size, "--", "/bin/sh", "-c", "head -1 /proc/meminfo"])
            XCTAssertEqual(outcome.out.split(separator: " ").filter { !$0.isEmpty }.dropFirst().first.map(String.init),
                           "\(kB)", "\(size): \(outcome.report)")
        }
        for bad in ["1.5.5G", "G", "-1G", "12Q", "3M"] { try assertStatus(["run", "--mem", bad, "--", "/bin/true"], 125) }
    }

    /// A guest that fails after calling a system call umk lacks gets one line naming it; one that succeeds
    /// gets none.
    func testUnimplementedCallsAreNamedWhenTheGuestFails() throws {
        let call = "import ctypes; ctypes.CDLL(None).syscall(155, 0, 0)"  // pivot_root
        let failing = try umk(["run", "--", "/usr/bin/python3", "-c", call + "; exit(3)"])
        XCTAssertEqual(failing.termination, .exited(3), failing.report)
        XCTAssertEqual(failing.err, "umk: the guest called unimplemented system calls: pivot_root; see umk syscalls\n",
                       failing.report)
        let fine = try umk(["run", "--", "/usr/bin/python3", "-c", call])
        XCTAssertEqual(fine.termination, .exited(0), fine.report)
        XCTAssertEqual(fine.err, "", fine.report)
    }

    /// PROGRAM's own options may follow it without `--`: they are the guest's, even ones umk has too.
    func testProgramOptionsWithoutDoubleDash() throws {
        let outcome = try umk(["run", "--mem", "64M", "/bin/echo", "-n", "--strace=x", "-w", "/", "--", "-v"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "--strace=x -w / -- -v", outcome.report)
        XCTAssertEqual(outcome.err, "", outcome.report)
    }

    func testUnknownLogLevelExits125() throws {
        try assertStatus(["run", "--log", "loud", "--", "/bin/true"], 125)
    }

    func testMissingProgramExits127() throws {
        try assertStatus(["run", "--", "/nonexistent/umk-no-such-program"], 127)
        try assertStatus(["run", "--", "umk-no-such-program"], 127)
    }

    func testNonExecutableFileExits126() throws {
        try assertStatus(["run", "--", Fixture.files + "/hello.txt"], 126)
    }

    func testDirectoryExits126() throws {
        try assertStatus(["run", "--", Fixture.files + "/sub"], 126)
    }

    /// Malformed executables get ENOEXEC from the ELF loader: status 126 and one line on stderr, never a crash.
    /// Not differential: Linux maps segments that run past the end of the file and the program dies at its
    /// first touch of them (SIGSEGV or SIGBUS); umk checks them against the file size and refuses.
    func testMalformedExecutablesExit126() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let elf = try Data(contentsOf: URL(fileURLWithPath: try Userland.program("exit")))
        var badPhdr = elf
        badPhdr.replaceSubrange(32..<40, with: withUnsafeBytes(of: UInt64(elf.count + 4096).littleEndian) { Data($0) })
        var x32 = elf
        x32[4] = 1  // ELFCLASS32 with EM_X86_64: the x32 ABI, which Linux may run but umk does not
        var badMachine = elf
        badMachine[18] = 0x28  // EM_ARM
        let cases: [(String, Data)] = [
            ("garbage", Data("this is not an executable\n".utf8)),
            ("empty", Data()),
            ("truncated-header", elf.prefix(40)),
            ("truncated-phdrs", elf.prefix(80)),
            ("truncated-segments", elf.prefix(4096 + 100)),
            ("phdrs-past-eof", badPhdr),
            ("x32", x32),
            ("wrong-machine", badMachine),
        ]
        for (name, contents) in cases {
            let path = root + "/" + name
            _ = FileManager.default.createFile(atPath: path, contents: contents)
            chmod(path, 0o755)
        }
        for (name, _) in cases {
            try assertStatus(["run", "--root", root, "--", "/" + name], 126)
        }
    }

    func testBadMemorySizeExits125() throws {
        try assertStatus(["run", "--mem", "1k", "--", "/bin/true"], 125, oneLineError: false)
        try assertStatus(["run", "--mem", "foo", "--", "/bin/true"], 125, oneLineError: false)
    }

    func testUnknownOptionExits125() throws {
        try assertStatus(["run", "--no-such-option", "--", "/bin/true"], 125, oneLineError: false)
    }

    func testMissingRootExits125() throws {
        try assertStatus(["run", "--root", "/nonexistent/umk-root", "--", "/bin/true"], 125, oneLineError: false)
    }

    func testVersionAndHelp() throws {
        let version = try umk(["--version"])
        XCTAssertEqual(version.termination, .exited(0), version.report)
        XCTAssertFalse(version.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, version.report)
        let help = try umk(["--help"])
        XCTAssertEqual(help.termination, .exited(0), help.report)
        XCTAssertTrue(help.out.contains("run"), "--help should mention the run subcommand\n\(help.report)")
    }

    private func makeRoot() throws -> String {
        var template = Array((Fixture.scratch + "umk-root-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw BuildFailure(description: "mkdtemp failed: errno \(errno)") }
        let root = String(cString: template)
        chmod(root, 0o755)
        return root
    }

    /// SIGTERM sent to umk goes to the guest's process 1 (docker run's sig-proxy): a guest that takes the
    /// default action dies of it (128+15), one with a handler runs it, umk survives to report either.
    func testSignalsToUmkGoToTheGuest() throws {
        func terminated(_ script: String) throws -> Outcome {
            let outcome = Runner.run(try umkBinary(), ["run", "--", "/bin/sh", "-c", script], timeout: 30) { pid in
                DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) { kill(pid, SIGTERM) }
            }
            assertNoStrayStubs(after: outcome)
            return outcome
        }
        let plain = try terminated("sleep 20")
        XCTAssertEqual(plain.termination, .exited(128 + 15), plain.report)
        let trapped = try terminated("trap 'echo got TERM; exit 7' TERM; while :; do sleep 0.1; done")
        XCTAssertEqual(trapped.termination, .exited(7), trapped.report)
        XCTAssertEqual(trapped.out, "got TERM\n", trapped.report)
    }
}
