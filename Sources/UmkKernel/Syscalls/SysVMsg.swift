import CLinuxABI
import UmkHost

// SysVMsg.swift: msgget, msgsnd, msgrcv and msgctl (ipc/msg.c), in Linux's order of checks. The queues are
// IPC/MessageQueue.swift's. A sender waiting for room runs again when a message leaves; a receiver is handed
// its message by the sender, or runs again when IPC_SET changes the queue. A handled signal ends either with
// EINTR (never restarted, signal(7)).

extension SyscallTable {
    mutating func addMessageQueueCalls() {
        add(68, [.hex, .hex]) { k, t, a throws(LinuxErrno) in  // msgget
            .value(Int(try k.sysMsgget(t, key: a.int(0), flags: a.int(1))))
        }
        add(69, [.int, .pointer, .uint, .hex]) { k, t, a throws(LinuxErrno) in  // msgsnd
            try k.sysMsgsnd(t, id: a.int(0), buffer: a.address(1), size: a[2], flags: a.int(3))
        }
        add(70, [.int, .pointer, .uint, .int, .hex]) { k, t, a throws(LinuxErrno) in  // msgrcv
            try k.sysMsgrcv(t, id: a.int(0), buffer: a.address(1), size: a[2], type: a.long(3), flags: a.int(4))
        }
        add(71, [.int, .int, .pointer]) { k, t, a throws(LinuxErrno) in  // msgctl
            .value(Int(try k.sysMsgctl(t, id: a.int(0), cmd: a.int(1), buffer: a.address(2))))
        }
    }
}

extension Kernel {
    func sysMsgget(_ t: Task, key: Int32, flags: Int32) throws(LinuxErrno) -> Int32 {
        let c = t.process.credentials
        return try ipc.messageQueues.get(key: key, flags: flags, c) { (_: MessageQueue) throws(LinuxErrno) in
        } make: { () throws(LinuxErrno) in
            try ipc.messageQueues.add(MessageQueue(perm: IPCPermissions(key: key, mode: flags, creator: c)), limit: MSGQ.MNI)
        }
    }

    /// do_msgsnd: struct msgbuf is a long mtype (at least 1) and then `size` bytes of text.
    func sysMsgsnd(_ t: Task, id: Int32, buffer: GuestAddress, size: UInt64, flags: Int32) throws(LinuxErrno) -> SyscallOutcome {
        let type = try t.mm.read(buffer, as: Int64.self)
        guard size <= UInt64(MSGQ.MAX), id >= 0 else { throw .EINVAL }
        guard type >= 1 else { throw .EINVAL }
        let text = try t.mm.readBytes(try buffer.adding(8), Int(size))
        let ns = ipc
        let q = try ns.messageQueues.lookup(id)
        guard q.perm.permits(0o222, t.process.credentials) else { throw .EACCES }
        guard q.fits(text.count) else {
            if flags & IPC.NOWAIT != 0 { throw .EAGAIN }
            return .block(q.sendQueue)
        }
        let m = Message(type: type, text: text)
        try ns.reserve(m.kernelBytes)
        q.lastSender = t.process.pid
        q.stime = IPCNamespace.now()
        if !handOver(m, q) {
            q.messages.append(m)
            q.bytes += text.count
            ns.messageCount += 1
            ns.messageBytes += text.count
        }
        return .value(0)
    }

