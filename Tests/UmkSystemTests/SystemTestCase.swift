// SystemTestCase.swift: the base of the system tests: runs a program natively and under `umk run`, with the
// same arguments, environment, working directory and stdin, and asserts that both give the same stdout (and
// stderr, when asked) and the same exit status, printing both sides and a diff when they do not.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

class SystemTestCase: XCTestCase {
    /// Generous for a debug build of umk on a loaded 2-core machine; a hung guest is killed at this point.
    static let timeout: TimeInterval = 60

    override func setUp() {
        super.setUp()
        _ = HostProcesses.isSubreaper
    }

    /// The umk executable; the test fails (by the thrown error) when it has not been built.
    func umkBinary() throws -> String {
        guard let path = Paths.umk else {
            throw BuildFailure(description: "umk is not built: no executable at \(Paths.products)/umk "
                               + "(set UMK_BINARY to override)")
        }
        return path
    }

    /// `--user UID:GID` when the tests do not run as root: the guest then has the same identity as native runs.
    var identityOptions: [String] { getuid() == 0 && getgid() == 0 ? [] : ["--user", "\(getuid()):\(getgid())"] }

    /// Runs `umk ARGUMENTS` as is, and checks that no stub outlives it.
    @discardableResult
    func umk(_ arguments: [String], stdin: Data = Data(), timeout: TimeInterval = SystemTestCase.timeout,
             file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let outcome = Runner.run(try umkBinary(), arguments, stdin: stdin, timeout: timeout)
        assertNoStrayStubs(after: outcome, file: file, line: line)
        return outcome
    }

    /// Runs PROGRAM under `umk run [OPTIONS] -w CWD [-e K=V ...] -- PROGRAM ARGS`.
    func runUnderUmk(_ program: String, _ arguments: [String] = [], environment: [String: String] = [:],
                     cwd: String = "/", stdin: Data = Data(), options: [String] = [],
                     timeout: TimeInterval = SystemTestCase.timeout,
                     file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        var argv = ["run"] + identityOptions + options + ["-w", cwd]
        var environment = environment
        if !identityOptions.isEmpty && environment["HOME"] == nil {
            // With --user, umk picks HOME itself (as docker does); native runs get the default /root.
            environment["HOME"] = Runner.defaultEnvironment["HOME"]
        }
        for key in environment.keys.sorted() { argv += ["-e", "\(key)=\(environment[key]!)"] }
        argv += ["--", program] + arguments
        return try umk(argv, stdin: stdin, timeout: timeout, file: file, line: line)
    }

    /// Runs PROGRAM natively, started the way umk starts a guest: environment exactly the defaults plus
    /// `environment`, fds 0-2 only, default signal dispositions.
    func runNatively(_ program: String, _ arguments: [String] = [], environment: [String: String] = [:],
                     cwd: String = "/", stdin: Data = Data(),
                     timeout: TimeInterval = SystemTestCase.timeout) throws -> Outcome {
        let env = Runner.defaultEnvironment.merging(environment) { _, new in new }
        var outcome = Runner.run(try Userland.cleanExec(), [program] + arguments, environment: env, cwd: cwd,
                                 stdin: stdin, timeout: timeout)
        outcome.command = [program] + arguments
        return outcome
    }

