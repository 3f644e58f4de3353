import CLinuxABI
import UmkHost

// Files.swift: opening, closing, reading and writing files, and the fd table (fs/open.c, fs/read_write.c,
// fs/fcntl.c, fs/ioctl.c). Reads and writes hand files an IOSequence over guest memory: a host file reads or
// writes it in place, with no copy through kernel buffers.
extension SyscallTable {
    mutating func addFileCalls() {
        add(0, [.fd, .outBuffer, .uint]) { k, t, a throws(LinuxErrno) in try k.sysRead(t, a) }
        add(1, [.fd, .inBuffer(2), .uint]) { k, t, a throws(LinuxErrno) in try k.sysWrite(t, a) }
        add(2, [.path, .openFlags, .mode]) { k, t, a throws(LinuxErrno) in
            try k.openWaiting(t) { () throws(LinuxErrno) in
                try k.open(t, dirfd: AT.FDCWD, path: a.address(0), flags: a.int(1), mode: a.uint(2))
            }
        }
        add(3, [.fd]) { _, t, a throws(LinuxErrno) in
            try t.process.fds.close(a.int(0))
            return .value(0)
        }
        add(8, [.fd, .int, .whence]) { k, t, a throws(LinuxErrno) in try k.sysLseek(t, a) }
        add(16, [.fd, .ioctlRequest, .ioctlArgument]) { k, t, a throws(LinuxErrno) in try k.sysIoctl(t, a) }
        add(17, [.fd, .outBuffer, .uint, .int]) { k, t, a throws(LinuxErrno) in try k.sysPread(t, a) }
        add(18, [.fd, .inBuffer(2), .uint, .int]) { k, t, a throws(LinuxErrno) in try k.sysPwrite(t, a) }
        add(19, [.fd, .out(.iovec(2)), .int]) { k, t, a throws(LinuxErrno) in try k.vectored(t, a, write: false, offset: nil) }
        add(20, [.fd, .iovec(2), .int]) { k, t, a throws(LinuxErrno) in try k.vectored(t, a, write: true, offset: nil) }
        add(295, [.fd, .out(.iovec(2)), .int, .int]) { k, t, a throws(LinuxErrno) in try k.vectored(t, a, write: false, offset: a.long(3)) }
        add(296, [.fd, .iovec(2), .int, .int]) { k, t, a throws(LinuxErrno) in try k.vectored(t, a, write: true, offset: a.long(3)) }
        add(436, [.uint, .uint, .hex]) { _, t, a throws(LinuxErrno) in
            // fs/file.c __close_range: CLOSE_RANGE_UNSHARE (2) first gives the process a table of its own,
            // CLOSE_RANGE_CLOEXEC (4) marks instead of closing; descriptors are unsigned ints.
            let first = UInt32(truncatingIfNeeded: a[0]), last = UInt32(truncatingIfNeeded: a[1])
            let flags = UInt32(truncatingIfNeeded: a[2])
            guard flags & ~6 == 0, first <= last else { throw .EINVAL }
            let p = t.process
            if flags & 2 != 0 && p.fds.users > 1 { p.fds = p.fds.unshared() }
            p.fds.closeRange(Int(first)...Int(last), cloexec: flags & 4 != 0)
            return .value(0)
        }
        add(32, [.fd]) { k, t, a throws(LinuxErrno) in try k.dup(t, a.int(0), minimum: 0, closeOnExec: false) }
        add(33, [.fd, .fd]) { k, t, a throws(LinuxErrno) in
            let old = a.int(0), new = a.int(1)
            if old == new {
                _ = try t.process.fds.get(old)
                return .value(Int(new))
            }
            return try k.dup3(t, old, new, flags: 0)
        }
        add(292, [.fd, .fd, .cloexec("O")]) { k, t, a throws(LinuxErrno) in
            guard a.int(0) != a.int(1) else { throw .EINVAL }
            return try k.dup3(t, a.int(0), a.int(1), flags: a.int(2))
        }
        add(72, [.fd, .fcntlCommand, .fcntlArgument], .partial("no leases (F_SETLEASE: EAGAIN), owners, signals or seals")) {
            k, t, a throws(LinuxErrno) in try k.sysFcntl(t, a)
        }
        add(85, [.path, .mode]) { k, t, a throws(LinuxErrno) in
            .value(Int(try k.open(t, dirfd: AT.FDCWD, path: a.address(0), flags: O.CREAT | O.WRONLY | O.TRUNC, mode: a.uint(1))))
        }
        add(221, [.fd, .int, .int, .int]) { _, t, a throws(LinuxErrno) in
            _ = try t.process.fds.get(a.int(0))
            guard (0...5).contains(a.int(3)) else { throw .EINVAL }
            return .value(0)  // advice only: nothing to do on a read-only host tree
        }
        add(437, [.dirfd, .path, .pointer, .uint]) { k, t, a throws(LinuxErrno) in try k.sysOpenat2(t, a) }
        add(257, [.dirfd, .path, .openFlags, .mode]) { k, t, a throws(LinuxErrno) in
            try k.openWaiting(t) { () throws(LinuxErrno) in
                try k.open(t, dirfd: a.int(0), path: a.address(1), flags: a.int(2), mode: a.uint(3))
            }
        }
    }
}

