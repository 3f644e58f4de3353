import UmkHost

// ProcFS.swift: the guest's /proc, as far as programs need it today (fs/proc/): `self`, `meminfo`, `cpuinfo`,
// `sys/vm/overcommit_*`, and for each guest process `exe`, `cwd`, `root`, `cmdline`, `comm` and `fd/N`. It is
// mounted over the root's `proc` by the path walk, so the host's own /proc never shows through. `fd/N` are
// magic links, as on Linux: following one reaches the open file itself (a pipe, the console, a file), not a
// path string.
// FIXME: the rest of procfs (stat, status, maps, ...) is the procfs issue.

/// A symlink whose target is an object, not a path (fs/proc/base.c proc_pid_get_link).
protocol MagicLink: Inode {
    func follow() throws(LinuxErrno) -> Dentry
}

/// One procfs node: a directory of named children, a symlink, or a read-only file with generated content.
final class ProcInode: Inode {
    enum Content {
        case directory(() -> [(String, ProcInode)])
        case symlink(() -> [UInt8])
        case file(() -> [UInt8])
    }

    let content: Content
    let ino: UInt64
    let magic: (() throws(LinuxErrno) -> Dentry)?
    var isReadOnly: Bool { true }

    init(_ content: Content, ino: UInt64, magic: (() throws(LinuxErrno) -> Dentry)? = nil) {
        self.content = content
        self.ino = ino
        self.magic = magic
    }

    var fileType: UInt16 {
        switch content {
        case .directory: return S.IFDIR
        case .symlink: return S.IFLNK
        case .file: return S.IFREG
        }
    }

    func stat() throws(LinuxErrno) -> FileStat {
        var s = FileStat()
        switch content {
        case .directory: (s.mode, s.nlink) = (S.IFDIR | 0o555, 2)
        case .symlink: (s.mode, s.nlink) = (S.IFLNK | 0o777, 1)
        case .file: (s.mode, s.nlink) = (S.IFREG | 0o444, 1)
        }
        s.ino = ino
        s.blksize = 1024
        s.devMinor = 22  // proc's anonymous device
        return s
    }

    func lookup(_ name: String) throws(LinuxErrno) -> Inode {
        guard case .directory(let children) = content else { throw .ENOTDIR }
        guard let child = children().first(where: { $0.0 == name }) else { throw .ENOENT }
        return child.1
    }

    func readLink() throws(LinuxErrno) -> [UInt8] {
        guard case .symlink(let target) = content else { throw .EINVAL }
        return target()
    }

    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        if flags & O.accessMode != O.RDONLY { throw .EACCES }
        switch content {
        case .directory(let children):
            let entries = children().map { ($0.0, $0.1.ino, $0.1.fileType) }
            return SyntheticDirectoryFile(entries: [(".", ino, S.IFDIR), ("..", 1, S.IFDIR)] + entries, inode: self,
                                          dentry: dentry, flags: flags)
        case .file(let bytes):
            return SyntheticFile(bytes: bytes(), inode: self, dentry: dentry, flags: flags)
        case .symlink:
            throw .ELOOP
        }
    }
}

extension ProcInode: MagicLink {
    func follow() throws(LinuxErrno) -> Dentry {
        guard let magic else { throw .EINVAL }
        return try magic()
    }
}

extension Kernel {
    /// /proc as `caller` sees it.
    func procRoot(for caller: Process) -> ProcInode {
        ProcInode(.directory { [unowned self] in
            var entries: [(String, ProcInode)] = [("self", ProcInode(.symlink { Array("\(caller.pid)".utf8) }, ino: 2)),
                                                  ("meminfo", ProcInode(.file { self.meminfo() }, ino: 3)),
                                                  ("cpuinfo", ProcInode(.file { self.cpuinfo() }, ino: 8)),
                                                  ("sys", self.procSysDirectory()),
                                                  ("mounts", ProcInode(.symlink { Array("self/mounts".utf8) }, ino: 9))]
            for pid in self.processes.keys.sorted() {
                guard let p = self.processes[pid], p.exitStatus == nil else { continue }
                entries.append(("\(pid)", self.procPidDirectory(p)))
            }
            return entries
        }, ino: 1)
    }

