import UmkHost

// ProcFS.swift: the guest's /proc (fs/proc/): its nodes, the root directory, and the open files that read
// them. It is mounted at /proc (MountSetup.swift), so the host's own /proc never shows through:
// every value is the instance's (its memory, its CPUs, its uptime, its processes and guest pids). Files are
// generated when they are opened, from the kernel's state at that moment, as Linux's seq_files are on the
// first read. The per-process files are ProcPid.swift and ProcMaps.swift, the system-wide ones ProcSystem.swift.
// `fd/N` are magic links, as on Linux: following one reaches the open file itself (a pipe, the console, a
// file), not a path string.
// `mounts` and `mountinfo` are the mount table's (MountSetup.swift), as the process sees it from its root.

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
    /// What a write to a writable file does (comm): it gets each write(2)'s bytes.
    let writer: (([UInt8]) throws(LinuxErrno) -> Void)?
    var isReadOnly: Bool { writer == nil }
    /// A directory's names that a lookup finds but a listing does not show (/proc/TID of a thread).
    var hidden: ((String) -> ProcInode?)? = nil

    init(_ content: Content, ino: UInt64, magic: (() throws(LinuxErrno) -> Dentry)? = nil,
         writer: (([UInt8]) throws(LinuxErrno) -> Void)? = nil) {
        self.content = content
        self.ino = ino
        self.magic = magic
        self.writer = writer
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
        case .file: (s.mode, s.nlink) = (S.IFREG | (writer == nil ? 0o444 : 0o644), 1)
        }
        s.ino = ino
        s.blksize = 1024
        s.devMinor = 22  // proc's anonymous device
        return s
    }

    func lookup(_ name: String) throws(LinuxErrno) -> Inode {
        guard case .directory(let children) = content else { throw .ENOTDIR }
        guard let child = children().first(where: { $0.0 == name }) else {
            if let found = hidden?(name) { return found }
            throw .ENOENT
        }
        return child.1
    }

    func readLink() throws(LinuxErrno) -> [UInt8] {
        guard case .symlink(let target) = content else { throw .EINVAL }
        return target()
    }

    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        if flags & O.accessMode != O.RDONLY {
            guard let writer, case .file = content else { throw .EACCES }
            return SyntheticFile(bytes: [], inode: self, dentry: dentry, flags: flags, writer: writer)
        }
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
    /// /proc as `caller` sees it: the system-wide files (ProcSystem.swift), `self` and `thread-self`, and a
    /// directory for each guest process, zombies included (ProcPid.swift).
    func procRoot(for caller: Process) -> ProcInode {
        let root = ProcInode(.directory { [unowned self] in
            let tid = self.current?.process === caller ? self.current!.tid : caller.tasks.first?.tid ?? caller.pid
            var entries: [(String, ProcInode)] = [
                ("self", ProcInode(.symlink { Array("\(caller.pid)".utf8) }, ino: ProcIno.`self`)),
                ("thread-self", ProcInode(.symlink { Array("\(caller.pid)/task/\(tid)".utf8) }, ino: ProcIno.threadSelf)),
            ]
            entries += self.procSystemEntries()
            for pid in self.processes.keys.sorted() {
                guard let p = self.processes[pid] else { continue }
                entries.append(("\(pid)", self.procPidDirectory(p)))
            }
            return entries
        }, ino: ProcIno.root)
        // /proc/TID of a thread that is not its process's leader, as Linux's proc_pid_lookup finds any task.
        root.hidden = { [unowned self] name in
            guard let tid = Int32(name), String(tid) == name, let t = self.threads[tid], t.process.pid != tid,
                  self.processes[t.process.pid] === t.process else { return nil }
            return self.procPidDirectory(t.process, thread: t)
        }
        return root
    }
}

/// Inode numbers in /proc: stable for as long as what they name exists, and distinct. The system-wide files
/// take small fixed numbers; each process has a range of its own from its pid (`pid(_:)`), in which its
/// files, its fd and fdinfo entries and its task/ directories take fixed offsets.
enum ProcIno {
    static let root: UInt64 = 1, `self`: UInt64 = 2, threadSelf: UInt64 = 3
    /// The system-wide files and directories (ProcSystem.swift) number from here.
    static let system: UInt64 = 0x100
    /// A process's range: far above sysfs's numbers (SysFS.swift) and the system files.
    static func pid(_ pid: Int32) -> UInt64 { 1 << 54 | UInt64(UInt32(bitPattern: pid)) << 24 }
    /// Offsets in a process's range: its files (below 0x100), fd/N and fdinfo/N (fds are below nr_open,
    /// 2^20), and the copy of the directory that task/TID shows.
    static let fd: UInt64 = 0x10_0000, fdinfo: UInt64 = 0x20_0000, task: UInt64 = 0x80_0000
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
    private let writer: (([UInt8]) throws(LinuxErrno) -> Void)?

    init(bytes: [UInt8], inode: Inode, dentry: Dentry, flags: Int32,
         writer: (([UInt8]) throws(LinuxErrno) -> Void)? = nil) {
        self.bytes = bytes
        self.inode = inode
        self.writer = writer
        super.init(flags: flags, dentry: dentry)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        let n = try read(into: io, at: Int64(offset))
        offset += n
        return n
    }

    override func read(into io: IOSequence, at position: Int64) throws(LinuxErrno) -> Int {
        let at = Int(clamping: position)
        guard at >= 0 else { throw .EINVAL }
        guard at < bytes.count else { return 0 }
        return io.copyOut(bytes[at...])
    }

    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        guard let writer else { throw .EBADF }
        let data = io.copyIn(limit: 4096)
        try writer(data)
        return data.count
    }

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