extension Kernel {
    static let maxIOCount = 0x7fff_f000  // MAX_RW_COUNT

    func sysRead(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(a.int(0))
        guard f.isReadable else { throw .EBADF }
        let n = min(a.count(2), Kernel.maxIOCount)
        if n == 0 { return .value(0) }
        let io = try t.mm.ioSequence(a.address(1), n, write: true, partial: true)
        return notifyTransfer(f, try transfer(t, f, write: false) { () throws(LinuxErrno) in try f.read(into: io) }, write: false)
    }

    func sysWrite(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(a.int(0))
        guard f.isWritable else { throw .EBADF }
        let n = try limitWrite(t, f, at: nil, min(a.count(2), Kernel.maxIOCount))
        if n == 0 { return .value(0) }
        let done = f.writesCompletely ? t.ioProgress : 0
        let io = try t.mm.ioSequence(a.address(1).advanced(by: done), n - done, write: false, partial: true)
        return notifyTransfer(f, try transfer(t, f, write: true, total: n) { () throws(LinuxErrno) in try f.write(from: io) }, write: true)
    }

    /// One read or write on a file that may make the caller wait (fs/pipe.c pipe_read/pipe_write): EAGAIN
    /// becomes a wait on the file's queue unless the file is O_NONBLOCK; a blocking pipe write waits until
    /// all `total` bytes are written, keeping its progress in the task across restarts; EPIPE raises SIGPIPE.
    func transfer(_ t: Task, _ f: OpenFile, write: Bool, total: Int = 0, _ io: () throws(LinuxErrno) -> Int)
        throws(LinuxErrno) -> SyscallOutcome
    {
        if let outcome = try terminalAccess(t, f, write: write) { return outcome }
        let done = write && f.writesCompletely ? t.ioProgress : 0
        do {
            let n = try io()
            if write && f.writesCompletely && !f.isNonblocking && done + n < total, let q = f.writeWaitQueue {
                t.ioProgress = done + n
                return .block(q)
            }
            t.ioProgress = 0
            return .value(done + n)
        } catch .EAGAIN {
            if !f.isNonblocking, let q = write ? f.writeWaitQueue : f.waitQueue { return .block(q) }
            t.ioProgress = 0
            if done > 0 { return .value(done) }
            throw .EAGAIN
        } catch .EPIPE {
            t.ioProgress = 0
            if done > 0 { return .value(done) }
            if !signalSelf(t, 13) { return .exited }  // SIGPIPE
            throw .EPIPE
        }
    }

    /// RLIMIT_FSIZE (generic_write_check_limits): a write to a regular file that would start at or past the
    /// limit raises SIGXFSZ and is EFBIG; one that would cross it is cut short at the limit.
    func limitWrite(_ t: Task, _ f: OpenFile, at position: Int64?, _ count: Int) throws(LinuxErrno) -> Int {
        let limit = t.process.limits[RLIMIT.FSIZE].soft
        guard limit != ResourceLimit.infinity, count > 0, let d = f.dentry, d.inode.fileType == S.IFREG else { return count }
        let start: UInt64
        if f.statusFlags & O.APPEND != 0 {
            start = try f.stat().size
        } else {
            let at: Int64
            if let position { at = position } else { at = try f.seek(0, whence: 1) }
            start = UInt64(max(0, at))
        }
        guard start < limit else { throw exceedFileSizeLimit(t) }
        return Int(min(UInt64(count), limit - start))
    }

