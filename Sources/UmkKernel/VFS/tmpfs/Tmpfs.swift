import UmkHost

// Tmpfs.swift: a filesystem in the instance's memory (mm/shmem.c). File data lives in frames of the
// physical-memory file, so a mapping of a tmpfs file maps the very frames that read and write use (MAP_SHARED
// is coherent with them and between processes), and tmpfs use is memory of the instance: one filesystem takes
// at most half of --mem, Linux's default size, and a write that finds no frame is ENOSPC, never a host error.
//
// An inode lives as long as something holds it: a directory entry, an open file, a mapping's MappedFile. The
// frames of an unlinked file go back when its last holder does (deinit).
final class Tmpfs {
    let frames: PhysicalFrames
    /// The minor of its anonymous device (major 0), as st_dev shows it.
    let device: UInt32
    let maxPages: Int
    fileprivate(set) var usedPages = 0
    private var nextIno: UInt64 = 1
    private(set) var root: TmpfsInode! = nil

    /// `sizeBytes` is the `size=` option (nil: half of --mem, Linux's default); it may exceed --mem, as on
    /// Linux, where memory then runs out first.
    init(frames: PhysicalFrames, device: UInt32, sizeBytes: Int? = nil, rootMode: UInt16 = 0o1777,
         owner: (uid: UInt32, gid: UInt32) = (0, 0))
    {
        self.frames = frames
        self.device = device
        maxPages = sizeBytes.map { max(1, $0 / 4096 + ($0 % 4096 == 0 ? 0 : 1)) } ?? max(frames.totalFrames / 2, 1)
        root = TmpfsInode(fs: self, mode: S.IFDIR | (rootMode & 0o7777), owner: owner)
    }

    /// The instance is over: the root no longer keeps the filesystem (its inodes hold `fs`), so that the
    /// whole tree and its frames can go.
    func detachRoot() { root = nil }

    fileprivate func newIno() -> UInt64 {
        nextIno += 1
        inodeCount += 1
        return nextIno
    }

    /// Inodes alive now: at most one per page of the filesystem's size (Linux's default nr_inodes), since
    /// they are kernel memory the guest could otherwise grow without bound.
    fileprivate(set) var inodeCount = 0
    var hasInodeRoom: Bool { inodeCount < maxPages }
    /// Bytes of extended attributes (names and values) in all its inodes, bounded for the same reason.
    var xattrBytes = 0
    static let maxXattrBytes = 4 << 20
    /// Names in all its directories (hard links included), bounded for the same reason.
    fileprivate(set) var entryCount = 0

    /// A zeroed frame for a file page: ENOSPC when the filesystem or the instance's memory is full.
    fileprivate func takeFrame() throws(LinuxErrno) -> Int {
        guard usedPages < maxPages, let runs = try? frames.allocate(1), let f = runs.first?.lowerBound else { throw .ENOSPC }
        usedPages += 1
        return f
    }

    fileprivate func giveBack(_ list: [Int]) {
        usedPages -= list.count
        frames.release(list)
    }

    /// The instance-wide filesystem of memfd files (Linux's shm_mnt): no size of its own, only --mem.
    static func forMemfd(frames: PhysicalFrames, device: UInt32) -> Tmpfs {
        Tmpfs(frames: frames, device: device, sizeBytes: frames.totalFrames * 4096)
    }

    static func now() -> (Int64, UInt32) {
        let t = (try? HostClock.now(0)) ?? (seconds: 0, nanoseconds: 0)
        return (t.seconds, UInt32(truncatingIfNeeded: t.nanoseconds))
    }
}

final class TmpfsInode: Inode {
    let fs: Tmpfs
    let ino: UInt64
    var mode: UInt16
    var uid: UInt32, gid: UInt32
    var links: UInt32
    var atime, mtime, ctime, btime: (Int64, UInt32)

