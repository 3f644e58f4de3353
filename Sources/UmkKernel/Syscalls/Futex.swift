import CLinuxABI
import UmkHost

// Futex.swift: futex(2) and futex_waitv(2) (kernel/futex/syscalls.c, waitwake.c, requeue.c), and what a task's
// exit does to futexes (core.c: the robust list). The PI operations are in FutexPI.swift, the waiters and PI
// states in Task/FutexQueues.swift.
//
// A waiter sleeps under the key of its word (FutexKey): the address space and address for a private futex
// or private memory, the physical frame and offset for shared memory, so that shared mappings meet across
// processes. A wake gives each woken waiter its answer (t.completion: 0, or futex_waitv's index); a waiter
// whose deadline passes runs its call again and gets ETIMEDOUT; a handled signal ends the wait with Linux's
// restart rule for it (finishInterruptedFutex). Values the guest passes are checked as Linux checks them, in
// the same order, so the errno is the same.

/// futex(2)'s operations and flags, the futex word's bits and futex2's flags (include/uapi/linux/futex.h).
enum FUTEX {
    static let WAIT: Int32 = 0, WAKE: Int32 = 1, REQUEUE: Int32 = 3, CMP_REQUEUE: Int32 = 4, WAKE_OP: Int32 = 5
    static let LOCK_PI: Int32 = 6, UNLOCK_PI: Int32 = 7, TRYLOCK_PI: Int32 = 8, WAIT_BITSET: Int32 = 9
    static let WAKE_BITSET: Int32 = 10, WAIT_REQUEUE_PI: Int32 = 11, CMP_REQUEUE_PI: Int32 = 12, LOCK_PI2: Int32 = 13
    static let PRIVATE_FLAG: Int32 = 128, CLOCK_REALTIME: Int32 = 256
    static let WAITERS: UInt32 = 0x8000_0000, OWNER_DIED: UInt32 = 0x4000_0000, TID_MASK: UInt32 = 0x3fff_ffff
    /// futex2 flags of a futex_waitv entry (one NUMA node: FUTEX2_MPOL changes nothing).
    static let SIZE_U32: UInt32 = 0x02, SIZE_MASK: UInt32 = 0x03, NUMA: UInt32 = 0x04, MPOL: UInt32 = 0x08
    static let PRIVATE2: UInt32 = 128
    static let WAITV_MAX: UInt32 = 128
    static let ROBUST_LIST_LIMIT = 2048
    /// access_ok's bound on x86-64 (TASK_SIZE_MAX): a private futex's address is checked against it alone.
    static let userTop: UInt64 = 0x7fff_ffff_f000
    /// Compare-and-swap retries when guest code on another CPU keeps changing a word (Linux retries forever).
    static let casRetries = 1000

    /// The operations that take a timeout (futex_cmd_has_timeout).
    static func hasTimeout(_ cmd: Int32) -> Bool {
        cmd == WAIT || cmd == LOCK_PI || cmd == LOCK_PI2 || cmd == WAIT_BITSET || cmd == WAIT_REQUEUE_PI
    }
}

extension SyscallTable {
    mutating func addFutexCalls() {
        add(202, [.pointer, .futexOp, .futexArgument, .futexArgument, .futexArgument, .futexArgument],
            .partial("PI futexes without priority inheritance: the owner is never boosted")) {
            k, t, a throws(LinuxErrno) in try k.sysFutex(t, a)
        }
        add(449, [.pointer, .uint, .hex, .pointer, .clock]) { k, t, a throws(LinuxErrno) in try k.sysFutexWaitv(t, a) }
    }
}

extension Kernel {
    /// The task with thread id `tid`, zombies included (callers check isAlive). Every lookup of a futex
    /// owner goes through here.
    /// FIXME: threads: a process's first task stands for every thread id until threads land.
    func task(tid: Int32) -> Task? { threads[tid] }

    // MARK: futex(2)

