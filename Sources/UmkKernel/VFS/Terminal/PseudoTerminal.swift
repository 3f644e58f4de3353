import UmkHost

// PseudoTerminal.swift: Unix 98 pseudo-terminals (drivers/tty/pty.c, fs/devpts/inode.c). Opening /dev/ptmx
// makes a pair: the master file returned, and the slave /dev/pts/N in the instance's own devpts (mounted over
// /dev/pts by the path walk, numbered from 0 for each instance). The slave is a terminal with umk's line
// discipline; the master is the other end of its wire: what the master writes is typed into the slave, and
// what the slave writes (post-processed) and echoes is what the master reads. Each way holds 20 KiB, as on
// Linux (16 KiB of tty flip buffer and the reader's 4 KiB line discipline buffer): past that a writer waits.
//
// As on Linux: a slave opens only after unlockpt (TIOCSPTLCK 0) and while the master is open; closing every
// slave makes master reads fail with EIO once drained; closing the master hangs the slave up (reads give end
// of file, writes EIO, its session leader gets SIGHUP and SIGCONT, and /dev/pts/N disappears).
final class PseudoTerminal: TerminalDriver {
    /// Bytes the master may write ahead of the slave's line discipline; bytes of slave output unread.
    static let inputCapacity = 16384, outputCapacity = 20480
    /// /proc/sys/kernel/pty/max.
    static let maxCount = 4096
    static let major: UInt32 = 136

    unowned let kernel: Kernel
    let index: Int
    let ld = LineDiscipline()
    let control = ControllingTerminal(session: nil, foreground: 0)
    var windowSize = WindowSize()
    /// The master's own modes: it reads raw whatever they say, but a program may set and read them.
    var masterTermios = Termios(iflag: 0, oflag: 0, cflag: 0, lflag: 0, cc: Termios.standard.cc)
    /// Tasks that were waiting in a slave read when the master closed: theirs ends in EIO, later reads of
    /// the hung-up terminal in end of file.
    private var readersAtHangup: Set<ObjectIdentifier> = []
    let owner: (uid: UInt32, gid: UInt32)
    /// The slave's output (writes and echoes), for the master to read.
    private var toMaster: [UInt8] = []
    /// What the master wrote that the line discipline has not taken yet.
    private var toSlave: [UInt8] = []
    /// Signals the line discipline raised while taking input, sent once it is done.
    private var raised: [Int32] = []
    var locked = true
    var exclusive = false
    /// TIOCPKT: master reads start with a status byte; the status waiting to be read.
    var packetMode = false
    private var packetStatus: UInt8 = 0
    private(set) var masterOpen = true
    private var slaveOpens = 0
    /// Every slave file was closed (after one was opened): master reads end in EIO.
    private(set) var slaveClosed = false
    /// Slave readers and writers wait here; master readers and writers on masterQueue.
    let slaveQueue = WaitQueue()
    let masterQueue = WaitQueue()
    /// /dev/pts/N. A new inode each time, holding the pair: an O_PATH descriptor may outlive both sides.
    var slaveInode: PtySlaveInode { PtySlaveInode(pty: self) }

    init(kernel: Kernel, index: Int, owner: Credentials) {
        self.kernel = kernel
        self.index = index
        self.owner = (owner.euid, owner.egid)
        ld.driver = self
    }

    var name: String { "/dev/pts/\(index)" }
    var isHungUp: Bool { !masterOpen }

    // MARK: TerminalDriver (the slave's line discipline sends to the master)

    var transmitRoom: Int { PseudoTerminal.outputCapacity - toMaster.count }

    func transmit(_ bytes: [UInt8]) {
        toMaster += bytes
        kernel.wake(masterQueue)
    }

    func raise(_ sig: Int32) { raised.append(sig) }

    func flowChanged(stopped: Bool) {
        if packetMode {
            packetStatus &= ~(stopped ? PKT.START : PKT.STOP)
            packetStatus |= stopped ? PKT.STOP : PKT.START
            kernel.wake(masterQueue)
        }
        if !stopped { kernel.wake(slaveQueue) }
    }

    enum PKT {
        static let FLUSHREAD: UInt8 = 1, FLUSHWRITE: UInt8 = 2, STOP: UInt8 = 4, START: UInt8 = 8
    }

    /// Moves what the master wrote into the line discipline while it has room, then raises the signals
    /// that input typed.
    func feed() {
        var i = 0
        while i < toSlave.count && ld.hasRoom {
            ld.receive(toSlave[i])
            i += 1
        }
        ld.flushEchoes()
        if i > 0 {
            toSlave.removeFirst(i)
            kernel.wake(slaveQueue)
            kernel.wake(masterQueue)
        }
        let signals = raised
        raised = []
        for sig in signals where control.foreground != 0 { kernel.signalGroup(control.foreground, sig) }
    }

