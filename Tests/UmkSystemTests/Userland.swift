// Userland.swift: where things are (the package, the build products, umk) and the Userland programs, compiled
// on first use into a cache beside the build products and rebuilt when their source is newer.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

enum Paths {
    /// The package root: this file is Tests/UmkSystemTests/Userland.swift.
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static let userland = package + "/Userland"

    /// The build products directory: the test bundle (on Linux an executable, umkPackageTests.xctest) lives
    /// there, beside the `umk` executable.
    static let products: String = {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            exe.hasSuffix(".xctest") || FileManager.default.fileExists(atPath: dirname(exe) + "/umk")
        {
            return dirname(exe)
        }
        let bundle = Bundle.main.bundleURL.path
        return bundle.hasSuffix(".xctest") ? dirname(bundle) : bundle
    }()

    /// The umk executable: $UMK_BINARY, or `umk` next to the test bundle.
    static var umk: String? {
        if let path = ProcessInfo.processInfo.environment["UMK_BINARY"], !path.isEmpty { return path }
        let path = products + "/umk"
        return access(path, X_OK) == 0 ? path : nil
    }

    /// The compiled Userland programs: `.build/<triple>/userland`, beside `debug` and `release`.
    static let cache = dirname(products) + "/userland"

    static func dirname(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

    /// The first executable called `name` on the test process's PATH.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 {
            return "\(dir)/\(name)"
        }
        return nil
    }
}

/// How a Userland program is built.
enum Variant: String, CaseIterable {
    /// `cc -static`: glibc, ET_EXEC.
    case glibc
    /// `cc -static-pie`: glibc, ET_DYN without an interpreter.
    case staticPie = "static-pie"
    /// `musl-gcc -static`, when musl-tools is installed.
    case musl

    /// The compilers to try, in order.
    var compilers: [String] { self == .musl ? ["musl-gcc"] : ["cc", "gcc", "clang"] }
    var flags: [String] { [self == .staticPie ? "-static-pie" : "-static", "-O1", "-Wall"] }
}

struct BuildFailure: Error, CustomStringConvertible {
    var description: String
}

enum Userland {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: String] = [:]  // guarded by `lock`

    /// The path of Userland program `name` (Userland/NAME.c) built as `variant`, compiling it if the cached
    /// binary is missing or older than its source or check.h. Throws XCTSkip when the variant's compiler is
    /// not installed.
    static func program(_ name: String, _ variant: Variant = .glibc) throws -> String {
        let source = "\(Paths.userland)/\(name).c"
        let output = "\(Paths.cache)/\(variant.rawValue)/\(name)"
        return try build(key: "\(variant.rawValue)/\(name)", sources: [source, "\(Paths.userland)/check.h"],
                         output: output, variant: variant) { compiler in
            [compiler] + variant.flags + ["-I", Paths.userland, "-o", output, source]
        }
    }

    /// A launcher for native runs. Foundation's Process leaks a socket into its children and passes on the
    /// test process's signal dispositions; a umk guest starts with fds 0, 1, 2 only and default signals. The
    /// launcher closes every other fd, resets signals, and execs its arguments, so native runs start the same.
    /// It exits 127 when the program is missing and 126 when it cannot be executed, as `umk run` does.
    static func cleanExec() throws -> String {
        let source = "\(Paths.cache)/clean-exec.c"
        let output = "\(Paths.cache)/clean-exec"
        try FileManager.default.createDirectory(atPath: Paths.cache, withIntermediateDirectories: true)
        if (try? String(contentsOfFile: source, encoding: .utf8)) != cleanExecSource {
            try cleanExecSource.write(toFile: source, atomically: true, encoding: .utf8)
        }
        return try build(key: "clean-exec", sources: [source], output: output, variant: .glibc) { compiler in
            [compiler, "-O1", "-Wall", "-o", output, source]
        }
    }

    private static func build(
        key: String, sources: [String], output: String, variant: Variant, command: (String) -> [String]
    ) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let path = built[key] { return path }
        guard let compiler = variant.compilers.lazy.compactMap(Paths.which).first else {
            if variant == .musl { throw XCTSkip("musl-gcc is not installed (Debian: musl-tools)") }
            throw BuildFailure(description: "no C compiler (cc, gcc, clang): cannot build Userland/\(key)")
        }
        let newest = sources.compactMap(modificationDate).max() ?? .distantFuture
        if let have = modificationDate(output), have >= newest {
            built[key] = output
            return output
        }
        try FileManager.default.createDirectory(atPath: Paths.dirname(output), withIntermediateDirectories: true)
        // Build under a temporary name and rename, so parallel test processes never see half a binary.
        let temporary = "\(output).\(getpid()).tmp"
        var argv = command(compiler)
        if let o = argv.firstIndex(of: "-o") { argv[o + 1] = temporary }
        let result = Runner.run(argv[0], Array(argv.dropFirst()), cwd: Paths.userland, timeout: 300)
        guard result.termination == .exited(0) else {
            unlink(temporary)
            throw BuildFailure(description: "building Userland/\(key) failed:\n\(result.report)")
        }
        guard rename(temporary, output) == 0 else {
            throw BuildFailure(description: "cannot rename \(temporary) to \(output): errno \(errno)")
        }
        built[key] = output
        return output
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    private static let cleanExecSource = #"""
        /* clean-exec: written by UmkSystemTests (Userland.swift); runs a program as umk would start it. */
        #define _GNU_SOURCE
        #include <errno.h>
        #include <signal.h>
        #include <stdio.h>
        #include <string.h>
        #include <unistd.h>
        #include <sys/syscall.h>
        #ifndef SYS_close_range
        #define SYS_close_range 436
        #endif

        int main(int argc, char **argv, char **envp) {
            if (argc < 2) return 125;
            if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
                for (int fd = 3; fd < 4096; fd++) close(fd);
            for (int sig = 1; sig < 65; sig++) signal(sig, SIG_DFL);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            execve(argv[1], argv + 1, envp);
            int e = errno;
            dprintf(2, "clean-exec: %s: %s\n", argv[1], strerror(e));
            return e == ENOENT ? 127 : 126;
        }

        """#
}
