// UserlandTests.swift: the differential tests of the Userland programs. Each runs natively and under umk, as
// a glibc static binary, and as a musl one where musl-gcc is installed (a skip otherwise); the ELF loader's
// tests also run a static-pie build. Output and exit status must be identical.

import Foundation
import XCTest

final class UserlandTests: SystemTestCase {

    // MARK: regressions: guest inputs that once crashed umk (Userland/regressions.c)

    func testRegressions() throws { try same("regressions", .glibc) }
    func testRegressionsMusl() throws { try same("regressions", .musl) }
    func testRegressionFaultAtUserLimit() throws { try same("regressions", .glibc, { _ in ["fault-at-user-limit"] }) }
    func testRegressionAltstackAtTop() throws { try same("regressions", .glibc, { _ in ["altstack-at-top"] }) }

    // MARK: memory: brk, mmap, munmap, mprotect, mremap, madvise, file mappings

    func testMemory() throws { try same("mem", .glibc, { [$0] }) }
    func testMemoryStaticPie() throws { try same("mem", .staticPie, { [$0] }) }
    func testMemoryMusl() throws { try same("mem", .musl, { [$0] }) }

    // MARK: EFAULT on bad pointers

    func testBadPointers() throws { try same("efault", .glibc, { [$0] }) }
    func testBadPointersMusl() throws { try same("efault", .musl, { [$0] }) }

    // MARK: files, fds, paths

    func testFiles() throws { try same("files", .glibc, { _ in [Fixture.files] }) }
    func testFilesMusl() throws { try same("files", .musl, { _ in [Fixture.files] }) }

    func testFileDescriptors() throws {
        try same("fds", .glibc, { _ in [Fixture.files + "/hello.txt"] }, stdin: "some input\n")
    }
    func testFileDescriptorsMusl() throws {
        try same("fds", .musl, { _ in [Fixture.files + "/hello.txt"] }, stdin: "some input\n")
    }

    func testPaths() throws { try same("paths", .glibc, { _ in [Fixture.files] }) }
    func testPathsMusl() throws { try same("paths", .musl, { _ in [Fixture.files] }) }
    func testPathsFromAnotherWorkingDirectory() throws {
        try same("paths", .glibc, { _ in [Fixture.files] }, cwd: Fixture.files + "/sub")
    }

    // MARK: argv, envp, auxv

    private let awkwardArguments = ["one", "two words", "", "tab\there", "ünï", "--", "-e", "x=y"]

    func testAuxv() throws { try same("auxv", .glibc, { _ in self.awkwardArguments }) }
    func testAuxvStaticPie() throws { try same("auxv", .staticPie, { _ in self.awkwardArguments }) }
    func testAuxvMusl() throws { try same("auxv", .musl, { _ in self.awkwardArguments }) }
    func testAuxvWithExtraEnvironment() throws {
        try same("auxv", .glibc, environment: ["FOO": "bar", "EMPTY": "", "TERM": "dumb", "SPACED": "a b=c"])
    }

    // MARK: uname, ids, clocks, getrandom, limits, signal state

    func testSystemInformation() throws { try same("sys", .glibc) }
    func testSystemInformationMusl() throws { try same("sys", .musl) }

    // MARK: exit statuses and deaths by signal

    private let exits = [["0"], ["1"], ["42"], ["255"], ["256"], ["300", "_exit"], ["7", "exit_group"], ["9", "exit"]]

    func testExitStatuses() throws {
        for arguments in exits { try same("exit", .glibc, { _ in arguments }) }
    }
    func testExitStatusesStaticPie() throws {
        for arguments in exits { try same("exit", .staticPie, { _ in arguments }) }
    }
    func testExitStatusesMusl() throws {
        for arguments in exits { try same("exit", .musl, { _ in arguments }) }
    }

    /// A usage message on stderr and status 2: stderr must match too.
    func testUsageOnStderr() throws { try same("exit", .glibc, compareStderr: true) }

    private let crashes = ["segv", "readonly", "exec", "abort", "ud2", "div", "int3", "hlt"]

    func testDeathsBySignal() throws {
        for mode in crashes { try same("crash", .glibc, { _ in [mode] }) }
    }
    func testDeathsBySignalMusl() throws {
        for mode in crashes { try same("crash", .musl, { _ in [mode] }) }
    }
}
