import CLinuxABI
import UmkHost

// MessageQueue.swift: System V message queues (ipc/msg.c). A queue holds at most msg_qbytes bytes and as
// many messages. A message sent while a msgrcv waits for its type goes straight to that receiver (Linux's
// pipelined_send), which copies it out when it runs again; a receiver whose buffer is too small for it
// fails with E2BIG (without MSG_NOERROR) and the next one is tried. Senders waiting for room run again when
// a message leaves. IPC_RMID ends every waiter's call with EIDRM.

/// The MSG_* names of System V message queues (apart from the socket MSG_ flags): the limits, Linux's
/// defaults (kernel.msgmax, msgmnb, msgmni), and msgrcv's and msgctl's flags and commands.
enum MSGQ {
    static let MAX = 8192, MNB = 16384, MNI = 32000
    static let SSZ: Int32 = 16, SEG: UInt16 = 0xffff
    static let POOL = MNI * MNB / 1024, MAP = MNB, TQL = MNB
    static let NOERROR: Int32 = 0o10000, EXCEPT: Int32 = 0o20000, COPY: Int32 = 0o40000
    static let STAT: Int32 = 11, INFO: Int32 = 12, STAT_ANY: Int32 = 13
    /// Kernel memory a message takes besides its text (struct msg_msg), counted against the budget.
    static let overhead = 64
}

final class Message {
    let type: Int64
    let text: [UInt8]
    var kernelBytes: Int { text.count + MSGQ.overhead }

    init(type: Int64, text: [UInt8]) {
        self.type = type
        self.text = text
    }
}

/// How msgrcv's msgtyp selects (convert_mode): any message, that type, any other type, the lowest type up
/// to it, or (MSG_COPY) the message at that position.
enum MessageSelector {
    case any, equal(Int64), notEqual(Int64), atMost(Int64), position(Int64)

    init(type: Int64, flags: Int32) {
        if flags & MSGQ.COPY != 0 {
            self = .position(type)
        } else if type == 0 {
            self = .any
        } else if type < 0 {
            self = .atMost(type == Int64.min ? Int64.max : -type)
        } else {
            self = flags & MSGQ.EXCEPT != 0 ? .notEqual(type) : .equal(type)
        }
    }

    /// testmsg.
    func accepts(_ m: Message) -> Bool {
        switch self {
        case .any, .position: return true
        case .equal(let t): return m.type == t
        case .notEqual(let t): return m.type != t
        case .atMost(let t): return m.type <= t
        }
    }
}

/// A msgrcv waiting in its queue (struct msg_receiver).
final class PendingReceive {
    let task: Task
    let selector: MessageSelector
    let maxSize: Int

    init(task: Task, selector: MessageSelector, maxSize: Int) {
        self.task = task
        self.selector = selector
        self.maxSize = maxSize
    }
}

final class MessageQueue: IPCObject {
    var perm: IPCPermissions
    var messages: [Message] = []
    var bytes = 0
    var maxBytes = MSGQ.MNB
    var stime: Int64 = 0, rtime: Int64 = 0, ctime: Int64
    var lastSender: Int32 = 0, lastReceiver: Int32 = 0
    var receivers: [PendingReceive] = []
    let receiveQueue = WaitQueue()
    let sendQueue = WaitQueue()

    init(perm: IPCPermissions) {
        self.perm = perm
        ctime = IPCNamespace.now()
    }

    /// msg_fits_inqueue: the bytes and the count (one per byte of msg_qbytes at most).
    func fits(_ size: Int) -> Bool { size <= maxBytes - bytes && messages.count < maxBytes }

    /// find_msg: the index of the message `s` selects: the first that matches, the first of the lowest type
    /// (.atMost), or the one at the position (.position).
    func find(_ s: MessageSelector) -> Int? {
        switch s {
        case .position(let n):
            return n >= 0 && n < Int64(messages.count) ? Int(n) : nil
        case .atMost(var bound):
            var found: Int? = nil
            for (i, m) in messages.enumerated() where m.type <= bound {
                if m.type == 1 { return i }
                bound = m.type - 1  // types are at least 1
                found = i
            }
            return found
        default:
            return messages.firstIndex { s.accepts($0) }
        }
    }

    /// Whether `t` still waits in this queue's msgrcv.
    func isWaiting(_ t: Task) -> Bool { t.isAlive && receiveQueue.waiters.contains { $0 === t } }
}

extension IPCNamespace {
    /// A message's kernel memory is freed.
    func forget(_ m: Message) { release(m.kernelBytes) }
}

extension Kernel {
    /// pipelined_send: hands `m` to the first waiting receiver that selects it; receivers too small for it
    /// fail with E2BIG on the way. Returns whether one took it.
    func handOver(_ m: Message, _ q: MessageQueue) -> Bool {
        while let i = q.receivers.firstIndex(where: { !q.isWaiting($0.task) || $0.selector.accepts(m) }) {
            let r = q.receivers.remove(at: i)
            guard q.isWaiting(r.task) else { continue }
            if r.maxSize < m.text.count {
                complete(r.task, -Int(LinuxErrno.E2BIG.rawValue))
                continue
            }
            q.lastReceiver = r.task.process.pid
            q.rtime = IPCNamespace.now()
            ipc.handedMessages[r.task.tid] = m
            r.task.deadline = nil
            makeRunnable(r.task)
            return true
        }
        return false
    }

    /// freeque: the queue goes with its messages; every waiter fails with EIDRM.
    func removeMessageQueue(_ q: MessageQueue) {
        let ns = ipc
        let eidrm = -Int(LinuxErrno.EIDRM.rawValue)
        for w in q.receiveQueue.waiters + q.sendQueue.waiters { complete(w, eidrm) }
        q.receivers.removeAll()
        for m in q.messages { ns.forget(m) }
        ns.messageCount -= q.messages.count
        ns.messageBytes -= q.bytes
        q.messages.removeAll()
        q.bytes = 0
        ns.messageQueues.remove(q)
    }
}