    /// A regular file's pages (page index to frame; a missing page is a hole) and its size.
    private var pages: [UInt64: Int] = [:]
    private(set) var size: UInt64 = 0
    /// A directory's entries, and their names in creation order (the order getdents lists them in).
    private var entries: [String: TmpfsInode] = [:]
    private var order: [String] = []
    private var removedSinceCompaction = 0
    static let maxLinks: UInt32 = 65000

    /// For the overlay: a directory whose lower namesake is hidden (made after its lower one was removed).
    var opaque = false
    /// A symlink's target.
    var target: [UInt8] = []
    /// Extended attributes (mm/shmem.c's simple_xattrs): trusted.*, security.* and user.* names.
    var xattrs: [String: [UInt8]] = [:]
    /// A character device's number (devfs's nodes; 0:0 is an overlay whiteout).
    var rdev: (major: UInt32, minor: UInt32) = (0, 0)
    /// memfd seals (F_SEAL_*, Memfd.swift): what writes, truncates and mappings this file still takes. A
    /// tmpfs file that is not a memfd made with MFD_ALLOW_SEALING has F_SEAL_SEAL alone, as on Linux.
    var seals: UInt32 = Seal.seal
    /// An O_TMPFILE file made without O_EXCL: linkat may give it its first name (Linux's I_LINKABLE).
    var linkable = false

    init(fs: Tmpfs, mode: UInt16, owner: (uid: UInt32, gid: UInt32)) {
        self.fs = fs
        ino = fs.newIno()
        self.mode = mode
        (uid, gid) = owner
        links = mode & S.IFMT == S.IFDIR ? 2 : 1
        let now = Tmpfs.now()
        (atime, mtime, ctime, btime) = (now, now, now, now)
    }

    deinit {
        if !pages.isEmpty { fs.giveBack(Array(pages.values)) }
        fs.xattrBytes -= xattrs.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        fs.inodeCount -= 1
    }

    var fileType: UInt16 { mode & S.IFMT }
    var isReadOnly: Bool { false }
    /// An overlay whiteout: the character device 0:0.
    var isWhiteout: Bool { fileType == S.IFCHR && rdev == (0, 0) }

    func stat() throws(LinuxErrno) -> FileStat {
        var s = FileStat()
        s.mode = mode
        s.ino = ino
        s.nlink = links
        s.uid = uid
        s.gid = gid
        s.size = isDirectory ? 40 + UInt64(entries.count) * 20 : isSymlink ? UInt64(target.count) : size
        s.blocks = UInt64(pages.count) * 8
        s.blksize = 4096
        (s.atime, s.mtime, s.ctime, s.btime) = (atime, mtime, ctime, btime)
        s.mask |= 0x800  // STATX_BTIME
        s.devMinor = fs.device
        (s.rdevMajor, s.rdevMinor) = rdev
        return s
    }

    func lookup(_ name: String) throws(LinuxErrno) -> Inode {
        guard isDirectory else { throw .ENOTDIR }
        guard let child = entries[name] else { throw .ENOENT }
        return child
    }

    /// The entry `name` as it is (a whiteout included), for the overlay.
    func entry(_ name: String) -> TmpfsInode? { entries[name] }
    var isEmpty: Bool { entries.isEmpty }

