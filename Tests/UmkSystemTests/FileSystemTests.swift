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
