import CLinuxABI
import UmkHost

// FileInfo.swift: asking about files and names (fs/stat.c, fs/readdir.c, fs/open.c access and chdir,
// fs/d_path.c getcwd). The calls that change names and attributes are in Names.swift and Attributes.swift.
extension SyscallTable {
    mutating func addFileInfoCalls() {
        add(4, [.path, .out(.stat)]) { k, t, a throws(LinuxErrno) in
            try k.writeStat(t, a.address(1), try k.statPath(t, AT.FDCWD, a.address(0), flags: 0))
        }
        add(5, [.fd, .out(.stat)]) { k, t, a throws(LinuxErrno) in
            try k.writeStat(t, a.address(1), try t.process.fds.get(a.int(0)).stat())
        }
        add(6, [.path, .out(.stat)]) { k, t, a throws(LinuxErrno) in
            try k.writeStat(t, a.address(1), try k.statPath(t, AT.FDCWD, a.address(0), flags: AT.SYMLINK_NOFOLLOW))
        }
        add(262, [.dirfd, .path, .out(.stat), .atFlags]) { k, t, a throws(LinuxErrno) in
            guard a.int(3) & ~(AT.SYMLINK_NOFOLLOW | AT.NO_AUTOMOUNT | AT.EMPTY_PATH) == 0 else { throw .EINVAL }
            return try k.writeStat(t, a.address(2), try k.statPath(t, a.int(0), a.address(1), flags: a.int(3)))
        }
        add(332, [.dirfd, .path, .statxFlags, .statxMask, .out(.statx)]) { k, t, a throws(LinuxErrno) in
            let flags = a.int(2)
            guard flags & ~(AT.SYMLINK_NOFOLLOW | AT.NO_AUTOMOUNT | AT.EMPTY_PATH | AT.STATX_SYNC_TYPE) == 0,
                  flags & AT.STATX_SYNC_TYPE != AT.STATX_SYNC_TYPE, a.uint(3) & LINUX_STATX__RESERVED == 0 else { throw .EINVAL }
            let st = try k.statPath(t, a.int(0), a.address(1), flags: flags)
            try t.mm.write(a.address(4), st.linuxStatx)
            return .value(0)
        }
        add(217, [.fd, .dirents, .uint]) { k, t, a throws(LinuxErrno) in try k.sysGetdents64(t, a) }
        add(89, [.path, .outBuffer, .int]) { k, t, a throws(LinuxErrno) in
            try k.readlink(t, AT.FDCWD, a.address(0), a.address(1), a.int(2))
        }
        add(267, [.dirfd, .path, .outBuffer, .int]) { k, t, a throws(LinuxErrno) in
            try k.readlink(t, a.int(0), a.address(1), a.address(2), a.int(3))
        }
        add(21, [.path, .accessMode]) { k, t, a throws(LinuxErrno) in try k.access(t, AT.FDCWD, a.address(0), a.int(1), 0) }
        add(269, [.dirfd, .path, .accessMode]) { k, t, a throws(LinuxErrno) in try k.access(t, a.int(0), a.address(1), a.int(2), 0) }
        add(439, [.dirfd, .path, .accessMode, .atFlags]) { k, t, a throws(LinuxErrno) in
            try k.access(t, a.int(0), a.address(1), a.int(2), a.int(3))
        }
        add(79, [.out(.path), .uint]) { k, t, a throws(LinuxErrno) in try k.sysGetcwd(t, a) }
        add(80, [.path]) { k, t, a throws(LinuxErrno) in
            let name = try t.mm.readString(a.address(0))
            try k.changeDirectory(t, try t.process.pathWalk.resolve(name, from: t.process.cwd, followFinal: true))
            return .value(0)
        }
        add(81, [.fd]) { k, t, a throws(LinuxErrno) in
            guard let d = try t.process.fds.get(a.int(0)).dentry else { throw .ENOTDIR }
            try k.changeDirectory(t, d)
            return .value(0)
        }
        add(95, [.mode]) { _, t, a throws(LinuxErrno) in
            let old = t.process.umask
            t.process.umask = a.uint(0) & 0o777
            return .value(Int(old))
        }
        add(137, [.path, .out(.statfs)]) { k, t, a throws(LinuxErrno) in
            let name = try t.mm.readString(a.address(0))
            let d = try t.process.pathWalk.resolve(name, from: t.process.cwd, followFinal: true)
            return try k.writeStatfs(t, d.inode, a.address(1))
        }
        add(138, [.fd, .out(.statfs)]) { k, t, a throws(LinuxErrno) in
            let f = try t.process.fds.get(a.int(0))
            if let d = f.dentry { return try k.writeStatfs(t, d.inode, a.address(1)) }
            var s = linux_statfs()
            if let console = f as? ConsoleFile {
                // The console is host fds (the configured standard streams): what the host says of them.
                do throws(Errno) { s = try console.host.fileSystemStatus() } catch { throw LinuxErrno(host: error) }
            } else {
                // FIXME: Linux's anonymous inodes (eventfd, signalfd, inotify ...) report ANON_INODE_FS_MAGIC,
                // 0x09041934; umk reports 0x09090909.
                s.f_type = f is PipeEnd ? Int64(LINUX_PIPEFS_MAGIC) : 0x0909_0909
                s.f_bsize = 4096
                s.f_namelen = 255
                s.f_frsize = 4096
            }
            try t.mm.write(a.address(1), s)
            return .value(0)
        }
    }
}

