// ShellTests.swift: real shells running real scripts. Each script in Userland/scripts runs with /bin/sh
// (dash on Debian), /bin/bash and `/bin/busybox sh`, natively and under umk: stdout, stderr and the exit status
// must be identical. The scripts write only to stdout and stderr, or in a directory of their own under /tmp
// (under umk a throwaway copy), and print nothing that changes from run to run.
// Also: a pipeline with `sh -c`, and make running recipes.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class ShellTests: SystemTestCase {
    static let scripts = Paths.userland + "/scripts"

    /// The shells, as the command that runs a script: the program and the arguments before the script.
    private static let shells: [(program: String, arguments: [String])] = [
        ("/bin/sh", []), ("/bin/bash", []), ("/bin/busybox", ["sh"]),
    ]

    /// The scripts the tests below run; testEveryScriptIsRun checks that none in the folder is left out.
    private static let covered: Set<String> = [
        "pipelines.sh", "substitution.sh", "subshells.sh", "background.sh", "redirections.sh", "exec.sh",
        "xargs-find.sh", "env.sh", "control.sh", "set-e.sh", "status.sh", "spinning.sh", "jobs.sh", "set-m.sh",
        "files.sh", "build.sh",
    ]

    /// Runs Userland/scripts/NAME with every installed shell, natively and under umk, and compares.
    private func script(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = Self.scripts + "/" + name
        var ran = 0
        for shell in Self.shells where access(shell.program, X_OK) == 0 {
            try assertSameAsNative(shell.program, shell.arguments + [path], compareStderr: true, file: file,
                                   line: line)
            ran += 1
        }
        if ran == 0 { throw XCTSkip("none of /bin/sh, /bin/bash, /bin/busybox is installed") }
    }

    func testPipelines() throws { try script("pipelines.sh") }
    func testCommandSubstitution() throws { try script("substitution.sh") }
    func testSubshellsAndGroups() throws { try script("subshells.sh") }
    func testBackgroundJobsAndWait() throws { try script("background.sh") }
    func testRedirectionsAndHereDocuments() throws { try script("redirections.sh") }
    func testExecAndScriptsRunningScripts() throws { try script("exec.sh") }
    func testXargsAndFindExec() throws { try script("xargs-find.sh") }
    func testEnv() throws { try script("env.sh") }
    func testControlFlowAndRecursion() throws { try script("control.sh") }
    func testSetEExits() throws { try script("set-e.sh") }
    /// Busy jobs beside the shell: `(while :; do :; done) & sleep 0.2; kill $!` (the timer interrupt).
    func testSpinningJobsDoNotStallTheShell() throws { try script("spinning.sh") }
    /// `sleep 10 & kill -STOP $!; kill -CONT $!; kill $!; wait $!`, and a job killed while stopped.
    func testJobControlFromAScript() throws { try script("jobs.sh") }
    /// The same through `set -m`: jobs by number, `jobs` listing them stopped and running.
    func testSetMinusM() throws { try script("set-m.sh") }
    func testExitStatuses() throws { try script("status.sh") }
    /// Redirections, mkdir/rmdir/rm -r, hard and symbolic links, mv, chmod with setuid, cp -a, sort's
    /// temporary files, gzip, tar, touch -d, find, and the errors of each, in a directory of /tmp.
    func testFilesInAWritableDirectory() throws { try script("files.sh") }
    /// gcc, make, git and python3's tempfile in a writable directory.
    func testBuildingInAWritableDirectory() throws { try script("build.sh") }

    func testEveryScriptIsRun() throws {
        let all = try FileManager.default.contentsOfDirectory(atPath: Self.scripts).filter { $0.hasSuffix(".sh") }
        XCTAssertEqual(Set(all).subtracting(Self.covered), [], "scripts in Userland/scripts that no test runs")
        XCTAssertEqual(Self.covered.subtracting(all), [], "scripts the tests expect but the folder lacks")
    }

    // MARK: sh -c

    /// The issue's own example.
    func testLsSortHead() throws {
        try assertSameAsNative("/bin/sh", ["-c", "ls /usr | sort -r | head -3"], compareStderr: true)
    }

    func testShellCommandWithManyProcesses() throws {
        try assertSameAsNative("/bin/sh", ["-c", "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done; "
                                           + "seq 1 200 | while read n; do echo $((n * n)); done | tail -n 2"],
                               compareStderr: true)
    }

    func testBashPipeStatus() throws {
        guard access("/bin/bash", X_OK) == 0 else { throw XCTSkip("/bin/bash is not installed") }
        try assertSameAsNative("/bin/bash", ["-c", "set -o pipefail; false | true; echo $?; "
                                             + "echo ${PIPESTATUS[@]}; true | false | true; echo ${PIPESTATUS[@]}"],
                               compareStderr: true)
    }

    // MARK: make

    private func make() throws -> String {
        for path in ["/usr/bin/make", "/bin/make"] where access(path, X_OK) == 0 { return path }
        throw XCTSkip("make is not installed")
    }

    /// Recipes that print, run sh, pipelines and a recursive make; every target is phony, nothing is written.
    func testMakeRunsRecipes() throws {
        try assertSameAsNative(try make(), ["-C", Self.scripts + "/make"], compareStderr: true)
    }

    /// A recipe that fails: make reports it on stderr and exits 2.
    func testMakeFailingRecipe() throws {
        let outcome = try assertSameAsNative(try make(), ["-C", Self.scripts + "/make", "fails"],
                                             compareStderr: true)
        XCTAssertEqual(outcome.termination.shellStatus, 2, outcome.report)
    }
}
