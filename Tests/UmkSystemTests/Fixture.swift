// Fixture.swift: the files the tests read, made once per test process in a temporary directory on the host
// root (which the guest sees as is) and removed when the process exits. They go under /var/tmp, not /tmp:
// the tests keep their files out of the way of the guest's own writes to /tmp.
//
//   files/   what Userland/files.c and paths.c expect (listed there): hello.txt, empty, sparse, sub/inner.txt,
//            and the symlinks link, dangling, loop
//   data/    inputs for host programs: blob.bin (256 KiB of fixed pseudo-random bytes), lines.txt, words.txt

import Foundation

#if canImport(Glibc)
import Glibc
#endif

enum Fixture {
    /// Where the tests' host files go: a temporary directory the guest sees.
    static let scratch = "/var/tmp/"

    /// A new empty directory under the scratch directory, for one test's own files.
    static func temporaryDirectory(_ name: String = "test") throws -> String {
        var bytes = Array((scratch + "umk-\(name)-XXXXXX").utf8CString)
        guard mkdtemp(&bytes) != nil else { throw BuildFailure(description: "mkdtemp: errno \(errno)") }
        return String(cString: bytes)
    }

    /// The fixture's directory, with symlinks resolved (so getcwd natively prints it as given).
    static let root: String = make()
    static var files: String { root + "/files" }
    static var data: String { root + "/data" }

    static let lines = """
        pear 3
        apple 10
        fig 7
        banana 2
        cherry 10
        apple 1
        date 5
        elderberry 12
        grape 3
        kiwi 8

        """

    static let words = "the quick brown fox jumps over the lazy dog\nThe Quick Brown Fox\n"

    private static func make() -> String {
        let template = scratch + "umk-system-tests-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard mkdtemp(&bytes) != nil else { fatalError("mkdtemp \(template): errno \(errno)") }
        let made = String(cString: bytes)
        let resolved = realpath(made, nil).map { p -> String in defer { free(p) }; return String(cString: p) } ?? made
        atexit { try? FileManager.default.removeItem(atPath: Fixture.root) }

        let files = resolved + "/files", data = resolved + "/data"
        func file(_ path: String, _ contents: Data, _ mode: mode_t) {
            _ = FileManager.default.createFile(atPath: path, contents: contents)
            chmod(path, mode)
        }
        mkdir(files, 0o755)
        chmod(files, 0o755)
        file(files + "/hello.txt", Data("hello, world\n".utf8), 0o644)
        file(files + "/empty", Data(), 0o600)
        file(files + "/sparse", Data(), 0o644)
        let fd = open(files + "/sparse", O_WRONLY)
        _ = pwrite(fd, "x", 1, 1 << 20)
        close(fd)
        mkdir(files + "/sub", 0o755)
        chmod(files + "/sub", 0o755)
        file(files + "/sub/inner.txt", Data("inner\n".utf8), 0o644)
        symlink("hello.txt", files + "/link")
        symlink("missing", files + "/dangling")
        symlink("loop", files + "/loop")

        mkdir(data, 0o755)
        chmod(data, 0o755)
        var blob = [UInt8](repeating: 0, count: 256 << 10)
        var x: UInt32 = 12345
        for i in blob.indices {
            x = x &* 1_103_515_245 &+ 12345
            blob[i] = UInt8(truncatingIfNeeded: x >> 16)
        }
        file(data + "/blob.bin", Data(blob), 0o644)
        file(data + "/lines.txt", Data(lines.utf8), 0o644)
        file(data + "/words.txt", Data(words.utf8), 0o644)
        return resolved
    }
}