    /// /proc/meminfo (fs/proc/meminfo.c), the lines free(1) and top read, in kB. No swap, no huge pages.
    private func meminfo() -> [UInt8] {
        let kB = { (pages: Int) in pages * 4 }
        let total = frames.totalFrames, free = frames.freeFrames, cached = pageCache.count
        let limit = frames.commitLimit
        let lines: [(String, Int)] = [
            ("MemTotal", kB(total)), ("MemFree", kB(free)), ("MemAvailable", kB(free + cached)), ("Buffers", 0),
            ("Cached", kB(cached)), ("SwapCached", 0), ("SwapTotal", 0), ("SwapFree", 0), ("Shmem", 0),
            ("SReclaimable", 0), ("CommitLimit", kB(limit)), ("Committed_AS", kB(frames.committed)),
        ]
        return Array(lines.map { name, value in
            let label = name + ":"
            let number = "\(value)"
            return label + String(repeating: " ", count: max(1, 16 - label.count + 8 - number.count)) + number + " kB\n"
        }.joined().utf8)
    }

    /// /proc/sys/vm: the overcommit policy the instance was booted with (read-only for now).
    private func procSysDirectory() -> ProcInode {
        let policy = frames.overcommit
        let (mode, ratio): (Int, Int)
        switch policy {
        case .heuristic: (mode, ratio) = (0, 50)
        case .always: (mode, ratio) = (1, 50)
        case .never(let r): (mode, ratio) = (2, r)
        }
        let vm = ProcInode(.directory {
            [("overcommit_memory", ProcInode(.file { Array("\(mode)\n".utf8) }, ino: 6)),
             ("overcommit_ratio", ProcInode(.file { Array("\(ratio)\n".utf8) }, ino: 7))]
        }, ino: 5)
        return ProcInode(.directory { [("vm", vm)] }, ino: 4)
    }

    private func procPidDirectory(_ p: Process) -> ProcInode {
        let base = UInt64(p.pid) << 16
        return ProcInode(.directory { [unowned self] in
            [
                ("exe", ProcInode(.symlink { Array(p.executablePath.utf8) }, ino: base + 1)),
                ("cwd", ProcInode(.symlink { Array(p.cwd.path.utf8) }, ino: base + 2)),
                ("root", ProcInode(.symlink { Array("/".utf8) }, ino: base + 3)),
                ("comm", ProcInode(.file { p.name + [0x0a] }, ino: base + 4)),
                ("cmdline", ProcInode(.file { p.commandLine }, ino: base + 5)),
                ("fd", self.procFdDirectory(p, base: base)),
                ("mounts", ProcInode(.file { self.mountsText(for: p) }, ino: base + 7)),
                ("mountinfo", ProcInode(.file { self.mountInfoText(for: p) }, ino: base + 8)),
            ]
        }, ino: base)
    }

    private func procFdDirectory(_ p: Process, base: UInt64) -> ProcInode {
        ProcInode(.directory {
            p.fds.entries.indices.compactMap { fd -> (String, ProcInode)? in
                guard let file = p.fds.entries[fd]?.file else { return nil }
                return ("\(fd)", ProcInode(.symlink { Array(file.procLinkName.utf8) }, ino: base + 0x100 + UInt64(fd),
                                          magic: { () throws(LinuxErrno) -> Dentry in try file.reopenTarget() }))
            }
        }, ino: base + 6)
    }
}

