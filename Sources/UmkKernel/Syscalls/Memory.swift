import UmkHost

// Memory.swift: the address-space calls (mm/mmap.c, mm/mprotect.c, mm/mremap.c, mm/madvise.c, mm/mincore.c).
// Argument checking happens here, in Linux's order; the work is AddressSpace's.
enum MAP {
    static let SHARED: Int32 = 0x01, PRIVATE: Int32 = 0x02, SHARED_VALIDATE: Int32 = 0x03, TYPE: Int32 = 0x0f
    static let FIXED: Int32 = 0x10, ANONYMOUS: Int32 = 0x20, BIT32: Int32 = 0x40, GROWSDOWN: Int32 = 0x100
    static let DENYWRITE: Int32 = 0x800, EXECUTABLE: Int32 = 0x1000, LOCKED: Int32 = 0x2000
    static let NORESERVE: Int32 = 0x4000, POPULATE: Int32 = 0x8000, NONBLOCK: Int32 = 0x10000
    static let STACK: Int32 = 0x20000, HUGETLB: Int32 = 0x40000, SYNC: Int32 = 0x80000
    static let FIXED_NOREPLACE: Int32 = 0x100000
    /// Flags MAP_SHARED_VALIDATE accepts (the legacy set plus MAP_SYNC's family).
    static let known: Int32 = TYPE | FIXED | ANONYMOUS | BIT32 | GROWSDOWN | DENYWRITE | EXECUTABLE | LOCKED
        | NORESERVE | POPULATE | NONBLOCK | STACK | HUGETLB | FIXED_NOREPLACE | (0x3f << 26)
}

extension SyscallTable {
    mutating func addMemoryCalls() {
        add(9, [.pointer, .uint, .mmapProt, .mmapFlags, .fd, .hex], result: .hex) { k, t, a throws(LinuxErrno) in try k.sysMmap(t, a) }
        add(10, [.pointer, .uint, .mmapProt]) { k, t, a throws(LinuxErrno) in try k.sysMprotect(t, a) }
        add(11, [.pointer, .uint]) { k, t, a throws(LinuxErrno) in
            // do_vmi_munmap: a range that is not inside user space is EINVAL (not ENOMEM as elsewhere).
            guard a[0] <= AddressSpace.userLimit, a[1] <= AddressSpace.userLimit - a[0] else { throw .EINVAL }
            let r = try k.userRange(a[0], a[1])
            t.mm.unmap(r)
            return .value(0)
        }
        add(12, [.pointer], result: .hex) { k, t, a throws(LinuxErrno) in k.sysBrk(t, a[0]) }
        add(25, [.pointer, .uint, .uint, .mremapFlags, .pointer], result: .hex, .partial("MREMAP_DONTUNMAP is EINVAL")) { k, t, a throws(LinuxErrno) in
            try k.sysMremap(t, a)
        }
        add(26, [.hex, .uint, .int]) { k, t, a throws(LinuxErrno) in  // msync
            let flags = a.int(2)
            guard flags & ~7 == 0, flags & 5 != 5, a[0] & 4095 == 0 else { throw .EINVAL }
            // The length rounds up modulo 2^64, as Linux's does: msync(p, -1) is an empty range.
            if (a[1] &+ 4095) & ~4095 == 0 { return .value(0) }
            let r = try k.userRange(a[0], a[1], emptyOK: true)
            guard t.mm.vmas.covers(r) else { throw .ENOMEM }
            return .value(0)  // nothing to write back: file mappings of a read-only tree are private copies
        }
        add(27, [.hex, .uint, .pointer]) { k, t, a throws(LinuxErrno) in  // mincore
            let r = try k.userRange(a[0], a[1])
            guard t.mm.vmas.covers(r) else { throw .ENOMEM }
            // In chunks: the vector is as long as the range, which guest memory bounds.
            var at = a.address(2)
            var vpn = r.lowerBound >> 12
            while vpn < r.upperBound >> 12 {
                let end = min(vpn + 65536, r.upperBound >> 12)
                try t.mm.writeBytes(at, (vpn..<end).map { t.mm.pages[$0] == nil ? UInt8(0) : 1 })
                at = at.advanced(by: Int(end - vpn))
                vpn = end
            }
            return .value(0)
        }
        add(28, [.pointer, .uint, .madvice], .partial("advice other than DONTNEED/FREE is accepted and ignored")) { k, t, a throws(LinuxErrno) in
            try k.sysMadvise(t, a)
        }
        for nr in [149, 150, 325] {  // mlock, munlock, mlock2: every page is resident already
            add(nr, [.hex, .uint]) { k, t, a throws(LinuxErrno) in
                if nr == 325, a.int(2) & ~1 != 0 { throw .EINVAL }
                return try k.sysMlock(t, a, lock: nr != 150)
            }
        }
        add(151, [.int]) { _, _, a throws(LinuxErrno) in
            guard a.int(0) != 0, a.int(0) & ~7 == 0 else { throw .EINVAL }
            return .value(0)
        }
        add(152, []) { _, _, _ throws(LinuxErrno) in .value(0) }
    }
}

