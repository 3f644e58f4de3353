// ProcFormatTests.swift: the pure parts of /proc's formats: the load-average arithmetic of
// kernel/sched/loadavg.c, the maps line padding, and the CPU mask and list of status.

import XCTest

@testable import UmkKernel

final class ProcFormatTests: XCTestCase {
    /// Two busy tasks for one minute: the 1-minute average reaches 2 * (1 - 1/e), as on Linux; a catch-up
    /// over many periods at once gives what sampling each period gives, within rounding.
    func testLoadAverage() {
        var one = LoadAverage(now: 0)
        var now = one.due
        for _ in 0..<12 {
            one.sample(now: now, active: 2)
            now += LoadAverage.period
        }
        XCTAssertEqual(one.text, "1.27 0.37 0.13")  // 2 * (1 - 1/e) = 1.264, rounded up while rising
        var caughtUp = LoadAverage(now: 0)
        caughtUp.sample(now: caughtUp.due + 11 * LoadAverage.period, active: 2)
        XCTAssertEqual(caughtUp.text, "1.27 0.36 0.13")  // the same within the fixed point's rounding
        caughtUp.sample(now: caughtUp.due + 1000 * LoadAverage.period, active: 0)
        XCTAssertEqual(caughtUp.text, "0.00 0.00 0.00")
    }

    /// A named line pads to column 73 (seq_pad); an anonymous one ends with the inode and a space.
    func testMapsLine() {
        var v = VMA(start: 0x40_0000, end: 0x40_2000, prot: [.read, .exec])
        XCTAssertEqual(Kernel.mapsLine(v), "00400000-00402000 r-xp 00000000 00:00 0 \n")
        v.name = "[heap]"
        v.prot = [.read, .write]
        let line = Kernel.mapsLine(v)
        XCTAssertEqual(line, "00400000-00402000 rw-p 00000000 00:00 0" + String(repeating: " ", count: 34) + "[heap]\n")
        XCTAssertEqual(line.firstIndex(of: "[").map { line.distance(from: line.startIndex, to: $0) }, 73)
    }

    func testCPUList() {
        XCTAssertEqual(Kernel.cpuList([0b11], count: 2).mask, "3")
        XCTAssertEqual(Kernel.cpuList([0b11], count: 2).list, "0-1")
        XCTAssertEqual(Kernel.cpuList([0b1101], count: 4).list, "0,2-3")
        XCTAssertEqual(Kernel.cpuList([1], count: 40).mask, "00,00000001")
    }
}
