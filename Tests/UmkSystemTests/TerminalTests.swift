// TerminalTests.swift: an interactive bash under umk in a real terminal, driven through tmux as a person
// would type (send-keys) and read (capture-pane): a command, Ctrl-C, Ctrl-Z with jobs and fg, history,
// less and busybox vi full-screen and back, exit; the terminal's modes are the same after umk as before.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class TerminalTests: SystemTestCase {
    private var session = ""
    private var dir = ""

    /// Runs a tmux client and returns what it printed. Not through Runner or Foundation's Process: the tmux
    /// server it starts outlives it and would hold their exit-watching descriptors open. posix_spawn and
    /// waitpid instead, the output through a file.
    private func tmux(_ args: [String]) -> String {
        let outFile = dir + "/tmux.out"
        let quoted = args.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let command = "exec tmux \(quoted) > '\(outFile)' 2>/dev/null < /dev/null"
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { $0.withCString { strdup($0) } }
        argv.append(nil)
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return "" }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
    }

    /// Types `keys` (tmux key names), then waits until the pane shows `expected` (or a few seconds pass).
    @discardableResult
    private func type(_ keys: [String], until expected: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        _ = tmux(["send-keys", "-t", session] + keys)
        var pane = ""
        for _ in 0..<50 {
            pane = tmux(["capture-pane", "-t", session, "-p"])
            if pane.contains(expected) { return pane }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("the pane never showed \(expected.debugDescription) after \(keys):\n\(pane)", file: file, line: line)
        return pane
    }

    func testUmkOnlyInteractiveBashInATerminal() throws {
        dir = try Fixture.temporaryDirectory("terminal")
        guard tmux(["-V"]).hasPrefix("tmux") else {
            throw XCTSkip("tmux is not installed (Debian: tmux)")
        }
        let umk = try umkBinary()
        session = "umk-test-\(getpid())"
        // The pane's sh shares umk's process group, so the terminal's SIGINT and SIGTSTP reach it too, as
        // they would reach any non-interactive shell running a program in the foreground: it ignores them.
        let script = """
            trap '' INT QUIT TSTP; stty -g > \(dir)/before; PS1='umk$ ' \(umk) run -e PS1 -- /bin/bash --norc --noprofile -i; \
            echo "umk exited $?"; stty -g > \(dir)/after; sleep 60
            """
        _ = tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", "/bin/sh", "-c", script])
        defer {
            _ = tmux(["kill-session", "-t", session])
            try? FileManager.default.removeItem(atPath: dir)
        }
        // (capture-pane drops trailing blanks: expectations never end in one.)
        type([], until: "umk$")
        type(["echo hello $((6*7))", "Enter"], until: "hello 42")
        type(["sleep 100", "Enter"], until: "sleep 100")
        Thread.sleep(forTimeInterval: 0.3)
        type(["C-c"], until: "^C")
        type(["echo status $?", "Enter"], until: "status 130")
        type(["sleep 100", "Enter"], until: "umk$ sleep 100\n")
        Thread.sleep(forTimeInterval: 0.3)
        type(["C-z"], until: "Stopped")
        type(["jobs", "Enter"], until: "umk$ jobs\n[1]+  Stopped                 sleep 100\numk$")
        type(["fg", "Enter"], until: "umk$ fg\nsleep 100")
        Thread.sleep(forTimeInterval: 0.3)
        type(["C-c"], until: "status 130\n")
        type(["echo fg status $?", "Enter"], until: "fg status 130")
        type(["Up", "Up", "Up"], until: "umk$ echo status $?")  // history
        type(["C-u", "clear", "Enter"], until: "umk$")
        type(["less /etc/os-release", "Enter"], until: "(END)")
        type(["q"], until: "umk$")
        type(["clear; echo back from less", "Enter"], until: "back from less")
        type(["busybox vi /etc/hostname", "Enter"], until: "/etc/hostname")
        Thread.sleep(forTimeInterval: 0.5)
        for keys in [["Escape"], [":q!"], ["Enter"]] {
            _ = tmux(["send-keys", "-t", session] + keys)
            Thread.sleep(forTimeInterval: 0.5)
        }
        type(["clear; echo back from vi", "Enter"], until: "back from vi")
        type(["exit 3", "Enter"], until: "umk exited 3")
        var after = ""
        for _ in 0..<50 where after.isEmpty {
            after = (try? String(contentsOfFile: dir + "/after", encoding: .utf8)) ?? ""
            if after.isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        }
        let before = try String(contentsOfFile: dir + "/before", encoding: .utf8)
        XCTAssertEqual(before, after, "the terminal's modes changed across umk")
    }
}

/// Pseudo-terminals inside the guest (/dev/ptmx, the instance's devpts, umk's line discipline), compared with
/// native runs.
final class PseudoTerminalTests: SystemTestCase {
    /// Naming and locking, default modes, line editing and echo, ONLCR, raw mode with VMIN/VTIME, packet
    /// mode, a controlling terminal with ^C and SIGWINCH, /dev/tty, hang-up and EIO (pty.c).
    func testPseudoTerminals() throws { try same("pty", .glibc) }
    func testPseudoTerminalsMusl() throws { try same("pty", .musl) }

    /// util-linux script(1): a pty through openpty, a session on its slave (TIOCSCTTY), signalfd and poll in
    /// the parent. The guest's devpts numbers from 0; the host's may not.
    func testScript() throws {
        let pts = { (s: String) in s.replacingOccurrences(of: #"/dev/pts/[0-9]+"#, with: "/dev/pts/N", options: .regularExpression) }
        let guest = try assertSameAsNative("/usr/bin/script", ["-qc", "tty; stty size; stty -a | head -1", "/dev/null"],
                                           normalize: pts)
        XCTAssertTrue(guest.out.hasPrefix("/dev/pts/0\r\n0 0\r\n"), guest.out)
    }
}
