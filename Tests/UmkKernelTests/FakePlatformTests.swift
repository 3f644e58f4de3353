// FakePlatformTests.swift: the address space against an in-memory platform (Platform.swift) that records what
// a real one would map: the memory code's promises checked without any host process.

import XCTest
import UmkHost
@testable import UmkKernel

/// A platform whose address spaces keep their mappings in a table, page by page, applied at flush.
final class FakePlatform: Platform {
    var spaces: [FakeAddressSpace] = []
    func newAddressSpace() throws(LinuxErrno) -> PlatformAddressSpace {
        let s = FakeAddressSpace()
        spaces.append(s)
        return s
    }
    func waitForStop() throws(Errno) -> (id: Int32, stop: ContextStop)? { nil }
    func pollStop() throws(Errno) -> (id: Int32, stop: ContextStop)? { nil }
    func shutDown() {}
}

final class FakeAddressSpace: PlatformAddressSpace {
    enum Op { case map(UInt64, UInt64, Int32, UInt64), unmap(UInt64, UInt64), protect(UInt64, UInt64, Int32) }
    var pending: [Op] = []
    /// What the space maps now: guest page -> (offset in the physical-memory file, protection).
    var mapped: [UInt64: (offset: UInt64, prot: Int32)] = [:]
    var released = false
    var failNextFlush = false
    private(set) var hasFailed = false

    func map(address: UInt64, length: UInt64, prot: Int32, offset: UInt64) { pending.append(.map(address, length, prot, offset)) }
    func unmap(address: UInt64, length: UInt64) { pending.append(.unmap(address, length)) }
    func protect(address: UInt64, length: UInt64, prot: Int32) { pending.append(.protect(address, length, prot)) }
    var hasPendingChanges: Bool { !pending.isEmpty }

    func flush() throws(Errno) {
        if hasFailed || failNextFlush {
            hasFailed = true
            mapped.removeAll()  // as a killed stub: nothing maps anything any more
            pending.removeAll()
            throw Errno(rawValue: 22)
        }
        for op in pending {
            switch op {
            case .map(let a, let l, let p, let o):
                for i in stride(from: UInt64(0), to: l, by: 4096) { mapped[(a + i) >> 12] = (o + i, p) }
            case .unmap(let a, let l):
                for i in stride(from: UInt64(0), to: l, by: 4096) { mapped[(a + i) >> 12] = nil }
            case .protect(let a, let l, let p):
                for i in stride(from: UInt64(0), to: l, by: 4096) { mapped[(a + i) >> 12]?.prot = p }
            }
        }
        pending.removeAll()
    }
    func newContext() throws(Errno) -> PlatformContext { throw Errno(rawValue: 38) }
    func releaseContext(_ context: PlatformContext) {}
    func release() {
        released = true
        mapped.removeAll()
    }
    var cpuTimes: (user: Int64, system: Int64)? { nil }
}

final class FakePlatformTests: XCTestCase {
    var frames: PhysicalFrames!
    let platform = FakePlatform()

    override func setUpWithError() throws { frames = try PhysicalFrames(bytes: 8 << 20) }

    private func space(_ mm: AddressSpace) -> FakeAddressSpace { mm.space as! FakeAddressSpace }

    /// A frame an unmap takes away is free only once the platform has dropped its mapping.
    func testUnmappedFramesAreFreedAfterTheFlush() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: platform)
        let base = frames.freeFrames
        try mm.map(VMA(start: 0x10000, end: 0x12000, prot: [.read, .write]))
        try mm.write(GuestAddress(0x10000), UInt8(1))
        try mm.flush()
        XCTAssertEqual(space(mm).mapped.count, 2)
        XCTAssertEqual(space(mm).mapped[0x10]?.prot, 3)
        mm.unmap(0x10000..<0x12000)
        XCTAssertEqual(space(mm).mapped.count, 2, "still mapped until the flush")
        XCTAssertEqual(frames.freeFrames, base - 2, "freed while the platform still maps them")
        try mm.flush()
        XCTAssertTrue(space(mm).mapped.isEmpty)
        XCTAssertEqual(frames.freeFrames, base)
    }

    /// A failed flush leaves nothing mapped, and then the frames go; the space takes no more changes.
    func testFailedFlushFreesFramesOnlyOnceNothingMapsThem() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: platform)
        let base = frames.freeFrames
        try mm.map(VMA(start: 0x10000, end: 0x12000, prot: [.read, .write]))
        try mm.write(GuestAddress(0x10000), UInt8(1))
        try mm.flush()
        mm.unmap(0x10000..<0x12000)
        space(mm).failNextFlush = true
        XCTAssertThrowsError(try mm.flush())
        XCTAssertTrue(space(mm).mapped.isEmpty)
        XCTAssertEqual(frames.freeFrames, base)
        XCTAssertThrowsError(try mm.flush())
    }

    /// fork makes the parent's private pages read-only on the platform before it returns, not when the
    /// caller next runs: its other threads must fault on their next write.
    func testForkWriteProtectsTheParentAtOnce() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: platform)
        try mm.map(VMA(start: 0x10000, end: 0x11000, prot: [.read, .write]))
        try mm.write(GuestAddress(0x10000), UInt8(1))
        try mm.flush()
        XCTAssertEqual(space(mm).mapped[0x10]?.prot, 3)
        let child = try mm.fork()
        XCTAssertFalse(space(mm).hasPendingChanges)
        XCTAssertEqual(space(mm).mapped[0x10]?.prot, 1, "the parent's page is still writable on the platform")
        XCTAssertEqual(space(child).mapped[0x10]?.prot, 1)
        XCTAssertEqual(space(child).mapped[0x10]?.offset, space(mm).mapped[0x10]?.offset)
    }

    /// The platform space is released with the address space, and nothing of it stays mapped.
    func testReleaseWithTheAddressSpace() throws {
        var mm: AddressSpace? = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: platform)
        let s = space(mm!)
        try mm!.map(VMA(start: 0x10000, end: 0x11000, prot: [.read, .write]))
        try mm!.write(GuestAddress(0x10000), UInt8(1))
        try mm!.flush()
        mm = nil
        XCTAssertTrue(s.released)
        XCTAssertEqual(frames.committed, 0)
    }
}