    func sysFutex(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        if let outcome = try resumeFutexWait(t) { return outcome }
        let op = a.int(1)
        let cmd = op & ~(FUTEX.PRIVATE_FLAG | FUTEX.CLOCK_REALTIME)
        let shared = op & FUTEX.PRIVATE_FLAG == 0
        let realtime = op & FUTEX.CLOCK_REALTIME != 0
        // The timeout is read first: FUTEX_WAIT's is relative, LOCK_PI's absolute on CLOCK_REALTIME, the
        // others' absolute on CLOCK_MONOTONIC or, with FUTEX_CLOCK_REALTIME, CLOCK_REALTIME.
        var deadline: Int64? = nil
        if !a.address(3).isNull && FUTEX.hasTimeout(cmd) {
            deadline = try futexDeadline(t, a.address(3), relative: cmd == FUTEX.WAIT,
                                         clock: cmd == FUTEX.LOCK_PI || realtime ? 0 : 1)
        }
        if realtime && cmd != FUTEX.WAIT_BITSET && cmd != FUTEX.WAIT_REQUEUE_PI && cmd != FUTEX.LOCK_PI2 {
            throw .ENOSYS
        }
        // val2, REQUEUE's and WAKE_OP's second count, travels in the timeout's register as an int.
        let uaddr = a[0], uaddr2 = a[4], val3 = a.uint(5)
        switch cmd {
        case FUTEX.WAIT, FUTEX.WAIT_BITSET:
            let bitset = cmd == FUTEX.WAIT ? UInt32.max : val3
            return try futexWait(t, uaddr, shared: shared, a.uint(2), bitset: bitset, until: deadline)
        case FUTEX.WAKE, FUTEX.WAKE_BITSET:
            let bitset = cmd == FUTEX.WAKE ? UInt32.max : val3
            return .value(try futexWake(t.mm, uaddr, shared: shared, count: a.int(2), bitset: bitset))
        case FUTEX.REQUEUE, FUTEX.CMP_REQUEUE:
            return .value(try futexRequeue(t, uaddr, uaddr2, shared: shared, wake: a.int(2), requeue: a.int(3),
                                           compare: cmd == FUTEX.CMP_REQUEUE ? val3 : nil))
        case FUTEX.WAKE_OP:
            return .value(try futexWakeOp(t, uaddr, uaddr2, shared: shared, wake: a.int(2), wake2: a.int(3), op: val3))
        case FUTEX.LOCK_PI, FUTEX.LOCK_PI2, FUTEX.TRYLOCK_PI:
            return try futexLockPI(t, uaddr, shared: shared, until: deadline, trylock: cmd == FUTEX.TRYLOCK_PI)
        case FUTEX.UNLOCK_PI:
            return .value(try futexUnlockPI(t, uaddr, shared: shared))
        case FUTEX.WAIT_REQUEUE_PI:
            return try futexWaitRequeuePI(t, uaddr, shared: shared, a.uint(2), pi: uaddr2, until: deadline)
        case FUTEX.CMP_REQUEUE_PI:
            return .value(try futexRequeuePI(t, uaddr, uaddr2, shared: shared, wake: a.int(2), requeue: a.int(3),
                                             compare: val3))
        default:
            throw .ENOSYS  // FUTEX_FD (gone since Linux 2.6.26) and unknown operations
        }
    }

    /// A futex timeout as a deadline on the host monotonic clock (futex_init_timeout): `relative` counts from
    /// now, otherwise the time is absolute on `clock` (CLOCK_REALTIME 0, CLOCK_MONOTONIC 1). EFAULT, or
    /// EINVAL for a timespec out of range.
    func futexDeadline(_ t: Task, _ at: GuestAddress, relative: Bool, clock: Int32) throws(LinuxErrno) -> Int64 {
        let ns = try timeoutNanoseconds(t, at)
        if relative { return deadline(after: ns) }
        let (s, n) = try clockNow(t, clock)
        return deadline(after: ns &- (s &* 1_000_000_000 &+ n))
    }

    /// A futex call run again without an answer from a waker: its deadline passed (ETIMEDOUT, the wait
    /// ends), or, should it ever happen, a spurious wake-up (it sleeps again where it is, requeued or not).
    /// nil when this is a new call.
    func resumeFutexWait(_ t: Task) throws(LinuxErrno) -> SyscallOutcome? {
        guard let deadline = t.deadline else { return nil }
        guard let w = futexes.wait(of: t) else {
            t.deadline = nil
            return nil
        }
        guard HostClock.monotonicNanoseconds() >= deadline else { return .block(w.queue) }
        t.deadline = nil
        futexes.remove(w)
        throw .ETIMEDOUT
    }

