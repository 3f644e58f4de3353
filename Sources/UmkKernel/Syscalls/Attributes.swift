import CLinuxABI
import UmkHost

// Attributes.swift: changing a file's mode, owner, size and times (fs/open.c chmod_common, chown_common,
// do_truncate; fs/utimes.c), by path or by fd. The caller's right to each change is checked here as
// notify_change's callers check it; the filesystem makes it.
extension SyscallTable {
    mutating func addAttributeCalls() {
        add(90, [.path, .mode]) { k, t, a throws(LinuxErrno) in
            try k.chmod(t, try k.target(t, AT.FDCWD, a.address(0), follow: true), a.uint(1))
        }
        add(268, [.dirfd, .path, .mode]) { k, t, a throws(LinuxErrno) in
            try k.chmod(t, try k.target(t, a.int(0), a.address(1), follow: true), a.uint(2))
        }
        add(452, [.dirfd, .path, .mode, .atFlags]) { k, t, a throws(LinuxErrno) in  // fchmodat2
            guard a.int(3) & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH) == 0 else { throw .EINVAL }
            let d = try k.target(t, a.int(0), a.address(1), follow: a.int(3) & AT.SYMLINK_NOFOLLOW == 0,
                                 emptyPath: a.int(3) & AT.EMPTY_PATH != 0)
            if d.inode.isSymlink { throw .EOPNOTSUPP }
            return try k.chmod(t, d, a.uint(2))
        }
        add(91, [.fd, .mode]) { k, t, a throws(LinuxErrno) in try k.chmod(t, try k.fdDentry(t, a.int(0)), a.uint(1)) }
        add(92, [.path, .int, .int]) { k, t, a throws(LinuxErrno) in
            try k.chown(t, try k.target(t, AT.FDCWD, a.address(0), follow: true), a.int(1), a.int(2))
        }
        add(94, [.path, .int, .int]) { k, t, a throws(LinuxErrno) in
            try k.chown(t, try k.target(t, AT.FDCWD, a.address(0), follow: false), a.int(1), a.int(2))
        }
        add(260, [.dirfd, .path, .int, .int, .atFlags]) { k, t, a throws(LinuxErrno) in
            guard a.int(4) & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH) == 0 else { throw .EINVAL }
            let d = try k.target(t, a.int(0), a.address(1), follow: a.int(4) & AT.SYMLINK_NOFOLLOW == 0,
                                 emptyPath: a.int(4) & AT.EMPTY_PATH != 0)
            return try k.chown(t, d, a.int(2), a.int(3))
        }
        add(93, [.fd, .int, .int]) { k, t, a throws(LinuxErrno) in try k.chown(t, try k.fdDentry(t, a.int(0)), a.int(1), a.int(2)) }
        add(76, [.path, .int]) { k, t, a throws(LinuxErrno) in
            guard a.long(1) >= 0 else { throw .EINVAL }
            let d = try k.target(t, AT.FDCWD, a.address(0), follow: true)
            let inode = d.inode
            if inode.isDirectory { throw .EISDIR }
            guard inode.fileType == S.IFREG else { throw .EINVAL }
            if inode.isReadOnly { throw .EROFS }
            guard t.process.credentials.permits(try inode.stat(), .write) else { throw .EACCES }
            if UInt64(a.long(1)) > t.process.limits[RLIMIT.FSIZE].soft { throw k.exceedFileSizeLimit(t) }
            try inode.setAttributes(AttributeChange(size: UInt64(a.long(1))))
            k.notifyChange(d, IN.MODIFY)
            return .value(0)
        }
        add(77, [.fd, .int]) { k, t, a throws(LinuxErrno) in
            let f = try t.process.fds.get(a.int(0))
            if f.isPathOnly { throw .EBADF }
            guard a.long(1) >= 0, f.isWritable, let d = f.dentry, d.inode.fileType == S.IFREG else { throw .EINVAL }
            if d.inode.isReadOnly { throw .EROFS }
            if f.statusFlags & O.APPEND != 0 { throw .EPERM }
            if UInt64(a.long(1)) > t.process.limits[RLIMIT.FSIZE].soft { throw k.exceedFileSizeLimit(t) }
            try d.inode.setAttributes(AttributeChange(size: UInt64(a.long(1))))
            k.notifyChange(d, IN.MODIFY)
            return .value(0)
        }
        // utime, utimes, futimesat, utimensat
        add(132, [.path, .pointer]) { k, t, a throws(LinuxErrno) in
            var times: [(Int64, Int64)]? = nil
            if a[1] != 0 {
                times = [(try t.mm.read(a.address(1), as: Int64.self), 0),
                         (try t.mm.read(a.address(1).advanced(by: 8), as: Int64.self), 0)]
            }
            return try k.setTimes(t, try k.target(t, AT.FDCWD, a.address(0), follow: true), times)
        }
        add(235, [.path, .pointer]) { k, t, a throws(LinuxErrno) in
            try k.setTimes(t, try k.target(t, AT.FDCWD, a.address(0), follow: true), try k.readTimevals(t, a.address(1)))
        }
        add(261, [.dirfd, .path, .pointer]) { k, t, a throws(LinuxErrno) in
            try k.setTimes(t, try k.target(t, a.int(0), a.address(1), follow: true), try k.readTimevals(t, a.address(2)))
        }
        add(280, [.dirfd, .path, .pointer, .atFlags]) { k, t, a throws(LinuxErrno) in
            let flags = a.int(3)
            guard flags & ~(AT.SYMLINK_NOFOLLOW | AT.EMPTY_PATH) == 0 else { throw .EINVAL }
            var times: [(Int64, Int64)]? = nil
            if a[2] != 0 {
                times = []
                for i in 0..<2 {
                    let ts = try t.mm.read(a.address(2).advanced(by: MemoryLayout<linux_timespec>.stride * i),
                                           as: linux_timespec.self)
                    let (s, ns) = (ts.tv_sec, ts.tv_nsec)
                    guard ns == Kernel.UTIME_NOW || ns == Kernel.UTIME_OMIT || (0..<1_000_000_000).contains(ns) else {
                        throw .EINVAL
                    }
                    times!.append((s, ns))
                }
            }
            let inode: Dentry
            if a[1] == 0 {  // futimens
                inode = try k.fdDentry(t, a.int(0))
            } else {
                inode = try k.target(t, a.int(0), a.address(1), follow: flags & AT.SYMLINK_NOFOLLOW == 0,
                                     emptyPath: flags & AT.EMPTY_PATH != 0)
            }
            return try k.setTimes(t, inode, times)
        }
    }
}

