import XCTest
@testable import UmkKernel

/// The frame allocator: contiguous runs when it can, pieces when fragmented, all-or-nothing on ENOMEM.
final class FrameAllocatorTests: XCTestCase {
    func testAllocatesContiguousRunsFirstFit() {
        var a = FrameAllocator(frameCount: 16)
        XCTAssertEqual(a.allocate(4), [0..<4])
        XCTAssertEqual(a.allocate(4), [4..<8])
        XCTAssertEqual(a.freeCount, 8)
        XCTAssertEqual(a.usedCount, 8)
    }

    func testFragmentedAllocationTakesPieces() {
        var a = FrameAllocator(frameCount: 8)
        _ = a.allocate(8)
        XCTAssertTrue(a.release(1))
        XCTAssertTrue(a.release(5))
        XCTAssertTrue(a.release(6))
        XCTAssertEqual(a.freeRuns, [1..<2, 5..<7])
        XCTAssertEqual(a.allocate(3), [1..<2, 5..<7])
        XCTAssertEqual(a.freeCount, 0)
    }

    func testNotEnoughTakesNothing() {
        var a = FrameAllocator(frameCount: 4)
        _ = a.allocate(3)
        XCTAssertNil(a.allocate(2))
        XCTAssertEqual(a.freeCount, 1)
        XCTAssertEqual(a.allocate(1), [3..<4])
    }

    func testReleaseMergesNeighbours() {
        var a = FrameAllocator(frameCount: 8)
        _ = a.allocate(8)
        for f in [3, 5, 4] { XCTAssertTrue(a.release(f)) }
        XCTAssertEqual(a.freeRuns, [3..<6])
        XCTAssertTrue(a.release(2))
        XCTAssertTrue(a.release(6))
        XCTAssertEqual(a.freeRuns, [2..<7])
    }

    func testReferenceCountsKeepSharedFramesAlive() {
        var a = FrameAllocator(frameCount: 2)
        _ = a.allocate(1)
        a.retain(0)
        XCTAssertEqual(a.refcount(0), 2)
        XCTAssertFalse(a.release(0))
        XCTAssertEqual(a.freeCount, 1)
        XCTAssertTrue(a.release(0))
        XCTAssertEqual(a.freeCount, 2)
    }
}
