import UmkHost

// Futex.swift: futex(2) wait and wake (kernel/futex/): a waiter sleeps on a queue keyed by the physical
// location of the word (frame and offset), so shared mappings work across processes and a private word is
// private to its address space. FUTEX_WAKE gives each woken waiter the answer 0; a timed-out waiter gets
// ETIMEDOUT. Requeue and PI operations are not implemented (ENOSYS).
struct FutexKey: Hashable {
    /// A word in private memory: its address space (get_futex_key's mm + address), so that a copy-on-write
    /// break by one thread does not move the word away from its waiters; nil for shared memory.
    var space: ObjectIdentifier?
    /// The frame (shared memory) or the page number (private memory), and the offset in it.
    var frame: Int
    var offset: Int
}

extension SyscallTable {
    mutating func addFutexCalls() {
        add(202, [.pointer, .int, .int, .pointer, .pointer, .int], .partial("WAIT, WAKE and their BITSET forms")) {
            k, t, a throws(LinuxErrno) in try k.sysFutex(t, a)
        }
    }
}

extension Kernel {
    /// Where waiters of the word at `address` meet (get_futex_key): FUTEX_PRIVATE_FLAG or a private mapping
    /// key by address space and address; a shared mapping by the physical frame, so that processes mapping
    /// the same memory (MAP_SHARED, tmpfs files) meet at any address.
    func futexKey(_ t: Task, _ address: GuestAddress, isPrivate: Bool = false) throws(LinuxErrno) -> FutexKey {
        guard address.raw & 3 == 0 else { throw .EINVAL }
        guard address.raw < AddressSpace.userLimit else { throw .EFAULT }
        guard let f = t.mm.frame(forPage: address.raw >> 12, write: false) else { throw .EFAULT }
        if isPrivate || !(t.mm.vmas.find(address.raw)?.shared ?? false) {
            return FutexKey(space: ObjectIdentifier(t.mm), frame: Int(address.raw >> 12), offset: Int(address.raw & 4095))
        }
        return FutexKey(space: nil, frame: f, offset: Int(address.raw & 4095))
    }

    func sysFutex(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let op = a.int(1) & ~(128 | 256)  // FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
        let realtime = a.int(1) & 256 != 0
        switch op {
        case 0, 9:  // FUTEX_WAIT, FUTEX_WAIT_BITSET
            let bitset = op == 9 ? a.uint(5) : UInt32.max
            guard bitset != 0 else { throw .EINVAL }
            let key = try futexKey(t, a.address(0), isPrivate: a.int(1) & 128 != 0)
            if let deadline = t.deadline {  // woken by the timer, not by a FUTEX_WAKE
                if HostClock.monotonicNanoseconds() >= deadline {
                    t.deadline = nil
                    throw .ETIMEDOUT
                }
            } else {
                let value = try t.mm.read(a.address(0), as: UInt32.self)
                guard value == a.uint(2) else { throw .EAGAIN }
                if !a.address(3).isNull {
                    var wait = try timeoutNanoseconds(t, a.address(3))
                    if op == 9 {  // absolute, on CLOCK_MONOTONIC or CLOCK_REALTIME
                        let (cs, cns) = try clockNow(t, realtime ? 0 : 1)
                        wait = wait &- (cs * 1_000_000_000 + cns)
                    }
                    if wait <= 0 { throw .ETIMEDOUT }
                    t.deadline = deadline(after: wait)
                }
            }
            let queue = futexQueues[key] ?? WaitQueue()
            futexQueues[key] = queue
            t.futexBitset = bitset
            return .block(queue)
        case 1, 10:  // FUTEX_WAKE, FUTEX_WAKE_BITSET
            let bitset = op == 10 ? a.uint(5) : UInt32.max
            guard bitset != 0 else { throw .EINVAL }
            let key = try futexKey(t, a.address(0), isPrivate: a.int(1) & 128 != 0)
            guard let queue = futexQueues[key] else { return .value(0) }
            var woken = 0
            for w in queue.waiters where woken < Int(a.int(2)) && w.futexBitset & bitset != 0 {
                w.deadline = nil
                w.completion = 0
                makeRunnable(w)
                woken += 1
            }
            if queue.isEmpty { futexQueues[key] = nil }
            return .value(woken)
        default:
            throw .ENOSYS
        }
    }
}