extension Kernel {
    /// A page-aligned guest range from an address and a length: EINVAL if unaligned, empty, or past the
    /// user limit.
    func userRange(_ addr: UInt64, _ length: UInt64, emptyOK: Bool = false) throws(LinuxErrno) -> Range<UInt64> {
        guard addr & 4095 == 0 else { throw .EINVAL }
        if length == 0 {
            guard emptyOK else { throw .EINVAL }
            return addr..<addr
        }
        guard let len = pageRoundUp(length), len <= AddressSpace.userLimit, addr <= AddressSpace.userLimit - len else {
            throw .ENOMEM
        }
        return addr..<(addr + len)
    }

    /// mlock, mlock2, munlock (mm/mlock.c do_mlock, apply_vma_lock_flags). The length wraps as Linux's
    /// PAGE_ALIGN(len + offset) does: mlock(1, -1) is an empty range, so 0; an end that wraps is EINVAL.
    func sysMlock(_ t: Task, _ a: SyscallArgs, lock: Bool) throws(LinuxErrno) -> SyscallOutcome {
        let start = a[0] & ~4095
        let length = (a[1] &+ (a[0] & 4095) &+ 4095) & ~4095
        // Nothing is counted in locked_vm, so only the request itself meets RLIMIT_MEMLOCK.
        let limit = t.process.limits[RLIMIT.MEMLOCK].soft, privileged = t.process.credentials.euid == 0  // CAP_IPC_LOCK
        if lock && limit == 0 && !privileged { throw .EPERM }  // can_do_mlock
        if lock && length >> 12 > limit >> 12 && !privileged { throw .ENOMEM }
        let (end, wrapped) = start.addingReportingOverflow(length)
        guard !wrapped else { throw .EINVAL }
        if end == start { return .value(0) }
        guard end <= AddressSpace.userLimit, t.mm.vmas.covers(start..<end) else { throw .ENOMEM }
        return .value(0)
    }

    func sysMmap(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let addr = a[0], prot = a.int(2), flags = a.int(3), offset = a[5]
        guard a[1] != 0 else { throw .EINVAL }
        let type = flags & MAP.TYPE
        guard type == MAP.SHARED || type == MAP.PRIVATE || type == MAP.SHARED_VALIDATE else { throw .EINVAL }
        if type == MAP.SHARED_VALIDATE && flags & ~MAP.known != 0 { throw .EOPNOTSUPP }
        guard offset & 4095 == 0 else { throw .EINVAL }
        guard prot & ~7 == 0 else { throw .EINVAL }
        guard let length = pageRoundUp(a[1]), length <= AddressSpace.userLimit else { throw .ENOMEM }
        if flags & MAP.HUGETLB != 0 { throw .EINVAL }  // no huge pages configured, as on a default host
        let shared = type != MAP.PRIVATE
        var vma = VMA(start: 0, end: 0, prot: Protection(rawValue: prot), shared: shared)
        vma.noReserve = flags & MAP.NORESERVE != 0
        if flags & MAP.ANONYMOUS == 0 {
            let file = try t.process.fds.get(a.int(4))
            guard let host = file.mappableFile else { throw .ENODEV }
            guard file.isReadable else { throw .EACCES }
            if shared && prot & 2 != 0 && !file.isWritable { throw .EACCES }
            // FIXME: a host file's pages are cache copies with no write-back, so a writable shared mapping of
            // a bind's file would lose its writes: refused rather than lost.
            if shared && file.isWritable && host.memory == nil { throw .ENODEV }
            // memfd_check_seals_mmap: a file sealed against writes maps shared only read-only, for good.
            if shared, let inode = host.memory, inode.seals & (Seal.write | Seal.futureWrite) != 0 {
                if prot & 2 != 0 { throw .EPERM }
                vma.mayWrite = false
            }
            if shared && !file.isWritable { vma.mayWrite = false }
            // file_mmap_ok: the end of the mapping must be a valid file offset.
            let (end, o) = offset.addingReportingOverflow(length)
            guard !o, end <= UInt64(Int64.max) else { throw .EOVERFLOW }
            vma.file = host
            vma.fileOffset = offset
            vma.name = file.dentry?.path
        }
        let start: UInt64
        if flags & (MAP.FIXED | MAP.FIXED_NOREPLACE) != 0 {
            guard addr & 4095 == 0 else { throw .EINVAL }
            guard addr <= AddressSpace.userLimit - length, addr >= AddressSpace.mmapBottom || addr == 0 else {
                throw addr == 0 ? .EPERM : .ENOMEM
            }
            if addr == 0 { throw .EPERM }  // vm.mmap_min_addr
            if flags & MAP.FIXED == 0 && t.mm.vmas.overlaps(addr..<(addr + length)) { throw .EEXIST }
            start = addr
            t.mm.unmap(start..<(start + length))
        } else {
            guard let s = t.mm.findFree(length: length, hint: addr & ~4095, below4G: flags & MAP.BIT32 != 0) else {
                throw .ENOMEM
            }
            start = s
        }
        vma.start = start
        vma.end = start + length
        try t.mm.map(vma, populate: flags & (MAP.POPULATE | MAP.LOCKED) != 0)
        return .value(Int(start))
    }