    func readLink() throws(LinuxErrno) -> [UInt8] {
        guard isSymlink else { throw .EINVAL }
        return target
    }

    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        switch fileType {
        case S.IFDIR: return DirectoryFile(inode: self, dentry: dentry, flags: flags)
        case S.IFREG:
            if flags & O.TRUNC != 0 && flags & O.accessMode != O.RDONLY { try truncate(to: 0) }
            return TmpfsFile(inode: self, dentry: dentry, flags: flags)
        case S.IFCHR:
            // devfs's nodes open the kernel's own devices (the terminals are opened before, by the kernel).
            guard let kind = DeviceFile.kind(major: rdev.major, minor: rdev.minor) else { throw .ENXIO }
            return DeviceFile(kind: kind, inode: self, dentry: dentry, flags: flags)
        default: throw .ENXIO  // sockets (FIFOs are opened by the kernel: Pipe.swift openFifo)
        }
    }

    func directoryEntries() throws(LinuxErrno) -> [DirectoryEntry] {
        guard isDirectory else { throw .ENOTDIR }
        return order.compactMap { name in entries[name].map { DirectoryEntry(ino: $0.ino, fileType: $0.fileType, name: name) } }
    }

    // MARK: Names

    private func checkNewName(_ name: String) throws(LinuxErrno) {
        guard isDirectory else { throw .ENOTDIR }
        guard links > 0 else { throw .ENOENT }  // a removed directory takes no new names
        guard entries[name] == nil else { throw .EEXIST }
        guard fs.hasInodeRoom, fs.entryCount < 2 * fs.maxPages else { throw .ENOSPC }
    }

    private func insert(_ name: String, _ child: TmpfsInode) {
        fs.entryCount += 1
        entries[name] = child
        order.append(name)
        if child.isDirectory { links += 1 }
        touchChanged()
    }

    private func drop(_ name: String) -> TmpfsInode? {
        guard let child = entries.removeValue(forKey: name) else { return nil }
        fs.entryCount -= 1
        removedSinceCompaction += 1
        if removedSinceCompaction > 64 && removedSinceCompaction > order.count / 2 {
            order.removeAll { entries[$0] == nil }
            removedSinceCompaction = 0
        } else if let i = order.lastIndex(of: name) {
            order.remove(at: i)
            removedSinceCompaction -= 1
        }
        if child.isDirectory { links -= 1 }
        touchChanged()
        return child
    }

    private func touchChanged() {
        let now = Tmpfs.now()
        (mtime, ctime) = (now, now)
    }

    func create(_ name: String, mode: UInt16, owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        try checkNewName(name)
        let child = TmpfsInode(fs: fs, mode: mode, owner: owner)
        insert(name, child)
        return child
    }

    /// A character device node, which only the kernel makes (devfs): the guest's mknod of one is EPERM.
    @discardableResult
    func createDevice(_ name: String, mode: UInt16, major: UInt32, minor: UInt32) throws(LinuxErrno) -> TmpfsInode {
        try checkNewName(name)
        let child = TmpfsInode(fs: fs, mode: S.IFCHR | (mode & 0o7777), owner: (0, 0))
        child.rdev = (major, minor)
        insert(name, child)
        return child
    }

    func createSymlink(_ name: String, target: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        try checkNewName(name)
        let child = TmpfsInode(fs: fs, mode: S.IFLNK | 0o777, owner: owner)
        child.target = target
        insert(name, child)
        return child
    }

    /// Puts `child` (a node of this filesystem) under `name`, replacing what is there (the overlay's copy-up
    /// over nothing or a whiteout, and its renames).
    func replace(_ name: String, with child: TmpfsInode) {
        if let old = drop(name) { old.links = old.isDirectory ? 0 : old.links - 1 }
        insert(name, child)
    }

    /// Takes `name` out without counting a link gone (its node is being moved).
    func detach(_ name: String) { _ = drop(name) }

    func link(_ name: String, to target: Inode) throws(LinuxErrno) {
        guard let t = target as? TmpfsInode, t.fs === fs else { throw .EXDEV }
        guard !t.isDirectory else { throw .EPERM }
        try checkNewName(name)
        guard t.links > 0 || t.linkable else { throw .ENOENT }
        guard t.links < TmpfsInode.maxLinks else { throw .EMLINK }
        t.links += 1
        t.linkable = false
        t.ctime = Tmpfs.now()
        insert(name, t)
    }

    func remove(_ name: String, directory: Bool) throws(LinuxErrno) {
        guard isDirectory else { throw .ENOTDIR }
        guard let child = entries[name] else { throw .ENOENT }
        if directory {
            guard child.isDirectory else { throw .ENOTDIR }
            guard child.entries.isEmpty else { throw .ENOTEMPTY }
            child.links = 0
        } else {
            guard !child.isDirectory else { throw .EISDIR }
            child.links -= 1
            child.ctime = Tmpfs.now()
        }
        _ = drop(name)
    }

    /// Puts a whiteout at `name` (overlay: the lower namesake is gone), replacing what the upper had there.
    func whiteOut(_ name: String) { replace(name, with: TmpfsInode(fs: fs, mode: S.IFCHR, owner: (0, 0))) }

    /// Fills a new regular file from a host file of `size` bytes (the overlay's copy-up), a batch of frames
    /// at a time, inside the host kernel (sendfile into the memory file): reading into umk's mapping instead
    /// would fault in and zero each new page first, which costs more than the copy (a 100 MiB copy-up: 27000
    /// faults).
    func fill(from host: HostFile, size total: UInt64) throws(LinuxErrno) {
        let batchPages: UInt64 = 256
        var page: UInt64 = 0
        let pageCount = (total + 4095) >> 12
        while page < pageCount {
            let batch = min(pageCount - page, batchPages)
            var list: [Int] = []
            for _ in 0..<batch { list.append(try fs.takeFrame()) }
            for (i, f) in list.enumerated() { pages[page + UInt64(i)] = f }
            // Past a short read (the host file shrank) the pages stay zero, as a hole reads.
            _ = try fs.frames.fill(list, from: host, at: Int64(page << 12))
            page += batch
        }
        size = total
    }

    /// The lower file this one was copied up from, whose device and inode numbers it keeps showing.
    var origin: (devMajor: UInt32, devMinor: UInt32, ino: UInt64)? = nil

    func rename(_ name: String, to newParent: Inode, as newName: String, exchange: Bool) throws(LinuxErrno) {
        guard let dest = newParent as? TmpfsInode, dest.fs === fs else { throw .EXDEV }
        guard isDirectory, dest.isDirectory else { throw .ENOTDIR }
        guard let source = entries[name] else { throw .ENOENT }
        let existing = dest.entries[newName]
        if exchange {
            guard let existing else { throw .ENOENT }
            if existing === source { return }
            _ = drop(name)
            _ = dest.drop(newName)
            dest.insert(newName, source)
            insert(name, existing)
            return
        }
        if let existing {
            if existing === source { return }  // two names of one file: nothing happens
            if source.isDirectory {
                guard existing.isDirectory else { throw .ENOTDIR }
                guard existing.entries.isEmpty else { throw .ENOTEMPTY }
                existing.links = 0
            } else {
                guard !existing.isDirectory else { throw .EISDIR }
                existing.links -= 1
            }
            _ = dest.drop(newName)
        }
        _ = drop(name)
        dest.insert(newName, source)
        source.ctime = Tmpfs.now()
    }

    func setAttributes(_ change: AttributeChange) throws(LinuxErrno) {
        if let size = change.size {
            guard fileType == S.IFREG else { throw isDirectory ? .EISDIR : .EINVAL }
            try truncate(to: size)
        }
        if let m = change.mode { mode = fileType | (m & 0o7777) }
        if let u = change.uid { uid = u }
        if let g = change.gid { gid = g }
        if let a = change.atime { atime = a }
        if let m = change.mtime { mtime = m }
        ctime = Tmpfs.now()
    }

    // MARK: Data

    /// Sets the size; pages past the new end go back to the instance.
    func truncate(to newSize: UInt64) throws(LinuxErrno) {
        guard newSize <= UInt64(Int64.max) else { throw .EFBIG }
        // shmem_setattr: a sealed size neither shrinks nor grows.
        if newSize < size && seals & Seal.shrink != 0 || newSize > size && seals & Seal.grow != 0 { throw .EPERM }
        if newSize < size {
            let firstGone = (newSize + 4095) >> 12
            let gone = pages.filter { $0.key >= firstGone }
            for k in gone.keys { pages[k] = nil }
            if !gone.isEmpty { fs.giveBack(Array(gone.values)) }
            // The part of the last page past the end reads as zero if the file grows again.
            if newSize & 4095 != 0, let f = pages[newSize >> 12] {
                let off = Int(newSize & 4095)
                _ = fs.frames.ioSequence(frame: f, offset: off, count: 4096 - off).fill(random: false)
            }
        }
        size = newSize
        touchChanged()
    }

    /// Reads from `offset` into `io`: what the file has there, holes as zeros, nothing past the end.
    func read(into io: IOSequence, at offset: UInt64) -> Int {
        guard offset < size else { return 0 }
        let total = Int(min(UInt64(io.count), size - offset))
        var done = 0
        while done < total {
            let at = offset + UInt64(done)
            let inPage = Int(at & 4095)
            let n = min(4096 - inPage, total - done)
            let dest = io.dropFirst(done).prefix(n)
            if let f = pages[at >> 12] {
                dest.copy(from: fs.frames.ioSequence(frame: f, offset: inPage, count: n))
            } else {
                _ = dest.fill(random: false)
            }
            done += n
        }
        return done
    }

    /// Writes `io` at `offset`, taking frames for new pages; a full filesystem ends the write short, or with
    /// ENOSPC if nothing was written.
    func write(from io: IOSequence, at offset: UInt64) throws(LinuxErrno) -> Int {
        guard !io.isEmpty else { return 0 }
        let (end, o) = offset.addingReportingOverflow(UInt64(io.count))
        guard !o, end <= UInt64(Int64.max) else { throw .EFBIG }
        // shmem_write_begin and the FUTURE_WRITE check of generic writes.
        if seals & (Seal.write | Seal.futureWrite) != 0 { throw .EPERM }
        if seals & Seal.grow != 0 && end > size { throw .EPERM }
        // Frames for the holes first, as many as there is room for, made resident in umk's mapping together.
        var fresh: [Int] = []
        var room = end
        for page in (offset >> 12)...((end - 1) >> 12) where pages[page] == nil {
            guard let f = try? fs.takeFrame() else {
                room = page << 12
                break
            }
            pages[page] = f
            fresh.append(f)
        }
        if fresh.count > 1 { fs.frames.populate(fresh) }
        guard room > offset else { throw .ENOSPC }
        let total = Int(room - offset)
        var done = 0
        while done < total {
            let at = offset + UInt64(done)
            let inPage = Int(at & 4095)
            let n = min(4096 - inPage, total - done)
            guard let f = pages[at >> 12] else { break }
            fs.frames.ioSequence(frame: f, offset: inPage, count: n).copy(from: io.dropFirst(done).prefix(n))
            done += n
        }
        size = max(size, offset + UInt64(done))
        touchChanged()
        return done
    }

    /// fallocate(2) mode 0 or FALLOC_FL_KEEP_SIZE (shmem_fallocate): frames for every hole of [offset,
    /// offset+length), all or none (ENOSPC), and the size grows to the end unless `keepSize`. The range is
    /// checked by the caller (offset >= 0, length > 0, no overflow past 2^63).
    func allocate(offset: UInt64, length: UInt64, keepSize: Bool) throws(LinuxErrno) {
        let end = offset + length
        if seals & Seal.grow != 0 && end > size { throw .EPERM }
        let first = offset >> 12, last = (end + 4095) >> 12
        // A range larger than the filesystem cannot fit: said before a page is looked at (so never a loop
        // over 2^51 pages).
        guard last - first <= UInt64(fs.maxPages) else { throw .ENOSPC }
        var taken: [UInt64] = []
        for page in first..<last where pages[page] == nil {
            do {
                pages[page] = try fs.takeFrame()
                taken.append(page)
            } catch {
                // As Linux: what this call allocated goes back.
                fs.giveBack(taken.compactMap { pages.removeValue(forKey: $0) })
                throw error
            }
        }
        if !keepSize && end > size { size = end }
        ctime = Tmpfs.now()
    }

    /// FALLOC_FL_PUNCH_HOLE (shmem_truncate_range): whole pages of the range go back to the instance, the
    /// parts of pages at its ends read as zeros; the size stays. FIXME: as for truncate, a page already
    /// mapped by a process stays mapped there (Linux unmaps the range first).
    func punchHole(offset: UInt64, length: UInt64) throws(LinuxErrno) {
        if seals & (Seal.write | Seal.futureWrite) != 0 { throw .EPERM }
        let end = offset + length
        let firstWhole = (offset + 4095) >> 12, endWhole = end >> 12
        let gone = pages.filter { $0.key >= firstWhole && $0.key < endWhole }
        for k in gone.keys { pages[k] = nil }
        if !gone.isEmpty { fs.giveBack(Array(gone.values)) }
        // The partial pages at either end: zero the part inside the range.
        for page in Set([offset >> 12, (end - 1) >> 12]) where page < firstWhole || page >= endWhole {
            guard let f = pages[page] else { continue }
            let from = max(offset, page << 12), to = min(end, (page + 1) << 12)
            _ = fs.frames.ioSequence(frame: f, offset: Int(from & 4095), count: Int(to - from)).fill(random: false)
        }
        let now = Tmpfs.now()
        (mtime, ctime) = (now, now)
    }

    /// The frame of page `index` for a mapping, taken (zeroed) if it is a hole; the caller gets a reference.
    func frameForMapping(page index: UInt64) throws(LinuxErrno) -> Int {
        if let f = pages[index] {
            fs.frames.retain(f)
            return f
        }
        let f: Int
        do { f = try fs.takeFrame() } catch { throw .ENOMEM }
        pages[index] = f
        fs.frames.retain(f)
        return f
    }

    /// The next offset at or after `offset` with data (SEEK_DATA) or in a hole (SEEK_HOLE). Walks the pages
    /// the file has, never the (possibly huge) range between them.
    func seekData(_ offset: UInt64, hole: Bool) -> UInt64? {
        guard offset < size else { return nil }
        let first = offset >> 12
        let present = pages.keys.filter { $0 >= first }.sorted()
        if !hole { return present.first.map { max($0 << 12, offset) } }
        var page = first
        for p in present {
            if p != page { break }
            page += 1
        }
        return min(max(page << 12, offset), size)
    }
}

