// UmkOnlyTests.swift: what only umk can be asked, with expected output written here rather than taken from a
// native run: the int 0x80 entry, the throwaway root, the guest identity and environment, --root confinement,
// and a guest asking for more memory than --mem.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class UmkOnlyTests: SystemTestCase {
    /// `int $0x80` never reaches the host: umk answers -ENOSYS (natively, IA32 emulation runs getpid).
    func testUmkOnlyInt80AnswersENOSYS() throws {
        for variant in [Variant.glibc, .musl] {
            let program: String
            do { program = try Userland.program("int80", variant) } catch is XCTSkip { continue }
            let outcome = try runUnderUmk(program)
            XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
            XCTAssertEqual(outcome.out, """
                int 0x80 getpid: ENOSYS
                syscall getpid afterwards is the pid: yes

                """, outcome.report)
        }
    }

    /// The root is the host's under a throwaway layer: the guest overwrites, truncates, creates, renames and
    /// removes the fixture's files and sees its changes, and the host's files are byte for byte as before.
    func testUmkOnlyRootIsThrowaway() throws {
        let dir = Fixture.files
        let before = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        let hello = try Data(contentsOf: URL(fileURLWithPath: dir + "/hello.txt"))
        let script = """
            cd \(dir) && echo changed > hello.txt && cat hello.txt && : > sub/inner.txt && wc -c < sub/inner.txt &&
            echo new > new-file && mv new-file moved && cat moved && rm -f empty && ls empty 2>/dev/null;
            rm -rf sub && mkdir sub && ls -A sub && ln -s moved link2 && readlink link2 && chmod 600 moved &&
            stat -c %a moved && echo done
            """
        let outcome = try umk(["run", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "changed\n0\nnew\nmoved\n600\ndone\n", outcome.report)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), before, "the host directory changed")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/hello.txt")), hello, "the host file changed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/sub/inner.txt"), "the host lost a file")
    }

    /// `rm -rf /` and writes everywhere, in a root made for the test: the guest sees its tree gone (but for
    /// its mounts), and the host's copy of it is byte for byte as before.
    func testUmkOnlyRemovingEverythingLeavesTheHostAlone() throws {
        guard FileManager.default.fileExists(atPath: "/bin/busybox") else { throw XCTSkip("busybox-static is not installed") }
        let root = try Fixture.temporaryDirectory("rmrf-root")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for d in ["bin", "etc/deep/er", "var/data", "proc", "sys", "dev", "tmp"] {
            try FileManager.default.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
        try "config\n".write(toFile: root + "/etc/deep/er/file", atomically: true, encoding: .utf8)
        try Data(repeating: 7, count: 100_000).write(to: URL(fileURLWithPath: root + "/var/data/blob"))
        symlink("/etc/deep", root + "/var/link")
        func snapshot() throws -> [String] {
            let fm = FileManager.default
            return try fm.subpathsOfDirectory(atPath: root).sorted().map { p in
                let full = root + "/" + p
                let attrs = try fm.attributesOfItem(atPath: full)
                let data = (attrs[.type] as? FileAttributeType) == .typeRegular ? (fm.contents(atPath: full)?.count ?? -1) : 0
                return "\(p) \(attrs[.type] ?? "") \(attrs[.posixPermissions] ?? "") \(data)"
            }
        }
        let before = try snapshot()
        let outcome = try umk(["run", "--root", root, "--", "/bin/busybox", "sh", "-c", """
            /bin/busybox echo x > /etc/deep/er/file; /bin/busybox chmod 000 /var/data/blob;
            /bin/busybox rm -rf / 2>/dev/null; echo /*
            """])
        XCTAssertEqual(outcome.out, "/dev /proc /sys\n", outcome.report)  // mount points: EBUSY
        XCTAssertEqual(try snapshot(), before, "the host's copy of the root changed")
    }

    /// The lines of `sys` that show the identity.
    private func identity(_ options: [String]) throws -> (Outcome, [String]) {
        let outcome = try umk(["run"] + options + ["--", try Userland.program("sys")])
        let lines = outcome.out.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("getuid:") || $0.hasPrefix("getresuid:") }
        return (outcome, lines)
    }

    /// A set-user-ID, set-group-ID binary runs with its owner's ids as effective and saved ids (su drops to
    /// nobody first), except on a nosuid mount (/dev/shm) or under no_new_privs.
    func testUmkOnlySetIDBinaries() throws {
        let program = try Userland.program("sys")
        let script = """
            cp \(program) /tmp/s && chown 7:8 /tmp/s && chmod 6755 /tmp/s && cp -p /tmp/s /dev/shm/s &&
            su -s /bin/sh nobody -c '/tmp/s; /dev/shm/s' | grep getresuid
            """
        let outcome = try umk(["run", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, """
            getresuid: 65534 7 7 getresgid: 65534 8 8
            getresuid: 65534 65534 65534 getresgid: 65534 65534 65534

            """, outcome.report)
    }

    func testUmkOnlyGuestIsRootByDefault() throws {
        let (outcome, lines) = try identity([])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(lines, ["getuid: 0 geteuid: 0 getgid: 0 getegid: 0",
                               "getresuid: 0 0 0 getresgid: 0 0 0"], outcome.report)
    }

    func testUmkOnlyUserOption() throws {
        let (outcome, lines) = try identity(["--user", "1000:1001"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(lines, ["getuid: 1000 geteuid: 1000 getgid: 1001 getegid: 1001",
                               "getresuid: 1000 1000 1000 getresgid: 1001 1001 1001"], outcome.report)
    }

    /// The environment is exactly PATH, HOME, TERM plus -e, and -e overrides a default.
    func testUmkOnlyGuestEnvironment() throws {
        let auxv = try Userland.program("auxv")
        func environment(_ options: [String]) throws -> (Outcome, [String]) {
            let outcome = try umk(["run"] + options + ["--", auxv])
            XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
            return (outcome, outcome.out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("env: ") })
        }
        let (plain, defaults) = try environment([])
        XCTAssertEqual(defaults, [
            #"env: "HOME=/root""#,
            #"env: "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin""#,
            #"env: "TERM=xterm""#,
        ], plain.report)
        let (extra, with) = try environment(["-e", "FOO=bar", "-e", "TERM=dumb"])
        XCTAssertEqual(with, [
            #"env: "FOO=bar""#,
            #"env: "HOME=/root""#,
            #"env: "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin""#,
            #"env: "TERM=dumb""#,
        ], extra.report)
    }

    /// A PROGRAM without a slash is looked up in the guest PATH.
    func testUmkOnlyProgramIsLookedUpInGuestPath() throws {
        let yes = try umk(["run", "--", "true"])
        XCTAssertEqual(yes.termination, .exited(0), yes.report)
        let no = try umk(["run", "--", "false"])
        XCTAssertEqual(no.termination, .exited(1), no.report)
        let nowhere = try umk(["run", "-e", "PATH=/nonexistent", "--", "true"])
        XCTAssertEqual(nowhere.termination, .exited(127), nowhere.report)
    }

    func testUmkOnlyWorkingDirectoryOption() throws {
        let pwd = try umk(["run", "-w", "/etc", "--", "/bin/pwd"])
        XCTAssertEqual(pwd.termination, .exited(0), pwd.report)
        XCTAssertEqual(pwd.out, "/etc\n", pwd.report)
    }

    /// With --root DIR, no path leaves DIR: not "..", not an absolute symlink, not a relative one climbing
    /// past the root. The expected text is what `chroot DIR /readfile ...` prints on Linux.
    func testUmkOnlyRootOptionConfinesPaths() throws {
        let base = try Fixture.temporaryDirectory("root")
        defer { try? FileManager.default.removeItem(atPath: base) }
        let root = base + "/root"
        try FileManager.default.createDirectory(atPath: root + "/dir", withIntermediateDirectories: true)
        try "outside\n".write(toFile: base + "/outside.txt", atomically: true, encoding: .utf8)
        try "inside\n".write(toFile: root + "/marker", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/dir/abs", withDestinationPath: "/marker")
        try FileManager.default.createSymbolicLink(atPath: root + "/dir/rel", withDestinationPath: "../../../../marker")
        try FileManager.default.createSymbolicLink(atPath: root + "/up", withDestinationPath: "../../../..")
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "../outside.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/host", withDestinationPath: base + "/outside.txt")
        try FileManager.default.copyItem(atPath: try Userland.program("readfile"), toPath: root + "/readfile")

        let paths = ["/marker", "/../../../marker", "/dir/abs", "/dir/rel", "/up/marker", "/dir/../../marker",
                     "/../outside.txt", "/escape", "/host", "/up/outside.txt"]
        let outcome = try umk(["run", "--root", root, "--", "/readfile"] + paths)
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, """
            /marker: "inside\\n"
            /../../../marker: "inside\\n"
            /dir/abs: "inside\\n"
            /dir/rel: "inside\\n"
            /up/marker: "inside\\n"
            /dir/../../marker: "inside\\n"
            /../outside.txt: ENOENT
            /escape: ENOENT
            /host: ENOENT
            /up/outside.txt: ENOENT

            """, outcome.report)
    }

    /// Console output never blocks the kernel: while a guest task fills umk's stdout, a pipe whose reader
    /// waits 2 s, a sleeper beside it wakes on time (the bound is generous: the guest measures its own
    /// sleep, which a blocked kernel would stretch to the reader's 2 s), and no byte is lost.
    func testUmkOnlyAFullStdoutPipeDoesNotBlockTheKernel() throws {
        let guest = "seq 1 400000 & s=$(date +%s%N); sleep 0.1; e=$(date +%s%N); echo slept $(( (e - s) / 1000000 )) >&2; wait"
        let outcome = Runner.run("/bin/sh", ["-c", "'\(try umkBinary())' run -- /bin/sh -c '\(guest)' | (sleep 2; wc -l)"],
                                 timeout: 60)
        XCTAssertEqual(outcome.out.trimmingCharacters(in: .whitespaces), "400000\n", outcome.report)
        let slept = outcome.err.split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .newlines)) }
        XCTAssertNotNil(slept, outcome.report)
        XCTAssertLessThan(slept ?? .max, 1000, "the sleeper beside a full console pipe took \(slept ?? -1) ms\n" + outcome.report)
    }

    /// A guest that asks for more than --mem gets ENOMEM or is killed; umk itself survives and never answers
    /// with memory it does not have.
    func testUmkOnlyMemoryLimit() throws {
        let memhog = try Userland.program("memhog")
        for mode in ["populate", "touch"] {
            let outcome = try umk(["run", "--mem", "16m", "--", memhog, "64", mode])
            let enomem = outcome.termination == .exited(0) && outcome.out.contains("mmap: ENOMEM")
            let killed = [.exited(128 + SIGKILL), .exited(128 + SIGBUS), .exited(128 + SIGSEGV)]
                .contains(outcome.termination)
            XCTAssertTrue(enomem || killed, "\(mode): expected ENOMEM or a killed guest\n\(outcome.report)")
            XCTAssertFalse(outcome.out.contains("touched every page"), "\(mode): 64 MiB in a 16 MiB guest\n"
                           + outcome.report)
        }
    }
}