    /// do_msgrcv with do_msg_fill: copies the selected message's type and at most `size` bytes of its text
    /// (more is E2BIG unless MSG_NOERROR cuts it); MSG_COPY copies the message at position `type` and leaves
    /// it queued. Returns the bytes of text copied.
    func sysMsgrcv(_ t: Task, id: Int32, buffer: GuestAddress, size: UInt64, type: Int64, flags: Int32)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let ns = ipc
        if let m = ns.handedMessages.removeValue(forKey: t.tid) {  // a sender handed it over while this waited
            ns.forget(m)
            return .value(try fill(t, buffer, m, size: Int(min(size, UInt64(Int.max)))))
        }
        guard id >= 0, size <= UInt64(Int64.max) else { throw .EINVAL }
        let room = Int(size)
        var copyRoom = 0
        if flags & MSGQ.COPY != 0 {
            guard flags & MSGQ.EXCEPT == 0, flags & IPC.NOWAIT != 0 else { throw .EINVAL }
            // prepare_copy loads the buffer (at most MSGMAX bytes) before anything else.
            copyRoom = min(room, MSGQ.MAX)
            _ = try t.mm.readBytes(buffer, copyRoom)
        }
        let selector = MessageSelector(type: type, flags: flags)
        let q = try ns.messageQueues.lookup(id)
        guard q.perm.permits(0o444, t.process.credentials) else { throw .EACCES }
        q.receivers.removeAll { $0.task === t }
        if let i = q.find(selector) {
            let m = q.messages[i]
            if room < m.text.count && flags & MSGQ.NOERROR == 0 { throw .E2BIG }
            if flags & MSGQ.COPY != 0 {
                guard m.text.count <= copyRoom else { throw .EINVAL }  // copy_msg
                return .value(try fill(t, buffer, m, size: room))
            }
            q.messages.remove(at: i)
            q.bytes -= m.text.count
            ns.messageCount -= 1
            ns.messageBytes -= m.text.count
            ns.forget(m)
            q.rtime = IPCNamespace.now()
            q.lastReceiver = t.process.pid
            wake(q.sendQueue)
            return .value(try fill(t, buffer, m, size: room))
        }
        if flags & IPC.NOWAIT != 0 { throw .ENOMSG }
        q.receivers.append(PendingReceive(task: t, selector: selector, maxSize: flags & MSGQ.NOERROR != 0 ? Int.max : room))
        return .block(q.receiveQueue)
    }

    /// do_msg_fill: mtype, then the text cut to `size`. A fault loses the message, as on Linux.
    private func fill(_ t: Task, _ buffer: GuestAddress, _ m: Message, size: Int) throws(LinuxErrno) -> Int {
        try t.mm.write(buffer, m.type)
        let n = min(size, m.text.count)
        try t.mm.writeBytes(try buffer.adding(8), Array(m.text.prefix(n)))
        return n
    }

    /// ksys_msgctl. Returns the value the call answers.
    func sysMsgctl(_ t: Task, id: Int32, cmd: Int32, buffer: GuestAddress) throws(LinuxErrno) -> Int32 {
        guard id >= 0, cmd >= 0 else { throw .EINVAL }
        let ns = ipc
        let c = t.process.credentials
        switch cmd {
        case IPC.INFO, MSGQ.INFO:
            var info = linux_msginfo()
            info.msgmni = Int32(MSGQ.MNI)
            info.msgmax = Int32(MSGQ.MAX)
            info.msgmnb = Int32(MSGQ.MNB)
            info.msgssz = MSGQ.SSZ
            info.msgseg = MSGQ.SEG
            if cmd == MSGQ.INFO {
                info.msgpool = Int32(ns.messageQueues.count)
                info.msgmap = Int32(min(ns.messageCount, Int(Int32.max)))
                info.msgtql = Int32(min(ns.messageBytes, Int(Int32.max)))
            } else {
                info.msgmap = Int32(MSGQ.MAP)
                info.msgpool = Int32(MSGQ.POOL)
                info.msgtql = Int32(MSGQ.TQL)
            }
            try t.mm.write(buffer, info)
            return Int32(ns.messageQueues.maxIndex)
        case IPC.STAT, MSGQ.STAT, MSGQ.STAT_ANY:
            let q = cmd == IPC.STAT ? try ns.messageQueues.lookup(id) : try ns.messageQueues.lookup(index: id)
            if cmd != MSGQ.STAT_ANY && !q.perm.permits(0o444, c) { throw .EACCES }
            var ds = linux_msqid64_ds()
            ds.msg_perm = q.perm.abi
            ds.msg_stime = q.stime
            ds.msg_rtime = q.rtime
            ds.msg_ctime = q.ctime
            ds.msg_cbytes = UInt64(q.bytes)
            ds.msg_qnum = UInt64(q.messages.count)
            ds.msg_qbytes = UInt64(q.maxBytes)
            ds.msg_lspid = q.lastSender
            ds.msg_lrpid = q.lastReceiver
            try t.mm.write(buffer, ds)
            return cmd == IPC.STAT ? 0 : q.perm.id
        case IPC.SET:
            let ds = try t.mm.read(buffer, as: linux_msqid64_ds.self)
            let q = try ns.messageQueues.lookup(id)
            try q.perm.checkOwner(c)
            if ds.msg_qbytes > UInt64(MSGQ.MNB) && c.euid != 0 { throw .EPERM }  // CAP_SYS_RESOURCE
            try q.perm.update(from: ds.msg_perm)
            q.maxBytes = Int(min(ds.msg_qbytes, UInt64(Int.max)))
            q.ctime = IPCNamespace.now()
            // expunge_all(-EAGAIN) and ss_wakeup: receivers look again (the permissions may have changed),
            // senders too (there may be room now).
            q.receivers.removeAll()
            wake(q.receiveQueue)
            wake(q.sendQueue)
            return 0
        case IPC.RMID:
            let q = try ns.messageQueues.lookup(id)
            try q.perm.checkOwner(c)
            removeMessageQueue(q)
            return 0
        default:
            throw .EINVAL
        }
    }
}