    func sysMprotect(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let prot = a.int(2)
        guard prot & ~(7 | 0x0100_0000 | 0x0200_0000) == 0 else { throw .EINVAL }  // PROT_GROWSDOWN/UP
        let r = try userRange(a[0], a[1], emptyOK: true)
        if r.isEmpty { return .value(0) }
        try t.mm.protect(r, Protection(rawValue: prot & 7))
        return .value(0)
    }

    /// brk: moves the end of the heap; on failure it returns the old end, as Linux does.
    func sysBrk(_ t: Task, _ requested: UInt64) -> SyscallOutcome {
        let mm = t.mm
        guard requested >= mm.brkStart, requested < AddressSpace.mmapBottom + AddressSpace.mmapTop else {
            return .value(Int(mm.brkCurrent))
        }
        let oldEnd = (mm.brkCurrent + 4095) & ~4095
        let newEnd = (requested + 4095) & ~4095
        if newEnd > oldEnd {
            guard !mm.vmas.overlaps(oldEnd..<newEnd) else { return .value(Int(mm.brkCurrent)) }
            do {
                try mm.map(VMA(start: oldEnd, end: newEnd, prot: [.read, .write], name: "[heap]"))
            } catch {
                return .value(Int(mm.brkCurrent))
            }
        } else if newEnd < oldEnd {
            mm.unmap(newEnd..<oldEnd)
        }
        mm.brkCurrent = requested
        return .value(Int(requested))
    }

    func sysMremap(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let old = a[0], flags = a.int(3), requested = a[4]
        let mayMove: Int32 = 1, fixed: Int32 = 2
        guard flags & ~(mayMove | fixed) == 0, flags & fixed == 0 || flags & mayMove != 0 else { throw .EINVAL }
        guard old & 4095 == 0 else { throw .EINVAL }
        guard let oldLength = pageRoundUp(a[1]), let newLength = pageRoundUp(a[2]), newLength > 0 else { throw .EINVAL }
        guard oldLength > 0 else { throw .EINVAL }  // duplicating a shared mapping is not supported
        guard newLength <= AddressSpace.userLimit, oldLength <= AddressSpace.userLimit else { throw .EINVAL }
        guard old <= AddressSpace.userLimit - oldLength else { throw .EFAULT }  // no VMA there
        let mm = t.mm
        guard let v = mm.vmas.find(old), v.end >= old + oldLength else { throw .EFAULT }
        // Check the commit before moving anything: a failure must leave the old mapping in place.
        if newLength > oldLength && v.charged && !mm.frames.canCharge(Int((newLength - oldLength) >> 12)) {
            throw .ENOMEM
        }
        if flags & fixed != 0 {
            guard requested & 4095 == 0, requested <= AddressSpace.userLimit - newLength else { throw .EINVAL }
            let target = requested..<(requested + newLength)
            guard !target.overlaps(old..<(old + oldLength)) else { throw .EINVAL }
            mm.unmap(target)
            let moved = min(oldLength, newLength)
            try mm.move(from: old, length: moved, to: requested)
            if oldLength > newLength { mm.unmap((old + newLength)..<(old + oldLength)) }
            if newLength > oldLength { try mm.grow(endingAt: requested + oldLength, by: newLength - oldLength) }
            return .value(Int(requested))
        }
        if newLength <= oldLength {
            mm.unmap((old + newLength)..<(old + oldLength))
            return .value(Int(old))
        }
        let extra = newLength - oldLength
        let tail = (old + oldLength)..<(old + newLength)
        if v.end == old + oldLength, old + newLength <= AddressSpace.userLimit, !mm.vmas.overlaps(tail) {
            try mm.grow(endingAt: old + oldLength, by: extra)
            return .value(Int(old))
        }
        guard flags & mayMove != 0 else { throw .ENOMEM }
        guard let new = mm.findFree(length: newLength, hint: 0) else { throw .ENOMEM }
        try mm.move(from: old, length: oldLength, to: new)
        try mm.grow(endingAt: new + oldLength, by: extra)
        return .value(Int(new))
    }

    func sysMadvise(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let advice = a.int(2)
        // PAGE_ALIGN(len) that wraps to 0, or an end that wraps: EINVAL (ENOMEM is for unmapped space).
        let aligned = (a[1] &+ 4095) & ~4095
        guard a[0] & 4095 == 0, a[1] == 0 || aligned != 0, !a[0].addingReportingOverflow(aligned).overflow else {
            throw .EINVAL
        }
        let r = try userRange(a[0], a[1], emptyOK: true)
        switch advice {
        case 0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23: break
        case 4, 8:  // MADV_DONTNEED, MADV_FREE
            if !r.isEmpty { try t.mm.discard(r) }
        default: throw .EINVAL
        }
        if !r.isEmpty && !t.mm.vmas.covers(r) { throw .ENOMEM }
        return .value(0)
    }
}
