import XCTest
import UmkHost
@testable import UmkKernel

/// VMA bookkeeping: insertion merges alike neighbours, removal and updates split at the edges.
final class VMATests: XCTestCase {
    let rw: Protection = [.read, .write]

    func ranges(_ s: VMASet) -> [Range<UInt64>] { s.vmas.map { $0.range } }

    func testInsertMergesAlikeNeighbours() {
        var s = VMASet()
        s.insert(VMA(start: 0x1000, end: 0x2000, prot: rw))
        s.insert(VMA(start: 0x3000, end: 0x4000, prot: rw))
        s.insert(VMA(start: 0x2000, end: 0x3000, prot: rw))
        XCTAssertEqual(ranges(s), [0x1000..<0x4000])
        s.insert(VMA(start: 0x4000, end: 0x5000, prot: .read))
        XCTAssertEqual(ranges(s), [0x1000..<0x4000, 0x4000..<0x5000])
    }

    func testRemoveSplitsAtBothEdges() {
        var s = VMASet()
        s.insert(VMA(start: 0x1000, end: 0x9000, prot: rw))
        let removed = s.remove(0x3000..<0x5000)
        XCTAssertEqual(removed.map { $0.range }, [0x3000..<0x5000])
        XCTAssertEqual(ranges(s), [0x1000..<0x3000, 0x5000..<0x9000])
        XCTAssertNil(s.find(0x4000))
        XCTAssertEqual(s.find(0x5000)?.start, 0x5000)
    }

    func testUpdateSplitsThenMergesBack() {
        var s = VMASet()
        s.insert(VMA(start: 0x1000, end: 0x5000, prot: rw))
        s.update(0x2000..<0x3000) { $0.prot = .read }
        XCTAssertEqual(ranges(s), [0x1000..<0x2000, 0x2000..<0x3000, 0x3000..<0x5000])
        s.update(0x2000..<0x3000) { $0.prot = self.rw }
        XCTAssertEqual(ranges(s), [0x1000..<0x5000])
    }

    func testFileOffsetsFollowSplits() {
        let file = MappedFile(host: .standardInput, stat: FileStat())  // VMAs compare files by identity
        var s = VMASet()
        s.insert(VMA(start: 0x10000, end: 0x14000, prot: .read, name: "f", file: file, fileOffset: 0x2000))
        s.remove(0x11000..<0x12000)
        XCTAssertEqual(s.vmas.map { $0.fileOffset }, [0x2000, 0x4000])
        // Not merged back: the pages put in the hole come from elsewhere in the file.
        s.insert(VMA(start: 0x11000, end: 0x12000, prot: .read, name: "f", file: file, fileOffset: 0x9000))
        XCTAssertEqual(s.vmas.count, 3)
        // Merged: the hole refilled with the file's own next pages.
        s.remove(0x11000..<0x12000)
        s.insert(VMA(start: 0x11000, end: 0x12000, prot: .read, name: "f", file: file, fileOffset: 0x3000))
        XCTAssertEqual(s.vmas.map { $0.range }, [0x10000..<0x14000])
    }

    func testCoversAndGaps() {
        var s = VMASet()
        s.insert(VMA(start: 0x1000, end: 0x3000, prot: rw))
        s.insert(VMA(start: 0x5000, end: 0x6000, prot: .read))
        XCTAssertTrue(s.covers(0x1000..<0x3000))
        XCTAssertFalse(s.covers(0x1000..<0x6000))
        XCTAssertEqual(s.findGap(length: 0x2000, below: 0x6000, above: 0), 0x3000)
        XCTAssertEqual(s.findGap(length: 0x1000, below: 0x10000, above: 0), 0xf000)
        XCTAssertNil(s.findGap(length: 0x3000, below: 0x6000, above: 0x1000))
        XCTAssertEqual(s.findGap(length: 0x1000, below: 0x2000, above: 0), 0)
    }
}
