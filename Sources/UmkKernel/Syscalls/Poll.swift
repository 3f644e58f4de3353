import CLinuxABI
import UmkHost

// Poll.swift: poll, ppoll, select and pselect6 (fs/select.c). Each file says which events are ready now; if
// none is and the timeout allows, the task waits on every polled file's queue at once (and on its
// deadline), then the call runs again. Files that never wait (regular files, devices) are always ready.
enum POLL {
    static let IN: Int16 = 0x1, PRI: Int16 = 0x2, OUT: Int16 = 0x4, ERR: Int16 = 0x8, HUP: Int16 = 0x10
    static let NVAL: Int16 = 0x20, RDNORM: Int16 = 0x40, WRNORM: Int16 = 0x100, RDHUP: Int16 = 0x2000
}

extension SyscallTable {
    mutating func addPollCalls() {
        add(7, [.pollfds(1), .uint, .int]) { k, t, a throws(LinuxErrno) in
            let ms = a.int(2)
            // nfds is an unsigned int: Linux sees only its low 32 bits.
            return try k.poll(t, a.address(0), Int(a.uint(1)), timeout: ms < 0 ? nil : Int64(ms) * 1_000_000)
        }
        add(271, [.pollfds(1), .uint, .timespec, .sigset(4), .uint]) { k, t, a throws(LinuxErrno) in
            let timeout = a.address(2).isNull ? nil : try k.relativeTimeout(t, a.address(2))
            try k.applyTemporaryMask(t, a.address(3), size: a[4])
            do throws(LinuxErrno) {
                return try k.poll(t, a.address(0), Int(a.uint(1)), timeout: timeout)
            } catch {
                k.restoreTemporaryMask(t)
                throw error
            }
        }
        add(23, [.int32, .fdSet, .fdSet, .fdSet, .timeval]) { k, t, a throws(LinuxErrno) in
            var timeout: Int64? = nil
            if !a.address(4).isNull {
                let tv = try t.mm.read(a.address(4), as: linux_timeval.self)
                let (s, us) = (tv.tv_sec, tv.tv_usec)
                guard s >= 0, us >= 0 else { throw .EINVAL }
                let (whole, o) = s.multipliedReportingOverflow(by: 1_000_000_000)
                timeout = o ? Int64.max / 2 : min(whole, Int64.max / 2) + min(us, 999_999) * 1000
            }
            return try k.select(t, a, timeout: timeout)
        }
        add(270, [.int32, .fdSet, .fdSet, .fdSet, .timespec, .pselectMask]) { k, t, a throws(LinuxErrno) in
            let timeout = a.address(4).isNull ? nil : try k.relativeTimeout(t, a.address(4))
            if !a.address(5).isNull {  // struct { const sigset_t *ss; size_t ss_len; }
                let set = try t.mm.read(a.address(5), as: UInt64.self)
                let size = try t.mm.read(a.address(5).advanced(by: 8), as: UInt64.self)
                try k.applyTemporaryMask(t, GuestAddress(set), size: size)
            }
            do throws(LinuxErrno) {
                return try k.select(t, a, timeout: timeout)
            } catch {
                k.restoreTemporaryMask(t)
                throw error
            }
        }
    }
}