    /// get_futex_key: where the word at `uaddr` lives. EINVAL when it is not aligned; EFAULT when it is not
    /// user memory or, for a shared futex, not mapped (the page is faulted in, and a private page made
    /// writable when it can be, as get_user_pages(FOLL_WRITE) does; `write` requires that).
    ///
    /// A FUTEX2_NUMA word is followed by a node word (8-byte alignment): it must name no node (-1, then it is
    /// set to 0, the one node umk has) or node 0. Every key falls on that node, so the node is not part of it.
    func futexKey(_ mm: AddressSpace, _ uaddr: UInt64, shared: Bool, write: Bool, numa: Bool = false)
        throws(LinuxErrno) -> FutexKey
    {
        guard uaddr & (numa ? 7 : 3) == 0 else { throw .EINVAL }
        guard uaddr < FUTEX.userTop else { throw .EFAULT }
        if numa {
            let node = try mm.read(GuestAddress(uaddr + 4), as: UInt32.self)
            guard node == 0 || node == UInt32.max else { throw .EINVAL }
            if node == UInt32.max { try mm.write(GuestAddress(uaddr + 4), UInt32(0)) }
        }
        guard shared else { return .process(ObjectIdentifier(mm), address: uaddr, shared: false) }
        let page = uaddr >> 12
        guard let frame = mm.frame(forPage: page, write: write), let vma = mm.vmas.find(uaddr) else { throw .EFAULT }
        if vma.shared { return .physical(frame: frame, offset: Int(uaddr & 4095)) }
        // Private memory: keyed by address space and address. A read-only anonymous page never changes, so
        // waiting on it makes no sense (EFAULT, as in Linux).
        if !write && mm.frame(forPage: page, write: true) == nil && vma.file == nil { throw .EFAULT }
        return .process(ObjectIdentifier(mm), address: uaddr, shared: true)
    }

    // MARK: Wait and wake

    /// FUTEX_WAIT, FUTEX_WAIT_BITSET: sleeps while the word holds `val`.
    func futexWait(_ t: Task, _ uaddr: UInt64, shared: Bool, _ val: UInt32, bitset: UInt32, until deadline: Int64?)
        throws(LinuxErrno) -> SyscallOutcome
    {
        guard bitset != 0 else { throw .EINVAL }
        let key = try futexKey(t.mm, uaddr, shared: shared, write: false)
        guard try t.mm.read(GuestAddress(uaddr), as: UInt32.self) == val else { throw .EAGAIN }
        let w = FutexWait(task: t)
        w.waiters = [FutexWaiter(wait: w, key: key, address: uaddr, bitset: bitset)]
        return try futexSleep(w, until: deadline)
    }

    /// Registers the wait and blocks the task on it. A deadline already past is ETIMEDOUT, after every other
    /// check, as Linux's timer fires when the waiter is queued.
    func futexSleep(_ w: FutexWait, until deadline: Int64?) throws(LinuxErrno) -> SyscallOutcome {
        if let deadline, deadline <= HostClock.monotonicNanoseconds() { throw .ETIMEDOUT }
        if let stale = futexes.wait(of: w.task) { futexes.remove(stale) }
        futexes.add(w)
        w.task.deadline = deadline
        return .block(w.queue)
    }

    /// FUTEX_WAKE, FUTEX_WAKE_BITSET: wakes up to `count` waiters whose bitset meets `bitset`.
    func futexWake(_ mm: AddressSpace, _ uaddr: UInt64, shared: Bool, count: Int32, bitset: UInt32) throws(LinuxErrno) -> Int {
        guard bitset != 0 else { throw .EINVAL }
        let key = try futexKey(mm, uaddr, shared: shared, write: false)
        return try wakeWaiters(on: key, count: count, bitset: bitset)
    }

    /// Wakes waiters on `key`, in queue order: at least one when there is any (Linux counts `++n >= count`,
    /// so a count of 0 or less wakes one). A PI waiter there is EINVAL; those woken before it stay woken.
    func wakeWaiters(on key: FutexKey, count: Int32, bitset: UInt32 = .max) throws(LinuxErrno) -> Int {
        var woken = 0
        var wokenWaits = Set<ObjectIdentifier>()
        for waiter in futexes.waiters(on: key) {
            let w = waiter.wait
            if wokenWaits.contains(ObjectIdentifier(w)) {
                // futex_waitv with this word twice: Linux wakes (and counts) each, and the call returns the
                // last index woken.
                w.task.completion = max(w.task.completion ?? 0, waiter.index)
            } else {
                guard isLive(w) else { continue }
                guard case .plain = waiter.kind else { throw .EINVAL }
                guard waiter.bitset & bitset != 0 else { continue }
                wokenWaits.insert(ObjectIdentifier(w))
                finishFutexWait(w, with: waiter.index)
            }
            woken += 1
            if woken >= Int(count) { break }
        }
        return woken
    }

