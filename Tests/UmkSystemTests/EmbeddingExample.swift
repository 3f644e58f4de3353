// EmbeddingExample.swift: the README's "Embedding umk" example, verbatim, so that it keeps compiling and working.
import Foundation
import UmkKernel
import XCTest

final class GuestTests: XCTestCase {
    /// Runs `sh -c SCRIPT` in an instance of its own: the exit status and what it wrote on stdout.
    func runGuest(_ script: String) throws -> (status: ExitStatus, stdout: String) {
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
        let lock = NSLock()
        var stdouts: [Int: String] = [:]
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            guard let run = try? runGuest("seq 1 \(100 * i + 100) | sort -rn | head -1") else { return }
            XCTAssertEqual(run.status, .exited(0))
            lock.withLock { stdouts[i] = run.stdout }
        }
        XCTAssertEqual(stdouts, [0: "100\n", 1: "200\n", 2: "300\n", 3: "400\n"])
    }
}

/// A pipe's contents, handed from the thread that read them.
final class Output: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()
    func set(_ data: Data) { self.data = data; done.signal() }
    func wait() -> String { done.wait(); return String(decoding: data, as: UTF8.self) }
}