extension Kernel {
    /// stat of a path relative to `dirfd` with AT_* flags; AT_EMPTY_PATH with "" is the fd itself.
    func statPath(_ t: Task, _ dirfd: Int32, _ path: GuestAddress, flags: Int32) throws(LinuxErrno) -> FileStat {
        let name = try t.mm.readString(path)
        if name.isEmpty {
            guard flags & AT.EMPTY_PATH != 0 else { throw .ENOENT }
            if dirfd == AT.FDCWD { return try t.process.cwd.inode.stat() }
            return try t.process.fds.get(dirfd).stat()
        }
        let start = try startDentry(t, dirfd, path: name)
        let d = try t.process.pathWalk.resolve(name, from: start, followFinal: flags & AT.SYMLINK_NOFOLLOW == 0)
        return try d.inode.stat()
    }

    /// statfs: a tmpfs's own figures (the overlay's are its upper layer's, as overlayfs reports them), else
    /// the host filesystem's, marked read-only (ST_RDONLY) as the guest's mount is.
    func writeStatfs(_ t: Task, _ inode: Inode, _ at: GuestAddress) throws(LinuxErrno) -> SyscallOutcome {
        let tmpfs: (Tmpfs, magic: Int32)? = (inode as? OverlayInode).map { ($0.overlay.upper, LINUX_OVERLAYFS_SUPER_MAGIC) }
            ?? (inode as? TmpfsInode).map { ($0.fs, LINUX_TMPFS_MAGIC) }
        if let (fs, magic) = tmpfs {
            var s = linux_statfs()
            s.f_type = Int64(magic)
            s.f_bsize = 4096
            s.f_blocks = UInt64(truncatingIfNeeded: fs.maxPages)
            s.f_bfree = UInt64(truncatingIfNeeded: fs.maxPages - fs.usedPages)
            s.f_bavail = UInt64(truncatingIfNeeded: fs.maxPages - fs.usedPages)
            s.f_files = UInt64(truncatingIfNeeded: fs.maxPages)  // one inode per page, as tmpfs's default nr_inodes
            s.f_ffree = UInt64(truncatingIfNeeded: max(0, fs.maxPages - fs.inodeCount))
            s.f_fsid.0 = Int32(bitPattern: fs.device)
            s.f_namelen = 255
            s.f_frsize = 4096
            s.f_flags = Int64(LINUX_ST_VALID | LINUX_ST_RELATIME)
            try t.mm.write(at, s)
            return .value(0)
        }
        guard let host = inode as? HostInode else { throw .ENOSYS }
        var s: linux_statfs
        do { s = try host.handle.fileSystemStatus() } catch { throw LinuxErrno(host: error) }
        s.f_flags |= Int64(LINUX_ST_RDONLY)
        try t.mm.write(at, s)
        return .value(0)
    }

