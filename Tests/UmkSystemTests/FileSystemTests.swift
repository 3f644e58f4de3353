// FileSystemTests.swift: the writable root and tmpfs, compared with native runs: names made, removed and
// renamed with Linux's errors, attributes, file data and shared mappings (names.c); FIFOs (fifo.c);
// openat2's RESOLVE_* restrictions (openat2.c); memfd and seals, O_TMPFILE, fallocate, sendfile,
// copy_file_range, splice, tee and vmsplice (filedata.c).

import XCTest

final class FileSystemTests: SystemTestCase {
    func testNamesAttributesAndData() throws { try same("names", .glibc) }
    func testNamesAttributesAndDataMusl() throws { try same("names", .musl) }
    func testNamedPipes() throws { try same("fifo", .glibc) }
    func testNamedPipesMusl() throws { try same("fifo", .musl) }
    func testOpenat2Resolve() throws { try same("openat2", .glibc) }
    func testOpenat2ResolveMusl() throws { try same("openat2", .musl) }
    func testFileData() throws { try same("filedata", .glibc) }
    func testFileDataMusl() throws { try same("filedata", .musl) }
}