    /// Whether `w` is still the registered, sleeping wait of its task; a stale one is dropped.
    func isLive(_ w: FutexWait) -> Bool {
        guard futexes.wait(of: w.task) === w else { return false }
        if w.isSleeping { return true }
        futexes.remove(w)
        return false
    }

    /// A waker answers a futex wait: the wait ends and the call returns `value`.
    func finishFutexWait(_ w: FutexWait, with value: Int) {
        futexes.remove(w)
        w.task.deadline = nil
        w.task.completion = value
        makeRunnable(w.task)
    }

    // MARK: Requeue

    /// FUTEX_REQUEUE, FUTEX_CMP_REQUEUE: wakes up to `wake` waiters of `uaddr1` and moves up to `requeue`
    /// more to `uaddr2`; returns how many were woken or moved. CMP_REQUEUE first checks that `uaddr1` still
    /// holds `compare` (EAGAIN).
    func futexRequeue(_ t: Task, _ uaddr1: UInt64, _ uaddr2: UInt64, shared: Bool, wake: Int32, requeue: Int32,
                      compare: UInt32?) throws(LinuxErrno) -> Int
    {
        guard wake >= 0, requeue >= 0 else { throw .EINVAL }
        let key1 = try futexKey(t.mm, uaddr1, shared: shared, write: false)
        let key2 = try futexKey(t.mm, uaddr2, shared: shared, write: false)
        if let compare, try t.mm.read(GuestAddress(uaddr1), as: UInt32.self) != compare { throw .EAGAIN }
        var count = 0
        for waiter in futexes.waiters(on: key1) {
            if count - Int(wake) >= Int(requeue) { break }
            guard isLive(waiter.wait) else { continue }
            // A WAIT_REQUEUE_PI waiter goes only with CMP_REQUEUE_PI, a PI waiter never.
            guard case .plain = waiter.kind else { throw .EINVAL }
            count += 1
            if count <= Int(wake) {
                finishFutexWait(waiter.wait, with: waiter.index)
            } else {
                futexes.move(waiter, to: key2, address: waiter.address, kind: .plain)
            }
        }
        return count
    }

    // MARK: Wake-op

    /// FUTEX_WAKE_OP: atomically applies `op` to the word at `uaddr2` (FUTEX_OP_SET, ADD, OR, ANDN, XOR on an
    /// argument that FUTEX_OP_OPARG_SHIFT makes 1 << arg), wakes up to `wake` waiters of `uaddr1`, and if the
    /// old value passes the comparison up to `wake2` waiters of `uaddr2` too.
    func futexWakeOp(_ t: Task, _ uaddr1: UInt64, _ uaddr2: UInt64, shared: Bool, wake: Int32, wake2: Int32,
                     op encoded: UInt32) throws(LinuxErrno) -> Int
    {
        let key1 = try futexKey(t.mm, uaddr1, shared: shared, write: false)
        let key2 = try futexKey(t.mm, uaddr2, shared: shared, write: true)
        let op = (encoded >> 28) & 7, cmp = (encoded >> 24) & 15
        var oparg = signExtend12((encoded >> 12) & 0xfff)
        let cmparg = signExtend12(encoded & 0xfff)
        // Linux takes a shift out of 0...31 modulo 32 (and logs that the program needs fixing).
        if encoded & 0x8000_0000 != 0 { oparg = Int32(1) << (oparg & 31) }
        guard op <= 4 else { throw .ENOSYS }
        let arg = UInt32(bitPattern: oparg)
        let old = Int32(bitPattern: try t.mm.atomicUpdate(uaddr2) { v in
            switch op {
            case 0: return arg  // FUTEX_OP_SET
            case 1: return v &+ arg  // FUTEX_OP_ADD
            case 2: return v | arg  // FUTEX_OP_OR
            case 3: return v & ~arg  // FUTEX_OP_ANDN
            default: return v ^ arg  // FUTEX_OP_XOR
            }
        })
        // The comparison is made after the operation, which stays done when it is unknown (ENOSYS).
        let fire: Bool
        switch cmp {
        case 0: fire = old == cmparg  // FUTEX_OP_CMP_EQ
        case 1: fire = old != cmparg  // FUTEX_OP_CMP_NE
        case 2: fire = old < cmparg  // FUTEX_OP_CMP_LT
        case 3: fire = old <= cmparg  // FUTEX_OP_CMP_LE
        case 4: fire = old > cmparg  // FUTEX_OP_CMP_GT
        case 5: fire = old >= cmparg  // FUTEX_OP_CMP_GE
        default: throw .ENOSYS
        }
        var woken = try wakeWaiters(on: key1, count: wake)
        if fire { woken += try wakeWaiters(on: key2, count: wake2) }
        return woken
    }

