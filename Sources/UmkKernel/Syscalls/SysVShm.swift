import CLinuxABI
import UmkHost

// SysVShm.swift: shmget, shmat, shmdt and shmctl (ipc/shm.c), in Linux's order of checks. The segments
// themselves are IPC/ShmSegment.swift's.

extension SyscallTable {
    mutating func addSharedMemoryCalls() {
        add(29, [.hex, .uint, .hex]) { k, t, a throws(LinuxErrno) in  // shmget
            .value(Int(try k.sysShmget(t, key: a.int(0), size: a[1], flags: a.int(2))))
        }
        add(30, [.int, .hex, .hex], result: .hex) { k, t, a throws(LinuxErrno) in  // shmat
            .value(Int(try k.sysShmat(t, id: a.int(0), address: a[1], flags: a.int(2))))
        }
        add(67, [.hex]) { k, t, a throws(LinuxErrno) in  // shmdt
            try k.sysShmdt(t, address: a[0])
            return .value(0)
        }
        add(31, [.int, .int, .pointer], .partial("SHM_LOCK does not count locked memory per user")) {
            k, t, a throws(LinuxErrno) in .value(Int(try k.sysShmctl(t, id: a.int(0), cmd: a.int(1), buffer: a.address(2))))
        }
    }
}

extension Kernel {
    func sysShmget(_ t: Task, key: Int32, size: UInt64, flags: Int32) throws(LinuxErrno) -> Int32 {
        sweepSegments()
        return try ipc.segments.get(key: key, flags: flags, t.process.credentials) { (s: ShmSegment) throws(LinuxErrno) in
            if s.size < size { throw .EINVAL }
        } make: { () throws(LinuxErrno) in
            try newSegment(t, key: key, size: size, flags: flags)
        }
    }

    /// do_shmat: maps the whole segment MAP_SHARED at `address` (rounded down with SHM_RND; replacing what
    /// is there only with SHM_REMAP, else EINVAL) or where there is room. Returns the address.
    func sysShmat(_ t: Task, id: Int32, address: UInt64, flags: Int32) throws(LinuxErrno) -> UInt64 {
        guard id >= 0 else { throw .EINVAL }
        var addr = address
        if addr != 0 {
            if addr & 4095 != 0 {
                guard flags & SHM.RND != 0 else { throw .EINVAL }
                addr &= ~4095
                if addr == 0 && flags & SHM.REMAP != 0 { throw .EINVAL }
            }
        } else if flags & SHM.REMAP != 0 {
            throw .EINVAL
        }
        var prot: Protection = flags & SHM.RDONLY != 0 ? [.read] : [.read, .write]
        var access: Int32 = flags & SHM.RDONLY != 0 ? 0o444 : 0o666
        if flags & SHM.EXEC != 0 {
            prot.insert(.exec)
            access |= 0o111
        }
        sweepSegments()
        let s = try ipc.segments.lookup(id)
        guard s.perm.permits(access, t.process.credentials) else { throw .EACCES }
        guard let inode = s.inode else { throw .EIDRM }
        let mm = t.mm
        if addr != 0 && flags & SHM.REMAP == 0 {
            let (end, o) = addr.addingReportingOverflow(s.size)
            guard !o else { throw .EINVAL }
            if mm.vmas.overlaps(addr..<end) { throw .EINVAL }
        }
        // do_mmap of the file, as sysMmap checks a fixed address.
        guard let length = pageRoundUp(s.size), length <= AddressSpace.userLimit else { throw .ENOMEM }
        let start: UInt64
        if addr != 0 {
            guard addr <= AddressSpace.userLimit - length, addr >= AddressSpace.mmapBottom else { throw .ENOMEM }
            start = addr
            mm.unmap(start..<(start + length))
        } else {
            guard let free = mm.findFree(length: length, hint: 0) else { throw .ENOMEM }
            start = free
        }
        var vma = VMA(start: start, end: start + length, prot: prot, shared: true)
        vma.file = MappedFile(memory: inode)
        vma.name = s.mappingName
        vma.mayWrite = flags & SHM.RDONLY == 0
        try mm.map(vma)
        s.atime = IPCNamespace.now()
        s.lastPid = t.process.pid
        return start
    }

