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
    let queue = WaitQueue()
    let inode: UInt64
    let owner: (UInt32, UInt32)

    private static var nextInode: UInt64 = 1

    init(kernel: Kernel, owner: Credentials) {
        self.kernel = kernel
        self.owner = (owner.euid, owner.egid)
        inode = Pipe.nextInode
        Pipe.nextInode += 1
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
}

final class PipeEnd: OpenFile {
    let pipe: Pipe
    let isWriter: Bool

    init(pipe: Pipe, writer: Bool, flags: Int32) {
        self.pipe = pipe
        isWriter = writer
        if writer { pipe.writers += 1 } else { pipe.readers += 1 }
        super.init(flags: (writer ? O.WRONLY : O.RDONLY) | (flags & O.NONBLOCK), dentry: nil)
    }

    deinit {
        if isWriter { pipe.writers -= 1 } else { pipe.readers -= 1 }
        pipe.kernel.wake(pipe.queue)
    }

    override var waitQueue: WaitQueue? { pipe.queue }
    override var procLinkName: String { "pipe:[\(pipe.inode)]" }
    override func reopenTarget() throws(LinuxErrno) -> Dentry {
        Dentry(detached: procLinkName, inode: PipeInode(pipe: pipe))
    }

    override func readyEvents() -> Int16 {
        if isWriter {
            if pipe.readers == 0 { return POLL.OUT | POLL.WRNORM | POLL.ERR }
            return pipe.capacity - pipe.count >= Pipe.atomicSize ? POLL.OUT | POLL.WRNORM : 0
        }
        var ev: Int16 = pipe.count > 0 ? POLL.IN | POLL.RDNORM : 0
        if pipe.writers == 0 { ev |= POLL.HUP }
        return ev
    }
    override var writesCompletely: Bool { true }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        if pipe.count == 0 {
            if pipe.writers == 0 { return 0 }
            throw .EAGAIN
        }
        let n = pipe.take(into: io)
        pipe.kernel.wake(pipe.queue)
        return n
    }

    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        guard pipe.readers > 0 else { throw .EPIPE }
        let total = io.count
        let room = pipe.capacity - pipe.count
        if room == 0 || (total <= Pipe.atomicSize && room < total) { throw .EAGAIN }
        let n = pipe.put(from: io, limit: room)
        pipe.kernel.wake(pipe.queue)
        return n
    }

    override func stat() throws(LinuxErrno) -> FileStat {
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
        add(22, [.pointer]) { k, t, a throws(LinuxErrno) in try k.makePipe(t, a.address(0), flags: 0) }
        add(293, [.pointer, .openFlags], .partial("O_DIRECT packet mode is a byte stream")) { k, t, a throws(LinuxErrno) in
            try k.makePipe(t, a.address(0), flags: a.int(1))
        }
    }
}

extension Kernel {
    func makePipe(_ t: Task, _ fds: GuestAddress, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard flags & ~(O.CLOEXEC | O.NONBLOCK | O.DIRECT) == 0 else { throw .EINVAL }
        let p = t.process
        let pipe = Pipe(kernel: self, owner: p.credentials)
        let limit = p.limits[RLIMIT.NOFILE].soft
        let cloexec = flags & O.CLOEXEC != 0
        let r = try p.fds.install(PipeEnd(pipe: pipe, writer: false, flags: flags), closeOnExec: cloexec, limit: limit)
        let w: Int32
        do {
            w = try p.fds.install(PipeEnd(pipe: pipe, writer: true, flags: flags), closeOnExec: cloexec, limit: limit)
        } catch {
            try? p.fds.close(r)
            throw error
        }
        var b = ByteWriter(count: 8)
        b.put(r, at: 0)
        b.put(w, at: 4)
        do {
            try t.mm.writeBytes(fds, b.bytes)
        } catch {
            try? p.fds.close(r)
            try? p.fds.close(w)
            throw error
        }
        return .value(0)
    }
}

extension Process {
    /// A pipe whose capacity grew may take a waiting writer's data now.
    func kernelWake(_ pipe: Pipe) { pipe.kernel.wake(pipe.queue) }
}
