import CLinuxABI
import UmkHost

// FileData.swift: the calls that make or move file data without a user buffer (mm/memfd.c memfd_create and
// memfd_fcntl, fs/open.c vfs_fallocate, fs/read_write.c do_sendfile and vfs_copy_file_range, fs/splice.c
// splice, tee and vmsplice). Argument checks follow Linux's order; data moves through a bounded kernel
// buffer over the files' own read and write (moveData), never a buffer as large as the guest asks.
enum FALLOC {
    static let KEEP_SIZE: Int32 = 0x01, PUNCH_HOLE: Int32 = 0x02, NO_HIDE_STALE: Int32 = 0x04
    static let COLLAPSE_RANGE: Int32 = 0x08, ZERO_RANGE: Int32 = 0x10, INSERT_RANGE: Int32 = 0x20
    static let UNSHARE_RANGE: Int32 = 0x40, WRITE_ZEROES: Int32 = 0x80
}

enum MFD {
    static let CLOEXEC: UInt32 = 0x1, ALLOW_SEALING: UInt32 = 0x2, HUGETLB: UInt32 = 0x4
    static let NOEXEC_SEAL: UInt32 = 0x8, EXEC: UInt32 = 0x10
    static let all: UInt32 = 0x1f
    /// MFD_HUGE_* page-size bits, allowed with MFD_HUGETLB.
    static let hugeSizes: UInt32 = 0x3f << 26
    /// MFD_NAME_MAX_LEN: the name without its "memfd:" prefix.
    static let maxName = 249
}

enum SPLICE_F {
    static let NONBLOCK: UInt32 = 0x02
    static let all: UInt32 = 0x0f
}

extension SyscallTable {
    mutating func addFileDataCalls() {
        add(319, [.string, .hex], .partial("MFD_HUGETLB is EINVAL (no huge pages)")) { k, t, a throws(LinuxErrno) in
            try k.memfdCreate(t, a.address(0), flags: a.uint(1))
        }
        add(285, [.fd, .hex, .int, .int], .partial("tmpfs keeps no RLIMIT_FSIZE check")) { k, t, a throws(LinuxErrno) in
            try k.fallocate(t, a.int(0), mode: a.int(1), offset: a.long(2), length: a.long(3))
        }
        add(40, [.fd, .fd, .pointer, .uint]) { k, t, a throws(LinuxErrno) in
            k.notifyMoved(t, in: a.int(1), out: a.int(0),
                          try k.sendfile(t, out: a.int(0), in: a.int(1), offset: a.address(2), count: a.count(3)))
        }
        add(326, [.fd, .pointer, .fd, .pointer, .uint, .hex]) { k, t, a throws(LinuxErrno) in
            k.notifyMoved(t, in: a.int(0), out: a.int(2),
                          try k.copyFileRange(t, in: a.int(0), a.address(1), out: a.int(2), a.address(3), count: a[4], flags: a.uint(5)))
        }
        add(275, [.fd, .pointer, .fd, .pointer, .uint, .hex]) { k, t, a throws(LinuxErrno) in
            k.notifyMoved(t, in: a.int(0), out: a.int(2),
                          try k.splice(t, in: a.int(0), a.address(1), out: a.int(2), a.address(3), count: a.count(4), flags: a.uint(5)))
        }
        add(276, [.fd, .fd, .uint, .hex]) { k, t, a throws(LinuxErrno) in
            try k.tee(t, in: a.int(0), out: a.int(1), count: a.count(2), flags: a.uint(3))
        }
        add(278, [.fd, .pointer, .uint, .hex], .partial("pages are copied, never gifted")) { k, t, a throws(LinuxErrno) in
            try k.vmsplice(t, a.int(0), a.address(1), segments: a[2], flags: a.uint(3))
        }
    }
}

/// Where one side of a data move reads or writes: a pipe's buffer, a file at an offset (advanced as data
/// moves), or a file's own sequential read or write (devices, the console).
enum DataSide {
    case pipe(PipeEnd)
    case at(Int64)
    case stream
}

