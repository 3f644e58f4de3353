import XCTest
@testable import UmkKernel

/// The chunked page table: entries round-trip, walks come out in order across chunks, copies are values.
final class PageTableTests: XCTestCase {
    func testEntriesRoundTrip() {
        var t = PageTable()
        let e = PageTable.Entry(frame: 0x7fff_fffe, prot: [.read, .exec], cow: true)
        t[0x7fff_ffff] = e
        t[0] = PageTable.Entry(frame: 0, prot: .none)
        XCTAssertEqual(t[0x7fff_ffff], e)
        XCTAssertEqual(t[0]?.frame, 0)
        XCTAssertEqual(t[0]?.prot, Protection.none)
        XCTAssertNil(t[1])
        XCTAssertEqual(t.count, 2)
        XCTAssertEqual(e.hostProt, [.read, .exec])  // only write is taken away
        XCTAssertEqual(PageTable.Entry(frame: 1, prot: [.read, .write], cow: true).hostProt, .read)
        XCTAssertEqual(t.removeValue(forKey: 0)?.frame, 0)
        XCTAssertNil(t.removeValue(forKey: 0))
        XCTAssertEqual(t.count, 1)
    }

    func testWalksAreOrderedAcrossChunks() {
        var t = PageTable()
        for vpn: UInt64 in [5000, 511, 512, 3, 1 << 30] { t[vpn] = PageTable.Entry(frame: Int32(vpn & 0xffff), prot: .read) }
        XCTAssertEqual(t.entries(in: 0..<6000).map { $0.0 }, [3, 511, 512, 5000])
        XCTAssertEqual(t.entries(in: 512..<(1 << 31)).map { $0.0 }, [512, 5000, 1 << 30])  // sparse: by chunk keys
        XCTAssertEqual(t.entries(in: 4..<511).count, 0)
        XCTAssertEqual(t.frames.sorted(), [3, 511, 512, 5000, 0].sorted())
    }

    func testCopiesAreIndependent() {
        var a = PageTable()
        a[7] = PageTable.Entry(frame: 1, prot: [.read, .write])
        var b = a
        b[7] = PageTable.Entry(frame: 1, prot: [.read, .write], cow: true)
        b[8] = PageTable.Entry(frame: 2, prot: .read)
        XCTAssertEqual(a[7]?.cow, false)
        XCTAssertNil(a[8])
        XCTAssertEqual(a.count, 1)
        XCTAssertEqual(b.count, 2)
    }
}
