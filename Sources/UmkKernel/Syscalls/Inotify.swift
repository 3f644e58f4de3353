// Inotify.swift: inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch
// (fs/notify/inotify/inotify_user.c). The instance is an InotifyFile (VFS/InotifyFile.swift); the events come from
// the hooks in VFS/FSNotify.swift.
extension SyscallTable {
    mutating func addInotifyCalls() {
        let note = SyscallSupport.partial("inotify only: no fanotify or dnotify; host-side changes under binds are not seen")
        add(253, [], note) { k, t, _ throws(LinuxErrno) in try k.inotifyInit(t, flags: 0) }
        add(294, [.cloexec("IN")], note) { k, t, a throws(LinuxErrno) in try k.inotifyInit(t, flags: a.int(0)) }
        add(254, [.fd, .path, .inotifyMask], note) { k, t, a throws(LinuxErrno) in
            try k.inotifyAddWatch(t, fd: a.int(0), path: a.address(1), mask: a.uint(2))
        }
        add(255, [.fd, .int], note) { k, t, a throws(LinuxErrno) in
            try k.inotifyFile(t, a.int(0)).removeWatch(a.int(1))
            return .value(0)
        }
    }
}

extension Kernel {
    /// do_inotify_init: IN_CLOEXEC and IN_NONBLOCK only; EMFILE past max_user_instances.
    func inotifyInit(_ t: Task, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~(O.CLOEXEC | O.NONBLOCK) == 0 else { throw .EINVAL }
        guard notify.instanceCount < FileNotify.maxUserInstances else { throw .EMFILE }
        let p = t.process
        let file = InotifyFile(notify: notify, flags: flags)
        let fd = try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)
        notify.instanceCount += 1
        return .value(Int(fd))
    }

    /// The inotify instance open at `fd` (EBADF for no file, EINVAL for another kind).
    func inotifyFile(_ t: Task, _ fd: Int32) throws(LinuxErrno) -> InotifyFile {
        guard let file = try t.process.fds.get(fd) as? InotifyFile else { throw .EINVAL }
        return file
    }

    /// inotify_add_watch: a new watch on the file `path` names, or new events for the one this instance has
    /// on it (the same wd): the mask replaces the old one, or with IN_MASK_ADD joins it; IN_MASK_CREATE
    /// refuses an existing watch (EEXIST). The caller must be allowed to read the file.
    func inotifyAddWatch(_ t: Task, fd: Int32, path: GuestAddress, mask: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        guard mask & ~IN.allBits == 0, mask != 0 else { throw .EINVAL }
        _ = try t.process.fds.get(fd)
        if mask & IN.MASK_ADD != 0 && mask & IN.MASK_CREATE != 0 { throw .EINVAL }
        let instance = try inotifyFile(t, fd)
        let name = try t.mm.readString(path)
        let d = try t.process.pathWalk.resolve(name, from: try startDentry(t, AT.FDCWD, path: name),
                                               followFinal: mask & IN.DONT_FOLLOW == 0)
        if mask & IN.ONLYDIR != 0 && !d.inode.isDirectory { throw .ENOTDIR }
        let st = try d.inode.stat()
        guard t.process.credentials.permits(st, .read) else { throw .EACCES }
        let key = FileKey(st)
        let wanted = mask & IN.kept
        if let w = instance.watch(on: key) {
            if mask & IN.MASK_CREATE != 0 { throw .EEXIST }
            w.mask = mask & IN.MASK_ADD != 0 ? w.mask | wanted : wanted
            return .value(Int(w.wd))
        }
        return .value(Int(try instance.addWatch(key, isDirectory: st.isDirectory, mask: wanted)))
    }
}