    /// SIGXFSZ to the caller, and the EFBIG its call fails with.
    func exceedFileSizeLimit(_ t: Task) -> LinuxErrno {
        _ = signalSelf(t, 25)
        return .EFBIG
    }

    /// A signal the kernel sends the caller for what its own call did (SIGPIPE, SIGXFSZ: send_sig with the
    /// caller as sender, SI_USER). Returns whether the caller's process lives on.
    func signalSelf(_ t: Task, _ sig: Int32) -> Bool {
        send(t, sig, info: SignalInfo(signo: sig, code: SignalInfo.SI_USER, pid: t.process.pid, uid: t.process.credentials.uid))
        return t.process.exitStatus == nil
    }

    /// rw_verify_area: a negative offset, or one whose end passes 2^63, is EINVAL (for every file).
    static func checkOffset(_ offset: Int64, _ count: Int) throws(LinuxErrno) {
        guard offset >= 0, !offset.addingReportingOverflow(Int64(count)).overflow else { throw .EINVAL }
    }

    func sysPread(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(a.int(0))
        guard f.isReadable else { throw .EBADF }
        let n = min(a.count(2), Kernel.maxIOCount)
        try Kernel.checkOffset(a.long(3), n)
        if n == 0 { return .value(0) }
        let done = try f.read(into: try t.mm.ioSequence(a.address(1), n, write: true, partial: true), at: a.long(3))
        return notifyTransfer(f, .value(done), write: false)
    }

    func sysPwrite(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(a.int(0))
        guard f.isWritable else { throw .EBADF }
        var n = min(a.count(2), Kernel.maxIOCount)
        try Kernel.checkOffset(a.long(3), n)
        if n == 0 { return .value(0) }
        n = try limitWrite(t, f, at: a.long(3), n)
        let done = try f.write(from: try t.mm.ioSequence(a.address(1), n, write: false, partial: true), at: a.long(3))
        return notifyTransfer(f, .value(done), write: true)
    }

