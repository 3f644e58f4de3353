import Foundation
import XCTest
import UmkHost
@testable import UmkKernel

/// The gdb stub's pure parts: packet framing, hex and binary escapes, thread ids, the register layout, and
/// the debugger's forced write into read-only memory (copy-on-write of a shared page).
final class GdbPacketTests: XCTestCase {
    func testReaderSplitsPacketsAcksAndInterrupts() {
        var r = GdbReader()
        XCTAssertEqual(r.feed(Array("+$g#67".utf8)), [.ack, .packet(Array("g".utf8))])
        // A packet split across reads, a bad checksum, then Ctrl-C.
        XCTAssertEqual(r.feed(Array("$m10,".utf8)), [])
        XCTAssertEqual(r.feed(Array("4#2e$g#00".utf8) + [0x03]), [.packet(Array("m10,4".utf8)), .corrupt, .interrupt])
        XCTAssertEqual(gdbFrame(Array("OK".utf8)), Array("$OK#9a".utf8))
    }

    func testReaderSurvivesGarbage() {
        var r = GdbReader()
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in
                [UInt8(ascii: "$"), UInt8(ascii: "#"), UInt8(ascii: "}"), 0x03, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
            }
            for input in r.feed(bytes) {
                if case .packet(let p) = input {
                    _ = GdbThreadID(p)
                    _ = GdbHex.number(p)
                    _ = GdbHex.decode(p)
                    _ = GdbBinary.unescape(p)
                }
            }
        }
    }

    func testHexAndEscapes() {
        XCTAssertEqual(GdbHex.number(Array("7fffff7fed58".utf8)), 0x7fff_ff7f_ed58)
        XCTAssertNil(GdbHex.number(Array("12345678901234567".utf8)))  // more than 64 bits
        XCTAssertNil(GdbHex.number(Array("xyz".utf8)))
        XCTAssertNil(GdbHex.decode(Array("abc".utf8)))
        XCTAssertEqual(GdbHex.decode(Array("00ff7D".utf8)), [0, 255, 0x7d])
        let binary: [UInt8] = [0x23, 0x24, 0x7d, 0x2a, 0, 0xff]
        XCTAssertEqual(GdbBinary.escape(binary), [0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a, 0, 0xff])
        XCTAssertEqual(GdbBinary.unescape(GdbBinary.escape(binary)), binary)
    }

    func testThreadIDs() {
        XCTAssertEqual(GdbThreadID(Array("p1.2".utf8)), GdbThreadID(pid: 1, tid: 2))
        XCTAssertEqual(GdbThreadID(Array("p1.-1".utf8)), GdbThreadID(pid: 1, tid: -1))
        XCTAssertEqual(GdbThreadID(Array("p1f".utf8)), GdbThreadID(pid: 0x1f, tid: -1))
        XCTAssertEqual(GdbThreadID(Array("-1".utf8)), GdbThreadID(pid: nil, tid: -1))
        XCTAssertEqual(GdbThreadID(Array("0".utf8)), GdbThreadID.any)
        XCTAssertNil(GdbThreadID(Array("p".utf8)))
        XCTAssertNil(GdbThreadID(Array("ffffffffff".utf8)))  // beyond any tid
        XCTAssertNil(GdbThreadID(Array("".utf8)))
    }

    func testRegisterLayoutMatchesTheTargetDescription() {
        // gdb numbers registers in the XML's order: rip 16, eflags 17, st0 24, xmm0 40, mxcsr 56.
        let names = GdbTarget.registers.map(\.name)
        XCTAssertEqual(names[GdbTarget.rip], "rip")
        XCTAssertEqual(names[GdbTarget.eflags], "eflags")
        XCTAssertEqual(names[GdbTarget.firstST], "st0")
        XCTAssertEqual(names[GdbTarget.fctrl], "fctrl")
        XCTAssertEqual(names[GdbTarget.firstXMM], "xmm0")
        XCTAssertEqual(names[GdbTarget.mxcsr], "mxcsr")
        XCTAssertEqual(names[GdbTarget.origRax], "orig_rax")
        XCTAssertEqual(names[GdbTarget.fsBase], "fs_base")
        for (i, name) in names.enumerated() {
            XCTAssertTrue(GdbTarget.targetXML.contains("<reg name=\"\(name)\" bitsize=\"\(GdbTarget.registers[i].size * 8)\""))
            XCTAssertTrue(GdbTarget.targetXML.contains("regnum=\"\(i)\""))
        }
    }

    func testFullTagWordFromTheAbridgedOne() {
        var x = [UInt8](repeating: 0, count: 512)
        x[4] = 0b0000_0011  // physical registers 0 and 1 in use, the rest empty
        x.store(0x3fff, at: 32 + 8, size: 2)  // st0 = physical 0 (TOP 0): 1.0, integer bit set
        x[32 + 7] = 0x80
        // st1 = physical 1: zero
        XCTAssertEqual(GdbTarget.fullTag(x, top: 0), 0xfff4)  // valid, zero, then six empty
    }

    func testWatchpointsBecomeAlignedDebugRegisterPieces() {
        // 8 bytes at an odd address: 1 + 2 + 4 + 1, four registers; DR7 enables each with its length.
        let w = GdbWatchpoint(address: 0x1001, length: 8, kind: .write)
        XCTAssertEqual(GdbWatchpoint.pieces([w]).map(\.size), [1, 2, 4, 1])
        let (addresses, control) = GdbWatchpoint.debugRegisters([w])
        XCTAssertEqual(addresses, [0x1001, 0x1002, 0x1004, 0x1008])
        XCTAssertEqual(control & 0xff, 0b0101_0101)  // L0-L3
        XCTAssertEqual((control >> 16) & 0xf, 0b0001)  // DR0: write, 1 byte
        XCTAssertEqual((control >> 24) & 0xf, 0b1101)  // DR2: write, 4 bytes
        let a = GdbWatchpoint(address: 0x2000, length: 8, kind: .access)
        XCTAssertEqual((GdbWatchpoint.debugRegisters([a]).control >> 16) & 0xf, 0b1011)  // read/write, 8 bytes
        XCTAssertEqual(GdbWatchpoint.debugRegisters([]).control, 0)
        let b = GdbWatchpoint(address: 0x401000, length: 1, kind: .execute)  // an instruction: RW 00, LEN 00
        XCTAssertEqual(GdbWatchpoint.debugRegisters([b]).control, 0x101)
    }

    func testDebuggerWritesReadOnlyMemoryCopyOnWrite() throws {
        let frames = try PhysicalFrames(bytes: 8 << 20)
        let cache = PageCache(frames: frames)
        let parent = try AddressSpace(frames: frames, cache: cache, platform: PtracePlatform(memory: frames.memory))
        try parent.map(VMA(start: 0x10000, end: 0x12000, prot: [.read, .write]))
        try parent.writeBytes(GuestAddress(0x10ffe), [1, 2, 3, 4])
        try parent.protect(0x10000..<0x12000, [.read, .exec])
        let child = try parent.fork()
        // The page straddle is read-only and shared with the child: the write copies it for the parent only.
        try parent.debuggerWrite(GuestAddress(0x10fff), [0xcc, 0xcc])
        XCTAssertEqual(parent.debuggerRead(GuestAddress(0x10ffe), 4), [1, 0xcc, 0xcc, 4])
        XCTAssertEqual(child.debuggerRead(GuestAddress(0x10ffe), 4), [1, 2, 3, 4])
        // The guest still may not write there itself.
        XCTAssertThrowsError(try parent.write(GuestAddress(0x10fff), UInt8(0)))
        // A read stops at the first page that is not there; a write there is EFAULT.
        XCTAssertEqual(parent.debuggerRead(GuestAddress(0x11ffe), 8).count, 2)
        XCTAssertEqual(parent.debuggerRead(GuestAddress(UInt64.max - 3), 8), [])
        XCTAssertThrowsError(try parent.debuggerWrite(GuestAddress(0x12000), [0xcc])) { XCTAssertEqual($0 as? LinuxErrno, .EFAULT) }
        try parent.flush()
        try child.flush()
    }
}
