import XCTest
@testable import UmkKernel

/// ELF parsing: real executables parse; every malformed variant is ENOEXEC, never a crash.
final class ELFTests: XCTestCase {
    /// A minimal valid ET_EXEC with one PT_LOAD, built byte by byte.
    func makeELF(type: UInt16 = 2, machine: UInt16 = 62, phnum: UInt16 = 1, phentsize: UInt16 = 56,
                 offset: UInt64 = 0, vaddr: UInt64 = 0x400000, filesz: UInt64 = 0x100, memsz: UInt64 = 0x200) -> [UInt8]
    {
        var b = ByteWriter(count: 0x200)
        b.put([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], at: 0)
        b.put(type, at: 16)
        b.put(machine, at: 18)
        b.put(UInt32(1), at: 20)
        b.put(UInt64(0x400080), at: 24)
        b.put(UInt64(64), at: 32)
        b.put(phentsize, at: 54)
        b.put(phnum, at: 56)
        b.put(UInt32(1), at: 64)
        b.put(UInt32(5), at: 68)
        b.put(offset, at: 72)
        b.put(vaddr, at: 80)
        b.put(filesz, at: 96)
        b.put(memsz, at: 104)
        return b.bytes
    }

    func parse(_ bytes: [UInt8]) throws(LinuxErrno) -> ELFImage {
        try ELFImage.parse(fileSize: UInt64(bytes.count)) { off, count in
            guard off < UInt64(bytes.count) else { return [] }
            return Array(bytes[Int(off)..<min(bytes.count, Int(off) + count)])
        }
    }

    func assertNoExec(_ bytes: [UInt8], _ why: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(bytes)
            XCTFail("accepted: \(why)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, .ENOEXEC, why, file: file, line: line)
        }
    }

    func testMinimalExecutableParses() throws {
        let image = try parse(makeELF())
        XCTAssertEqual(image.kind, .executable)
        XCTAssertEqual(image.entry, 0x400080)
        XCTAssertEqual(image.segments.count, 1)
        XCTAssertEqual(image.segments[0].prot, [.read, .exec])
        XCTAssertEqual(image.span, 0x400000..<0x401000)
        XCTAssertEqual(image.programHeaderAddress, 0x400040)
        XCTAssertTrue(image.executableStack)
    }

    func testMalformedHeadersAreENOEXEC() {
        assertNoExec([], "empty file")
        assertNoExec(Array(makeELF().prefix(40)), "truncated header")
        var bad = makeELF(); bad[0] = 0x7e
        assertNoExec(bad, "bad magic")
        bad = makeELF(); bad[4] = 1
        assertNoExec(bad, "32-bit class")
        bad = makeELF(); bad[5] = 2
        assertNoExec(bad, "big endian")
        assertNoExec(makeELF(type: 1), "relocatable object")
        assertNoExec(makeELF(type: 4), "core file")
        assertNoExec(makeELF(machine: 3), "i386 machine")
        assertNoExec(makeELF(phnum: 0), "no program headers")
        assertNoExec(makeELF(phnum: 60000), "absurd program header count")
        assertNoExec(makeELF(phentsize: 32), "wrong program header size")
    }

    func testMalformedSegmentsAreENOEXEC() {
        assertNoExec(makeELF(filesz: 0x300, memsz: 0x200), "file size above memory size")
        assertNoExec(makeELF(offset: 0x10000), "segment beyond end of file (truncated)")
        assertNoExec(makeELF(offset: 0x10, vaddr: 0x400000), "offset and address not congruent")
        assertNoExec(makeELF(vaddr: 0x7fff_ffff_f000, memsz: 0x2000), "segment past user space")
        assertNoExec(makeELF(vaddr: UInt64.max - 0xfff, memsz: 0x2000), "address overflow")
        var phdrPastEnd = makeELF()
        phdrPastEnd.removeSubrange(100...)
        assertNoExec(phdrPastEnd, "program headers cut off")
    }

    func testRealExecutablesParse() throws {
        for path in ["/bin/true", "/bin/sh"] {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let bytes = [UInt8](data)
            let image = try parse(bytes)
            XCTAssertFalse(image.segments.isEmpty, path)
            XCTAssertEqual(image.kind, .dynamic, path)
            XCTAssertNotNil(image.interpreter, path)
            XCTAssertFalse(image.executableStack, path)
        }
    }
}
