import CLinuxABI
import UmkHost

// ShmSegment.swift: System V shared memory segments (ipc/shm.c). A segment is a file of the instance's memfd
// tmpfs (Linux's shm_mnt) that no directory names: its pages are frames of the physical-memory file, taken
// when first touched, and shmat maps it MAP_SHARED like any tmpfs file, so fork shares the attachment and
// exec and exit drop it with the address space.
//
// Attach counts are not kept by hand: shm_nattch is the number of VMAs of live address spaces that map the
// segment's file, which is what Linux's shm_open/shm_close count (fork copies each VMA, a split makes two).
// After IPC_RMID an attached segment holds its file only weakly, so the file (and its frames) goes with the
// last mapping; the table forgets such a segment the next time it is looked at (`sweepSegments`).
// FIXME: an exit or exec that drops an attachment does not set shm_dtime and shm_lpid (shmdt does).

/// SHM_* (include/uapi/linux/shm.h).
enum SHM {
    /// shmat's flags.
    static let RDONLY: Int32 = 0o10000, RND: Int32 = 0o20000, REMAP: Int32 = 0o40000, EXEC: Int32 = 0o100000
    /// shmget's flags: SHM_HUGE_SHIFT 26 holds a huge page size's log.
    static let HUGETLB: Int32 = 0o4000, NORESERVE: Int32 = 0o10000
    /// shmctl's commands.
    static let LOCK: Int32 = 11, UNLOCK: Int32 = 12, STAT: Int32 = 13, INFO: Int32 = 14, STAT_ANY: Int32 = 15
    /// shm_perm.mode's bits above the access mode.
    static let DEST: UInt32 = 0o1000, LOCKED: UInt32 = 0o2000
    /// The limits, Linux's defaults (kernel.shmmax, shmall in pages, shmmni); SHMMIN.
    static let MAX: UInt64 = UInt64.max - (1 << 24)
    static let ALL: UInt64 = UInt64.max - (1 << 24)
    static let MNI = 4096
    static let MIN: UInt64 = 1
}

final class ShmSegment: IPCObject {
    var perm: IPCPermissions
    let size: UInt64
    let pages: Int
    var atime: Int64 = 0, dtime: Int64 = 0, ctime: Int64
    let creatorPid: Int32
    var lastPid: Int32 = 0
    /// The file of the segment's pages: held until IPC_RMID, then only by the mappings.
    private var held: TmpfsInode?
    private(set) weak var inode: TmpfsInode?

    init(perm: IPCPermissions, size: UInt64, inode: TmpfsInode, creatorPid: Int32) {
        self.perm = perm
        self.size = size
        pages = Int(size / 4096 + (size % 4096 == 0 ? 0 : 1))
        ctime = IPCNamespace.now()
        self.creatorPid = creatorPid
        held = inode
        self.inode = inode
    }

    var isDestroyed: Bool { perm.mode & SHM.DEST != 0 }

    /// IPC_RMID while attached (SHM_DEST): the mappings alone keep the pages.
    func markDestroyed() {
        perm.mode |= SHM.DEST
        held = nil
    }

    /// The name /proc/PID/maps shows for an attachment, as Linux's "SYSV%08x" file.
    var mappingName: String {
        let hex = String(UInt32(bitPattern: perm.key), radix: 16)
        return "/SYSV" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + " (deleted)"
    }
}

extension Kernel {
    /// Each live address space once (a vfork child shares its parent's).
    func liveAddressSpaces() -> [AddressSpace] {
        var seen = Set<ObjectIdentifier>()
        return processes.values.compactMap { p in
            guard let mm = p.mmStorage, seen.insert(ObjectIdentifier(mm)).inserted else { return nil }
            return mm
        }
    }

    /// shm_nattch: the VMAs that map the segment's file.
    func attachCount(_ s: ShmSegment) -> Int {
        guard let inode = s.inode else { return 0 }
        return liveAddressSpaces().reduce(0) { n, mm in n + mm.vmas.vmas.count { $0.file?.memory === inode } }
    }

    /// The segment whose file `inode` is, if any.
    func segment(of inode: TmpfsInode) -> ShmSegment? {
        ipc.segments.objects.values.first { $0.inode === inode }
    }

    /// shm_destroy for segments removed with IPC_RMID whose last attachment has gone.
    func sweepSegments() {
        let ns = ipc
        for s in ns.segments.objects.values where s.isDestroyed && attachCount(s) == 0 { destroy(s) }
    }

    func destroy(_ s: ShmSegment) {
        ipc.segments.remove(s)
        ipc.shmPages -= s.pages
    }

    /// newseg: a segment of `size` bytes. EINVAL outside SHMMIN...SHMMAX, ENOSPC past SHMALL or SHMMNI,
    /// ENOMEM when the overcommit policy refuses its pages (not with SHM_NORESERVE, unless strict).
    func newSegment(_ t: Task, key: Int32, size: UInt64, flags: Int32) throws(LinuxErrno) -> Int32 {
        let ns = ipc
        guard size >= SHM.MIN, size <= SHM.MAX else { throw .EINVAL }
        let pages = size / 4096 + (size % 4096 == 0 ? 0 : 1)
        let (total, o) = UInt64(ns.shmPages).addingReportingOverflow(pages)
        guard !o, total <= SHM.ALL else { throw .ENOSPC }
        let c = t.process.credentials
        if flags & SHM.HUGETLB != 0 {
            // hstate_sizelog: the default size, 2 MiB or 1 GiB; then no huge pages are reserved (as on a host
            // with vm.nr_hugepages 0), and only CAP_IPC_LOCK or the hugetlb_shm_group (0) may try.
            let log = (flags >> 26) & 0x3f
            guard log == 0 || log == 21 || log == 30 else { throw .EINVAL }
            throw c.euid == 0 || c.inGroup(0) ? .ENOMEM : .EPERM
        }
        guard size <= UInt64(Int64.max) else { throw .EINVAL }  // MAX_LFS_FILESIZE
        let reserve = flags & SHM.NORESERVE == 0 || { if case .never = frames.overcommit { return true }; return false }()
        if reserve && !frames.canCharge(Int(pages)) { throw .ENOMEM }
        guard ns.segments.count < SHM.MNI else { throw .ENOSPC }
        let inode = try memfdFS.root.makeUnnamed(mode: 0o777, owner: (c.euid, c.egid), linkable: false)
        try inode.truncate(to: size)
        let s = ShmSegment(perm: IPCPermissions(key: key, mode: flags, creator: c), size: size, inode: inode,
                           creatorPid: t.process.pid)
        let id = try ns.segments.add(s, limit: SHM.MNI)
        ns.shmPages += s.pages
        return id
    }

    /// Pages of the segment's file in memory (shm_rss).
    func residentPages(_ s: ShmSegment) -> Int {
        guard let st = try? s.inode?.stat() else { return 0 }
        return Int(st.blocks / 8)
    }
}
