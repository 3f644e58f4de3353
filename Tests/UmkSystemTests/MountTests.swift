// MountTests.swift: the mount table, with expected output written here (mounting natively would change the
// host): `-v` binds that write through to the host and stay confined to their directory, read-only binds,
// `--tmpfs` with its size, mount(2)/umount2(2)/chroot(2) from inside the guest, and the command line's
// errors for bad mount options.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class MountTests: SystemTestCase {
    private func write(_ path: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    private func read(_ path: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A writable bind: what the guest makes, renames, changes and removes there is on the host afterwards.
    func testBindWritesReachTheHost() throws {
        let dir = try Fixture.temporaryDirectory("bind")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        write(dir + "/old.txt", "old\n")
        write(dir + "/gone.txt", "gone\n")
        mkdir(dir + "/sub", 0o755)
        let script = """
            cd /mnt/b && cat old.txt && echo new > new.txt && echo more >> new.txt && mv old.txt sub/renamed.txt &&
            rm gone.txt && mkdir made && ln -s new.txt made/link && chmod 640 new.txt && ln new.txt hard.txt &&
            truncate -s 3 hard.txt && touch -d @1000000000 sub/renamed.txt && ls && stat -c '%a %s %h' new.txt
            """
        let outcome = try umk(["run", "-v", "\(dir):/mnt/b", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "old\nhard.txt\nmade\nnew.txt\nsub\n640 3 2\n", outcome.report)
        XCTAssertEqual(read(dir + "/new.txt"), "new", outcome.report)
        XCTAssertEqual(read(dir + "/sub/renamed.txt"), "old\n")
        XCTAssertNil(read(dir + "/old.txt"))
        XCTAssertNil(read(dir + "/gone.txt"))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/made/link"), "new.txt")
        var st = stat()
        XCTAssertEqual(stat(dir + "/new.txt", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o640)
        XCTAssertEqual(st.st_nlink, 2)
        XCTAssertEqual(stat(dir + "/sub/renamed.txt", &st), 0)
        XCTAssertEqual(st.st_mtim.tv_sec, 1_000_000_000)
    }

    /// A bind is confined as the root is: `..`, absolute and relative symlinks out of it, and a symlink the
    /// host put there all land in the guest's own tree (a root made for the test), so the host file beside
    /// the bind is never read or written.
    func testBindIsConfinedToItsDirectory() throws {
        guard FileManager.default.fileExists(atPath: "/bin/busybox") else { throw XCTSkip("busybox-static is not installed") }
        let parent = try Fixture.temporaryDirectory("bind-parent")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let dir = parent + "/shared", root = parent + "/root"
        for d in [dir, root, root + "/bin", root + "/mnt"] { mkdir(d, 0o755) }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: root + "/bin/busybox")
        write(parent + "/canary", "host canary\n")
        symlink("../canary", dir + "/up")
        symlink(parent + "/canary", dir + "/absolute")
        symlink("/", dir + "/slash")
        let script = """
            cd /mnt/b; cat ../canary up absolute slash/canary slash/\(parent)/canary 2>/dev/null;
            echo guest > up; echo guest > absolute; echo guest > ../canary; ln ../canary hard 2>/dev/null;
            cd ..; pwd; cat /mnt/canary; echo done
            """
        let outcome = try umk(["run", "--root", root, "-v", "\(dir):/mnt/b", "--", "/bin/busybox", "sh", "-c", script])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(read(parent + "/canary"), "host canary\n", "the guest wrote outside the bind\n" + outcome.report)
        XCTAssertFalse(outcome.out.contains("host canary"), "the guest read outside the bind\n" + outcome.report)
        XCTAssertEqual(outcome.out, "/mnt\nguest\ndone\n", outcome.report)
        // What the guest made through the dangling links went to its own (throwaway) tree, not beside the bind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent).sorted(), ["canary", "root", "shared"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["absolute", "slash", "up"])
    }

    func testReadOnlyBind() throws {
        let dir = try Fixture.temporaryDirectory("bind-ro")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        write(dir + "/f", "data\n")
        let outcome = try umk(["run", "-v", "\(dir):/ro:ro", "--", "/bin/sh", "-c",
                               "cat /ro/f; touch /ro/new 2>&1; rm /ro/f 2>&1; (echo x >> /ro/f) 2>&1; cat /ro/f"])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, """
            data
            touch: cannot touch '/ro/new': Read-only file system
            rm: cannot remove '/ro/f': Read-only file system
            /bin/sh: 1: cannot create /ro/f: Read-only file system
            data

            """, outcome.report)
        XCTAssertEqual(read(dir + "/f"), "data\n")
    }

    /// A single host file bound over a guest path that did not exist.
    func testFileBind() throws {
        let dir = try Fixture.temporaryDirectory("bind-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        write(dir + "/config", "v1\n")
        let outcome = try umk(["run", "-v", "\(dir)/config:/etc/umk-test.conf", "--", "/bin/sh", "-c",
                               "cat /etc/umk-test.conf; echo v2 > /etc/umk-test.conf; rm /etc/umk-test.conf 2>&1"])
        XCTAssertEqual(outcome.out, "v1\nrm: cannot remove '/etc/umk-test.conf': Device or resource busy\n", outcome.report)
        XCTAssertEqual(read(dir + "/config"), "v2\n")
    }

    func testTmpfsOption() throws {
        let outcome = try umk(["run", "--tmpfs", "/scratch:size=64k", "--", "/bin/sh", "-c", """
            ls -A /scratch; stat -c '%a' /scratch; head -c 40000 /dev/zero > /scratch/a && echo fits;
            head -c 40000 /dev/zero 2>/dev/null > /scratch/b || echo full; df -k /scratch | tail -1 | awk '{print $2}'
            """])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "1777\nfits\nfull\n64\n", outcome.report)
    }

    /// mount(2), umount2(2) and chroot(2) as the guest's root, and EPERM for anyone else.
    func testMountFromTheGuest() throws {
        let script = """
            mkdir -p /mnt/t && mount -t tmpfs -o size=128k,mode=700 none /mnt/t && stat -c %a /mnt/t &&
            echo hi > /mnt/t/x && cd /mnt/t && { umount /mnt/t 2>/dev/null || echo busy; } && cd / &&
            umount /mnt/t && ls -A /mnt/t && echo unmounted && mount --bind /etc /mnt/t && test -f /mnt/t/passwd &&
            echo bound && umount /mnt/t && { mount -t ext4 /dev/sda /mnt/t 2>/dev/null || echo no ext4; } &&
            mount -t proc proc /mnt/t && test -d /mnt/t/self && echo proc && umount /mnt/t &&
            mkdir -p /jail/bin && cp /bin/busybox /jail/bin/ && chroot /jail /bin/busybox sh -c 'cd /..; pwd; ls /'
            """
        guard FileManager.default.fileExists(atPath: "/bin/busybox") else { throw XCTSkip("busybox-static is not installed") }
        let outcome = try umk(["run", "--", "/bin/sh", "-c", script])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "700\nbusy\nunmounted\nbound\nno ext4\nproc\n/\nbin\n", outcome.report)
        let user = try umk(["run", "--user", "1000", "--", "/bin/sh", "-c", "mkdir /tmp/m; mount -t tmpfs none /tmp/m"])
        XCTAssertEqual(user.termination, .exited(32), user.report)
        XCTAssertTrue(user.err.contains("must be superuser") || user.err.contains("ermission"), user.report)
    }

    /// /dev is the instance's own: the kernel's devices and the usual links, never the host's nodes; the guest
    /// may add files but not device nodes.
    func testDevfs() throws {
        let outcome = try umk(["run", "--", "/bin/sh", "-c", """
            ls /dev; stat -c '%n %F %t:%T %a' /dev/null /dev/zero /dev/full /dev/urandom /dev/tty /dev/ptmx;
            readlink /dev/fd /dev/stdin; echo out > /dev/stdout; head -c 5 /dev/zero | od -An -tx1;
            (echo x > /dev/full) 2>&1 | grep -c 'error'; mknod /dev/sda b 8 0 2>&1 | grep -c 'not permitted';
            touch /dev/mine && ls /dev/mine; test -e /dev/kvm || echo no host devices
            """])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, """
            console
            core
            fd
            full
            null
            ptmx
            pts
            random
            shm
            stderr
            stdin
            stdout
            tty
            urandom
            zero
            /dev/null character special file 1:3 666
            /dev/zero character special file 1:5 666
            /dev/full character special file 1:7 666
            /dev/urandom character special file 1:9 666
            /dev/tty character special file 5:0 666
            /dev/ptmx character special file 5:2 666
            /proc/self/fd
            /proc/self/fd/0
            out
             00 00 00 00 00
            1
            1
            /dev/mine
            no host devices

            """, outcome.report)
    }

    /// `--upper DIR`: a second run sees the first run's changes (new files, a removed host file, a directory
    /// removed and made again), DIR holds them in the OCI layout, the host root is untouched, and a second
    /// instance cannot use DIR at the same time.
    func testUpperDirectoryRoundTrip() throws {
        let parent = try Fixture.temporaryDirectory("upper")
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let upper = parent + "/layer"
        let files = Fixture.files
        let first = try umk(["run", "--upper", upper, "--", "/bin/sh", "-c", """
            echo kept > /root/umk-upper-note && mkdir -p /opt/umk-upper/sub && echo y > /opt/umk-upper/sub/y &&
            rm \(files)/hello.txt && rm -rf \(files)/sub && mkdir \(files)/sub && echo new > \(files)/sub/new
            """])
        XCTAssertEqual(first.termination, .exited(0), first.report)
        XCTAssertEqual(read(upper + "/root/umk-upper-note"), "kept\n")
        XCTAssertNotNil(read(upper + files + "/.wh.hello.txt"), "no whiteout for the removed file")
        XCTAssertNotNil(read(upper + files + "/sub/.wh..wh..opq"), "no opaque marker for the remade directory")
        XCTAssertEqual(read(files + "/hello.txt"), "hello, world\n", "the host root changed")
        let second = try umk(["run", "--upper", upper, "--", "/bin/sh", "-c", """
            cat /root/umk-upper-note /opt/umk-upper/sub/y; ls \(files)/hello.txt 2>/dev/null; ls \(files)/sub;
            rm /root/umk-upper-note
            """])
        XCTAssertEqual(second.termination, .exited(0), second.report)
        XCTAssertEqual(second.out, "kept\ny\nnew\n", second.report)
        XCTAssertNil(read(upper + "/root/umk-upper-note"), "a file removed in the second run is still in the layer")
        let sleeper = Foundation.Process()
        sleeper.executableURL = URL(fileURLWithPath: try umkBinary())
        sleeper.arguments = ["run", "--upper", upper, "--", "/bin/sleep", "2"]
        try sleeper.run()
        defer { sleeper.waitUntilExit() }
        Thread.sleep(forTimeInterval: 0.7)
        let busy = try umk(["run", "--upper", upper, "--", "/bin/true"])
        XCTAssertEqual(busy.termination, .exited(125), busy.report)
        XCTAssertTrue(busy.err.contains("in use by another umk"), busy.report)
    }

    func testBadMountOptions() throws {
        for (args, message) in [(["-v", "/no/such/dir:/x"], "/no/such/dir: No such file or directory"),
                                (["-v", "/tmp"], "expected HOST:GUEST"),
                                (["-v", "/tmp:relative"], "expected HOST:GUEST"),
                                (["-v", "/tmp:/x:rx"], "ro or rw"),
                                (["--tmpfs", "relative"], "must be absolute"),
                                (["--tmpfs", "/x:size=lots"], "unknown option"),
                                (["-v", "/tmp:/"], "cannot mount over the guest's root"),
                                (["--upper", "/no/such/dir/layer"], "No such file or directory")] {
            let outcome = try umk(["run"] + args + ["--", "/bin/true"])
            XCTAssertEqual(outcome.termination, .exited(125), outcome.report)
            XCTAssertTrue(outcome.err.contains(message), "\(args): \(outcome.report)")
            XCTAssertEqual(outcome.err.split(separator: "\n").count, 1, outcome.report)
        }
    }
}