/// The inode behind a pipe end, for reopening through /proc/PID/fd (a FIFO-like open of the same pipe).
final class PipeInode: Inode {
    let pipe: Pipe
    init(pipe: Pipe) { self.pipe = pipe }
    var fileType: UInt16 { S.IFIFO }
    var isReadOnly: Bool { false }
    func stat() throws(LinuxErrno) -> FileStat { try PipeEnd(pipe: pipe, writer: false, flags: 0).stat() }
    func lookup(_ name: String) throws(LinuxErrno) -> Inode { throw .ENOTDIR }
    func readLink() throws(LinuxErrno) -> [UInt8] { throw .EINVAL }
    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        PipeEnd(pipe: pipe, writer: flags & O.accessMode != O.RDONLY, flags: flags)
    }
}

/// The console's inode, for reopening it through /proc/PID/fd.
final class ConsoleInode: Inode {
    let host: HostFile
    let queue: WaitQueue
    let output: ConsoleOutput?
    init(host: HostFile, queue: WaitQueue, output: ConsoleOutput?) {
        self.host = host
        self.queue = queue
        self.output = output
    }
    var fileType: UInt16 { S.IFCHR }
    var isReadOnly: Bool { false }
    func stat() throws(LinuxErrno) -> FileStat { try ConsoleFile(host: host, queue: queue, output: nil).stat() }
    func lookup(_ name: String) throws(LinuxErrno) -> Inode { throw .ENOTDIR }
    func readLink() throws(LinuxErrno) -> [UInt8] { throw .EINVAL }
    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        ConsoleFile(host: host, queue: queue, output: output)
    }
}

/// A read-only file whose bytes are made when it is opened (procfs files).
final class SyntheticFile: OpenFile {
    let bytes: [UInt8]
    let inode: Inode
    private var offset = 0

    init(bytes: [UInt8], inode: Inode, dentry: Dentry, flags: Int32) {
        self.bytes = bytes
        self.inode = inode
        super.init(flags: flags, dentry: dentry)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        let n = try read(into: io, at: Int64(offset))
        offset += n
        return n
    }

    override func read(into io: IOSequence, at position: Int64) throws(LinuxErrno) -> Int {
        let at = Int(clamping: position)
        guard at < bytes.count else { return 0 }
        return io.copyOut(bytes[at...])
    }

    override func write(from io: IOSequence) throws(LinuxErrno) -> Int { throw .EBADF }

    override func seek(_ off: Int64, whence: Int32) throws(LinuxErrno) -> Int64 {
        let base: Int64 = whence == 0 ? 0 : whence == 1 ? Int64(offset) : whence == 2 ? Int64(bytes.count) : -1
        let (to, o) = base.addingReportingOverflow(off)
        guard base >= 0, !o, to >= 0 else { throw .EINVAL }
        offset = Int(to)
        return Int64(offset)
    }

    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }
}

/// A directory listing made when it is opened, read with getdents64 (procfs directories).
final class SyntheticDirectoryFile: OpenFile {
    let entries: [(String, UInt64, UInt16)]
    let inode: Inode
    private var position = 0

    init(entries: [(String, UInt64, UInt16)], inode: Inode, dentry: Dentry, flags: Int32) {
        self.entries = entries
        self.inode = inode
        super.init(flags: flags, dentry: dentry)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int { throw .EISDIR }
    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }

    override func seek(_ off: Int64, whence: Int32) throws(LinuxErrno) -> Int64 {
        guard whence == 0, off >= 0 else { throw .EINVAL }
        position = Int(off)
        return off
    }

    /// linux_dirent64 records: ino, next offset, record length, type, NUL-terminated name, 8-byte aligned.
    override func readDirectory(limit: Int) throws(LinuxErrno) -> [UInt8] {
        var out: [UInt8] = []
        while position < entries.count {
            let (name, ino, type) = entries[position]
            let r = DirectoryEntry(ino: ino, fileType: type, name: name).record(next: Int64(position + 1))
            if out.count + r.count > limit {
                if out.isEmpty { throw .EINVAL }
                break
            }
            out += r
            position += 1
        }
        return out
    }
}