    // MARK: The master side

    func masterRead(_ count: Int) throws(LinuxErrno) -> [UInt8] {
        if packetMode && packetStatus != 0 {
            defer { packetStatus = 0 }
            return [packetStatus]
        }
        if toMaster.isEmpty {
            if slaveClosed { throw .EIO }
            throw .EAGAIN
        }
        let n = max(0, min(count - (packetMode ? 1 : 0), toMaster.count))
        let out = (packetMode ? [0] : []) + toMaster[0..<n]
        toMaster.removeFirst(n)
        kernel.wake(slaveQueue)
        return out
    }

    func masterWrite(_ bytes: [UInt8]) throws(LinuxErrno) -> Int {
        let room = PseudoTerminal.inputCapacity - toSlave.count
        if room == 0 { throw .EAGAIN }
        let n = min(room, bytes.count)
        toSlave += bytes[0..<n]
        feed()
        return n
    }

    var masterEvents: Int16 {
        var ev: Int16 = 0
        if !toMaster.isEmpty || (packetMode && packetStatus != 0) { ev |= POLL.IN | POLL.RDNORM }
        if packetMode && packetStatus != 0 { ev |= POLL.PRI }
        if toSlave.count < PseudoTerminal.inputCapacity { ev |= POLL.OUT | POLL.WRNORM }
        if slaveClosed { ev |= POLL.HUP }
        return ev
    }

    /// The last master file closed: the slave hangs up.
    func masterClosed() {
        masterOpen = false
        toSlave = []
        readersAtHangup = Set(slaveQueue.waiters.map { ObjectIdentifier($0) })
        kernel.wake(masterQueue)
        // The session leader hears of it before the readers wake, as on Linux; not from inside the release
        // of a file, which may be in the middle of an exit.
        let session = control.session
        kernel.deferred.append { [kernel, slaveQueue] in
            if let session { kernel.hangUp(session: session) }
            kernel.wake(slaveQueue)
        }
        control.session = nil
        control.foreground = 0
        kernel.releasePseudoTerminal(self)
    }

    // MARK: The slave side

    func slaveOpened() {
        slaveOpens += 1
        slaveClosed = false
    }

    func slaveClosedOne() {
        slaveOpens -= 1
        guard slaveOpens == 0 else { return }
        slaveClosed = true
        kernel.wake(masterQueue)
        kernel.releasePseudoTerminal(self)
    }

    var isUnused: Bool { !masterOpen && slaveOpens == 0 }

    /// A read of the slave, by the current task (n_tty_read): one line in canonical mode; in raw mode
    /// VMIN bytes, with VTIME the time to wait for them (a read that times out returns what there is).
    func slaveRead(_ count: Int) throws(LinuxErrno) -> [UInt8] {
        if isHungUp {
            if let t = kernel.current, readersAtHangup.remove(ObjectIdentifier(t)) != nil { throw .EIO }
            return []
        }
        let t = ld.termios
        if ld.isCanonical {
            guard ld.hasInput() else { throw .EAGAIN }
            return taken(count)
        }
        let vmin = Int(t.cc[Termios.VMIN]), vtime = Int64(t.cc[Termios.VTIME])
        if ld.readableCount >= max(min(vmin, count), 1) { return taken(count) }
        if vmin == 0 && vtime == 0 { return taken(count) }
        guard let task = kernel.current else { throw .EAGAIN }
        if let d = task.deadline, HostClock.monotonicNanoseconds() >= d { return taken(count) }
        if vtime > 0 && task.deadline == nil && (vmin == 0 || ld.readableCount > 0) {
            task.deadline = kernel.deadline(after: vtime * 100_000_000)
        }
        throw .EAGAIN
    }

    private func taken(_ count: Int) -> [UInt8] {
        let out = ld.take(count)
        feed()
        return out
    }

    func slaveWrite(_ bytes: [UInt8]) throws(LinuxErrno) -> Int {
        if isHungUp { throw .EIO }
        let n = ld.write(bytes)
        if n == 0 { throw .EAGAIN }
        return n
    }

    var slaveEvents: Int16 {
        if isHungUp { return POLL.IN | POLL.OUT | POLL.ERR | POLL.HUP | POLL.RDNORM | POLL.WRNORM }
        var ev: Int16 = 0
        let t = ld.termios
        let vmin = Int(t.cc[Termios.VMIN])
        if ld.hasInput(minimum: t.cc[Termios.VTIME] == 0 && vmin > 0 ? vmin : 1) { ev |= POLL.IN | POLL.RDNORM }
        if transmitRoom > 0 && !ld.stopped { ev |= POLL.OUT | POLL.WRNORM }
        return ev
    }

