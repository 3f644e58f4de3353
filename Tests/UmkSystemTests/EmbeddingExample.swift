// EmbeddingExample.swift: the README's "Embedding umk" example, verbatim, so that it keeps compiling and working.
import Foundation
import UmkKernel
import XCTest

final class GuestTests: XCTestCase {
    /// Runs `sh -c SCRIPT` in an instance of its own: the exit status and what it wrote on stdout.
    static func runGuest(_ script: String) throws -> (status: ExitStatus, stdout: String) {
        let stdout = Pipe()
        var config = Configuration()
        config.memoryBytes = 256 << 20
        config.uid = getuid()
        config.gid = getgid()
        config.environment = ["PATH=/usr/bin:/bin", "HOME=/"]
        config.standardInput = FileHandle.nullDevice.fileDescriptor
        config.standardOutput = stdout.fileHandleForWriting.fileDescriptor
        // Drained while the guest runs: a guest that fills the pipe waits for its reader.
        let output = Output()
        DispatchQueue.global().async { output.set(stdout.fileHandleForReading.readDataToEndOfFile()) }
        let status = try Instance(config).run(["/bin/sh", "-c", script])
        try stdout.fileHandleForWriting.close()  // the guest is gone: the reader sees EOF
        return (status, output.wait())
    }

    func testInstancesAtOnce() throws {
        let runs = ExampleResults()
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let run = try? GuestTests.runGuest("seq 1 \(100 * i + 100) | sort -rn | head -1")
            runs.set(i, run.map { "\($0.status) \($0.stdout)" } ?? "did not start")
        }
        XCTAssertEqual(runs.all, [0: "exited(0) 100\n", 1: "exited(0) 200\n", 2: "exited(0) 300\n", 3: "exited(0) 400\n"])
    }
}

/// A pipe's contents, handed from the thread that read them.
final class Output: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()
    func set(_ data: Data) { self.data = data; done.signal() }
    func wait() -> String { done.wait(); return String(decoding: data, as: UTF8.self) }
}

/// What each concurrent run gave, by index (Swift 6 checks that only a Sendable object is shared).
final class ExampleResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Int: String] = [:]
    func set(_ i: Int, _ value: String) { lock.withLock { results[i] = value } }
    var all: [Int: String] { lock.withLock { results } }
}