extension Kernel {
    /// One call moves at most this much, so that one guest cannot hold the kernel thread for long: callers
    /// of sendfile and copy_file_range loop on short counts (Linux moves up to MAX_RW_COUNT at once).
    static let maxMoveCount = 16 << 20
    /// The kernel buffer between the two files.
    static let moveChunk = 65536

    // MARK: memfd

    /// memfd_create(2): an unnamed file of the instance's memfd tmpfs, open read-write.
    func memfdCreate(_ t: Task, _ nameAddress: GuestAddress, flags: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        let allowed = flags & MFD.HUGETLB != 0 ? MFD.all | MFD.hugeSizes : MFD.all
        guard flags & ~allowed == 0 else { throw .EINVAL }
        guard flags & MFD.EXEC == 0 || flags & MFD.NOEXEC_SEAL == 0 else { throw .EINVAL }
        let name: [UInt8]
        do { name = try t.mm.readString(nameAddress, max: MFD.maxName + 1) } catch .ENAMETOOLONG { throw .EINVAL }
        // FIXME: no hugetlbfs: as a kernel without huge pages configured for it.
        if flags & MFD.HUGETLB != 0 { throw .EINVAL }
        let c = t.process.credentials
        let noExec = flags & MFD.NOEXEC_SEAL != 0
        let inode = try memfdFS.root.makeUnnamed(mode: noExec ? 0o666 : 0o777, owner: (c.fsuid, c.fsgid), linkable: false)
        // Without MFD_ALLOW_SEALING the file is sealed against seals; MFD_NOEXEC_SEAL implies sealing.
        inode.seals = noExec ? Seal.exec : flags & MFD.ALLOW_SEALING != 0 ? 0 : Seal.seal
        let dentry = Dentry(detached: "/memfd:" + String(decoding: name, as: UTF8.self), inode: inode)
        let file = TmpfsFile(inode: inode, dentry: dentry, flags: O.RDWR | O.LARGEFILE)
        let p = t.process
        return .value(Int(try p.fds.install(file, closeOnExec: flags & MFD.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)))
    }

    /// The tmpfs inode whose seals F_GET_SEALS/F_ADD_SEALS change: any tmpfs file (EINVAL for others,
    /// overlay files included, as overlayfs is not shmem).
    func sealedInode(_ f: OpenFile) throws(LinuxErrno) -> TmpfsInode {
        guard let file = f as? TmpfsFile, !(file.dentry?.inode is OverlayInode) else { throw .EINVAL }
        return file.inode
    }

    /// F_ADD_SEALS (memfd_add_seals): needs a writable fd (EPERM); F_SEAL_WRITE is EBUSY while any process
    /// has a shared mapping that may write the file.
    func addSeals(_ t: Task, _ f: OpenFile, _ seals: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        let inode = try sealedInode(f)
        guard f.isWritable else { throw .EPERM }
        var seals = seals
        // F_SEAL_EXEC on an executable file implies the write seals (W^X from the start).
        if seals & Seal.exec != 0 && inode.mode & 0o111 != 0 && seals & ~Seal.all == 0 {
            seals |= Seal.shrink | Seal.grow | Seal.write | Seal.futureWrite
        }
        try inode.addSeals(seals) { writablyMapped(inode) }
        return .value(0)
    }

    /// Whether some process maps `inode` shared with VM_MAYWRITE (Linux's i_mmap_writable).
    func writablyMapped(_ inode: TmpfsInode) -> Bool {
        processes.values.contains { p in
            p.mmStorage?.vmas.vmas.contains { $0.shared && $0.mayWrite && $0.file?.memory === inode } ?? false
        }
    }

    // MARK: fallocate

