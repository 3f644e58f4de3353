import UmkHost

// Names.swift: the calls that make, remove and rename names and change attributes (fs/namei.c do_mkdirat,
// do_mknodat, do_symlinkat, do_linkat, do_rmdir, do_unlinkat, do_renameat2; fs/open.c chmod_common,
// chown_common, do_truncate; fs/utimes.c; fs/sync.c). Each resolves its names as Linux does (so the errors
// before the filesystem is asked are Linux's), checks the caller's permission on the directories, and leaves
// the change itself to the filesystem: the overlay root and tmpfs take it, read-only trees answer EROFS.
extension SyscallTable {
    mutating func addNameCalls() {
        add(83, [.path, .mode]) { k, t, a throws(LinuxErrno) in try k.mkdir(t, AT.FDCWD, a.address(0), a.uint(1)) }
        add(258, [.dirfd, .path, .mode]) { k, t, a throws(LinuxErrno) in try k.mkdir(t, a.int(0), a.address(1), a.uint(2)) }
        add(133, [.path, .mode, .hex]) { k, t, a throws(LinuxErrno) in try k.mknod(t, AT.FDCWD, a.address(0), a.uint(1)) }
        add(259, [.dirfd, .path, .mode, .hex]) { k, t, a throws(LinuxErrno) in try k.mknod(t, a.int(0), a.address(1), a.uint(2)) }
        add(88, [.path, .path]) { k, t, a throws(LinuxErrno) in try k.symlink(t, a.address(0), AT.FDCWD, a.address(1)) }
        add(266, [.path, .dirfd, .path]) { k, t, a throws(LinuxErrno) in try k.symlink(t, a.address(0), a.int(1), a.address(2)) }
        add(86, [.path, .path]) { k, t, a throws(LinuxErrno) in try k.link(t, AT.FDCWD, a.address(0), AT.FDCWD, a.address(1), 0) }
        add(265, [.dirfd, .path, .dirfd, .path, .atFlags]) { k, t, a throws(LinuxErrno) in
            try k.link(t, a.int(0), a.address(1), a.int(2), a.address(3), a.int(4))
        }
        add(87, [.path]) { k, t, a throws(LinuxErrno) in try k.unlink(t, AT.FDCWD, a.address(0), directory: false) }
        add(84, [.path]) { k, t, a throws(LinuxErrno) in try k.unlink(t, AT.FDCWD, a.address(0), directory: true) }
        add(263, [.dirfd, .path, .atFlags]) { k, t, a throws(LinuxErrno) in
            guard a.int(2) & ~AT.REMOVEDIR == 0 else { throw .EINVAL }
            return try k.unlink(t, a.int(0), a.address(1), directory: a.int(2) & AT.REMOVEDIR != 0)
        }
        add(82, [.path, .path]) { k, t, a throws(LinuxErrno) in try k.rename(t, AT.FDCWD, a.address(0), AT.FDCWD, a.address(1), 0) }
        add(264, [.dirfd, .path, .dirfd, .path]) { k, t, a throws(LinuxErrno) in
            try k.rename(t, a.int(0), a.address(1), a.int(2), a.address(3), 0)
        }
        add(316, [.dirfd, .path, .dirfd, .path, .hex]) { k, t, a throws(LinuxErrno) in
            try k.rename(t, a.int(0), a.address(1), a.int(2), a.address(3), a.uint(4))
        }
        addAttributeCalls()
        // fsync, fdatasync, syncfs: in-memory files have nothing to write; a writable bind's go to the host.
        for nr in [74, 75, 306] {
            add(nr, [.fd]) { _, t, a throws(LinuxErrno) in
                let f = try t.process.fds.get(a.int(0))
                if f.isPathOnly { throw .EBADF }
                if nr != 306 && f.dentry == nil && !(f is ConsoleFile) { throw .EINVAL }  // pipes, anon files
                try f.synchronize(dataOnly: nr == 75)
                return .value(0)
            }
        }
        add(162, []) { _, _, _ throws(LinuxErrno) in .value(0) }  // sync
        add(277, [.fd, .int, .int, .hex]) { _, t, a throws(LinuxErrno) in  // sync_file_range
            let f = try t.process.fds.get(a.int(0))
            if f.isPathOnly { throw .EBADF }
            guard a.uint(3) & ~7 == 0, a.long(1) >= 0, a.long(2) >= 0,
                  !a.long(1).addingReportingOverflow(a.long(2)).overflow else { throw .EINVAL }
            if f is PipeEnd { throw .ESPIPE }
            return .value(0)
        }
    }
}

extension Kernel {
    /// The directory and last name of a path that names something to make or remove.
    func parentAndName(_ t: Task, _ dirfd: Int32, _ path: GuestAddress) throws(LinuxErrno) -> (Dentry, String, [UInt8]) {
        let name = try t.mm.readString(path)
        let start = try startDentry(t, dirfd, path: name)
        let (parent, last) = try t.process.pathWalk.resolveParent(name, from: start)
        guard last.utf8.count <= PathWalk.maxComponent else { throw .ENAMETOOLONG }
        return (parent, last, name)
    }