    // MARK: Requests that act on the pair

    /// TCFLSH from one side: `input` and `output` as that side sees them.
    func flush(fromMaster: Bool, input: Bool, output: Bool) {
        if fromMaster {
            if input { toMaster = [] }
            if output { toSlave = [] }
        } else {
            if input {
                ld.flushInput()
                toSlave = []
                if packetMode { packetStatus |= PKT.FLUSHREAD }
            }
            if output {
                toMaster = []
                if packetMode { packetStatus |= PKT.FLUSHWRITE }
            }
        }
        kernel.wake(slaveQueue)
        kernel.wake(masterQueue)
    }

    /// Bytes the side would read now (FIONREAD) and bytes it wrote that the other has not read (TIOCOUTQ).
    func inputCount(master: Bool) -> Int { master ? toMaster.count : ld.readableCount }
    func outputCount(master: Bool) -> Int { master ? toSlave.count : toMaster.count }

    /// TIOCSWINSZ: a new size sends SIGWINCH to the foreground group (tty_do_resize).
    func resize(_ size: WindowSize) {
        guard size != windowSize else { return }
        windowSize = size
        if control.foreground != 0 { kernel.signalGroup(control.foreground, Signal.WINCH) }
    }

    func setTermios(_ new: Termios) {
        var t = new
        t.cflag = (t.cflag & ~(Termios.CSIZE | Termios.PARENB)) | Termios.CS8 | Termios.CREAD  // pty_set_termios
        ld.setTermios(t)
        feed()
        kernel.wake(slaveQueue)
        kernel.wake(masterQueue)
    }

    /// TIOCSTI: a byte as if the master had written it.
    func inject(_ byte: UInt8) {
        toSlave.append(byte)
        feed()
    }
}

/// The master file (a /dev/ptmx open).
final class PtyMasterFile: OpenFile {
    let pty: PseudoTerminal
    private let inode: Inode

    init(pty: PseudoTerminal, inode: Inode, dentry: Dentry, flags: Int32) {
        self.pty = pty
        self.inode = inode
        super.init(flags: flags, dentry: dentry)
    }

    deinit { pty.masterClosed() }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        io.copyOut(try pty.masterRead(io.count))
    }
    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        try pty.masterWrite(io.copyIn(limit: PseudoTerminal.outputCapacity))
    }
    override var waitQueue: WaitQueue? { pty.masterQueue }
    override var writesCompletely: Bool { true }
    override func readyEvents() -> Int16 { pty.masterEvents }
    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }
    override var terminalEnd: TerminalEnd? { .master(pty) }
}

/// A slave file (/dev/pts/N, TIOCGPTPEER, or /dev/tty of a process whose terminal this is).
final class PtySlaveFile: OpenFile {
    let pty: PseudoTerminal

    init(pty: PseudoTerminal, dentry: Dentry, flags: Int32) {
        self.pty = pty
        pty.slaveOpened()
        super.init(flags: flags, dentry: dentry)
    }

    deinit { pty.slaveClosedOne() }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        io.copyOut(try pty.slaveRead(io.count))
    }
    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        try pty.slaveWrite(io.copyIn(limit: PseudoTerminal.outputCapacity))
    }
    override var waitQueue: WaitQueue? { pty.slaveQueue }
    override var writesCompletely: Bool { true }
    override func readyEvents() -> Int16 { pty.slaveEvents }
    override func stat() throws(LinuxErrno) -> FileStat { try pty.slaveInode.stat() }
    override var procLinkName: String { pty.name }
    override func reopenTarget() throws(LinuxErrno) -> Dentry { Dentry(detached: pty.name, inode: pty.slaveInode) }
    override var terminalEnd: TerminalEnd? { .slave(pty) }
}

/// /dev/pts/N: a character device 136:N owned by whoever opened the master, group tty, mode 620 (the
/// devpts mount options Debian uses).
final class PtySlaveInode: Inode {
    let pty: PseudoTerminal
    init(pty: PseudoTerminal) { self.pty = pty }

    var fileType: UInt16 { S.IFCHR }
    var isReadOnly: Bool { false }

    func stat() throws(LinuxErrno) -> FileStat {
        var s = FileStat()
        s.mode = S.IFCHR | 0o620
        s.nlink = 1
        s.ino = UInt64(pty.index) + 3
        s.uid = pty.owner.uid
        s.gid = 5  // tty
        s.rdevMajor = PseudoTerminal.major
        s.rdevMinor = UInt32(pty.index)
        s.blksize = 1024
        s.devMinor = DevPtsInode.deviceMinor
        return s
    }
    func lookup(_ name: String) throws(LinuxErrno) -> Inode { throw .ENOTDIR }
    func readLink() throws(LinuxErrno) -> [UInt8] { throw .EINVAL }

