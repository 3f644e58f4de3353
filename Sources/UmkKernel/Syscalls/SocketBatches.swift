import CLinuxABI
import UmkHost

// SocketBatches.swift: recvmmsg and sendmmsg (net/socket.c do_recvmmsg, __sys_sendmmsg): recvmsg and sendmsg
// over an array of mmsghdr, each entry's msg_len filled with what it moved. vlen is capped at UIO_MAXIOV; an
// error after some messages answers their count; recvmmsg keeps the error (but EAGAIN) for the socket's next
// call (sk_err), sendmmsg drops it, as Linux does. A call that blocks part way keeps its count in the task across the restart (`batchProgress`), and a
// signal then answers that count. recvmmsg's timeout is checked only after each message, as Linux does: a
// call with nothing to read still waits without limit.
extension SyscallTable {
    mutating func addSocketBatchCalls() {
        add(299, [.fd, .pointer, .uint, .hex, .pointer]) { k, t, a throws(LinuxErrno) in try k.sysRecvmmsg(t, a) }
        add(307, [.fd, .pointer, .uint, .hex]) { k, t, a throws(LinuxErrno) in try k.sysSendmmsg(t, a) }
    }
}

extension Kernel {
    static let UIO_MAXIOV = 1024, mmsghdrStride = 64, mmsgLengthOffset = 56
    static let MSG_WAITFORONE: Int32 = 0x10000, MSG_CMSG_COMPAT = Int32(bitPattern: 0x8000_0000)

    func sysSendmmsg(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        let flags = a.int(3)
        guard flags & Kernel.MSG_CMSG_COMPAT == 0 else { throw .EINVAL }
        let count = Int(min(UInt32(bitPattern: a.int(2)), UInt32(Kernel.UIO_MAXIOV)))
        return try batch(t, a.address(1), count) { (i: Int) throws(LinuxErrno) -> SyscallOutcome in
            try self.sendMessage(t, s, a.address(1).advanced(by: i * Kernel.mmsghdrStride), flags: flags)
        }
    }

    func sysRecvmmsg(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let s = try socket(t, a.int(0))
        let flags = a.int(3)
        guard flags & Kernel.MSG_CMSG_COMPAT == 0 else { throw .EINVAL }
        let timeout = a.address(4)
        if timeout.raw != 0 && t.batchDeadline == nil {
            let (sec, nsec) = try readTimespec(t, timeout)
            let (d, o) = sec.multipliedReportingOverflow(by: 1_000_000_000)
            t.batchDeadline = o ? Int64.max / 2 : HostClock.monotonicNanoseconds() + min(d + nsec, Int64.max / 2)
        }
        let count = Int(min(UInt32(bitPattern: a.int(2)), UInt32(Kernel.UIO_MAXIOV)))
        let deadline = t.batchDeadline
        let outcome = try batch(t, a.address(1), count) { (i: Int) throws(LinuxErrno) -> SyscallOutcome in
            // MSG_WAITFORONE: only the first message is waited for.
            let f = i > 0 && flags & Kernel.MSG_WAITFORONE != 0 ? flags | MSG.DONTWAIT : flags
            return try self.receiveMessage(t, s, a.address(1).advanced(by: i * Kernel.mmsghdrStride), flags: f)
        } stopAfter: { () -> Bool in
            guard let deadline else { return false }
            return HostClock.monotonicNanoseconds() >= deadline
        } keepError: { (e: LinuxErrno) in
            if e != .EAGAIN { s.error = e }
        }
        if case .block = outcome { return outcome }
        t.batchDeadline = nil
        if let deadline, case .value(let n) = outcome, n > 0 {  // the time left, written back
            let left = max(deadline - HostClock.monotonicNanoseconds(), 0)
            try writeTimespec(t, timeout, left / 1_000_000_000, left % 1_000_000_000)
        }
        return outcome
    }

    /// Runs `one` for entries from the task's progress to `count`, filling each msg_len: the count moved when
    /// an entry fails after others (or would block under MSG_DONTWAIT), the error when the first fails.
    func batch(_ t: Task, _ vector: GuestAddress, _ count: Int, _ one: (Int) throws(LinuxErrno) -> SyscallOutcome,
               stopAfter: () -> Bool = { false }, keepError: (LinuxErrno) -> Void = { _ in })
        throws(LinuxErrno) -> SyscallOutcome
    {
        var done = min(t.batchProgress, count)
        t.batchProgress = 0
        while done < count {
            let outcome: SyscallOutcome
            do {
                outcome = try one(done)
            } catch {
                if done > 0 {
                    keepError(error)
                    return .value(done)
                }
                throw error
            }
            switch outcome {
            case .value(let n):
                do {
                    let at = vector.advanced(by: done * Kernel.mmsghdrStride + Kernel.mmsgLengthOffset)
                    try t.mm.write(at, UInt32(truncatingIfNeeded: n))
                } catch {
                    if done > 0 {
                        keepError(error)
                        return .value(done)
                    }
                    throw error
                }
                done += 1
                if stopAfter() { return .value(done) }
            case .block:
                t.batchProgress = done
                return outcome
            default:
                return done > 0 ? .value(done) : outcome
            }
        }
        return .value(done)
    }
}