    func writeStat(_ t: Task, _ at: GuestAddress, _ st: FileStat) throws(LinuxErrno) -> SyscallOutcome {
        try t.mm.write(at, st.linuxStat)
        return .value(0)
    }

    func sysGetdents64(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(a.int(0))
        if f.isPathOnly { throw .EBADF }
        let count = min(a.count(2), 1 << 20)
        guard count >= 24 else { throw .EINVAL }  // room for one record header
        // Check the destination before reading: entries read from the host and then lost would be skipped.
        _ = try t.mm.ioSequence(a.address(1), count, write: true)
        let records = try f.readDirectory(limit: count)
        notifyFile(f, IN.ACCESS)  // iterate_dir, even at the end of the directory
        try t.mm.writeBytes(a.address(1), records)
        return .value(records.count)
    }

    func readlink(_ t: Task, _ dirfd: Int32, _ path: GuestAddress, _ buf: GuestAddress, _ size: Int32)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let name = try t.mm.readString(path)
        guard size > 0 else { throw .EINVAL }
        let d: Dentry
        if name.isEmpty {
            // readlinkat(fd, "") reads the symlink an O_PATH fd refers to.
            guard dirfd != AT.FDCWD, let fd = try t.process.fds.get(dirfd).dentry else { throw .ENOENT }
            d = fd
        } else {
            d = try t.process.pathWalk.resolve(name, from: try startDentry(t, dirfd, path: name), followFinal: false)
        }
        let target = try d.inode.readLink()
        let n = min(target.count, Int(size))
        try t.mm.writeBytes(buf, Array(target.prefix(n)))
        return .value(n)
    }

    /// access, faccessat, faccessat2: checks with the real ids unless AT_EACCESS; W_OK on the read-only tree
    /// is EROFS for files and directories.
    func access(_ t: Task, _ dirfd: Int32, _ path: GuestAddress, _ mode: Int32, _ flags: Int32) throws(LinuxErrno)
        -> SyscallOutcome
    {
        guard mode & ~7 == 0 else { throw .EINVAL }
        guard flags & ~(AT.EACCESS | AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH) == 0 else { throw .EINVAL }
        let name = try t.mm.readString(path)
        let inode: Inode
        if name.isEmpty {
            guard flags & AT.EMPTY_PATH != 0 else { throw .ENOENT }
            guard let d = dirfd == AT.FDCWD ? t.process.cwd : try t.process.fds.get(dirfd).dentry else { return .value(0) }
            inode = d.inode
        } else {
            let start = try startDentry(t, dirfd, path: name)
            inode = try t.process.pathWalk.resolve(name, from: start, followFinal: flags & AT.SYMLINK_NOFOLLOW == 0).inode
        }
        guard mode != 0 else { return .value(0) }
        let want = Credentials.Access(rawValue: mode)
        // A read-only filesystem answers before the permission bits (sb_permission in inode_permission).
        if want.contains(.write) && inode.isReadOnly
            && (inode.fileType == S.IFREG || inode.isDirectory || inode.isSymlink) { throw .EROFS }
        if !t.process.credentials.permits(try inode.stat(), want, real: flags & AT.EACCESS == 0) { throw .EACCES }
        return .value(0)
    }

    func sysGetcwd(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let path = Array(t.process.cwd.path(from: t.process.root).utf8) + [0]
        guard a.count(1) >= path.count else { throw .ERANGE }
        try t.mm.writeBytes(a.address(0), path)
        return .value(path.count)
    }

    func changeDirectory(_ t: Task, _ d: Dentry) throws(LinuxErrno) {
        guard d.inode.isDirectory else { throw .ENOTDIR }
        if !t.process.credentials.isRoot, !t.process.credentials.permits(try d.inode.stat(), .execute) { throw .EACCES }
        t.process.cwd = d
    }
}