    private func signExtend12(_ v: UInt32) -> Int32 { Int32(bitPattern: v << 20) >> 20 }

    // MARK: futex_waitv(2)

    /// futex_waitv: sleeps on up to 128 words at once until one is woken (the call returns its index), the
    /// absolute deadline on `clockid` passes, or a word no longer holds its value (EAGAIN, checked in order).
    func sysFutexWaitv(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        if let outcome = try resumeFutexWait(t) { return outcome }
        guard a.uint(2) == 0 else { throw .EINVAL }  // no flags yet
        let count = a.uint(1)
        guard count != 0, count <= FUTEX.WAITV_MAX, !a.address(0).isNull else { throw .EINVAL }
        var deadline: Int64? = nil
        if !a.address(3).isNull {
            let clock = a.int(4)
            guard clock == 0 || clock == 1 else { throw .EINVAL }  // CLOCK_REALTIME or CLOCK_MONOTONIC
            deadline = try futexDeadline(t, a.address(3), relative: false, clock: clock)
        }
        var entries: [linux_futex_waitv] = []
        for i in 0..<Int(count) {
            let e = try t.mm.read(try a.address(0).adding(UInt64(i * 24)), as: linux_futex_waitv.self)
            let valid = FUTEX.SIZE_MASK | FUTEX.NUMA | FUTEX.MPOL | FUTEX.PRIVATE2
            guard e.flags & ~valid == 0, e.__reserved == 0, e.flags & FUTEX.SIZE_MASK == FUTEX.SIZE_U32 else {
                throw .EINVAL
            }
            guard e.val >> 32 == 0 else { throw .EINVAL }  // a value wider than the word
            entries.append(e)
        }
        let w = FutexWait(task: t)
        for (i, e) in entries.enumerated() {
            let key = try futexKey(t.mm, e.uaddr, shared: e.flags & FUTEX.PRIVATE2 == 0, write: false,
                                   numa: e.flags & FUTEX.NUMA != 0)
            w.waiters.append(FutexWaiter(wait: w, key: key, address: e.uaddr, index: i))
        }
        for e in entries where try t.mm.read(GuestAddress(e.uaddr), as: UInt32.self) != UInt32(e.val) {
            throw .EAGAIN
        }
        return try futexSleep(w, until: deadline)
    }

    // MARK: Signals

    /// A signal with a handler cut a futex wait short (called by finishInterrupted): the wait ends and the
    /// call returns what Linux's restart code for it gives after a handler: FUTEX_WAIT and WAIT_BITSET
    /// without a timeout and futex_waitv restart under SA_RESTART (ERESTARTSYS), with a timeout they are EINTR
    /// (ERESTART_RESTARTBLOCK); LOCK_PI, LOCK_PI2 and a WAIT_REQUEUE_PI not yet requeued always restart
    /// (ERESTARTNOINTR); a requeued WAIT_REQUEUE_PI is EAGAIN. False for any other system call.
    func finishInterruptedFutex(_ t: Task) -> Bool {
        let nr = Int64(bitPattern: t.regs.origRax)
        guard nr == 202 || nr == 449 else { return false }
        let w = futexes.wait(of: t)
        let requeued = w?.waiters.first?.isPI == true
        if let w { futexes.remove(w) }
        let a = SyscallArgs(values: t.regs.syscallArgs)
        let cmd = a.int(1) & ~(FUTEX.PRIVATE_FLAG | FUTEX.CLOCK_REALTIME)
        var restart: Bool
        if nr == 449 || ((cmd == FUTEX.WAIT || cmd == FUTEX.WAIT_BITSET) && a[3] == 0) {
            restart = nextDeliverable(t).map { t.process.signalActions[Int($0)].flags & SA.RESTART != 0 } ?? true
        } else if cmd == FUTEX.LOCK_PI || cmd == FUTEX.LOCK_PI2 {
            restart = true
        } else if cmd == FUTEX.WAIT_REQUEUE_PI {
            if requeued {
                t.regs.rax = UInt64(bitPattern: -Int64(LinuxErrno.EAGAIN.rawValue))
                return true
            }
            restart = true
        } else {
            restart = false
        }
        if restart {
            t.regs.rax = t.regs.origRax
            t.regs.rip &-= 2
        } else {
            t.regs.rax = UInt64(bitPattern: -Int64(LinuxErrno.EINTR.rawValue))
        }
        return true
    }

