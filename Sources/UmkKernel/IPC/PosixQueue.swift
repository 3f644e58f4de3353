import CLinuxABI
import UmkHost

// PosixQueue.swift: POSIX message queues (ipc/mqueue.c). A queue has a name in the instance's IPC namespace
// (Linux's mqueue filesystem, which umk does not mount) and is reached through descriptors, open file
// descriptions like any other, which poll and epoll watch. Messages come out highest priority first, in
// arrival order within a priority. A sender waiting for room and a receiver waiting for a message wait on the
// queue's one wait queue and run again on any change; a message that arrives in an empty queue with no
// receiver waiting notifies the process registered with mq_notify (SIGEV_SIGNAL or SIGEV_NONE).
//
// A queue uses RLIMIT_MSGQUEUE bytes of its creator's real uid, as Linux counts them, from its creation
// until it is unlinked and its last descriptor closed.
// A close of any descriptor of the queue by the registered process drops the registration (mqueue_flush_file).
// FIXME: an exec of the registered process keeps it (Linux's self_exec_id check drops the signal);
// SIGEV_THREAD needs netlink sockets (ECONNREFUSED).

/// The limits (fs.mqueue.*, Linux's defaults, and the ceilings CAP_SYS_RESOURCE may go to) and constants.
enum MQ {
    static let msgMax = 10, msgSizeMax = 8192, queuesMax = 256
    static let hardMsgMax = 65536, hardMsgSizeMax = 16 << 20
    static let prioMax: UInt32 = 32768
    static let nameMax = 255
    /// sizeof(struct msg_msg) and sizeof(struct posix_msg_tree_node), for RLIMIT_MSGQUEUE's count.
    static let messageHeader = 48, treeNode = 48
    /// sigev_notify values; si_code SI_MESGQ.
    static let SIGEV_SIGNAL: Int32 = 0, SIGEV_NONE: Int32 = 1, SIGEV_THREAD: Int32 = 2
    static let SI_MESGQ: Int32 = -3
}

final class PosixQueue {
    let name: [UInt8]
    let ino: UInt64
    var uid: UInt32, gid: UInt32
    let mode: UInt16
    let maxMessages: Int, messageSize: Int
    /// Highest priority first; arrival order within one priority.
    private(set) var messages: [(priority: UInt32, text: [UInt8])] = []
    private(set) var bytes = 0
    /// Who mq_notify registered, how (SIGEV_*), with what signal and value.
    var notification: (pid: Int32, how: Int32, signal: Int32, value: UInt64)?
    /// Blocked senders and receivers, and poll and epoll.
    let queue = WaitQueue()
    /// Open file descriptions; whether a name still leads to it.
    var openCount = 0
    var isLinked = true
    /// What it holds against RLIMIT_MSGQUEUE, and whose (real uid).
    let accountedBytes: Int
    let accountedUser: UInt32
    var atime: (Int64, UInt32), mtime: (Int64, UInt32), ctime: (Int64, UInt32)

    init(name: [UInt8], ino: UInt64, mode: UInt16, owner c: Credentials, maxMessages: Int, messageSize: Int, accountedBytes: Int) {
        self.name = name
        self.ino = ino
        uid = c.fsuid
        gid = c.fsgid
        self.mode = mode
        self.maxMessages = maxMessages
        self.messageSize = messageSize
        self.accountedBytes = accountedBytes
        accountedUser = c.uid
        let now = Tmpfs.now()
        (atime, mtime, ctime) = (now, now, now)
    }

    var count: Int { messages.count }
    var isFull: Bool { messages.count >= maxMessages }

    func insert(_ text: [UInt8], priority: UInt32) {
        let at = messages.firstIndex { $0.priority < priority } ?? messages.count
        messages.insert((priority, text), at: at)
        bytes += text.count
    }

    func takeFirst() -> (priority: UInt32, text: [UInt8])? {
        guard !messages.isEmpty else { return nil }
        let m = messages.removeFirst()
        bytes -= m.text.count
        return m
    }