    /// Runs PROGRAM natively and under umk and asserts the same stdout and status (and stderr when
    /// `compareStderr`). `normalize` rewrites both stdouts before comparing, for output that is volatile on
    /// the host itself. Returns the umk outcome for further checks.
    @discardableResult
    func assertSameAsNative(
        _ program: String, _ arguments: [String] = [], environment: [String: String] = [:], cwd: String = "/",
        stdin: Data = Data(), compareStderr: Bool = false, normalize: ((String) -> String)? = nil,
        options: [String] = [], file: StaticString = #filePath, line: UInt = #line
    ) throws -> Outcome {
        let native = try runNatively(program, arguments, environment: environment, cwd: cwd, stdin: stdin)
        if case .timedOut = native.termination {
            XCTFail("the native run itself timed out:\n\(native.report)", file: file, line: line)
        }
        let guest = try runUnderUmk(program, arguments, environment: environment, cwd: cwd, stdin: stdin,
                                    options: options, file: file, line: line)
        let nativeOut = normalize?(native.out) ?? native.out
        let guestOut = normalize?(guest.out) ?? guest.out

        var problems: [String] = []
        if native.termination.shellStatus == nil || native.termination.shellStatus != guest.termination.shellStatus
            || guest.termination.shellStatus == nil
        {
            problems.append("status differs: native \(native.termination), umk \(guest.termination)")
        }
        if case .signaled(let signal) = guest.termination {
            problems.append("umk itself was killed by signal \(signal)")
        }
        if nativeOut != guestOut {
            problems.append("stdout differs (- native, + umk):\n" + lineDiff(nativeOut, guestOut))
        }
        if compareStderr && native.err != guest.err {
            problems.append("stderr differs (- native, + umk):\n" + lineDiff(native.err, guest.err))
        }
        if !problems.isEmpty {
            XCTFail("""
                \(program) under umk differs from the native run:
                \(problems.joined(separator: "\n"))
                ====== native run
                \(native.report)
                ====== umk run
                \(guest.report)
                """, file: file, line: line)
        }
        return guest
    }

    /// Asserts that a umk run left no umk process or stub behind.
    func assertNoStrayStubs(after outcome: Outcome, file: StaticString = #filePath, line: UInt = #line) {
        let strays = HostProcesses.strays()
        let all = outcome.leftovers + strays.map(\.description)
        guard !all.isEmpty else { return }
        XCTFail("processes left behind after umk exited: \(all.joined(separator: "; "))\n"
                + outcome.report, file: file, line: line)
        for stray in strays { kill(stray.pid, SIGKILL) }
        _ = HostProcesses.strays()
    }
}

/// A line diff of two texts, LCS-based: `-` lines only in `a`, `+` lines only in `b`, two lines of context.
func lineDiff(_ a: String, _ b: String) -> String {
    let x = a.components(separatedBy: "\n"), y = b.components(separatedBy: "\n")
    if x.count * y.count > 4_000_000 { return "(too long to diff: \(x.count) and \(y.count) lines)" }
    // lengths[i][j]: LCS length of x[i...] and y[j...].
    var lengths = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in stride(from: x.count - 1, through: 0, by: -1) {
        for j in stride(from: y.count - 1, through: 0, by: -1) {
            lengths[i][j] = x[i] == y[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
        }
    }
    var rows: [(Character, String)] = []
    var i = 0, j = 0
    while i < x.count || j < y.count {
        if i < x.count && j < y.count && x[i] == y[j] {
            rows.append((" ", x[i])); i += 1; j += 1
        } else if i < x.count && (j == y.count || lengths[i + 1][j] >= lengths[i][j + 1]) {
            rows.append(("-", x[i])); i += 1
        } else {
            rows.append(("+", y[j])); j += 1
        }
    }
    // Keep changed lines and two lines around each.
    var keep = Array(repeating: false, count: rows.count)
    for (k, row) in rows.enumerated() where row.0 != " " {
        for n in max(0, k - 2)...min(rows.count - 1, k + 2) { keep[n] = true }
    }
    var text: [String] = []
    var skipped = false
    for (k, row) in rows.enumerated() {
        if keep[k] {
            text.append("\(row.0) \(row.1)")
            skipped = false
        } else if !skipped {
            text.append("  ...")
            skipped = true
        }
    }
    return clipped(text.joined(separator: "\n"))
}

extension SystemTestCase {
    /// Runs Userland program `name` built as `variant` natively and under umk. `arguments` gets the
    /// program's own path, for the programs that read their own executable.
    func same(
        _ name: String, _ variant: Variant, _ arguments: (String) -> [String] = { _ in [] },
        environment: [String: String] = [:], cwd: String = "/", stdin: String = "", compareStderr: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let program = try Userland.program(name, variant)
        try assertSameAsNative(program, arguments(program), environment: environment, cwd: cwd,
                               stdin: Data(stdin.utf8), compareStderr: compareStderr, file: file, line: line)
    }
}
