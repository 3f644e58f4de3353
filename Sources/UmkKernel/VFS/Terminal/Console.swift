import UmkHost

// Console.swift: the guest's console, fds 0, 1 and 2 of its first process. Reads and writes go to umk's own
// stdin, stdout and stderr; so do the few calls whose answer depends on what those are (fstat, lseek, the
// terminal ioctls), so a guest sees a pipe, a file or a terminal exactly where a native program would.
//
// A console read with nothing to read waits on the kernel's console queue, which the loop wakes when umk's
// stdin is readable. Writes go through the console writer (UmkHost/ConsoleWriter.swift), a host thread that
// makes the blocking host writes: a writer finding its queue full waits on the output queue, and a full
// pipe or a stopped terminal never blocks the kernel.

/// Where console output goes: the writer thread, and the queue of tasks waiting for it to make room.
/// The host descriptors behind the console (Configuration's standard streams), not owned: the embedder
/// closes them.
struct ConsoleStreams {
    let input: HostFile
    let output: HostFile
    let error: HostFile

    init(_ config: Configuration) {
        input = HostFile(fd: config.standardInput, owned: false)
        output = HostFile(fd: config.standardOutput, owned: false)
        error = HostFile(fd: config.standardError, owned: false)
    }
}

final class ConsoleOutput {
    let writer: ConsoleWriter
    let queue = WaitQueue()
    init(writer: ConsoleWriter) { self.writer = writer }
}

final class ConsoleFile: OpenFile {
    let host: HostFile
    private let queue: WaitQueue
    private let output: ConsoleOutput?
    /// Whether the host descriptor is a terminal (then it is the guest's controlling terminal too).
    lazy var isTerminal = host.isTerminal

    /// The status flags are the host descriptor's: a guest's F_GETFL sees what a native program would.
    init(host: HostFile, queue: WaitQueue, output: ConsoleOutput?) {
        self.host = host
        self.queue = queue
        self.output = output
        super.init(flags: (try? host.statusFlags()) ?? O.RDWR, dentry: nil)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        guard host.isReadable() else { throw .EAGAIN }
        do { return try host.read(into: io.hostBuffers) } catch { throw LinuxErrno(host: error) }
    }

    override var waitQueue: WaitQueue? { queue }
    override var procLinkName: String { host.procLinkName ?? "/dev/console" }
    override func reopenTarget() throws(LinuxErrno) -> Dentry {
        Dentry(detached: procLinkName, inode: ConsoleInode(host: host, queue: queue, output: output))
    }

    override func readyEvents() -> Int16 {
        let out: Int16 = isWritable ? POLL.OUT | POLL.WRNORM : 0
        return (host.isReadable() ? POLL.IN | POLL.RDNORM : 0) | out
    }
    override var writeWaitQueue: WaitQueue? { output?.queue }
    override var writesCompletely: Bool { output != nil }

    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        guard let output else {
            do { return try host.write(from: io.hostBuffers) } catch { throw LinuxErrno(host: error) }
        }
        let n: Int
        do { n = try output.writer.write(host, from: io.hostBuffers) } catch { throw LinuxErrno(host: error) }
        if n == 0 { throw .EAGAIN }  // the writer has no room yet: wait on the output queue
        return n
    }
    override func read(into io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int {
        do { return try host.read(into: io.hostBuffers, at: offset) } catch { throw LinuxErrno(host: error) }
    }
    override func write(from io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int {
        do { return try host.write(from: io.hostBuffers, at: offset) } catch { throw LinuxErrno(host: error) }
    }
    override func seek(_ offset: Int64, whence: Int32) throws(LinuxErrno) -> Int64 {
        do { return try host.seek(offset, whence: whence) } catch { throw LinuxErrno(host: error) }
    }
    override func stat() throws(LinuxErrno) -> FileStat {
        do { return FileStat(host: try host.status()) } catch { throw LinuxErrno(host: error) }
    }

    /// The terminal requests that only read or set the terminal's own state.
    static let passedThrough: Set<UInt> = [0x5401, 0x5402, 0x5403, 0x5404, 0x5413, 0x5414, 0x541b]  // TCGETS, TCSETS*, TIOCGWINSZ, TIOCSWINSZ, FIONREAD

    override func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer?) throws(LinuxErrno) -> Int {
        guard ConsoleFile.passedThrough.contains(request) else { throw .ENOTTY }
        do { return Int(try host.ioctl(request, arg)) } catch { throw LinuxErrno(host: error) }
    }

    override func statusFlagsChanged() throws(LinuxErrno) {
        // O_NONBLOCK on the console is the guest's business, not umk's own descriptors'.
    }
}