    /// ksys_shmdt: unmaps the attachment that starts at `address`: the first segment VMA at or after it whose
    /// file offset matches its distance from `address`, and the other pieces of the same attachment (split by
    /// mprotect or munmap) within the segment's size from there.
    func sysShmdt(_ t: Task, address: UInt64) throws(LinuxErrno) {
        guard address & 4095 == 0 else { throw .EINVAL }
        let vmas = t.mm.vmas.vmas
        func attachment(_ v: VMA) -> ShmSegment? {
            guard v.start >= address, (v.start - address) == v.fileOffset, let inode = v.file?.memory else { return nil }
            return segment(of: inode)
        }
        var i = vmas.firstIndex { $0.end > address } ?? vmas.count
        var found: ShmSegment? = nil
        var ranges: [Range<UInt64>] = []
        while i < vmas.count {
            let v = vmas[i]
            i += 1
            if let s = attachment(v) {
                found = s
                ranges.append(v.range)
                break
            }
        }
        guard let s = found, let inode = s.inode else { throw .EINVAL }
        let limit = pageRoundUp(s.size) ?? UInt64.max
        while i < vmas.count, vmas[i].end - address <= limit {
            if vmas[i].file?.memory === inode, attachment(vmas[i]) === s { ranges.append(vmas[i].range) }
            i += 1
        }
        for r in ranges { t.mm.unmap(r) }
        s.dtime = IPCNamespace.now()
        s.lastPid = t.process.pid
        sweepSegments()
    }

    /// ksys_shmctl. Returns the value the call answers.
    func sysShmctl(_ t: Task, id: Int32, cmd: Int32, buffer: GuestAddress) throws(LinuxErrno) -> Int32 {
        guard cmd >= 0, id >= 0 else { throw .EINVAL }
        sweepSegments()
        let ns = ipc
        let c = t.process.credentials
        switch cmd {
        case IPC.INFO:
            var info = linux_shminfo64()
            info.shmmax = SHM.MAX
            info.shmmin = SHM.MIN
            info.shmmni = UInt64(SHM.MNI)
            info.shmseg = UInt64(SHM.MNI)
            info.shmall = SHM.ALL
            try t.mm.write(buffer, info)
            return Int32(ns.segments.maxIndex)
        case SHM.INFO:
            var info = linux_shm_info()
            info.used_ids = Int32(ns.segments.count)
            info.shm_tot = UInt64(ns.shmPages)
            info.shm_rss = UInt64(ns.segments.objects.values.reduce(0) { $0 + residentPages($1) })
            try t.mm.write(buffer, info)
            return Int32(ns.segments.maxIndex)
        case IPC.STAT, SHM.STAT, SHM.STAT_ANY:
            let s = cmd == IPC.STAT ? try ns.segments.lookup(id) : try ns.segments.lookup(index: id)
            if cmd != SHM.STAT_ANY && !s.perm.permits(0o444, c) { throw .EACCES }
            try t.mm.write(buffer, shmidDS(s))
            return cmd == IPC.STAT ? 0 : s.perm.id
        case IPC.SET:
            let ds = try t.mm.read(buffer, as: linux_shmid64_ds.self)
            let s = try ns.segments.lookup(id)
            try s.perm.checkOwner(c)
            try s.perm.update(from: ds.shm_perm)
            s.ctime = IPCNamespace.now()
            return 0
        case IPC.RMID:
            let s = try ns.segments.lookup(id)
            try s.perm.checkOwner(c)
            if attachCount(s) > 0 {
                s.markDestroyed()
                ns.segments.makePrivate(s)
            } else {
                destroy(s)
            }
            return 0
        case SHM.LOCK, SHM.UNLOCK:
            // shmctl_do_lock. Every page is resident already: locking only marks the segment (SHM_LOCKED).
            let s = try ns.segments.lookup(id)
            if c.euid != 0 {  // CAP_IPC_LOCK
                guard c.euid == s.perm.uid || c.euid == s.perm.cuid else { throw .EPERM }
                let limit = t.process.limits[RLIMIT.MEMLOCK].soft
                if cmd == SHM.LOCK && limit == 0 { throw .EPERM }
                // user_shm_lock: the segment's pages against RLIMIT_MEMLOCK.
                if cmd == SHM.LOCK && limit != ResourceLimit.infinity && UInt64(s.pages) > limit >> 12 { throw .ENOMEM }
            }
            if cmd == SHM.LOCK { s.perm.mode |= SHM.LOCKED } else { s.perm.mode &= ~SHM.LOCKED }
            return 0
        default:
            throw .EINVAL
        }
    }

    func shmidDS(_ s: ShmSegment) -> linux_shmid64_ds {
        var ds = linux_shmid64_ds()
        ds.shm_perm = s.perm.abi
        ds.shm_segsz = s.size
        ds.shm_atime = s.atime
        ds.shm_dtime = s.dtime
        ds.shm_ctime = s.ctime
        ds.shm_cpid = s.creatorPid
        ds.shm_lpid = s.lastPid
        ds.shm_nattch = UInt64(attachCount(s))
        return ds
    }
}