extension Kernel {
    func relativeTimeout(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> Int64 {
        try timeoutNanoseconds(t, at)
    }

    /// ppoll/pselect's mask: in force while the call waits, the old one back after (as sigsuspend does).
    func applyTemporaryMask(_ t: Task, _ at: GuestAddress, size: UInt64) throws(LinuxErrno) {
        guard !at.isNull, t.savedMask == nil else { return }
        guard size == 8 else { throw .EINVAL }
        let mask = try t.mm.read(at, as: UInt64.self)
        t.savedMask = t.signalMask
        t.signalMask = mask & ~Signal.unblockable
    }

    /// An error ends the call before it waits: the caller's own mask comes back (not after EINTR, where
    /// the handler's frame restores it).
    func restoreTemporaryMask(_ t: Task) {
        guard let saved = t.savedMask, nextDeliverable(t) == nil else { return }
        t.signalMask = saved
        t.savedMask = nil
    }

    /// The deadline logic shared by poll and select: nil to wait, or whether the time is up.
    private func pollDeadline(_ t: Task, timeout: Int64?) -> Bool {
        let now = HostClock.monotonicNanoseconds()
        if let d = t.deadline { return now >= d }
        guard let timeout else { return false }
        if timeout <= 0 { return true }
        t.deadline = deadline(after: timeout)
        return false
    }

    /// Finishes a poll or select: the temporary mask goes, unless a handler is about to run (then
    /// the frame restores it), and the deadline is forgotten.
    private func pollDone(_ t: Task) {
        t.deadline = nil
        if let saved = t.savedMask, nextDeliverable(t) == nil {
            t.signalMask = saved
            t.savedMask = nil
        }
    }

    /// Nothing ready and time left: wait on the queues (EINTR first if a signal is ready for delivery).
    /// Otherwise the call finishes: nil.
    func waitIfNothingReady(_ t: Task, ready: Int, timeout: Int64?, queues: [WaitQueue]) throws(LinuxErrno)
        -> SyscallOutcome?
    {
        if ready == 0 && !pollDeadline(t, timeout: timeout) {
            if nextDeliverable(t) != nil {
                pollDone(t)
                throw .EINTR
            }
            return .blockAll(queues)
        }
        pollDone(t)
        return nil
    }

    func poll(_ t: Task, _ fdsAddress: GuestAddress, _ count: Int, timeout: Int64?) throws(LinuxErrno) -> SyscallOutcome {
        guard UInt64(count) <= t.process.limits[RLIMIT.NOFILE].soft, count <= 1 << 20 else { throw .EINVAL }
        var entries = try t.mm.readBytes(fdsAddress, 8 * count)
        var ready = 0
        var queues: [WaitQueue] = []
        for i in 0..<count {
            let fd = entries.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * i, as: Int32.self) }
            let wanted = entries.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * i + 4, as: Int16.self) }
            var revents: Int16 = 0
            if fd >= 0 {
                if let f = try? t.process.fds.get(fd), !f.isPathOnly {
                    revents = f.readyEvents() & (wanted | POLL.ERR | POLL.HUP)
                    if let q = f.waitQueue { queues.append(q) }
                } else {
                    revents = POLL.NVAL
                }
            }
            if revents != 0 { ready += 1 }
            withUnsafeBytes(of: revents.littleEndian) { b in
                entries[8 * i + 6] = b[0]
                entries[8 * i + 7] = b[1]
            }
        }
        if let wait = try waitIfNothingReady(t, ready: ready, timeout: timeout, queues: queues) { return wait }
        try t.mm.writeBytes(fdsAddress, entries)
        return .value(ready)
    }

    func select(_ t: Task, _ a: SyscallArgs, timeout: Int64?) throws(LinuxErrno) -> SyscallOutcome {
        let n = a.int(0)
        guard n >= 0, n <= 1 << 20 else { throw .EINVAL }
        let bytes = (Int(n) + 63) / 64 * 8
        var sets: [[UInt8]?] = []
        for i in 1...3 { sets.append(a.address(i).isNull ? nil : try t.mm.readBytes(a.address(i), bytes)) }
        var out: [[UInt8]] = sets.map { _ in [UInt8](repeating: 0, count: bytes) }
        var ready = 0
        var queues: [WaitQueue] = []
        for fd in 0..<Int(n) {
            let byte = fd / 8, bit = UInt8(1 << (fd % 8))
            let want = sets.map { ($0?[byte] ?? 0) & bit != 0 }
            guard want.contains(true) else { continue }
            let f = try t.process.fds.get(Int32(fd))
            let ev = f.readyEvents()
            if let q = f.waitQueue { queues.append(q) }
            let hits = [ev & (POLL.IN | POLL.HUP | POLL.ERR) != 0, ev & (POLL.OUT | POLL.ERR) != 0, ev & POLL.PRI != 0]
            for k in 0..<3 where want[k] && hits[k] {
                out[k][byte] |= bit
                ready += 1
            }
        }
        if let wait = try waitIfNothingReady(t, ready: ready, timeout: timeout, queues: queues) { return wait }
        for i in 0..<3 where sets[i] != nil { try t.mm.writeBytes(a.address(i + 1), out[i]) }
        return .value(ready)
    }
}
