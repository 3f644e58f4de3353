// FileSystemTests.swift: the writable root and tmpfs, compared with native runs: names made, removed and
// renamed with Linux's errors, attributes, file data and shared mappings (names.c); FIFOs (fifo.c);
// openat2's RESOLVE_* restrictions (openat2.c); memfd and seals, O_TMPFILE, fallocate, sendfile,
// copy_file_range, splice, tee and vmsplice (filedata.c); extended attributes on tmpfs (xattr.c), and the host
// file's carried over by copy-up; RLIMIT_FSIZE (fsize.c).

import XCTest

final class FileSystemTests: SystemTestCase {
    func testNamesAttributesAndData() throws { try same("names", .glibc) }
    func testNamesAttributesAndDataMusl() throws { try same("names", .musl) }
    func testNamedPipes() throws { try same("fifo", .glibc) }

    /// close_range: a range closed, the rest marked close-on-exec, bad ranges and flags refused, and Python's
    /// os.closerange (which uses it) as a program sees it.
    func testCloseRange() throws {
        guard access("/usr/bin/python3", X_OK) == 0 else { throw XCTSkip("python3 is not installed") }
        try assertSameAsNative("/usr/bin/python3", ["-c", """
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            def close_range(first, last, flags):
                r = libc.syscall(436, ctypes.c_uint(first), ctypes.c_uint(last), ctypes.c_uint(flags))
                return r if r == 0 else -ctypes.get_errno()
            def is_open(fd):
                try:
                    os.fstat(fd)
                    return True
                except OSError:
                    return False
            fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(6)]
            base = fds[0]
            show = lambda: [fd - base for fd in range(base, base + 6) if is_open(fd)]
            print(close_range(fds[1], fds[2], 0), show())
            print(close_range(fds[3], 0xffffffff, 4), show(), [os.get_inheritable(fd) for fd in fds[3:]])
            print(close_range(10, 5, 0), close_range(0, 10, 8), close_range(1000, 2000, 0))
            print(close_range(fds[4], fds[4], 2), show())
            os.closerange(base, base + 100)
            print(show())
            """])
    }
    func testNamedPipesMusl() throws { try same("fifo", .musl) }
    func testOpenat2Resolve() throws { try same("openat2", .glibc) }
    func testOpenat2ResolveMusl() throws { try same("openat2", .musl) }
    func testExtendedAttributes() throws { try same("xattr", .glibc) }
    func testExtendedAttributesMusl() throws { try same("xattr", .musl) }

    /// A host file's user.* attribute shows through the overlay and stays with the file when a write copies
    /// it up; the host file keeps its own.
    func testCopyUpKeepsExtendedAttributes() throws {
        let dir = try Fixture.temporaryDirectory("xattr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/f"
        _ = FileManager.default.createFile(atPath: file, contents: Data("data\n".utf8))
        let set = Runner.run("/usr/bin/python3", ["-c", "import os; os.setxattr('\(file)', 'user.origin', b'host')"])
        guard set.termination == .exited(0) else { throw XCTSkip("no user xattrs on \(dir): \(set.err)") }
        let script = """
            import os
            p = "\(file)"
            print(os.getxattr(p, "user.origin"))
            open(p, "a").write("more\\n")
            os.setxattr(p, "user.guest", b"mine")
            print(sorted(os.listxattr(p)), os.getxattr(p, "user.origin"))
            """
        let outcome = try umk(["run", "--", "/usr/bin/python3", "-c", script])
        XCTAssertEqual(outcome.termination, .exited(0), outcome.report)
        XCTAssertEqual(outcome.out, "b'host'\n['user.guest', 'user.origin'] b'host'\n", outcome.report)
        let host = Runner.run("/usr/bin/python3", ["-c", "import os; print(sorted(os.listxattr('\(file)')))"])
        XCTAssertEqual(host.out, "['user.origin']\n", "the guest's attribute reached the host")
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "data\n")
    }

    func testFileSizeLimit() throws { try same("fsize", .glibc) }
    func testFileSizeLimitMusl() throws { try same("fsize", .musl) }

    func testFileData() throws { try same("filedata", .glibc) }
    func testFileDataMusl() throws { try same("filedata", .musl) }
}
