import UmkHost

// HostInode+Changes.swift: the inode operations of a writable host tree, a bind mount (`-v HOST:GUEST`;
// arch/um fs/hostfs/hostfs_kern.c hostfs_mkdir, hostfs_unlink, hostfs_rename2, hostfs_setattr). Each change
// names one component in a directory whose O_PATH handle the kernel holds, so it lands inside the bind
// whatever the guest does with `..` or symlinks. The host applies its own permissions on top of the guest's:
// a guest writes with the rights of the user running umk, as with docker's binds.
extension HostInode {
    /// A name this directory can take: one component, never `.` or `..` (the walk resolved those).
    private func checkedName(_ name: String) throws(LinuxErrno) -> String {
        guard writable else { throw .EROFS }
        guard isDirectory else { throw .ENOTDIR }
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")),
              !name.utf8.contains(0) else { throw .EINVAL }
        return name
    }

    private func host<T>(_ body: () throws(Errno) -> T) throws(LinuxErrno) -> T {
        do { return try body() } catch { throw LinuxErrno(host: error) }
    }

    func create(_ name: String, mode: UInt16, owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        let name = try checkedName(name)
        let permissions = UInt32(mode & 0o7777)
        switch mode & S.IFMT {
        case S.IFREG: try host { () throws(Errno) in try handle.makeFile(name, mode: permissions) }
        case S.IFDIR: try host { () throws(Errno) in try handle.makeDirectory(name, mode: permissions) }
        default: throw .EPERM  // a host FIFO or socket the guest could never open (the tree is nodev)
        }
        let node = try lookup(name)
        try adopt(node, owner: owner)
        return node
    }

    func createSymlink(_ name: String, target: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        let name = try checkedName(name)
        guard !target.contains(0) else { throw .EINVAL }
        try host { () throws(Errno) in try handle.makeSymlink(name, target: target) }
        let node = try lookup(name)
        try adopt(node, owner: owner)
        return node
    }

    /// Gives a new node the guest's owner where the host lets umk (as host root); otherwise it stays the
    /// user's who runs umk, which is how the guest then sees it.
    private func adopt(_ node: Inode, owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) {
        guard let h = node as? HostInode, let st = try? h.stat(), st.uid != owner.uid || st.gid != owner.gid else { return }
        try? h.handle.changeOwner(uid: owner.uid, gid: owner.gid)
    }

    func link(_ name: String, to target: Inode) throws(LinuxErrno) {
        let name = try checkedName(name)
        guard let t = target as? HostInode, t.writable else { throw .EXDEV }
        try host { () throws(Errno) in try handle.link(name, to: t.handle) }
    }

    func remove(_ name: String, directory: Bool) throws(LinuxErrno) {
        let name = try checkedName(name)
        try host { () throws(Errno) in try handle.remove(name, directory: directory) }
    }

    func rename(_ name: String, to newParent: Inode, as newName: String, exchange: Bool) throws(LinuxErrno) {
        let name = try checkedName(name)
        guard let to = newParent as? HostInode, to.writable else { throw .EXDEV }
        let newName = try to.checkedName(newName)
        try host { () throws(Errno) in try handle.rename(name, to: to.handle, as: newName, flags: exchange ? 2 : 0) }
    }

    func setAttributes(_ change: AttributeChange) throws(LinuxErrno) {
        guard writable else { throw .EROFS }
        if let size = change.size {
            guard fileType == S.IFREG else { throw isDirectory ? .EISDIR : .EINVAL }
            guard size <= UInt64(Int64.max) else { throw .EFBIG }
            try host { () throws(Errno) in try handle.truncate(to: Int64(size)) }
        }
        if let mode = change.mode, !isSymlink {
            try host { () throws(Errno) in try handle.changeMode(UInt32(mode & 0o7777)) }
        }
        if change.uid != nil || change.gid != nil {
            try host { () throws(Errno) in try handle.changeOwner(uid: change.uid ?? .max, gid: change.gid ?? .max) }
        }
        if change.atime != nil || change.mtime != nil {
            try host { () throws(Errno) in try handle.setTimes(access: change.atime, modification: change.mtime) }
        }
    }
}