    /// fallocate(2) (vfs_fallocate, then shmem_fallocate for tmpfs; a writable bind's file goes to the host).
    func fallocate(_ t: Task, _ fd: Int32, mode: Int32, offset: Int64, length: Int64) throws(LinuxErrno) -> SyscallOutcome {
        let f = try t.process.fds.get(fd)
        if f.isPathOnly { throw .EBADF }
        guard offset >= 0, length > 0 else { throw .EINVAL }
        // One operation at a time: punch hole only with KEEP_SIZE, collapse/insert/write-zeroes only without.
        switch mode & ~FALLOC.KEEP_SIZE {
        case 0, FALLOC.UNSHARE_RANGE, FALLOC.ZERO_RANGE: break
        case FALLOC.PUNCH_HOLE: guard mode & FALLOC.KEEP_SIZE != 0 else { throw .EOPNOTSUPP }
        case FALLOC.COLLAPSE_RANGE, FALLOC.INSERT_RANGE, FALLOC.WRITE_ZEROES:
            guard mode & FALLOC.KEEP_SIZE == 0 else { throw .EOPNOTSUPP }
        default: throw .EOPNOTSUPP
        }
        guard f.isWritable else { throw .EBADF }
        let type = (try? f.stat().mode & S.IFMT) ?? 0
        if type == S.IFIFO { throw .ESPIPE }
        if type == S.IFDIR { throw .EISDIR }
        guard type == S.IFREG else { throw .ENODEV }
        // The end must be a file offset (s_maxbytes is 2^63 - 1 here). FIXME: RLIMIT_FSIZE is not checked.
        guard !offset.addingReportingOverflow(length).overflow else { throw .EFBIG }
        switch f {
        case let file as TmpfsFile:
            // shmem_fallocate: allocation and hole punching only.
            switch mode {
            case 0, FALLOC.KEEP_SIZE:
                try file.inode.allocate(offset: UInt64(offset), length: UInt64(length), keepSize: mode != 0)
            case FALLOC.PUNCH_HOLE | FALLOC.KEEP_SIZE:
                try file.inode.punchHole(offset: UInt64(offset), length: UInt64(length))
            default: throw .EOPNOTSUPP
            }
        case let file as HostOpenFile where file.inode.writable:
            do { try file.host.allocate(mode: mode, offset: offset, length: length) } catch { throw LinuxErrno(host: error) }
        default:
            throw .EOPNOTSUPP
        }
        notifyFile(f, IN.MODIFY)
        return .value(0)
    }

    /// sendfile, copy_file_range, splice: what moved was read from one file (IN_ACCESS) and written to the other
    /// (IN_MODIFY).
    func notifyMoved(_ t: Task, in inFd: Int32, out outFd: Int32, _ outcome: SyscallOutcome) -> SyscallOutcome {
        guard notify.isActive, case .value(let n) = outcome, n > 0 else { return outcome }
        if let src = try? t.process.fds.get(inFd) { notifyFile(src, IN.ACCESS) }
        if let dst = try? t.process.fds.get(outFd) { notifyFile(dst, IN.MODIFY) }
        return outcome
    }

    // MARK: Moving data

    /// Whether `f` reads and writes at any offset (a regular file of tmpfs or a host tree).
    private func isPositional(_ f: OpenFile) -> Bool {
        if f is TmpfsFile { return true }
        if let h = f as? HostOpenFile { return !h.inode.isDirectory }
        return false
    }

    private func isDirectory(_ f: OpenFile) -> Bool { f.dentry?.inode.isDirectory ?? false }

