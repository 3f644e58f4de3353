// StubImage.swift: the stub executable. A minimal static ELF (one PT_LOAD at UMK_STUB_CODE holding the
// stub's code from the C shim) written once per host process into a sealed memfd; stubs are exec'd from it,
// as UML 6.16 does, so their address space holds nothing of umk (arch/um kernel/skas/stub_exe.c).
import Glibc
import CUmk

final class StubImage: @unchecked Sendable {
    static let shared: StubImage = {
        do { return try StubImage() } catch { fatalError("umk: cannot build the stub executable: \(error)") }
    }()

    let fd: Int32

    private init() throws(Errno) {
        var size = 0
        let code = umk_stub_code(&size)!
        precondition(size <= 4096)
        var elf = [UInt8](repeating: 0, count: 0x1000 + size)
        func put<T: FixedWidthInteger>(_ v: T, _ at: Int) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { elf[at + i] = b } }
        }
        elf[0...7] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]
        put(UInt16(2), 16)  // ET_EXEC
        put(UInt16(62), 18)  // EM_X86_64
        put(UInt32(1), 20)
        put(UInt64(UMK_STUB_CODE) + UInt64(umk_stub_entry_start()), 24)
        put(UInt64(64), 32)  // e_phoff
        put(UInt16(64), 52)  // e_ehsize
        put(UInt16(56), 54)  // e_phentsize
        put(UInt16(1), 56)  // e_phnum
        put(UInt32(1), 64)  // PT_LOAD
        put(UInt32(5), 68)  // PF_R | PF_X
        put(UInt64(0x1000), 72)
        put(UInt64(UMK_STUB_CODE), 80)
        put(UInt64(UMK_STUB_CODE), 88)
        put(UInt64(size), 96)
        put(UInt64(0x1000), 104)
        put(UInt64(0x1000), 112)
        for i in 0..<size { elf[0x1000 + i] = code[i] }

        let fd = try shim(umk_memfd_create("umk-stub", 1))
        let written = elf.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == elf.count else {
            close(fd)
            throw Errno(rawValue: EIO)
        }
        _ = umk_seal(fd)
        self.fd = fd
    }
}
