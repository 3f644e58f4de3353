import CLinuxABI

// Locks.swift: flock(2) and fcntl's lock commands (fs/locks.c sys_flock, fcntl_getlk, fcntl_setlk). This
// layer checks the arguments and turns struct flock into a byte range; VFS/FileLocks.swift keeps the locks.
// struct flock is copied in whole and, for F_GETLK, back out whole (its padding as the guest wrote it).
// A lock that must wait returns .block on the file's queue and runs again from the start when a lock of
// that file goes; a signal interrupts the wait (EINTR, or a restart under SA_RESTART, as ERESTARTSYS).
extension SyscallTable {
    mutating func addLockCalls() {
        add(73, [.fd, .flockOperation]) { k, t, a throws(LinuxErrno) in try k.sysFlock(t, a) }
    }
}

extension Kernel {
    /// flock(fd, LOCK_SH | LOCK_EX | LOCK_UN [| LOCK_NB]): a whole-file lock of the open file description.
    func sysFlock(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let operation = a.int(1)
        // LOCK_MAND never did anything: Linux 5.17+ ignores it (with a warning) before looking at the fd.
        if operation & LOCK.MAND != 0 { return .value(0) }
        let type: FileLockType
        switch operation & ~LOCK.NB {
        case LOCK.SH: type = .read
        case LOCK.EX: type = .write
        case LOCK.UN: type = .unlock
        default: throw .EINVAL
        }
        let f = try t.process.fds.get(a.int(0))
        if f.isPathOnly { throw .EBADF }  // fdget() does not see O_PATH files
        if type != .unlock && !f.isReadable && !f.isWritable { throw .EBADF }
        let owner = FileLockOwner.file(ObjectIdentifier(f))
        if let q = try fileLocks.flock(FileLocks.key(of: f), owner: owner, type: type, wait: operation & LOCK.NB == 0) {
            return .block(q)
        }
        return .value(0)
    }

    /// fcntl F_GETLK, F_SETLK, F_SETLKW and their OFD forms.
    func fcntlLock(_ t: Task, _ fd: Int32, _ command: Int32, _ arg: GuestAddress) throws(LinuxErrno) -> SyscallOutcome {
        let fds = t.process.fds
        let f = try fds.get(fd)
        if f.isPathOnly { throw .EBADF }  // check_fcntl_cmd: O_PATH fds take no lock commands
        var l = try t.mm.read(arg, as: linux_flock.self)
        let ofd = command == F.OFD_GETLK || command == F.OFD_SETLK || command == F.OFD_SETLKW
        let isTest = command == F.GETLK || command == F.OFD_GETLK
        // F_GETLK tests a read or a write lock; F_OFD_GETLK may also ask for F_UNLCK (the caller's own locks).
        if command == F.GETLK && l.l_type != FileLockType.read.rawValue && l.l_type != FileLockType.write.rawValue {
            throw .EINVAL
        }
        var request = try lockRequest(f, l)
        if !isTest {  // check_fmode_for_setlk
            if request.type == .read && !f.isReadable { throw .EBADF }
            if request.type == .write && !f.isWritable { throw .EBADF }
        }
        if ofd {
            guard l.l_pid == 0 else { throw .EINVAL }
            request.owner = .file(ObjectIdentifier(f))
            request.pid = -1
        } else {
            request.owner = .table(ObjectIdentifier(fds))
            request.pid = t.process.pid
        }
        let key = FileLocks.key(of: f)
        if isTest {
            if let c = fileLocks.test(key, request) {
                l.l_type = c.type.rawValue
                l.l_whence = 0  // SEEK_SET
                l.l_start = c.start
                l.l_len = c.end == .max ? 0 : c.end - c.start + 1
                l.l_pid = c.pid
            } else {
                l.l_type = FileLockType.unlock.rawValue  // nothing in the way: the rest as the caller wrote it
            }
            try t.mm.write(arg, l)
            return .value(0)
        }
        let wait = command == F.SETLKW || command == F.OFD_SETLKW
        if let q = try fileLocks.set(key, request, waiter: wait ? t : nil) { return .block(q) }
        return .value(0)
    }

    /// flock_to_posix_lock: struct flock's whence, start and length as an inclusive byte range, and its type.
    private func lockRequest(_ f: OpenFile, _ l: linux_flock) throws(LinuxErrno) -> FileLock {
        let base: Int64
        switch l.l_whence {
        case 0: base = 0  // SEEK_SET
        case 1: base = max((try? f.seek(0, whence: 1)) ?? 0, 0)  // SEEK_CUR: f_pos (0 for unseekable files)
        case 2: base = Int64(clamping: (try? f.stat().size) ?? 0)  // SEEK_END: i_size
        default: throw .EINVAL
        }
        guard l.l_start <= Int64.max - base else { throw .EOVERFLOW }
        var start = base + l.l_start
        guard start >= 0 else { throw .EINVAL }
        let end: Int64
        if l.l_len > 0 {
            guard l.l_len - 1 <= Int64.max - start else { throw .EOVERFLOW }
            end = start + (l.l_len - 1)
        } else if l.l_len < 0 {  // the bytes before start (POSIX-2001)
            guard start + l.l_len >= 0 else { throw .EINVAL }
            end = start - 1
            start += l.l_len
        } else {
            end = .max  // to any end of file
        }
        guard let type = FileLockType(rawValue: l.l_type) else { throw .EINVAL }
        return FileLock(owner: .file(ObjectIdentifier(f)), pid: 0, type: type, start: start, end: end)
    }
}
