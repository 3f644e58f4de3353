// Memfd.swift: files with no name in a tmpfs (mm/memfd.c, mm/shmem.c shmem_tmpfile): memfd_create's files,
// which live in one instance-wide tmpfs (Linux's shm_mnt) and may carry seals, and O_TMPFILE's, made in the
// directory's own filesystem (a tmpfs, or the overlay's upper layer) and named later by linkat.

/// F_SEAL_* (include/uapi/linux/fcntl.h).
enum Seal {
    static let seal: UInt32 = 0x1, shrink: UInt32 = 0x2, grow: UInt32 = 0x4, write: UInt32 = 0x8
    static let futureWrite: UInt32 = 0x10, exec: UInt32 = 0x20
    static let all: UInt32 = 0x3f
}

extension TmpfsInode {
    /// A regular file of this directory's filesystem that no directory names (shmem_tmpfile); `linkable`
    /// unless made with O_EXCL.
    func makeUnnamed(mode: UInt16, owner: (uid: UInt32, gid: UInt32), linkable: Bool) throws(LinuxErrno) -> TmpfsInode {
        guard isDirectory else { throw .ENOTDIR }
        guard links > 0 else { throw .ENOENT }
        guard fs.hasInodeRoom else { throw .ENOSPC }
        let node = TmpfsInode(fs: fs, mode: S.IFREG | (mode & 0o7777), owner: owner)
        node.links = 0
        node.linkable = linkable
        return node
    }

    /// F_ADD_SEALS (memfd_add_seals): seals only ever grow, and not once F_SEAL_SEAL is set (EPERM).
    /// `writablyMapped` says whether a shared mapping may still write the file: F_SEAL_WRITE is then EBUSY
    /// (mapping_deny_writable).
    func addSeals(_ more: UInt32, writablyMapped: () -> Bool) throws(LinuxErrno) {
        guard more & ~Seal.all == 0 else { throw .EINVAL }
        if seals & Seal.seal != 0 { throw .EPERM }
        if more & Seal.write != 0 && seals & Seal.write == 0 && writablyMapped() { throw .EBUSY }
        seals |= more
    }
}

extension OverlayInode {
    /// O_TMPFILE in the overlay: a file of the upper layer, made in this directory's upper (copied up),
    /// held by a node that no directory lists.
    func makeUnnamed(mode: UInt16, owner: (uid: UInt32, gid: UInt32), linkable: Bool) throws(LinuxErrno) -> OverlayInode {
        guard isDirectory else { throw .ENOTDIR }
        let up = try copyUp()
        let node = try up.makeUnnamed(mode: mode, owner: owner, linkable: linkable)
        return OverlayInode(overlay: overlay, parent: self, name: "#\(node.ino)", lower: nil, upper: node, fileType: S.IFREG)
    }
}