    // MARK: Exit

    /// A task exits (futex_exit_release; called by terminate while its address space is still there): a
    /// futex wait it was in ends, its robust list is walked as exit_robust_list does, and the PI futexes it
    /// owns with waiters pass to their top waiters (exit_pi_state_list, in FutexPI.swift).
    func exitRobustList(_ t: Task) {
        if let w = futexes.wait(of: t) { futexes.remove(w) }
        if t.robustList.head != 0, let mm = t.process.mmStorage { walkRobustList(t, mm) }
        t.robustList = (0, 0)
        exitPIStates(t)
    }

    /// exit_robust_list: each lock on the list (and the one in list_op_pending) whose word holds the task's
    /// TID gets FUTEX_OWNER_DIED, and one waiter is woken. The list is the guest's: at most
    /// ROBUST_LIST_LIMIT entries are looked at, and any word that cannot be read ends the walk.
    private func walkRobustList(_ t: Task, _ mm: AddressSpace) {
        let head = t.robustList.head
        guard let h = try? mm.read(GuestAddress(head), as: linux_robust_list_head.self) else { return }
        let offset = UInt64(bitPattern: h.futex_offset)
        let pending = h.list_op_pending & ~1, pendingPI = h.list_op_pending & 1 != 0
        var entry = h.next & ~1, pi = h.next & 1 != 0
        var limit = FUTEX.ROBUST_LIST_LIMIT
        while entry != head {
            // The next entry is read before this one is handled (a waiter woken may reuse the memory).
            let next = try? mm.read(GuestAddress(entry), as: UInt64.self)
            if entry != pending, !handleFutexDeath(t, mm, entry &+ offset, pi: pi, pending: false) { return }
            guard let next else { return }
            entry = next & ~1
            pi = next & 1 != 0
            limit -= 1
            if limit == 0 { break }
        }
        if pending != 0 { _ = handleFutexDeath(t, mm, pending &+ offset, pi: pendingPI, pending: true) }
    }

    /// handle_futex_death: false ends the walk (a word that is misaligned or cannot be read or written).
    private func handleFutexDeath(_ t: Task, _ mm: AddressSpace, _ uaddr: UInt64, pi: Bool, pending: Bool) -> Bool {
        guard uaddr & 3 == 0 else { return false }
        let tid = UInt32(bitPattern: t.tid)
        for _ in 0..<FUTEX.casRetries {
            guard let uval = try? mm.read(GuestAddress(uaddr), as: UInt32.self) else { return false }
            // Killed between releasing the word and waking, or a woken waiter killed before taking it:
            // wake one without marking anything.
            if pending && !pi && uval == 0 {
                _ = try? futexWake(mm, uaddr, shared: true, count: 1, bitset: .max)
                return true
            }
            guard uval & FUTEX.TID_MASK == tid else { return true }
            let mval = uval & FUTEX.WAITERS | FUTEX.OWNER_DIED
            guard let seen = try? mm.compareExchange(uaddr, expected: uval, desired: mval) else { return false }
            guard seen == uval else { continue }
            // PI futexes pass to their waiters in exitPIStates.
            if !pi && uval & FUTEX.WAITERS != 0 { _ = try? futexWake(mm, uaddr, shared: true, count: 1, bitset: .max) }
            return true
        }
        return false
    }
}