    /// readv, writev, preadv, pwritev: the iovec array is read from the guest, at most IOV_MAX entries.
    func vectored(_ t: Task, _ a: SyscallArgs, write: Bool, offset: Int64?) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(a.int(0))
        guard write ? f.isWritable : f.isReadable else { throw .EBADF }
        let count = a.int(2)
        guard count >= 0, count <= 1024 else { throw .EINVAL }
        if let offset, offset < 0 { throw .EINVAL }
        var parts: [IOSequence] = []
        var total = 0
        for i in 0..<Int(count) {
            let iov = try t.mm.read(a.address(1).advanced(by: MemoryLayout<linux_iovec>.stride * i), as: linux_iovec.self)
            let len = Int64(bitPattern: iov.iov_len)
            guard len >= 0 else { throw .EINVAL }
            let n = min(Int(len), Kernel.maxIOCount - total)
            total += n
            parts.append(try t.mm.ioSequence(GuestAddress(iov.iov_base), n, write: !write))
        }
        if let offset { try Kernel.checkOffset(offset, total) }
        var io = IOSequence(concatenating: parts)
        if io.isEmpty { return .value(0) }
        if write { io = io.prefix(try limitWrite(t, f, at: offset, io.count)) }
        if let offset {
            return notifyTransfer(f, .value(write ? try f.write(from: io, at: offset) : try f.read(into: io, at: offset)), write: write)
        }
        // A blocking writev to a pipe waits until all is written: restarts skip what went already.
        let done = write && f.writesCompletely ? t.ioProgress : 0
        let rest = io.dropFirst(done)
        return notifyTransfer(f, try transfer(t, f, write: write, total: total) { () throws(LinuxErrno) in
            write ? try f.write(from: rest) : try f.read(into: rest)
        }, write: write)
    }

    func sysLseek(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(a.int(0))
        guard (0...4).contains(a.int(2)) else { throw .EINVAL }
        return .value(Int(try f.seek(a.long(1), whence: a.int(2))))
    }

    func dup(_ t: Task, _ fd: Int32, minimum: Int32, closeOnExec: Bool) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(fd)
        let limit = t.process.limits[RLIMIT.NOFILE].soft
        guard minimum >= 0, UInt64(minimum) < limit else { throw .EINVAL }
        return .value(Int(try t.process.fds.install(f, closeOnExec: closeOnExec, minimum: minimum, limit: limit)))
    }

    func dup3(_ t: Task, _ old: Int32, _ new: Int32, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~O.CLOEXEC == 0 else { throw .EINVAL }
        let f = try t.process.fds.get(old)
        guard new >= 0, UInt64(new) < t.process.limits[RLIMIT.NOFILE].soft else { throw .EBADF }
        t.process.fds.install(f, at: new, closeOnExec: flags & O.CLOEXEC != 0)
        return .value(Int(new))
    }

    func sysFcntl(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let fd = a.int(0)
        let fds = t.process.fds
        switch a.int(1) {
        case 0: return try dup(t, fd, minimum: a.int(2), closeOnExec: false)  // F_DUPFD
        case 1030: return try dup(t, fd, minimum: a.int(2), closeOnExec: true)  // F_DUPFD_CLOEXEC
        case 1: return .value(try fds.entry(fd).closeOnExec ? 1 : 0)  // F_GETFD
        case 2:  // F_SETFD
            try fds.setCloseOnExec(fd, a.int(2) & 1 != 0)
            return .value(0)
        case 3: return .value(Int(try fds.get(fd).statusFlags))  // F_GETFL
        case 4:  // F_SETFL
            let f = try fds.get(fd)
            if f.isPathOnly { throw .EBADF }
            f.statusFlags = (f.statusFlags & ~O.settable) | (a.int(2) & O.settable)
            try f.statusFlagsChanged()
            return .value(0)
        case 1033: return try addSeals(t, try fds.get(fd), a.uint(2))  // F_ADD_SEALS
        case 1034: return .value(Int(try sealedInode(try fds.get(fd)).seals))  // F_GET_SEALS
        case 1032:  // F_GETPIPE_SZ
            guard let end = try fds.get(fd) as? PipeEnd else { throw .EBADF }
            return .value(end.pipe.capacity)
        case 1031:  // F_SETPIPE_SZ
            guard let end = try fds.get(fd) as? PipeEnd else { throw .EBADF }
            let want = Int(a.uint(2))
            guard want <= 1 << 31 else { throw .EINVAL }
            // Above pipe-max-size even root is refused here: pipe buffers live on umk's heap, not in --mem.
            guard want <= Pipe.maxCapacity else { throw .EPERM }
            var size = 4096
            while size < want { size <<= 1 }
            guard size >= end.pipe.count else { throw .EBUSY }
            end.pipe.capacity = size
            t.process.kernelWake(end.pipe)
            return .value(size)
        case F.GETLK, F.SETLK, F.SETLKW, F.OFD_GETLK, F.OFD_SETLK, F.OFD_SETLKW:
            return try fcntlLock(t, fd, a.int(1), a.address(2))
        case F.GETLEASE:  // no file ever has a lease here
            if try fds.get(fd).isPathOnly { throw .EBADF }
            return .value(Int(FileLockType.unlock.rawValue))
        case F.SETLEASE:  // FIXME: leases: none can be taken (EAGAIN, as when the file is open elsewhere)
            let f = try fds.get(fd)
            if f.isPathOnly { throw .EBADF }
            guard FileLockType(rawValue: Int16(truncatingIfNeeded: a.int(2))) != nil, a.int(2) >= 0, a.int(2) <= 2,
                  (try? f.stat())?.isRegular == true else { throw .EINVAL }
            throw .EAGAIN
        default:  // FIXME: F_SETOWN and F_SETSIG, seals
            _ = try fds.get(fd)
            throw .EINVAL
        }
    }

    func sysIoctl(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let fd = a.int(0)
        let f = try t.process.fds.get(fd)
        let request = UInt(truncatingIfNeeded: a.uint(1))
        switch request {
        case 0x5451:  // FIOCLEX
            try t.process.fds.setCloseOnExec(fd, true)
            return .value(0)
        case 0x5450:  // FIONCLEX
            try t.process.fds.setCloseOnExec(fd, false)
            return .value(0)
        case 0x5421:  // FIONBIO
            let on = try t.mm.read(a.address(2), as: Int32.self) != 0
            f.statusFlags = on ? f.statusFlags | O.NONBLOCK : f.statusFlags & ~O.NONBLOCK
            try f.statusFlagsChanged()
            return .value(0)
        default:
            break
        }
        if f.isPathOnly { throw .EBADF }
        if let outcome = try terminalIoctl(t, f, request, a.address(2)) { return outcome }
        // The argument's size and direction come from the request (terminal requests carry no _IOC bits).
        let (size, copyIn, copyOut): (Int, Bool, Bool)
        switch request {
        case 0x5401: (size, copyIn, copyOut) = (36, false, true)  // TCGETS: struct termios
        case 0x5402, 0x5403, 0x5404: (size, copyIn, copyOut) = (36, true, false)  // TCSETS*
        case 0x5413: (size, copyIn, copyOut) = (8, false, true)  // TIOCGWINSZ
        case 0x5414: (size, copyIn, copyOut) = (8, true, false)  // TIOCSWINSZ
        case 0x541b: (size, copyIn, copyOut) = (4, false, true)  // FIONREAD
        case 0x8905: (size, copyIn, copyOut) = (4, false, true)  // SIOCATMARK
        default: (size, copyIn, copyOut) = (0, false, false)
        }
        var buffer = [UInt8](repeating: 0, count: max(size, 1))
        if copyIn { buffer = try t.mm.readBytes(a.address(2), size) }
        let r = try buffer.withBytes { (b) throws(LinuxErrno) -> Int in
            try f.ioctl(request, size > 0 ? b.baseAddress : nil)
        }
        if copyOut { try t.mm.writeBytes(a.address(2), Array(buffer.prefix(size))) }
        return .value(r)
    }

    // MARK: open

    /// The directory a relative path starts from: the cwd for AT_FDCWD, else the directory open at `dirfd`.
    func startDentry(_ t: Task, _ dirfd: Int32, path: [UInt8]) throws(LinuxErrno) -> Dentry {
        if path.first == UInt8(ascii: "/") || dirfd == AT.FDCWD { return t.process.cwd }
        let f = try t.process.fds.get(dirfd)
        guard let d = f.dentry else { throw .ENOTDIR }
        if !path.isEmpty && !d.inode.isDirectory { throw .ENOTDIR }
        return d
    }

    /// An open that may wait (a FIFO for its partner): the wait is on the FIFO's pipe, and the call runs
    /// again when woken.
    func openWaiting(_ t: Task, _ body: () throws(LinuxErrno) -> Int32) throws(LinuxErrno) -> SyscallOutcome {
        do {
            return .value(Int(try body()))
        } catch .EAGAIN {
            guard let (end, _) = t.fifoOpen else { throw .EAGAIN }
            return .block(end.pipe.queue)
        }
    }

    /// openat2(2) (fs/open.c build_open_flags): struct open_how {flags, mode, resolve}, strict about what
    /// open and openat let pass, then an open whose walk obeys the RESOLVE_* restrictions.
    func sysOpenat2(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let size = a.count(3)
        let known = MemoryLayout<linux_open_how>.size
        guard size >= Int(LINUX_OPEN_HOW_SIZE_VER0) else { throw .EINVAL }
        guard size <= 4096 else { throw .E2BIG }
        let how = try t.mm.read(a.address(2), as: linux_open_how.self)
        // copy_struct_from_user: a newer struct's fields this kernel lacks must be zero.
        if try t.mm.readBytes(a.address(2).advanced(by: known), size - known).contains(where: { $0 != 0 }) { throw .E2BIG }
        let (rawFlags, mode) = (how.flags, how.mode)
        let resolve = PathWalk.Resolve(rawValue: how.resolve)
        guard rawFlags <= UInt64(UInt32.max) else { throw .EINVAL }
        let flags = Int32(bitPattern: UInt32(rawFlags))
        guard flags & ~O.valid == 0, resolve.isSubset(of: .all), !resolve.isSuperset(of: [.beneath, .inRoot]) else {
            throw .EINVAL
        }
        let makes = flags & O.CREAT != 0 || flags & O.TMPFILE == O.TMPFILE
        guard makes ? mode & ~0o7777 == 0 : mode == 0 else { throw .EINVAL }
        if flags & O.PATH != 0 && flags & ~O.pathFlags != 0 { throw .EINVAL }
        if resolve.contains(.cached) && (makes || flags & O.TRUNC != 0) { throw .EAGAIN }
        return try openWaiting(t) { () throws(LinuxErrno) in
            try open(t, dirfd: a.int(0), path: a.address(1), flags: flags, mode: UInt32(mode), resolve: resolve)
        }
    }

    /// openat(2): resolves, checks, and installs a new fd (fs/namei.c path_openat, do_open).
    func open(_ t: Task, dirfd: Int32, path: GuestAddress, flags: Int32, mode: UInt32,
              resolve: PathWalk.Resolve = []) throws(LinuxErrno) -> Int32
    {
        let p = t.process
        let name = try t.mm.readString(path)
        let start = try startDentry(t, dirfd, path: name)
        // A scoped walk is anchored at dirfd even for an absolute path (which BENEATH refuses, IN_ROOT roots there).
        let anchor = resolve.isScoped && name.first == UInt8(ascii: "/") ? try startDentry(t, dirfd, path: [UInt8(ascii: ".")]) : start
        let walk = resolve.isEmpty ? p.pathWalk : p.pathWalk.restricted(resolve, from: anchor)
        let accmode = flags & O.accessMode
        if flags & O.PATH != 0 {
            let d = try walk.resolve(name, from: start, followFinal: flags & O.NOFOLLOW == 0)
            if flags & O.DIRECTORY != 0 && !d.inode.isDirectory { throw .ENOTDIR }
            let file = PathOpenFile(inode: d.inode, dentry: d, flags: flags)
            return try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)
        }
        if flags & O.TMPFILE & ~O.DIRECTORY != 0 {
            // build_open_flags: __O_TMPFILE goes with O_DIRECTORY, without O_CREAT, and with write access.
            guard flags & (O.TMPFILE | O.CREAT) == O.TMPFILE, accmode != O.RDONLY else { throw .EINVAL }
            let file = try openUnnamed(t, in: try walk.resolve(name, from: start, followFinal: true), flags: flags, mode: mode)
            return try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)
        }
        if flags & O.CREAT != 0 && flags & O.DIRECTORY != 0 { throw .EINVAL }
        let wantsWrite = accmode == O.WRONLY || accmode == O.RDWR || flags & O.TRUNC != 0
        let dentry: Dentry
        var created = false
        let follow = flags & O.NOFOLLOW == 0 && !(flags & O.CREAT != 0 && flags & O.EXCL != 0)
        do {
            dentry = try walk.resolve(name, from: start, followFinal: follow)
        } catch .ENOENT where flags & O.CREAT != 0 {
            // Nothing there: a new regular file, which the caller may then open as it asks whatever its mode.
            // A dangling symlink at the end makes its target (open_last_lookups follows it to create).
            var (parent, last) = try walk.resolveParent(name, from: start)
            var links = 0
            while follow, last != "." && last != "..", let node = try? parent.inode.lookup(last), node.isSymlink {
                if walk.restrictions.contains(.noSymlinks) { throw .ELOOP }
                links += 1
                guard links <= PathWalk.maxSymlinks else { throw .ELOOP }
                (parent, last) = try walk.resolveParent(try node.readLink(), from: parent)
            }
            if last == "." || last == ".." || name.last == UInt8(ascii: "/") { throw .EISDIR }
            let inode = try makeNode(t, in: parent, last, mode: S.IFREG | UInt16(truncatingIfNeeded: mode & 0o7777))
            dentry = Dentry(name: last, parent: parent, inode: inode)
            created = true
            notifyCreate(in: parent, last, isDirectory: false)
        }
        let inode = dentry.inode
        if flags & O.CREAT != 0 && flags & O.EXCL != 0 && !created { throw .EEXIST }
        if inode.isSymlink { throw .ELOOP }  // O_NOFOLLOW on a symlink
        if flags & O.DIRECTORY != 0 && !inode.isDirectory { throw .ENOTDIR }
        if inode.isDirectory && (wantsWrite || flags & O.CREAT != 0) { throw .EISDIR }
        // As inode_permission: a read-only filesystem answers before the permission bits.
        if wantsWrite && inode.isReadOnly && (inode.fileType == S.IFREG || inode.isDirectory) { throw .EROFS }
        var want: Credentials.Access = []
        if accmode == O.RDONLY || accmode == O.RDWR { want.insert(.read) }
        if wantsWrite { want.insert(.write) }
        if !created, !p.credentials.permits(try inode.stat(), want) { throw .EACCES }
        var file: OpenFile
        if inode.fileType == S.IFCHR, let device = try openTerminalDevice(t, inode, dentry, flags: flags | O.LARGEFILE) {
            file = device
        } else if inode.fileType == S.IFIFO {
            file = try openFifo(t, inode, dentry, flags: flags | O.LARGEFILE)
        } else {
            file = try inode.open(flags: flags | O.LARGEFILE, dentry: dentry)
        }
        let fd = try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)
        if notify.isActive {
            notifyFile(file, IN.OPEN)
            // handle_truncate, after the open since Linux 6.8 (fsnotify_open moved into do_dentry_open).
            if !created && flags & O.TRUNC != 0 && inode.fileType == S.IFREG && wantsWrite { notifyFile(file, IN.MODIFY) }
        }
        return fd
    }

    /// O_TMPFILE (fs/namei.c do_tmpfile): an unnamed regular file in the directory's filesystem, which linkat
    /// may name later unless O_EXCL. tmpfs and the overlay (its upper layer) make one; a writable host bind
    /// answers EOPNOTSUPP (FIXME: the host's O_TMPFILE could serve it), read-only trees EROFS.
    func openUnnamed(_ t: Task, in d: Dentry, flags: Int32, mode: UInt32) throws(LinuxErrno) -> OpenFile {
        guard d.inode.isDirectory else { throw .ENOTDIR }
        let c = t.process.credentials
        let st = try d.inode.stat()
        let perm = UInt16(truncatingIfNeeded: mode & 0o7777) & ~UInt16(truncatingIfNeeded: t.process.umask & 0o777)
        let owner = (c.fsuid, st.mode & S.ISGID != 0 ? st.gid : c.fsgid)
        let linkable = flags & O.EXCL == 0
        let inode: Inode, ino: UInt64
        switch d.inode {
        case let dir as TmpfsInode:
            guard c.permits(st, [.write, .execute]) else { throw .EACCES }
            let node = try dir.makeUnnamed(mode: perm, owner: owner, linkable: linkable)
            (inode, ino) = (node, node.ino)
        case let dir as OverlayInode:
            guard c.permits(st, [.write, .execute]) else { throw .EACCES }
            let node = try dir.makeUnnamed(mode: perm, owner: owner, linkable: linkable)
            (inode, ino) = (node, try node.stat().ino)
        case let dir as HostInode where dir.isReadOnly:
            throw .EROFS  // a read-only bind: mnt_want_write answers before the filesystem
        default:
            throw .EOPNOTSUPP  // procfs, sysfs, devpts, writable host binds: no ->tmpfile
        }
        // Linux names the dentry "#ino" in the directory: /proc/PID/fd shows "DIR/#ino (deleted)".
        let dentry = Dentry(name: "#\(ino)", parent: d, inode: inode)
        return try inode.open(flags: (flags & ~(O.TMPFILE | O.CREAT | O.EXCL | O.TRUNC)) | O.LARGEFILE, dentry: dentry)
    }
}
