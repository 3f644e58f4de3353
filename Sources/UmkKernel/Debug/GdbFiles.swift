// GdbFiles.swift: gdb's host I/O (vFile packets, gdb/doc "Host I/O Packets"), served from the guest's VFS as
// the debugged process sees it (its root, its cwd, its credentials), never from the host's: gdb reads the
// program and its shared libraries this way when its sysroot is `target:` (the default for a remote target).
// Read-only: regular files can be opened, read and stat'ed; anything that would change the guest is EROFS.
// Replies are `F<result>[,<errno>][;<data>]`, numbers in hex, errnos in gdb's File-I/O numbering.

extension GdbStub {
    func handleFile(_ p: [UInt8]) {
        guard let colon = p.firstIndex(of: UInt8(ascii: ":")) else { return send("") }
        let verb = String(decoding: p[..<colon], as: UTF8.self)
        let args = p[(colon + 1)...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        do throws(LinuxErrno) {
            switch verb {
            case "setfs":
                send("F0")  // the target process's view, whatever pid gdb names
            case "open":
                guard args.count >= 2, let path = GdbHex.decode(args[0]), let flags = GdbHex.number(args[1]) else {
                    throw .EINVAL
                }
                guard flags & 0xe03 == 0 else { throw .EROFS }  // O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_EXCL
                let fd = try open(path)
                send("F" + GdbHex.text(UInt64(fd)))
            case "close":
                guard let n = args.first.flatMap({ GdbHex.number($0) }), let fd = Int32(exactly: n),
                      let f = files.removeValue(forKey: fd) else { throw .EBADF }
                f.released()
                send("F0")
            case "pread":
                guard args.count == 3, let n = GdbHex.number(args[0]), let fd = Int32(exactly: n),
                      let count = GdbHex.number(args[1]), let offset = GdbHex.number(args[2]),
                      offset <= UInt64(Int64.max) else { throw .EINVAL }
                guard let f = files[fd] else { throw .EBADF }
                let wanted = Int(min(count, UInt64(GdbStub.packetSize / 2)))
                let bytes = try IOSequence.reading(wanted) { (io) throws(LinuxErrno) in
                    try f.read(into: io, at: Int64(offset))
                }
                send(Array("F\(GdbHex.text(UInt64(bytes.count)));".utf8) + GdbBinary.escape(bytes))
            case "fstat":
                guard let n = args.first.flatMap({ GdbHex.number($0) }), let fd = Int32(exactly: n) else { throw .EINVAL }
                guard let f = files[fd] else { throw .EBADF }
                let st = try f.stat()
                let bytes = GdbFiles.fileioStat(st)
                send(Array("F\(GdbHex.text(UInt64(bytes.count)));".utf8) + GdbBinary.escape(bytes))
            case "readlink":
                guard let path = args.first.flatMap({ GdbHex.decode($0) }) else { throw .EINVAL }
                let d = try target.pathWalk.resolve(path, from: start(path), followFinal: false)
                let link = try d.inode.readLink()
                send(Array("F\(GdbHex.text(UInt64(link.count)));".utf8) + GdbBinary.escape(link))
            case "pwrite", "unlink":
                throw .EROFS
            default:
                send("")
            }
        } catch {
            send("F-1," + GdbHex.text(UInt64(GdbFiles.fileioErrno(error))))
        }
    }

    /// Opens a regular file of the guest for reading, as the target process would; its number for gdb.
    private func open(_ path: [UInt8]) throws(LinuxErrno) -> Int32 {
        guard files.count < 64 else { throw .EMFILE }
        let d = try target.pathWalk.resolve(path, from: start(path), followFinal: true)
        guard d.inode.fileType == S.IFREG else { throw d.inode.isDirectory ? .EISDIR : .EACCES }
        let st = try d.inode.stat()
        guard target.credentials.permits(st, .read) else { throw .EACCES }
        let f = try d.inode.open(flags: O.RDONLY, dentry: d)
        while files[nextFile] != nil { nextFile = nextFile >= 1 << 20 ? 3 : nextFile + 1 }
        files[nextFile] = f
        return nextFile
    }

    private func start(_ path: [UInt8]) -> Dentry {
        path.first == UInt8(ascii: "/") ? target.root : target.cwd
    }
}

enum GdbFiles {
    /// gdb's struct stat for File-I/O: big-endian, 32-bit fields but for size, blksize and blocks.
    static func fileioStat(_ st: FileStat) -> [UInt8] {
        var out: [UInt8] = []
        func put(_ v: UInt64, _ size: Int) {
            for i in stride(from: size - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
        }
        put(UInt64(st.devMajor << 8 | st.devMinor), 4)
        put(st.ino, 4)
        put(UInt64(st.mode), 4)
        put(UInt64(st.nlink), 4)
        put(UInt64(st.uid), 4)
        put(UInt64(st.gid), 4)
        put(UInt64(st.rdevMajor << 8 | st.rdevMinor), 4)
        put(st.size, 8)
        put(UInt64(st.blksize), 8)
        put(st.blocks, 8)
        put(UInt64(truncatingIfNeeded: st.atime.0), 4)
        put(UInt64(truncatingIfNeeded: st.mtime.0), 4)
        put(UInt64(truncatingIfNeeded: st.ctime.0), 4)
        return out
    }

    /// gdb's File-I/O errno numbers: Linux's for the ones it knows, but ENAMETOOLONG; EUNKNOWN otherwise.
    static func fileioErrno(_ e: LinuxErrno) -> Int32 {
        let known: Set<Int32> = [1, 2, 4, 9, 13, 14, 16, 17, 19, 20, 21, 22, 23, 24, 27, 28, 29, 30]
        if e == .ENAMETOOLONG { return 91 }
        return known.contains(e.rawValue) ? e.rawValue : 9999
    }
}