    /// may_create's checks and the new node's owner (the fsuid, and the directory's group when it is setgid).
    func makeNode(_ t: Task, in parent: Dentry, _ name: String, mode: UInt16) throws(LinuxErrno) -> Inode {
        let dir = parent.inode
        guard name.utf8.count <= PathWalk.maxComponent else { throw .ENAMETOOLONG }
        if dir.isReadOnly { throw .EROFS }
        let c = t.process.credentials
        let st = try dir.stat()
        guard st.nlink > 0 else { throw .ENOENT }
        guard c.permits(st, [.write, .execute]) else { throw .EACCES }
        var mode = mode & ~UInt16(truncatingIfNeeded: t.process.umask & 0o777)
        var gid = c.fsgid
        if st.mode & S.ISGID != 0 {
            gid = st.gid
            if mode & S.IFMT == S.IFDIR { mode |= S.ISGID }
        }
        return try dir.create(name, mode: mode, owner: (c.fsuid, gid))
    }

    func mkdir(_ t: Task, _ dirfd: Int32, _ path: GuestAddress, _ mode: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        let (parent, last, _) = try parentAndName(t, dirfd, path)
        if last == "." || last == ".." || isMountPoint(t, parent, last) { throw .EEXIST }
        _ = try makeNode(t, in: parent, last, mode: S.IFDIR | UInt16(truncatingIfNeeded: mode & 0o1777))
        notifyCreate(in: parent, last, isDirectory: true)
        return .value(0)
    }

    func mknod(_ t: Task, _ dirfd: Int32, _ path: GuestAddress, _ mode: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        var type = UInt16(truncatingIfNeeded: mode) & S.IFMT
        if type == 0 { type = S.IFREG }
        switch type {
        case S.IFREG, S.IFIFO, S.IFSOCK: break
        case S.IFCHR, S.IFBLK: throw .EPERM  // no device nodes for the guest, as in an unprivileged container
        default: throw .EINVAL
        }
        let (parent, last, name) = try parentAndName(t, dirfd, path)
        if last == "." || last == ".." || name.last == UInt8(ascii: "/") || isMountPoint(t, parent, last) { throw .EEXIST }
        _ = try makeNode(t, in: parent, last, mode: type | UInt16(truncatingIfNeeded: mode & 0o7777))
        notifyCreate(in: parent, last, isDirectory: false)
        return .value(0)
    }

    func symlink(_ t: Task, _ target: GuestAddress, _ dirfd: Int32, _ path: GuestAddress) throws(LinuxErrno) -> SyscallOutcome {
        let content = try t.mm.readString(target)
        guard !content.isEmpty else { throw .ENOENT }
        let (parent, last, name) = try parentAndName(t, dirfd, path)
        if last == "." || last == ".." || name.last == UInt8(ascii: "/") || isMountPoint(t, parent, last) { throw .EEXIST }
        guard last.utf8.count <= PathWalk.maxComponent else { throw .ENAMETOOLONG }
        let dir = parent.inode
        if dir.isReadOnly { throw .EROFS }
        let c = t.process.credentials
        guard c.permits(try dir.stat(), [.write, .execute]) else { throw .EACCES }
        _ = try dir.createSymlink(last, target: content, owner: (c.fsuid, c.fsgid))
        notifyCreate(in: parent, last, isDirectory: false)
        return .value(0)
    }

    func link(_ t: Task, _ olddir: Int32, _ oldpath: GuestAddress, _ newdir: Int32, _ newpath: GuestAddress, _ flags: Int32)
        throws(LinuxErrno) -> SyscallOutcome
    {
        guard flags & ~(AT.SYMLINK_FOLLOW | AT.EMPTY_PATH) == 0 else { throw .EINVAL }
        let oldName = try t.mm.readString(oldpath)
        let source: Dentry
        if oldName.isEmpty {
            guard flags & AT.EMPTY_PATH != 0 else { throw .ENOENT }
            guard olddir != AT.FDCWD, let d = try t.process.fds.get(olddir).dentry else { throw .ENOENT }
            source = d
        } else {
            source = try t.process.pathWalk.resolve(oldName, from: try startDentry(t, olddir, path: oldName),
                                                    followFinal: flags & AT.SYMLINK_FOLLOW != 0)
        }
        let (parent, last, name) = try parentAndName(t, newdir, newpath)
        if last == "." || last == ".." || name.last == UInt8(ascii: "/") || isMountPoint(t, parent, last) { throw .EEXIST }
        if source.inode.isDirectory { throw .EPERM }
        let dir = parent.inode
        if dir.isReadOnly { throw .EROFS }
        guard t.process.credentials.permits(try dir.stat(), [.write, .execute]) else { throw .EACCES }
        try dir.link(last, to: source.inode)
        notifyLink(source.inode, in: parent, last)
        return .value(0)
    }

