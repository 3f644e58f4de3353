import UmkHost

// Pipe.swift: pipes (fs/pipe.c): a 64 KiB buffer in the kernel between a read end and a write end. An empty
// pipe's reader and a full pipe's writer get EAGAIN here; the system call layer turns that into a wait on
// the pipe's queue unless the end is O_NONBLOCK. Writes of up to PIPE_BUF bytes are atomic. The ends count
// themselves: when the last writer goes, readers see end of file; when the last reader goes, writers get
// EPIPE (and SIGPIPE).
final class Pipe {
    static let atomicSize = 4096  // PIPE_BUF
    static let defaultCapacity = 65536
    static let maxCapacity = 1 << 20  // /proc/sys/fs/pipe-max-size

    unowned let kernel: Kernel
    private(set) var buffer: [UInt8] = []
    private var head = 0
    var capacity = Pipe.defaultCapacity
    var readers = 0
    var writers = 0
    /// Opens of each end so far: an opener of a FIFO waits for the other side's count to move
    /// (wait_for_partner), so that a partner who came and went already still lets it through.
    var readerOpens = 0
    var writerOpens = 0
    /// A FIFO's pipe, by its inode: dropped from the kernel's table when its last end closes.
    var fifoKey: FileKey? = nil
    let queue = WaitQueue()
    let inode: UInt64
    let owner: (UInt32, UInt32)

    init(kernel: Kernel, owner: Credentials) {
        self.kernel = kernel
        self.owner = (owner.euid, owner.egid)
        inode = kernel.numbers.next(\.pipeInode)
    }

    var count: Int { buffer.count - head }

    func take(into io: IOSequence) -> Int {
        let done = io.copyOut(buffer[head...])
        head += done
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 16384 {
            buffer.removeFirst(head)
            head = 0
        }
        return done
    }

    func put(from io: IOSequence, limit: Int) -> Int { io.append(to: &buffer, limit: limit) }

    /// The first `limit` bytes held, left in the pipe (splice and tee take them only once written on).
    func peek(_ limit: Int) -> [UInt8] { Array(buffer[head..<(head + min(max(limit, 0), count))]) }

    /// Drops the first `n` bytes held (splice, after writing them on).
    func discard(_ n: Int) {
        head += min(max(n, 0), count)
        if head == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}

final class PipeEnd: OpenFile {
    let pipe: Pipe
    /// A FIFO opened O_RDWR is both ends at once.
    let isReader: Bool
    let isWriter: Bool

    init(pipe: Pipe, writer: Bool, flags: Int32) {
        self.pipe = pipe
        isWriter = writer
        isReader = !writer
        if writer { pipe.writers += 1 } else { pipe.readers += 1 }
        super.init(flags: (writer ? O.WRONLY : O.RDONLY) | (flags & O.NONBLOCK), dentry: nil)
    }

    /// An end of a FIFO, opened through its name: `dentry` is the FIFO's.
    init(fifo pipe: Pipe, reader: Bool, writer: Bool, flags: Int32, dentry: Dentry) {
        self.pipe = pipe
        isReader = reader
        isWriter = writer
        if reader { pipe.readers += 1; pipe.readerOpens += 1 }
        if writer { pipe.writers += 1; pipe.writerOpens += 1 }
        super.init(flags: flags, dentry: dentry)
        pipe.kernel.wake(pipe.queue)
    }

    deinit {
        if isWriter { pipe.writers -= 1 }
        if isReader { pipe.readers -= 1 }
        if let key = pipe.fifoKey, pipe.readers == 0, pipe.writers == 0 { pipe.kernel.namedPipes[key] = nil }
        pipe.kernel.wake(pipe.queue)
    }

    override var waitQueue: WaitQueue? { pipe.queue }
    override var procLinkName: String { dentry?.path ?? "pipe:[\(pipe.inode)]" }
    override func reopenTarget() throws(LinuxErrno) -> Dentry {
        if let dentry { return dentry }
        return Dentry(detached: procLinkName, inode: PipeInode(pipe: pipe))
    }

    override func readyEvents() -> Int16 {
        var ev: Int16 = 0
        if isWriter {
            if pipe.readers == 0 {
                ev |= POLL.OUT | POLL.WRNORM | POLL.ERR
            } else if pipe.capacity - pipe.count >= Pipe.atomicSize {
                ev |= POLL.OUT | POLL.WRNORM
            }
        }
        if isReader {
            if pipe.count > 0 { ev |= POLL.IN | POLL.RDNORM }
            if pipe.writers == 0 && pipe.writerOpens > 0 || pipe.fifoKey == nil && pipe.writers == 0 { ev |= POLL.HUP }
        }
        return ev
    }
    override var writesCompletely: Bool { true }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        if pipe.count == 0 {
            if pipe.writers == 0 { return 0 }
            throw .EAGAIN
        }
        // pipe_read wakes writers with POLLOUT, and epoll hears of it only when the pipe was full (not
        // writable) before: an edge-triggered EPOLLOUT entry is not re-armed by every read.
        let wasFull = pipe.capacity - pipe.count < Pipe.atomicSize
        let n = pipe.take(into: io)
        pipe.kernel.wake(pipe.queue, events: POLL.OUT | POLL.WRNORM, watchers: wasFull)
        return n
    }

    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        guard pipe.readers > 0 else { throw .EPIPE }
        let total = io.count
        let room = pipe.capacity - pipe.count
        if room == 0 || (total <= Pipe.atomicSize && room < total) { throw .EAGAIN }
        let n = pipe.put(from: io, limit: room)
        pipe.kernel.wake(pipe.queue, events: POLL.IN | POLL.RDNORM)
        return n
    }

    override func stat() throws(LinuxErrno) -> FileStat {
        if let dentry { return try dentry.inode.stat() }
        var s = FileStat()
        s.mode = S.IFIFO | 0o600
        s.nlink = 1
        s.ino = pipe.inode
        s.uid = pipe.owner.0
        s.gid = pipe.owner.1
        s.blksize = 4096
        s.devMinor = 14  // pipefs
        return s
    }

    override func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer?) throws(LinuxErrno) -> Int {
        guard request == 0x541b, let arg else { throw .ENOTTY }  // FIONREAD
        arg.storeBytes(of: Int32(pipe.count), as: Int32.self)
        return 0
    }
}

