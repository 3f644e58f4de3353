import Foundation
import XCTest
import UmkHost
@testable import UmkKernel

/// An address space over a real physical-memory file and a real stub: the page table, the copy helpers
/// and their EFAULTs, and frame accounting. (All on the test thread, which is the stub's tracer here.)
final class AddressSpaceTests: XCTestCase {
    var frames: PhysicalFrames!

    override func setUpWithError() throws { frames = try PhysicalFrames(bytes: 8 << 20) }

    func testMapWriteReadAndFaults() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: PtracePlatform(memory: frames.memory))
        let base = frames.freeFrames
        try mm.map(VMA(start: 0x10000, end: 0x13000, prot: [.read, .write]))
        // Counted against --mem now, backed on first touch.
        XCTAssertEqual(frames.committed, 3)
        XCTAssertEqual(frames.freeFrames, base)
        try mm.write(GuestAddress(0x10000), UInt8(1))
        XCTAssertEqual(frames.freeFrames, base - 3)  // the fault backs the whole cluster around the touch
        XCTAssertEqual(mm.residentPages, 3)
        // A copy that straddles pages.
        let data = (0..<5000).map { UInt8($0 % 251) }
        try mm.writeBytes(GuestAddress(0x10ffe), data)
        XCTAssertEqual(try mm.readBytes(GuestAddress(0x10ffe), 5000), data)
        try mm.write(GuestAddress(0x12ffc), UInt32(0xdead_beef))
        XCTAssertEqual(try mm.read(GuestAddress(0x12ffc), as: UInt32.self), 0xdead_beef)
        // Past the end of the mapping, or wrapping around: EFAULT, not a crash.
        XCTAssertThrowsError(try mm.readBytes(GuestAddress(0x12ff0), 32)) { XCTAssertEqual($0 as? LinuxErrno, .EFAULT) }
        XCTAssertThrowsError(try mm.readBytes(GuestAddress(UInt64.max - 3), 8)) { XCTAssertEqual($0 as? LinuxErrno, .EFAULT) }
        XCTAssertThrowsError(try mm.readBytes(GuestAddress(0), 1)) { XCTAssertEqual($0 as? LinuxErrno, .EFAULT) }
        // Read-only pages refuse kernel writes too.
        try mm.protect(0x11000..<0x12000, .read)
        XCTAssertThrowsError(try mm.write(GuestAddress(0x11000), UInt8(1))) { XCTAssertEqual($0 as? LinuxErrno, .EFAULT) }
        XCTAssertEqual(try mm.read(GuestAddress(0x11000), as: UInt8.self), data[2])
        XCTAssertEqual(mm.vmas.vmas.count, 3)
        try mm.protect(0x11000..<0x12000, [.read, .write])
        XCTAssertEqual(mm.vmas.vmas.count, 1)
        // Unmapping gives the frames back, but only once the stub has unmapped them too.
        mm.unmap(0x10000..<0x12000)
        XCTAssertEqual(frames.freeFrames, base - 3)
        XCTAssertThrowsError(try mm.read(GuestAddress(0x10000), as: UInt8.self))
        try mm.flush()
        XCTAssertEqual(frames.freeFrames, base - 1)
    }

    func testProtNoneTakesNoFramesUntilAccessible() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: PtracePlatform(memory: frames.memory))
        let base = frames.freeFrames
        try mm.map(VMA(start: 0x100000, end: 0x200000, prot: .none))
        XCTAssertEqual(frames.freeFrames, base)
        XCTAssertEqual(frames.committed, 0)
        XCTAssertThrowsError(try mm.read(GuestAddress(0x100000), as: UInt8.self))
        try mm.protect(0x100000..<0x102000, [.read, .write])
        XCTAssertEqual(frames.committed, 2)
        XCTAssertEqual(try mm.read(GuestAddress(0x100000), as: UInt8.self), 0)
        XCTAssertEqual(frames.freeFrames, base - 2)
        XCTAssertThrowsError(try mm.protect(0x300000..<0x301000, .read)) { XCTAssertEqual($0 as? LinuxErrno, .ENOMEM) }
    }

    func testDiscardZeroesPrivateMemory() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: PtracePlatform(memory: frames.memory))
        try mm.map(VMA(start: 0x10000, end: 0x12000, prot: [.read, .write]))
        try mm.writeBytes(GuestAddress(0x10000), [UInt8](repeating: 7, count: 8192))
        try mm.discard(0x10000..<0x11000)
        XCTAssertEqual(try mm.readBytes(GuestAddress(0x10000), 4096), [UInt8](repeating: 0, count: 4096))
        XCTAssertEqual(try mm.readBytes(GuestAddress(0x11000), 4), [7, 7, 7, 7])
    }

    func testOutOfMemoryIsENOMEMAndLeavesNothingBehind() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: PtracePlatform(memory: frames.memory))
        let base = frames.freeFrames
        XCTAssertThrowsError(try mm.map(VMA(start: 0x10000, end: 0x10000 + 16 << 20, prot: [.read, .write]))) {
            XCTAssertEqual($0 as? LinuxErrno, .ENOMEM)
        }
        XCTAssertEqual(frames.freeFrames, base)
        XCTAssertTrue(mm.vmas.vmas.isEmpty)
    }

    func testFramesReturnWhenTheAddressSpaceGoes() throws {
        let before = frames.freeFrames
        do {
            let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: PtracePlatform(memory: frames.memory))
            try mm.map(VMA(start: 0x10000, end: 0x20000, prot: [.read, .write]))
            try mm.zero(GuestAddress(0x10000), 0x10000)
            XCTAssertEqual(frames.freeFrames, before - 16)  // the pages: the stub's own pages are not guest memory
            try mm.flush()
        }
        XCTAssertEqual(frames.freeFrames, before)
        XCTAssertEqual(frames.committed, 0)
    }

    func testForkSharesFramesCopyOnWrite() throws {
        frames.overcommit = .never(ratio: 100)
        let cache = PageCache(frames: frames)
        let parent = try AddressSpace(frames: frames, cache: cache, platform: PtracePlatform(memory: frames.memory))
        try parent.map(VMA(start: 0x10000, end: 0x12000, prot: [.read, .write]))
        try parent.map(VMA(start: 0x20000, end: 0x21000, prot: [.read, .write], shared: true))
        try parent.write(GuestAddress(0x10000), UInt32(7))
        try parent.write(GuestAddress(0x20000), UInt32(1))
        try parent.map(VMA(start: 0x40000, end: 0x4000000, prot: [.read, .write], noReserve: true))  // untouched
        let used = frames.freeFrames
        let child = try parent.fork()
        XCTAssertEqual(frames.freeFrames, used)  // nothing: the child's stub has its own control pages
        XCTAssertEqual(child.residentPages, parent.residentPages)
        try child.write(GuestAddress(0x10000), UInt32(9))  // copy on write
        try child.write(GuestAddress(0x20000), UInt32(2))  // shared
        XCTAssertEqual(try parent.read(GuestAddress(0x10000), as: UInt32.self), 7)
        XCTAssertEqual(try child.read(GuestAddress(0x10000), as: UInt32.self), 9)
        XCTAssertEqual(try parent.read(GuestAddress(0x20000), as: UInt32.self), 2)
        XCTAssertEqual(frames.freeFrames, used - 1)
        XCTAssertThrowsError(try parent.map(VMA(start: 0x8000000, end: 0x8000000 + (8 << 20), prot: [.read, .write]))) {
            XCTAssertEqual($0 as? LinuxErrno, .ENOMEM)  // more than --mem promised in all
        }
        try parent.flush()
        try child.flush()
    }

    /// Heuristic overcommit refuses only a single request larger than RAM; strict mode the sum past its ratio.
    func testOvercommitPolicies() throws {
        let cache = PageCache(frames: frames), pool = PtracePlatform(memory: frames.memory)
        let mib = UInt64(1 << 20)
        do {
            let mm = try AddressSpace(frames: frames, cache: cache, platform: pool)
            try mm.map(VMA(start: 0x1000_0000, end: 0x1000_0000 + 6 * mib, prot: [.read, .write]))
            try mm.map(VMA(start: 0x2000_0000, end: 0x2000_0000 + 6 * mib, prot: [.read, .write]))
            XCTAssertEqual(frames.committed, 3072)  // more than the 2048 frames there are
            XCTAssertThrowsError(try mm.map(VMA(start: 0x3000_0000, end: 0x3000_0000 + 9 * mib, prot: [.read, .write]))) {
                XCTAssertEqual($0 as? LinuxErrno, .ENOMEM)
            }
            let child = try mm.fork()  // each VMA on its own is no larger than RAM
            XCTAssertEqual(frames.committed, 6144)
            try child.flush()
            try mm.flush()
        }
        XCTAssertEqual(frames.committed, 0)
        frames.overcommit = .always
        do {
            let mm = try AddressSpace(frames: frames, cache: cache, platform: pool)
            try mm.map(VMA(start: 0x1000_0000, end: 0x1000_0000 + 64 * mib, prot: [.read, .write]))
            try mm.flush()
        }
        frames.overcommit = .never(ratio: 50)
        let mm = try AddressSpace(frames: frames, cache: cache, platform: pool)
        try mm.map(VMA(start: 0x1000_0000, end: 0x1000_0000 + 4 * mib, prot: [.read, .write]))
        XCTAssertThrowsError(try mm.map(VMA(start: 0x2000_0000, end: 0x2000_1000, prot: [.read, .write]))) {
            XCTAssertEqual($0 as? LinuxErrno, .ENOMEM)
        }
        try mm.flush()
    }

    func testStubsAreReusedWiped() throws {
        let pool = PtracePlatform(memory: frames.memory)
        let cache = PageCache(frames: frames)
        var pid: Int32 = 0
        do {
            let mm = try AddressSpace(frames: frames, cache: cache, platform: pool)
            pid = stub(mm).pid
            try mm.map(VMA(start: 0x10000, end: 0x12000, prot: [.read, .write]))
            try mm.write(GuestAddress(0x10000), UInt64(42))
            try mm.flush()
        }
        let mm = try AddressSpace(frames: frames, cache: cache, platform: pool)
        XCTAssertEqual(stub(mm).pid, pid, "the stub comes back from the pool")
        let maps = (try? String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)) ?? ""
        XCTAssertFalse(maps.contains("00010000-"), "the old guest's mapping is gone:\n\(maps)")
        XCTAssertThrowsError(try mm.read(GuestAddress(0x10000), as: UInt64.self))
        pool.shutDown()
    }

    /// A failed host batch kills the stub at once, and only then are the frames it mapped freed; the address
    /// space takes no more changes (issue 6: frames freed while a stub still mapped them).
    func testFailedBatchKillsTheStubBeforeFramesAreFreed() throws {
        let mm = try AddressSpace(frames: frames, cache: PageCache(frames: frames), platform: PtracePlatform(memory: frames.memory))
        let base = frames.freeFrames
        try mm.map(VMA(start: 0x10000, end: 0x12000, prot: [.read, .write]))
        try mm.write(GuestAddress(0x10000), UInt8(1))
        try mm.flush()
        mm.unmap(0x10000..<0x12000)
        XCTAssertEqual(frames.freeFrames, base - 2, "freed before the stub unmapped them")
        // A mapping the stub's own checks refuse (past the guest's range) fails the whole batch.
        stub(mm).map(address: AddressSpace.userLimit, length: 4096, prot: 3, offset: 0)
        XCTAssertThrowsError(try mm.flush()) { XCTAssertEqual($0 as? LinuxErrno, .EINVAL) }
        XCTAssertNotNil(stub(mm).failure)
        XCTAssertFalse(kill(stub(mm).pid, 0) == 0, "the stub outlived its failed batch")
        XCTAssertEqual(frames.freeFrames, base)
        XCTAssertThrowsError(try mm.flush())
    }

    /// The page table counts the host mappings its pages need: runs of consecutive frames with one
    /// protection, as the host merges them.
    func testPageTableCountsHostMappingRuns() {
        var t = PageTable()
        for i in 0..<8 { t[UInt64(100 + i)] = PageTable.Entry(frame: Int32(50 + i), prot: [.read, .write]) }
        XCTAssertEqual(t.runs, 1)
        t[103] = PageTable.Entry(frame: 53, prot: [.read, .write], cow: true)  // read-only on the host now
        XCTAssertEqual(t.runs, 3)
        t[103] = nil
        XCTAssertEqual(t.runs, 2)
        t[103] = PageTable.Entry(frame: 53, prot: [.read, .write])
        XCTAssertEqual(t.runs, 1)
        t[104] = PageTable.Entry(frame: 9, prot: [.read, .write])  // another frame
        XCTAssertEqual(t.runs, 3)
        for i in 0..<8 { t[UInt64(100 + i)] = nil }
        XCTAssertEqual(t.runs, 0)
        XCTAssertEqual(t.count, 0)
    }
}

/// The ptrace platform's stub behind an address space.
private func stub(_ mm: AddressSpace) -> StubProcess { (mm.space as! PtraceAddressSpace).stub }