    /// Moves up to `count` bytes from `src` to `dst` (splice_direct_to_actor and the splice family, one
    /// 64 KiB kernel buffer at a time). Stops at the end of the source, at a full output pipe or an empty
    /// input pipe once something moved (those throw EAGAIN when nothing did), and at an error once
    /// something moved. A pipe's bytes leave it only once written on; a file offset side advances by what
    /// was written. Returns how much moved.
    func moveData(from src: OpenFile, _ input: inout DataSide, to dst: OpenFile, _ output: inout DataSide, count: Int)
        throws(LinuxErrno) -> Int
    {
        var moved = 0
        let total = min(count, Kernel.maxMoveCount)
        while moved < total {
            var limit = min(total - moved, Kernel.moveChunk)
            if case .pipe(let end) = output {
                guard end.pipe.readers > 0 else {
                    if moved > 0 { break }
                    throw .EPIPE
                }
                let room = end.pipe.capacity - end.pipe.count
                guard room > 0 else {
                    if moved > 0 { break }
                    throw .EAGAIN
                }
                limit = min(limit, room)
            }
            var data: [UInt8]
            do throws(LinuxErrno) {
                switch input {
                case .pipe(let end):
                    if end.pipe.count == 0 {
                        if end.pipe.writers == 0 { return moved }
                        throw .EAGAIN
                    }
                    data = end.pipe.peek(limit)
                case .at(let position):
                    data = try IOSequence.reading(limit) { (io) throws(LinuxErrno) in try src.read(into: io, at: position) }
                case .stream:
                    data = try IOSequence.reading(limit) { (io) throws(LinuxErrno) in try src.read(into: io) }
                }
            } catch {
                if moved > 0 { break }
                throw error
            }
            if data.isEmpty { break }
            let n: Int
            do throws(LinuxErrno) {
                n = try IOSequence.draining(&data) { (io) throws(LinuxErrno) -> Int in
                    switch output {
                    case .pipe(let end):
                        let put = end.pipe.put(from: io, limit: end.pipe.capacity - end.pipe.count)
                        wake(end.pipe.queue)
                        return put
                    case .at(let position): return try dst.write(from: io, at: position)
                    case .stream: return try dst.write(from: io)
                    }
                }
            } catch {
                // FIXME: a stream source (a device, the console) loses what it read and could not write.
                if moved > 0 { break }
                throw error
            }
            switch input {
            case .pipe(let end):
                end.pipe.discard(n)
                wake(end.pipe.queue)
            case .at(let position): input = .at(position + Int64(n))
            case .stream: break
            }
            if case .at(let position) = output { output = .at(position + Int64(n)) }
            moved += n
            if n < data.count { break }
        }
        return moved
    }

    /// Runs a move that may wait: EAGAIN with nothing moved waits on the pipe (or file) that stopped it
    /// unless `nonblocking`; EPIPE raises SIGPIPE, as a write to the pipe would.
    func movingWaits(_ t: Task, from src: OpenFile, to dst: OpenFile, nonblocking: Bool,
                     _ body: () throws(LinuxErrno) -> Int) throws(LinuxErrno) -> SyscallOutcome
    {
        do {
            return .value(try body())
        } catch .EAGAIN {
            if nonblocking { throw .EAGAIN }
            if let out = dst as? PipeEnd, out.pipe.capacity - out.pipe.count <= 0 { return .block(out.pipe.queue) }
            guard let q = (src as? PipeEnd)?.pipe.queue ?? src.waitQueue ?? dst.writeWaitQueue else { throw .EAGAIN }
            return .block(q)
        } catch .EPIPE {
            if !signalSelf(t, 13) { return .exited }  // SIGPIPE
            throw .EPIPE
        }
    }

    /// The file offset of a positional file, where a call without an offset pointer starts.
    private func currentOffset(_ f: OpenFile) throws(LinuxErrno) -> Int64 { try f.seek(0, whence: 1) }

    /// The offset a call gave, or else the file's own.
    private func offset(_ given: Int64?, of f: OpenFile) throws(LinuxErrno) -> Int64 {
        if let given { return given }
        return try currentOffset(f)
    }

    // MARK: sendfile

