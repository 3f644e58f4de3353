// ELF.swift: parsing an x86-64 ELF executable's header and program headers (Linux's fs/binfmt_elf.c checks).
// Pure: it reads through a closure, so unit tests feed it crafted bytes. Anything malformed is ENOEXEC.
struct ELFImage: Equatable {
    enum Kind: Equatable { case executable, dynamic }

    struct Segment: Equatable {
        var offset: UInt64
        var vaddr: UInt64
        var fileSize: UInt64
        var memorySize: UInt64
        var prot: Protection
    }

    var kind: Kind
    var entry: UInt64
    var phoff: UInt64
    var phnum: Int
    var segments: [Segment]
    /// PT_INTERP: the dynamic loader's path.
    var interpreter: [UInt8]?
    /// PT_PHDR's address, if the file has one.
    var phdrAddress: UInt64?
    /// PT_GNU_STACK asked for an executable stack (or had no PT_GNU_STACK: the x86-64 default).
    var executableStack: Bool

    /// The span of addresses the loadable segments cover, page aligned, before relocation.
    var span: Range<UInt64> {
        let lo = segments.map { $0.vaddr & ~4095 }.min() ?? 0
        let hi = segments.map { ($0.vaddr + $0.memorySize + 4095) & ~4095 }.max() ?? 0
        return lo..<hi
    }

    /// Where the program headers are in memory (AT_PHDR), before relocation.
    var programHeaderAddress: UInt64? {
        if let phdrAddress { return phdrAddress }
        for s in segments where s.offset <= phoff && phoff + UInt64(phnum) * 56 <= s.offset + s.fileSize {
            return s.vaddr + (phoff - s.offset)
        }
        return nil
    }

    static let maxProgramHeaders = 1024

    /// Parses the file through `read(offset, count)`, which returns fewer bytes at end of file.
    static func parse(fileSize: UInt64, read: (UInt64, Int) throws(LinuxErrno) -> [UInt8]) throws(LinuxErrno) -> ELFImage {
        let h = try read(0, 64)
        guard h.count == 64, h[0] == 0x7f, h[1] == 0x45, h[2] == 0x4c, h[3] == 0x46 else { throw .ENOEXEC }
        guard h[4] == 2, h[5] == 1, h[6] == 1 else { throw .ENOEXEC }  // 64-bit, little endian, version 1
        let type = le16(h, 16), machine = le16(h, 18)
        guard machine == 62 else { throw .ENOEXEC }
        let kind: Kind
        switch type {
        case 2: kind = .executable
        case 3: kind = .dynamic
        default: throw .ENOEXEC
        }
        let entry = le64(h, 24), phoff = le64(h, 32)
        let phentsize = Int(le16(h, 54)), phnum = Int(le16(h, 56))
        guard phentsize == 56, phnum > 0, phnum <= maxProgramHeaders else { throw .ENOEXEC }
        let (phEnd, o) = phoff.addingReportingOverflow(UInt64(phnum * 56))
        guard !o, phEnd <= fileSize else { throw .ENOEXEC }
        let ph = try read(phoff, phnum * 56)
        guard ph.count == phnum * 56 else { throw .ENOEXEC }

        var image = ELFImage(kind: kind, entry: entry, phoff: phoff, phnum: phnum, segments: [],
                             interpreter: nil, phdrAddress: nil, executableStack: true)
        for i in 0..<phnum {
            let b = i * 56
            let ptype = le32(ph, b), flags = le32(ph, b + 4)
            let offset = le64(ph, b + 8), vaddr = le64(ph, b + 16)
            let filesz = le64(ph, b + 32), memsz = le64(ph, b + 40)
            switch ptype {
            case 1:  // PT_LOAD
                guard filesz <= memsz, vaddr % 4096 == offset % 4096 else { throw .ENOEXEC }
                let (fend, o1) = offset.addingReportingOverflow(filesz)
                let (vend, o2) = vaddr.addingReportingOverflow(memsz)
                guard !o1, !o2, fend <= fileSize, vend < AddressSpace.userLimit else { throw .ENOEXEC }
                var prot: Protection = []
                if flags & 4 != 0 { prot.insert(.read) }
                if flags & 2 != 0 { prot.insert(.write) }
                if flags & 1 != 0 { prot.insert(.exec) }
                image.segments.append(Segment(offset: offset, vaddr: vaddr, fileSize: filesz, memorySize: memsz, prot: prot))
            case 3:  // PT_INTERP
                guard image.interpreter == nil, filesz >= 2, filesz <= 4096 else { throw .ENOEXEC }
                let (end, o) = offset.addingReportingOverflow(filesz)
                guard !o, end <= fileSize else { throw .ENOEXEC }
                let path = try read(offset, Int(filesz))
                guard path.count == Int(filesz), path.last == 0 else { throw .ENOEXEC }
                image.interpreter = Array(path.dropLast())
            case 6:  // PT_PHDR
                image.phdrAddress = vaddr
            case 0x6474_e551:  // PT_GNU_STACK
                image.executableStack = flags & 1 != 0
            default:
                break
            }
        }
        guard !image.segments.isEmpty else { throw .ENOEXEC }
        // Segments must be in ascending order and not overlap (binfmt_elf relies on it too).
        for (a, b) in zip(image.segments, image.segments.dropFirst()) where a.vaddr + a.memorySize > b.vaddr {
            throw .ENOEXEC
        }
        return image
    }
}

@inline(__always) private func le16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
@inline(__always) private func le32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(le16(b, i)) | UInt32(le16(b, i + 2)) << 16
}
@inline(__always) private func le64(_ b: [UInt8], _ i: Int) -> UInt64 {
    UInt64(le32(b, i)) | UInt64(le32(b, i + 4)) << 32
}