    /// generic_permission on the queue's inode for `want` (4 read, 2 write); root passes.
    func permits(_ want: Int32, _ c: Credentials) -> Bool {
        if c.fsuid == 0 { return true }
        let m = Int32(mode)
        let bits = c.fsuid == uid ? m >> 6 : c.inGroup(gid) ? m >> 3 : m
        return bits & want == want
    }

    /// What a read of the descriptor shows (mqueue_read_file: "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d
    /// NOTIFY_PID:%-6d\n").
    var status: String {
        func left(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        let n = notification
        return "QSIZE:" + left("\(bytes)", 10) + " NOTIFY:" + left("\(n?.how ?? 0)", 5) + " SIGNO:"
            + left("\(n.map { $0.how == MQ.SIGEV_SIGNAL ? $0.signal : 0 } ?? 0)", 5) + " NOTIFY_PID:" + left("\(n?.pid ?? 0)", 6) + "\n"
    }
}

/// A descriptor of a POSIX message queue (mqueue_file_operations).
final class PosixQueueFile: OpenFile {
    let mq: PosixQueue
    unowned let kernel: Kernel
    private var offset = 0

    init(_ mq: PosixQueue, kernel: Kernel, flags: Int32) {
        self.mq = mq
        self.kernel = kernel
        super.init(flags: flags, dentry: nil)
        mq.openCount += 1
    }

    override var waitQueue: WaitQueue? { mq.queue }
    override var procLinkName: String { "/" + String(decoding: mq.name, as: UTF8.self) + (mq.isLinked ? "" : " (deleted)") }

    /// mqueue_poll_file.
    override func readyEvents() -> Int16 {
        var ev: Int16 = 0
        if mq.count > 0 { ev |= POLL.IN | POLL.RDNORM }
        if !mq.isFull { ev |= POLL.OUT | POLL.WRNORM }
        return ev
    }

    /// The status line, read from the file's offset on (simple_read_from_buffer).
    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        let text = Array(mq.status.utf8)
        guard offset < text.count else { return 0 }
        let n = text[offset...].withUnsafeBytes { io.copyOut($0) }
        offset += n
        return n
    }

    override func stat() throws(LinuxErrno) -> FileStat {
        var s = FileStat()
        s.mode = S.IFREG | (mq.mode & 0o7777)
        s.uid = mq.uid
        s.gid = mq.gid
        s.ino = mq.ino
        s.size = 80  // FILENT_SIZE
        (s.atime, s.mtime, s.ctime) = (mq.atime, mq.mtime, mq.ctime)
        return s
    }

    /// mqueue_flush_file: a close by the registered process drops its notification.
    override func flush(closedBy table: FDTable) {
        if let p = kernel.notificationOwner(mq), p.fds === table { mq.notification = nil }
    }

    override func released() {
        super.released()
        mq.openCount -= 1
        kernel.dropIfUnused(mq)
    }
}

extension Kernel {
    /// An unlinked queue goes with its last descriptor: its messages and its RLIMIT_MSGQUEUE bytes.
    func dropIfUnused(_ mq: PosixQueue) {
        guard !mq.isLinked, mq.openCount == 0 else { return }
        let ns = ipc
        while let m = mq.takeFirst() { ns.release(m.text.count + MSGQ.overhead) }
        ns.posixQueueCount -= 1
        ns.posixQueueBytes[mq.accountedUser, default: 0] -= mq.accountedBytes
    }

    /// The registered process of a notification, if it is still there.
    func notificationOwner(_ mq: PosixQueue) -> Process? {
        guard let n = mq.notification else { return nil }
        guard let p = processes[n.pid], p.exitStatus == nil, let _ = p.tasks.first else {
            mq.notification = nil
            return nil
        }
        return p
    }

    /// __do_notify: a message arrived in an empty queue and no receiver waits.
    func notifyArrival(_ mq: PosixQueue, from sender: Task) {
        guard mq.count == 1, let p = notificationOwner(mq), let n = mq.notification else { return }
        mq.notification = nil
        guard n.how == MQ.SIGEV_SIGNAL, n.signal != 0, let t = p.tasks.first else { return }
        var info = SignalInfo(signo: n.signal, code: MQ.SI_MESGQ, pid: sender.process.pid, uid: sender.process.credentials.uid)
        info.value = n.value
        _ = send(t, n.signal, info: info)
    }
}