    /// sendfile(2) (do_sendfile): from a file (not a pipe) to anything writable. To a pipe it moves what fits;
    /// to a file, up to `count` (an O_APPEND file is EINVAL, as do_splice_direct answers).
    func sendfile(_ t: Task, out outFd: Int32, in inFd: Int32, offset offsetAddress: GuestAddress, count: Int)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let fds = t.process.fds
        let src = try fds.get(inFd)
        guard src.isReadable else { throw .EBADF }
        var position: Int64? = nil
        if !offsetAddress.isNull {
            position = try t.mm.read(offsetAddress, as: Int64.self)
            guard isPositional(src) else { throw .ESPIPE }
        } else if isPositional(src) {
            position = try currentOffset(src)
        }
        let count = min(count, Kernel.maxIOCount)
        if let position { try Kernel.checkOffset(position, count) }
        let dst = try fds.get(outFd)
        guard dst.isWritable else { throw .EBADF }
        if src is PipeEnd || isDirectory(src) { throw .EINVAL }  // no splice_read
        var output: DataSide
        if let end = dst as? PipeEnd {
            output = .pipe(end)
        } else {
            if dst.statusFlags & O.APPEND != 0 { throw .EINVAL }
            if isPositional(dst) {
                let position = try currentOffset(dst)
                try Kernel.checkOffset(position, count)  // rw_verify_area(WRITE): its end must not pass 2^63
                output = .at(position)
            } else {
                output = .stream
            }
        }
        var input: DataSide = position.map { .at($0) } ?? .stream
        let outcome = try movingWaits(t, from: src, to: dst, nonblocking: dst.isNonblocking) { () throws(LinuxErrno) in
            count == 0 ? 0 : try moveData(from: src, &input, to: dst, &output, count: count)
        }
        if case .at(let end) = output { _ = try dst.seek(end, whence: 0) }
        if case .at(let end) = input {
            if offsetAddress.isNull { _ = try src.seek(end, whence: 0) } else { try t.mm.write(offsetAddress, end) }
        }
        return outcome
    }

    // MARK: copy_file_range

    /// A file's filesystem, for copy_file_range's same-superblock rule: the mount it was opened through
    /// (the overlay's files are one), or a memfd's tmpfs. FIXME: two binds of one host tree count as two.
    private func fileSystemIdentity(_ f: OpenFile) -> ObjectIdentifier? {
        if let m = f.dentry?.mount { return ObjectIdentifier(m) }
        if let file = f as? TmpfsFile { return ObjectIdentifier(file.inode.fs) }
        return nil
    }

    /// copy_file_range(2) (vfs_copy_file_range, generic_copy_file_checks): between regular files of one
    /// filesystem (EXDEV otherwise), from `in` at its offset to `out` at its, shortened to the end of the
    /// input; overlapping ranges of one file are EINVAL.
    func copyFileRange(_ t: Task, in inFd: Int32, _ inAddress: GuestAddress, out outFd: Int32, _ outAddress: GuestAddress,
                       count: UInt64, flags: UInt32) throws(LinuxErrno) -> SyscallOutcome
    {
        let fds = t.process.fds
        let src = try fds.get(inFd), dst = try fds.get(outFd)
        if src.isPathOnly || dst.isPathOnly { throw .EBADF }
        let inOffset: Int64? = inAddress.isNull ? nil : try t.mm.read(inAddress, as: Int64.self)
        let outOffset: Int64? = outAddress.isNull ? nil : try t.mm.read(outAddress, as: Int64.self)
        guard flags == 0 else { throw .EINVAL }
        // generic_file_rw_checks
        let inStat = try src.stat(), outStat = try dst.stat()
        if inStat.mode & S.IFMT == S.IFDIR || outStat.mode & S.IFMT == S.IFDIR { throw .EISDIR }
        guard inStat.mode & S.IFMT == S.IFREG, outStat.mode & S.IFMT == S.IFREG, isPositional(src), isPositional(dst) else {
            throw .EINVAL
        }
        guard src.isReadable, dst.isWritable, dst.statusFlags & O.APPEND == 0 else { throw .EBADF }
        guard let fsIn = fileSystemIdentity(src), fsIn == fileSystemIdentity(dst) else { throw .EXDEV }
        let posIn = try offset(inOffset, of: src), posOut = try offset(outOffset, of: dst)
        // Offsets must not wrap, as unsigned numbers (the count is the guest's whole size_t).
        var n = count
        if UInt64(bitPattern: posIn).addingReportingOverflow(n).overflow
            || UInt64(bitPattern: posOut).addingReportingOverflow(n).overflow { throw .EOVERFLOW }
        // Shortened to the end of the input, then to the largest file offset.
        let sizeIn = inStat.size
        n = UInt64(bitPattern: posIn) >= sizeIn ? 0 : min(n, sizeIn &- UInt64(bitPattern: posIn))
        if posOut >= 0, n > 0 {
            guard posOut < Int64.max else { throw .EFBIG }
            n = min(n, UInt64(Int64.max - posOut))
        }
        if FileKey(inStat) == FileKey(outStat), n > 0 {
            let (a, b) = (posIn, posOut)
            if b < a &+ Int64(n) && b &+ Int64(n) > a { throw .EINVAL }
        }
        n = min(n, UInt64(Kernel.maxIOCount))
        try Kernel.checkOffset(posIn, Int(n))
        try Kernel.checkOffset(posOut, Int(n))
        if n == 0 { return .value(0) }
        var input = DataSide.at(posIn), output = DataSide.at(posOut)
        let moved = try moveData(from: src, &input, to: dst, &output, count: min(Int(n), Kernel.maxIOCount))
        if moved > 0 {
            let (endIn, endOut) = (posIn + Int64(moved), posOut + Int64(moved))
            if inOffset != nil { try t.mm.write(inAddress, endIn) } else { _ = try src.seek(endIn, whence: 0) }
            if outOffset != nil { try t.mm.write(outAddress, endOut) } else { _ = try dst.seek(endOut, whence: 0) }
        }
        return .value(moved)
    }

    // MARK: splice, tee, vmsplice

    /// The file end of a splice: at the given offset or the file's own (seekable files), else a stream.
    private func fileSide(_ f: OpenFile, _ given: Int64?, count: Int) throws(LinuxErrno) -> DataSide {
        guard isPositional(f) else { return .stream }
        let position = try offset(given, of: f)
        try Kernel.checkOffset(position, count)
        return .at(position)
    }

    /// splice(2) (__do_splice, do_splice): one end must be a pipe; an offset goes only with the other end.
    func splice(_ t: Task, in inFd: Int32, _ inAddress: GuestAddress, out outFd: Int32, _ outAddress: GuestAddress,
                count: Int, flags: UInt32) throws(LinuxErrno) -> SyscallOutcome
    {
        if count == 0 { return .value(0) }
        guard flags & ~SPLICE_F.all == 0 else { throw .EINVAL }
        let fds = t.process.fds
        let src = try fds.get(inFd), dst = try fds.get(outFd)
        if src.isPathOnly || dst.isPathOnly { throw .EBADF }
        let inPipe = src as? PipeEnd, outPipe = dst as? PipeEnd
        if inPipe != nil && !inAddress.isNull || outPipe != nil && !outAddress.isNull { throw .ESPIPE }
        let outOffset: Int64? = outAddress.isNull ? nil : try t.mm.read(outAddress, as: Int64.self)
        let inOffset: Int64? = inAddress.isNull ? nil : try t.mm.read(inAddress, as: Int64.self)
        guard src.isReadable, dst.isWritable else { throw .EBADF }
        let count = min(count, Kernel.maxIOCount)
        var nonblocking = flags & SPLICE_F.NONBLOCK != 0
        var input: DataSide, output: DataSide
        switch (inPipe, outPipe) {
        case let (i?, o?):
            guard i.pipe !== o.pipe else { throw .EINVAL }
            nonblocking = nonblocking || i.isNonblocking || o.isNonblocking
            (input, output) = (.pipe(i), .pipe(o))
        case let (i?, nil):
            if outOffset != nil && !isPositional(dst) { throw .EINVAL }
            if dst.statusFlags & O.APPEND != 0 { throw .EINVAL }
            nonblocking = nonblocking || i.isNonblocking
            output = try fileSide(dst, outOffset, count: count)
            input = .pipe(i)
        case let (nil, o?):
            if inOffset != nil && !isPositional(src) { throw .EINVAL }
            if isDirectory(src) { throw .EINVAL }
            nonblocking = nonblocking || o.isNonblocking
            input = try fileSide(src, inOffset, count: count)
            output = .pipe(o)
        case (nil, nil):
            throw .EINVAL
        }
        let outcome = try movingWaits(t, from: src, to: dst, nonblocking: nonblocking) { () throws(LinuxErrno) in
            try moveData(from: src, &input, to: dst, &output, count: count)
        }
        guard case .value = outcome else { return outcome }
        if case .at(let end) = input {
            if inOffset != nil { try t.mm.write(inAddress, end) } else { _ = try src.seek(end, whence: 0) }
        }
        if case .at(let end) = output {
            if outOffset != nil { try t.mm.write(outAddress, end) } else { _ = try dst.seek(end, whence: 0) }
        }
        return outcome
    }

    /// tee(2): copies what one pipe holds into another, leaving it in the first.
    func tee(_ t: Task, in inFd: Int32, out outFd: Int32, count: Int, flags: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~SPLICE_F.all == 0 else { throw .EINVAL }
        if count == 0 { return .value(0) }
        let fds = t.process.fds
        let src = try fds.get(inFd), dst = try fds.get(outFd)
        guard src.isReadable, dst.isWritable else { throw .EBADF }
        guard let i = src as? PipeEnd, let o = dst as? PipeEnd, i.pipe !== o.pipe else { throw .EINVAL }
        let nonblocking = flags & SPLICE_F.NONBLOCK != 0 || i.isNonblocking || o.isNonblocking
        return try movingWaits(t, from: src, to: dst, nonblocking: nonblocking) { () throws(LinuxErrno) -> Int in
            if i.pipe.count == 0 {
                if i.pipe.writers == 0 { return 0 }
                throw .EAGAIN
            }
            guard o.pipe.readers > 0 else { throw .EPIPE }
            let room = o.pipe.capacity - o.pipe.count
            guard room > 0 else { throw .EAGAIN }
            var data = i.pipe.peek(min(count, room))
            let n = try IOSequence.draining(&data) { (io) throws(LinuxErrno) -> Int in o.pipe.put(from: io, limit: room) }
            wake(o.pipe.queue)
            return n
        }
    }

    /// vmsplice(2): user memory into a pipe (a write end) or out of one (a read end), copied as write and
    /// read would, with splice's SPLICE_F_NONBLOCK.
    func vmsplice(_ t: Task, _ fd: Int32, _ iov: GuestAddress, segments: UInt64, flags: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~SPLICE_F.all == 0 else { throw .EINVAL }
        let f = try t.process.fds.get(fd)
        if f.isPathOnly { throw .EBADF }
        let toPipe = f.isWritable
        guard toPipe || f.isReadable else { throw .EBADF }
        guard segments <= 1024 else { throw .EINVAL }
        // import_iovec: the array is read (EFAULT, EINVAL) before the fd must be a pipe; the memory it
        // names is looked at only when copied.
        var pieces: [(GuestAddress, Int)] = []
        var total = 0
        for i in 0..<Int(segments) {
            let v = try t.mm.read(iov.advanced(by: MemoryLayout<linux_iovec>.stride * i), as: linux_iovec.self)
            let len = Int64(bitPattern: v.iov_len)
            guard len >= 0 else { throw .EINVAL }
            let n = min(Int(len), Kernel.maxIOCount - total)
            total += n
            pieces.append((GuestAddress(v.iov_base), n))
        }
        if total == 0 { return .value(0) }
        guard let end = f as? PipeEnd else { throw .EBADF }
        var parts: [IOSequence] = []
        for (base, n) in pieces { parts.append(try t.mm.ioSequence(base, n, write: !toPipe)) }
        let io = IOSequence(concatenating: parts)
        let nonblocking = flags & SPLICE_F.NONBLOCK != 0 || end.isNonblocking
        return try movingWaits(t, from: end, to: end, nonblocking: nonblocking) { () throws(LinuxErrno) -> Int in
            if toPipe {
                guard end.pipe.readers > 0 else { throw .EPIPE }
                let room = end.pipe.capacity - end.pipe.count
                guard room > 0 else { throw .EAGAIN }
                let n = end.pipe.put(from: io, limit: room)
                wake(end.pipe.queue)
                return n
            }
            return try end.read(into: io)
        }
    }
}
