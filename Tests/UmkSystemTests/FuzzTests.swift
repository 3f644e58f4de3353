// FuzzTests.swift: Userland/fuzz.c under umk with a short fixed set of seeds: random system calls with
// hostile arguments must never crash or hang umk. Tools/fuzz runs the same fuzzer with random seeds for longer.

import Foundation
import XCTest

final class FuzzTests: SystemTestCase {
    /// Fixed seeds, so a failure here replays; each is 30 children of 64 calls (a few seconds under debug umk).
    static let seeds: [UInt64] = [1, 7, 42, 1234, 99991, 715_053_711]  // the last found the sched_getaffinity trap

    func testFuzzSeeds() throws {
        let fuzz = try Userland.program("fuzz")
        for seed in FuzzTests.seeds {
            let outcome = try runUnderUmk(fuzz, ["-v", "\(seed)", "30"], timeout: 120)
            // -v logs each call on stderr before making it: the last one is the call in flight.
            let lines = outcome.err.split(separator: "\n")
            let inFlight = lines.last { $0.hasPrefix("call ") }.map(String.init) ?? "(none logged)"
            let failure = lines.filter { $0.contains("runtime failure") || $0.contains("Fatal error") || $0.contains(".swift:")
                || $0.hasPrefix("umk: kernel bug") || $0.hasPrefix("umk: serving guest") }
                .prefix(4).joined(separator: "\n")
            let done = outcome.out.split(separator: "\n").contains {
                $0.hasPrefix("seed \(seed): ") && $0.hasSuffix(" calls done")
            }
            XCTAssert(outcome.termination == .exited(0) && done, """
                seed \(seed): umk \(outcome.termination) (want exit status 0 and "seed \(seed): N calls done")
                call in flight (call SEED CHILD INDEX: NR ARGS, hex): \(inFlight)
                \(failure)
                replay: umk run -- \(fuzz) -v \(seed) 30
                --- stdout
                \(clipped(outcome.out, limit: 2000))
                """)
        }
    }
}