    /// pty_open: EIO while the master is locked or gone.
    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        guard pty.masterOpen, !pty.locked else { throw .EIO }
        return PtySlaveFile(pty: pty, dentry: dentry, flags: flags)
    }
}

/// The instance's devpts, at /dev/pts: `ptmx` and a node for each pseudo-terminal whose master is open.
final class DevPtsInode: Inode {
    static let deviceMinor: UInt32 = 24
    unowned let kernel: Kernel
    init(kernel: Kernel) { self.kernel = kernel }

    var fileType: UInt16 { S.IFDIR }
    var isReadOnly: Bool { false }

    func stat() throws(LinuxErrno) -> FileStat {
        var s = FileStat()
        s.mode = S.IFDIR | 0o755
        s.nlink = 2
        s.ino = 1
        s.blksize = 1024
        s.devMinor = DevPtsInode.deviceMinor
        return s
    }

    func lookup(_ name: String) throws(LinuxErrno) -> Inode {
        if name == "ptmx" { return PtmxInode(ino: 2, mode: 0, devMinor: DevPtsInode.deviceMinor) }
        guard let n = Int(name), String(n) == name, let pty = kernel.pseudoTerminals[n], pty.masterOpen else {
            throw .ENOENT
        }
        return pty.slaveInode
    }
    func readLink() throws(LinuxErrno) -> [UInt8] { throw .EINVAL }

    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        if flags & O.accessMode != O.RDONLY { throw .EISDIR }
        var entries: [(String, UInt64, UInt16)] = [(".", 1, S.IFDIR), ("..", 1, S.IFDIR), ("ptmx", 2, S.IFCHR)]
        for (n, pty) in kernel.pseudoTerminals.sorted(by: { $0.key < $1.key }) where pty.masterOpen {
            entries.append(("\(n)", UInt64(n) + 3, S.IFCHR))
        }
        return SyntheticDirectoryFile(entries: entries, inode: self, dentry: dentry, flags: flags)
    }
}

/// devpts' own `ptmx` node (5:2, mode 000 as Debian mounts it): opening it is opening /dev/ptmx.
final class PtmxInode: Inode {
    let ino: UInt64, mode: UInt16, devMinor: UInt32
    init(ino: UInt64, mode: UInt16, devMinor: UInt32) { (self.ino, self.mode, self.devMinor) = (ino, mode, devMinor) }
    var fileType: UInt16 { S.IFCHR }
    var isReadOnly: Bool { false }
    func stat() throws(LinuxErrno) -> FileStat {
        var s = FileStat()
        s.mode = S.IFCHR | mode
        s.nlink = 1
        s.ino = ino
        s.rdevMajor = 5
        s.rdevMinor = 2
        s.blksize = 1024
        s.devMinor = devMinor
        return s
    }
    func lookup(_ name: String) throws(LinuxErrno) -> Inode { throw .ENOTDIR }
    func readLink() throws(LinuxErrno) -> [UInt8] { throw .EINVAL }
    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile { throw .ENXIO }  // the kernel opens it
}

extension Kernel {
    /// /dev/ptmx: a new pair, numbered with the lowest free index (ENOSPC past pty/max).
    func openPtmx(_ t: Task, inode: Inode, dentry: Dentry, flags: Int32) throws(LinuxErrno) -> OpenFile {
        guard let index = (0..<PseudoTerminal.maxCount).first(where: { pseudoTerminals[$0] == nil }) else { throw .ENOSPC }
        let pty = PseudoTerminal(kernel: self, index: index, owner: t.process.credentials)
        pseudoTerminals[index] = pty
        return PtyMasterFile(pty: pty, inode: inode, dentry: dentry, flags: flags)
    }

    /// Frees a pair's number once neither side is open.
    func releasePseudoTerminal(_ pty: PseudoTerminal) {
        if pty.isUnused && pseudoTerminals[pty.index] === pty { pseudoTerminals[pty.index] = nil }
    }

    /// A terminal hung up: the leader of the session it controlled gets SIGHUP and SIGCONT
    /// (tty_signal_session_leader).
    func hangUp(session: Int32) {
        guard let leader = processes[session], leader.session == session, leader.exitStatus == nil else { return }
        sendToProcess(leader, Signal.HUP, info: SignalInfo(signo: Signal.HUP, code: SignalInfo.SI_KERNEL))
        sendToProcess(leader, Signal.CONT, info: SignalInfo(signo: Signal.CONT, code: SignalInfo.SI_KERNEL))
    }
}