extension SyscallTable {
    mutating func addPipeCalls() {
        add(22, [.fdPair]) { k, t, a throws(LinuxErrno) in try k.makePipe(t, a.address(0), flags: 0) }
        add(293, [.fdPair, .cloexec("O")], .partial("O_DIRECT packet mode is a byte stream")) { k, t, a throws(LinuxErrno) in
            try k.makePipe(t, a.address(0), flags: a.int(1))
        }
    }
}

extension Kernel {
    func makePipe(_ t: Task, _ fds: GuestAddress, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~(O.CLOEXEC | O.NONBLOCK | O.DIRECT) == 0 else { throw .EINVAL }
        let pipe = Pipe(kernel: self, owner: t.process.credentials)
        return try installPair(t, PipeEnd(pipe: pipe, writer: false, flags: flags),
                               PipeEnd(pipe: pipe, writer: true, flags: flags), closeOnExec: flags & O.CLOEXEC != 0, at: fds)
    }

    /// Installs two new files as fds and writes them to `at` as `int[2]` (pipe2, socketpair); if either step
    /// fails, neither fd stays.
    func installPair(_ t: Task, _ first: OpenFile, _ second: OpenFile, closeOnExec: Bool, at address: GuestAddress)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let fds = t.process.fds
        let limit = t.process.limits[RLIMIT.NOFILE].soft
        let x = try fds.install(first, closeOnExec: closeOnExec, limit: limit)
        do throws(LinuxErrno) {
            let y = try fds.install(second, closeOnExec: closeOnExec, limit: limit)
            do throws(LinuxErrno) {
                try t.mm.write(address, (x, y))
            } catch {
                try? fds.close(y)
                throw error
            }
        } catch {
            try? fds.close(x)
            throw error
        }
        return .value(0)
    }
}

extension Process {
    /// A pipe whose capacity grew may take a waiting writer's data now.
    func kernelWake(_ pipe: Pipe) { pipe.kernel.wake(pipe.queue) }
}

extension Kernel {
    /// open(2) of a FIFO (fs/pipe.c fifo_open): the pipe its inode names, shared by every opener. A reader
    /// waits for a writer and a writer for a reader unless O_NONBLOCK (a lone non-blocking writer is ENXIO);
    /// O_RDWR never waits. The waiting opener already counts as its end, kept in the task across the
    /// wait, so that two openers waiting for each other both go through.
    func openFifo(_ t: Task, _ inode: Inode, _ dentry: Dentry, flags: Int32) throws(LinuxErrno) -> PipeEnd {
        let key = FileKey(try inode.stat())
        if let (end, partnerOpens) = t.fifoOpen, end.pipe.fifoKey == key {
            let moved = end.isReader ? end.pipe.writerOpens != partnerOpens : end.pipe.readerOpens != partnerOpens
            if moved { t.fifoOpen = nil; return end }
            throw .EAGAIN
        }
        t.fifoOpen = nil
        let pipe: Pipe
        if let existing = namedPipes[key] {
            pipe = existing
        } else {
            pipe = Pipe(kernel: self, owner: t.process.credentials)
            pipe.fifoKey = key
            namedPipes[key] = pipe
        }
        let access = flags & O.accessMode
        let nonblocking = flags & O.NONBLOCK != 0
        if access == O.WRONLY && nonblocking && pipe.readers == 0 {
            if pipe.writers == 0 { namedPipes[key] = nil }
            throw .ENXIO
        }
        let end = PipeEnd(fifo: pipe, reader: access != O.WRONLY, writer: access != O.RDONLY,
                          flags: flags & ~(O.CREAT | O.EXCL | O.TRUNC | O.NOCTTY | O.CLOEXEC), dentry: dentry)
        if access == O.RDWR || nonblocking { return end }
        if access == O.RDONLY && pipe.writers == 0 {
            t.fifoOpen = (end, pipe.writerOpens)
            throw .EAGAIN
        }
        if access == O.WRONLY && pipe.readers == 0 {
            t.fifoOpen = (end, pipe.readerOpens)
            throw .EAGAIN
        }
        return end
    }
}