extension Kernel {
    static let UTIME_NOW: Int64 = (1 << 30) - 1, UTIME_OMIT: Int64 = (1 << 30) - 2

    /// The name a path resolves to, for the attribute calls.
    func target(_ t: Task, _ dirfd: Int32, _ path: GuestAddress, follow: Bool, emptyPath: Bool = false) throws(LinuxErrno) -> Dentry {
        let name = try t.mm.readString(path)
        if name.isEmpty {
            guard emptyPath else { throw .ENOENT }
            if dirfd == AT.FDCWD { return t.process.cwd }
            return try fdDentry(t, dirfd)
        }
        return try t.process.pathWalk.resolve(name, from: try startDentry(t, dirfd, path: name), followFinal: follow)
    }

    /// The name an fd was opened by (the console and pipes have no inode to change: EPERM as for an anon inode).
    func fdDentry(_ t: Task, _ fd: Int32) throws(LinuxErrno) -> Dentry {
        let f = try t.process.fds.get(fd)
        guard let d = f.dentry else { throw .EPERM }
        return d
    }

    func readTimevals(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> [(Int64, Int64)]? {
        guard at.raw != 0 else { return nil }
        var out: [(Int64, Int64)] = []
        for i in 0..<2 {
            let tv = try t.mm.read(at.advanced(by: MemoryLayout<linux_timeval>.stride * i), as: linux_timeval.self)
            guard (0..<1_000_000).contains(tv.tv_usec) else { throw .EINVAL }
            out.append((tv.tv_sec, tv.tv_usec * 1000))
        }
        return out
    }

    /// The owner or root changes the mode; a non-member's setgid bit on a file is dropped.
    func chmod(_ t: Task, _ d: Dentry, _ mode: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        let inode = d.inode
        if inode.isReadOnly { throw .EROFS }
        let c = t.process.credentials
        let st = try inode.stat()
        guard c.isRoot || st.uid == c.fsuid else { throw .EPERM }
        var m = UInt16(truncatingIfNeeded: mode) & 0o7777
        if !c.isRoot && !inode.isDirectory && st.gid != c.fsgid && !c.groups.contains(st.gid) { m &= ~S.ISGID }
        try inode.setAttributes(AttributeChange(mode: m))
        notifyChange(d, IN.ATTRIB)
        return .value(0)
    }

    /// Only root gives a file away; its owner may change the group to one of its own. Changing the owner of a
    /// file that is not a directory drops its setuid and setgid bits.
    func chown(_ t: Task, _ d: Dentry, _ uid: Int32, _ gid: Int32) throws(LinuxErrno) -> SyscallOutcome {
        let inode = d.inode
        if inode.isReadOnly { throw .EROFS }
        let c = t.process.credentials
        let st = try inode.stat()
        var change = AttributeChange()
        if uid != -1 && UInt32(bitPattern: uid) != st.uid {
            guard c.isRoot else { throw .EPERM }
            change.uid = UInt32(bitPattern: uid)
        }
        if gid != -1 && UInt32(bitPattern: gid) != st.gid {
            guard c.isRoot || (st.uid == c.fsuid && (c.fsgid == UInt32(bitPattern: gid) || c.groups.contains(UInt32(bitPattern: gid)))) else {
                throw .EPERM
            }
            change.gid = UInt32(bitPattern: gid)
        }
        if (uid != -1 || gid != -1) && !inode.isDirectory && !inode.isSymlink && st.mode & (S.ISUID | S.ISGID) != 0 {
            change.mode = st.mode & 0o7777 & ~(S.ISUID | (st.mode & 0o010 != 0 ? S.ISGID : 0))
        }
        if change.uid == nil && change.gid == nil && change.mode == nil {
            if uid != -1 || gid != -1 {
                try inode.setAttributes(AttributeChange())  // ctime moves
                notifyChange(d, IN.ATTRIB)
            }
            return .value(0)
        }
        try inode.setAttributes(change)
        notifyChange(d, IN.ATTRIB)  // fsnotify_change: ATTR_UID or ATTR_GID
        return .value(0)
    }

    /// Times given need the owner (or root); "now" for both also does for anyone who may write the file.
    func setTimes(_ t: Task, _ d: Dentry, _ times: [(Int64, Int64)]?) throws(LinuxErrno) -> SyscallOutcome {
        let inode = d.inode
        if inode.isReadOnly { throw .EROFS }
        let c = t.process.credentials
        let st = try inode.stat()
        let allNow = times == nil || times!.allSatisfy { $0.1 == Kernel.UTIME_NOW }
        if times != nil && times!.allSatisfy({ $0.1 == Kernel.UTIME_OMIT }) { return .value(0) }
        if !c.isRoot && st.uid != c.fsuid {
            guard allNow else { throw .EPERM }
            guard c.permits(st, .write) else { throw .EACCES }
        }
        let now = Tmpfs.now()
        func pick(_ i: Int) -> (Int64, UInt32)? {
            guard let times else { return now }
            switch times[i].1 {
            case Kernel.UTIME_OMIT: return nil
            case Kernel.UTIME_NOW: return now
            default: return (times[i].0, UInt32(times[i].1))
            }
        }
        let change = AttributeChange(atime: pick(0), mtime: pick(1))
        try inode.setAttributes(change)
        // fsnotify_change: both times are IN_ATTRIB, the access time alone IN_ACCESS, the modification time alone IN_MODIFY.
        switch (change.atime != nil, change.mtime != nil) {
        case (true, true): notifyChange(d, IN.ATTRIB)
        case (true, false): notifyChange(d, IN.ACCESS)
        case (false, true): notifyChange(d, IN.MODIFY)
        case (false, false): break
        }
        return .value(0)
    }
}