    /// may_delete: write and search on the directory, and with the sticky bit only the owner of the file or
    /// of the directory (or root) removes it.
    private func mayDelete(_ t: Task, _ dir: Inode, _ victim: Inode) throws(LinuxErrno) {
        if dir.isReadOnly { throw .EROFS }
        let c = t.process.credentials
        let ds = try dir.stat()
        guard c.permits(ds, [.write, .execute]) else { throw .EACCES }
        if ds.mode & S.ISVTX != 0 && !c.isRoot {
            let vs = try victim.stat()
            guard vs.uid == c.fsuid || ds.uid == c.fsuid else { throw .EPERM }
        }
    }

    /// Whether `name` in `parent` is a mount point, or holds one below it (/proc, /dev/shm, a bind ...):
    /// EBUSY to remove or rename.
    func isMountPoint(_ t: Task, _ parent: Dentry, _ name: String) -> Bool {
        guard let above = mounts.ancestorPath(of: parent) else { return false }
        return mounts.holdsMounts(above == "/" ? "/" + name : above + "/" + name)
    }

    func unlink(_ t: Task, _ dirfd: Int32, _ path: GuestAddress, directory: Bool) throws(LinuxErrno) -> SyscallOutcome {
        let (parent, last, name) = try parentAndName(t, dirfd, path)
        if directory {
            if name.allSatisfy({ $0 == UInt8(ascii: "/") }) { throw .EBUSY }  // the root (LAST_ROOT)
            if last == "." { throw .EINVAL }
            if last == ".." { throw .ENOTEMPTY }
        } else if last == "." || last == ".." {
            throw .EISDIR
        }
        let victim = try parent.inode.lookup(last)
        if !directory && name.last == UInt8(ascii: "/") { throw victim.isDirectory ? .EISDIR : .ENOTDIR }
        if isMountPoint(t, parent, last) { throw .EBUSY }
        if directory && !victim.isDirectory { throw .ENOTDIR }
        if !directory && victim.isDirectory { throw .EISDIR }
        try mayDelete(t, parent.inode, victim)
        let doomed = notifyBeforeRemoval(victim)
        try parent.inode.remove(last, directory: directory)
        notifyRemoved(doomed, from: parent, last)
        return .value(0)
    }

    func rename(_ t: Task, _ olddir: Int32, _ oldpath: GuestAddress, _ newdir: Int32, _ newpath: GuestAddress, _ flags: UInt32)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let noReplace: UInt32 = 1, exchange: UInt32 = 2, whiteout: UInt32 = 4
        guard flags & ~(noReplace | exchange | whiteout) == 0, flags & (noReplace | exchange) != (noReplace | exchange),
              flags & (exchange | whiteout) != (exchange | whiteout) else { throw .EINVAL }
        if flags & whiteout != 0 { throw .EPERM }  // RENAME_WHITEOUT wants CAP_MKNOD
        let (from, oldLast, oldName) = try parentAndName(t, olddir, oldpath)
        let (to, newLast, newName) = try parentAndName(t, newdir, newpath)
        if oldLast == "." || oldLast == ".." || newLast == "." || newLast == ".." {
            throw flags & noReplace != 0 && (newLast == "." || newLast == "..") ? .EEXIST : .EBUSY
        }
        let source = try from.inode.lookup(oldLast)
        let target = try? to.inode.lookup(newLast)
        if flags & exchange != 0 && target == nil { throw .ENOENT }
        if flags & noReplace != 0 && target != nil { throw .EEXIST }
        if !source.isDirectory && (oldName.last == UInt8(ascii: "/") || newName.last == UInt8(ascii: "/")) {
            throw .ENOTDIR
        }
        if isMountPoint(t, from, oldLast) || isMountPoint(t, to, newLast) { throw .EBUSY }
        if source === target { return .value(0) }
        // A directory cannot move under itself (nor, exchanged, can the other one).
        var d: Dentry? = to
        while let cur = d {
            if cur.inode === source || (flags & exchange != 0 && cur.inode === target) { throw .EINVAL }
            d = cur.isRoot ? nil : cur.parent
        }
        if let target, flags & exchange == 0 {
            if source.isDirectory && !target.isDirectory { throw .ENOTDIR }
            if !source.isDirectory && target.isDirectory { throw .EISDIR }
        }
        try mayDelete(t, from.inode, source)
        if let target { try mayDelete(t, to.inode, target) } else {
            if to.inode.isReadOnly { throw .EROFS }
            guard t.process.credentials.permits(try to.inode.stat(), [.write, .execute]) else { throw .EACCES }
        }
        let replaced = flags & exchange == 0 ? notifyBeforeRemoval(target) : nil
        try from.inode.rename(oldLast, to: to.inode, as: newLast, exchange: flags & exchange != 0)
        notifyMoved(source, from: from, oldLast, to: to, newLast, replaced: replaced)
        if flags & exchange != 0, let target { notifyMoved(target, from: to, newLast, to: from, oldLast, replaced: nil) }
        return .value(0)
    }
}