/// An open regular file of a tmpfs.
final class TmpfsFile: OpenFile {
    let inode: TmpfsInode
    private var offset: UInt64 = 0

    init(inode: TmpfsInode, dentry: Dentry, flags: Int32) {
        self.inode = inode
        super.init(flags: flags, dentry: dentry)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        let n = inode.read(into: io, at: offset)
        offset += UInt64(n)
        return n
    }
    override func read(into io: IOSequence, at position: Int64) throws(LinuxErrno) -> Int {
        inode.read(into: io, at: UInt64(position))
    }
    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        if statusFlags & O.APPEND != 0 { offset = inode.size }
        let n = try inode.write(from: io, at: offset)
        offset += UInt64(n)
        return n
    }
    override func write(from io: IOSequence, at position: Int64) throws(LinuxErrno) -> Int {
        // As Linux: pwrite on an O_APPEND file appends.
        try inode.write(from: io, at: statusFlags & O.APPEND != 0 ? inode.size : UInt64(position))
    }
    override func seek(_ delta: Int64, whence: Int32) throws(LinuxErrno) -> Int64 {
        let base: Int64
        switch whence {
        case 0: base = 0
        case 1: base = Int64(offset)
        case 2: base = Int64(inode.size)
        case 3, 4:  // SEEK_DATA, SEEK_HOLE
            guard delta >= 0, let at = inode.seekData(UInt64(delta), hole: whence == 4) else { throw .ENXIO }
            offset = at
            return Int64(at)
        default: throw .EINVAL
        }
        let (target, o) = base.addingReportingOverflow(delta)
        guard !o, target >= 0 else { throw .EINVAL }
        offset = UInt64(target)
        return target
    }
    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }
    override var mappableFile: MappedFile? { MappedFile(memory: inode) }
    /// A file with no name left (unlinked, O_TMPFILE, memfd) shows as Linux's d_path does: " (deleted)".
    override var procLinkName: String { super.procLinkName + (inode.links == 0 ? " (deleted)" : "") }

    /// ftruncate.
    func truncate(to size: UInt64) throws(LinuxErrno) { try inode.setAttributes(AttributeChange(size: size)) }
}
