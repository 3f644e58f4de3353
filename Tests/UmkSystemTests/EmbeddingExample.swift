// EmbeddingExample.swift: the README's "Embedding umk" example, verbatim, so that it keeps compiling and working.
import Foundation
import UmkKernel
import XCTest

final class GuestTests: XCTestCase {
    static func configuration() -> Configuration {
        var config = Configuration()
        config.memoryBytes = 256 << 20
        config.uid = getuid()
        config.gid = getgid()
        config.environment = ["PATH=/usr/bin:/bin", "HOME=/"]
        return config
    }

    /// One instance, many programs: at once, each with its own stdin and its stdout and stderr kept in memory.
    func testProgramsInOneInstance() throws {
        let instance = Instance(GuestTests.configuration())
        try instance.start()  // no process 1: the programs come from spawn
        defer { instance.shutDown() }  // kills what still runs; every host resource is given back
        let sorts = try (1...4).map { i in
            let numbers = (1...100 * i).map { "\($0)\n" }.joined()
            return try instance.spawn(["/bin/sh", "-c", "sort -rn | head -1"],
                                      SpawnOptions(standardInput: .bytes(Array(numbers.utf8))))
        }
        for (i, sort) in sorts.enumerated() {
            XCTAssertEqual(sort.wait(timeout: 30), .exited(0))
            XCTAssertEqual(String(decoding: sort.standardOutput, as: UTF8.self), "\(100 * (i + 1))\n")
        }
        // A program that does not end by itself: a wait that times out, then a signal.
        let sleeper = try instance.spawn(["/bin/sleep", "60"])
        XCTAssertNil(sleeper.wait(timeout: 0.1))
        sleeper.signal(SIGTERM)
        XCTAssertEqual(sleeper.wait(timeout: 30), .signaled(SIGTERM))
    }

    /// One program as process 1 of an instance of its own, its console on host descriptors of ours.
    func testOneProgram() throws {
        var config = GuestTests.configuration()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("guest-\(getpid()).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let file = try FileHandle(forWritingTo: log)
        config.standardInput = FileHandle.nullDevice.fileDescriptor
        config.standardOutput = file.fileDescriptor
        XCTAssertEqual(try Instance(config).run(["/bin/sh", "-c", "uname -s; exit 3"]), .exited(3))
        try file.close()
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "Linux\n")
    }
}
