import UmkHost

// FutexPI.swift: priority-inheritance futexes (kernel/futex/pi.c, requeue.c): FUTEX_LOCK_PI, LOCK_PI2,
// TRYLOCK_PI, UNLOCK_PI, WAIT_REQUEUE_PI and CMP_REQUEUE_PI, and the hand-over of a dying owner's PI futexes.
//
// The futex word says who owns the lock: the owner's TID in the low 30 bits, FUTEX_WAITERS when someone
// waits in the kernel (the owner must then unlock through the kernel), FUTEX_OWNER_DIED when an owner died
// holding it. Userspace takes a free lock (0 -> TID) and releases an uncontended one (TID -> 0) alone; the
// kernel keeps a FutexPIState (the owner) while waiters block, and on unlock writes the top waiter's
// TID | FUTEX_WAITERS and hands the lock to it. What differs from Linux: no priority inheritance (the owner
// is not boosted to its top waiter's priority; waiters still get the lock real-time priority first, then
// in arrival order); and the kernel's own serialisation replaces the rt_mutex, so a waiter is never woken
// to a lock that is not yet its.

extension Kernel {
    /// What futex_lock_pi_atomic found: the lock taken, or the PI state to wait under.
    enum PIAttempt {
        case acquired
        case wait(FutexPIState)
    }

    /// futex_lock_pi_atomic: takes the PI futex at `uaddr` (in `mm`, key `key`) for `task` when it is free;
    /// otherwise sets FUTEX_WAITERS and finds the PI state to wait under (or makes one for the owner the word
    /// names). `setWaiters` (a requeue with more waiters to come) takes a free lock with FUTEX_WAITERS set
    /// and a PI state for its new owner. EDEADLK when `task` owns it, ESRCH when the owner named does not
    /// exist, EINVAL when the word and the kernel's state disagree, EFAULT.
    func lockPIAtomic(_ mm: AddressSpace, _ uaddr: UInt64, _ key: FutexKey, for task: Task, setWaiters: Bool)
        throws(LinuxErrno) -> PIAttempt
    {
        let me = UInt32(bitPattern: task.tid)
        for _ in 0..<FUTEX.casRetries {
            let uval = try mm.atomicLoad(uaddr)
            let pid = uval & FUTEX.TID_MASK
            if pid == me { throw .EDEADLK }
            if let top = futexes.waiters(on: key).first(where: { isLive($0.wait) }) {
                // attach_to_pi_state: waiters are there, so the kernel knows the owner; the word must agree.
                guard top.isPI, let pi = futexes.piState(key) else { throw .EINVAL }  // a non-PI waiter
                if uval & FUTEX.OWNER_DIED != 0 && pid == 0 { return .wait(pi) }
                guard pid == UInt32(bitPattern: pi.owner.tid) else { throw .EINVAL }
                return .wait(pi)
            }
            if pid == 0 {
                // Free: take it, keeping FUTEX_OWNER_DIED for the new owner to see.
                let newval = uval & FUTEX.OWNER_DIED | me | (setWaiters ? FUTEX.WAITERS : 0)
                guard try mm.compareExchange(uaddr, expected: uval, desired: newval) == uval else { continue }
                if setWaiters { futexes.setPIState(FutexPIState(owner: task), for: key) }
                return .acquired
            }
            // The first waiter: FUTEX_WAITERS first (the owner's unlock now comes to the kernel), then the owner.
            let newval = uval | FUTEX.WAITERS
            guard try mm.compareExchange(uaddr, expected: uval, desired: newval) == uval else { continue }
            guard let owner = self.task(tid: Int32(bitPattern: pid)), owner.isAlive else {
                // handle_exit_race: if the word changed meanwhile, again; else the owner is gone for good.
                if try mm.atomicLoad(uaddr) != newval { continue }
                throw .ESRCH
            }
            let pi = FutexPIState(owner: owner)
            futexes.setPIState(pi, for: key)
            return .wait(pi)
        }
        throw .EAGAIN
    }

    /// Whether `task` blocking on a PI futex owned by `owner` closes a cycle of PI waits (the rt_mutex
    /// chain walk's deadlock detection): the owner waits on a PI futex whose owner waits ... on one that
    /// `task` owns. A chain longer than Linux's max_lock_depth counts as one too.
    func piDeadlock(_ task: Task, owner: Task) -> Bool {
        var next: Task? = owner
        var depth = 0
        while let o = next {
            if o === task { return true }
            depth += 1
            if depth > 1024 { return true }
            guard let w = futexes.wait(of: o), let waiter = w.waiters.first, waiter.isPI,
                  let pi = futexes.piState(waiter.key) else { return false }
            next = pi.owner
        }
        return false
    }

    /// FUTEX_LOCK_PI, LOCK_PI2 (until an absolute deadline), TRYLOCK_PI (EAGAIN when taken; FUTEX_WAITERS
    /// stays set in the word, as on Linux).
    func futexLockPI(_ t: Task, _ uaddr: UInt64, shared: Bool, until deadline: Int64?, trylock: Bool)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let key = try futexKey(t.mm, uaddr, shared: shared, write: true)
        guard case .wait(let pi) = try lockPIAtomic(t.mm, uaddr, key, for: t, setWaiters: false) else { return .value(0) }
        if trylock || piDeadlock(t, owner: pi.owner) {
            futexes.dropIdlePIState(key)
            throw trylock ? .EAGAIN : .EDEADLK
        }
        let w = FutexWait(task: t)
        w.waiters = [FutexWaiter(wait: w, key: key, address: uaddr, kind: .pi)]
        do throws(LinuxErrno) {
            return try futexSleep(w, until: deadline)
        } catch {
            futexes.dropIdlePIState(key)
            throw error
        }
    }

    /// FUTEX_UNLOCK_PI: the caller must own the word (EPERM). With waiters, the first gets the lock: the word
    /// becomes its TID | FUTEX_WAITERS and its FUTEX_LOCK_PI returns 0. Without, the word becomes 0 (EAGAIN if
    /// it changed meanwhile).
    func futexUnlockPI(_ t: Task, _ uaddr: UInt64, shared: Bool) throws(LinuxErrno) -> Int {
        let me = UInt32(bitPattern: t.tid)
        for _ in 0..<FUTEX.casRetries {
            let uval = try t.mm.read(GuestAddress(uaddr), as: UInt32.self)
            guard uval & FUTEX.TID_MASK == me else { throw .EPERM }
            let key = try futexKey(t.mm, uaddr, shared: shared, write: true)
            if let top = futexes.waiters(on: key).first(where: { isLive($0.wait) }) {
                // Userspace fiddled with the word if the kernel's state names another owner (or none).
                guard top.isPI, let pi = futexes.piState(key), pi.owner === t else { throw .EINVAL }
                let heir = top.wait.task
                let newval = FUTEX.WAITERS | UInt32(bitPattern: heir.tid)
                let seen = try t.mm.compareExchange(uaddr, expected: uval, desired: newval)
                if seen != uval {
                    if seen & FUTEX.TID_MASK == uval { continue }  // FUTEX_WAITERS set meanwhile: again
                    throw .EINVAL
                }
                pi.owner = heir
                finishFutexWait(top.wait, with: 0)
                return 0
            }
            // No kernel state: neither FUTEX_WAITERS nor FUTEX_OWNER_DIED is kept.
            guard try t.mm.compareExchange(uaddr, expected: uval, desired: 0) == uval else { throw .EAGAIN }
            return 0
        }
        throw .EAGAIN
    }

    /// FUTEX_WAIT_REQUEUE_PI: waits on the condition word `uaddr` (while it holds `val`) to be requeued by
    /// CMP_REQUEUE_PI onto the PI futex `uaddr2`, and returns 0 once that lock is the caller's.
    func futexWaitRequeuePI(_ t: Task, _ uaddr: UInt64, shared: Bool, _ val: UInt32, pi uaddr2: UInt64,
                            until deadline: Int64?) throws(LinuxErrno) -> SyscallOutcome
    {
        guard uaddr != uaddr2 else { throw .EINVAL }
        let key2 = try futexKey(t.mm, uaddr2, shared: shared, write: true)
        let key1 = try futexKey(t.mm, uaddr, shared: shared, write: false)
        guard try t.mm.read(GuestAddress(uaddr), as: UInt32.self) == val else { throw .EAGAIN }
        guard key1 != key2 else { throw .EINVAL }
        let w = FutexWait(task: t)
        w.waiters = [FutexWaiter(wait: w, key: key1, address: uaddr, kind: .requeuePI(target: key2, targetAddress: uaddr2))]
        return try futexSleep(w, until: deadline)
    }

    /// FUTEX_CMP_REQUEUE_PI: if `uaddr1` holds `compare`, takes the PI futex `uaddr2` for the first waiter
    /// when it is free (waking it), and moves up to `requeue` more (the first included when it could not
    /// take it) onto the PI futex, to wait under its owner. `wake` must be 1. Returns how many were woken or
    /// moved.
    func futexRequeuePI(_ t: Task, _ uaddr1: UInt64, _ uaddr2: UInt64, shared: Bool, wake: Int32, requeue: Int32,
                        compare: UInt32) throws(LinuxErrno) -> Int
    {
        guard wake >= 0, requeue >= 0, uaddr1 != uaddr2, wake == 1 else { throw .EINVAL }
        let key1 = try futexKey(t.mm, uaddr1, shared: shared, write: false)
        let key2 = try futexKey(t.mm, uaddr2, shared: shared, write: true)
        guard key1 != key2 else { throw .EINVAL }
        guard try t.mm.read(GuestAddress(uaddr1), as: UInt32.self) == compare else { throw .EAGAIN }
        defer { futexes.dropIdlePIState(key2) }
        _ = try t.mm.atomicLoad(uaddr2)
        var count = 0
        var pi: FutexPIState? = nil
        // futex_proxy_trylock_atomic: the first waiter may take the lock at once.
        if let top = futexes.waiters(on: key1).first(where: { isLive($0.wait) }) {
            guard case .requeuePI(let target, _) = top.kind, target == key2 else { throw .EINVAL }
            switch try lockPIAtomic(t.mm, uaddr2, key2, for: top.wait.task, setWaiters: requeue != 0) {
            case .acquired:
                finishFutexWait(top.wait, with: 0)
                count = 1
                pi = futexes.piState(key2)
            case .wait(let state):
                pi = state
            }
        }
        for waiter in futexes.waiters(on: key1) {
            if count - Int(wake) >= Int(requeue) { break }
            guard isLive(waiter.wait) else { continue }
            guard case .requeuePI(let target, let address) = waiter.kind, target == key2 else { throw .EINVAL }
            guard let pi else { break }
            // rt_mutex_start_proxy_lock's deadlock check: this waiter owns the lock, or a chain leads back.
            if piDeadlock(waiter.wait.task, owner: pi.owner) { throw .EDEADLK }
            futexes.move(waiter, to: key2, address: address, kind: .pi)
            count += 1
        }
        return count
    }

    /// exit_pi_state_list: each PI futex `t` owns with waiters goes to its first waiter, whose word becomes
    /// its TID | FUTEX_WAITERS | FUTEX_OWNER_DIED (the fix-up the waiter makes on Linux, in its own address
    /// space) and whose FUTEX_LOCK_PI returns 0 (EFAULT if that word cannot be written any more).
    func exitPIStates(_ t: Task) {
        for (key, pi) in futexes.piStates(ownedBy: t) {
            guard let top = futexes.waiters(on: key).first(where: { $0.isPI && isLive($0.wait) }),
                  let mm = top.wait.task.process.mmStorage
            else {
                futexes.dropIdlePIState(key)
                continue
            }
            let heir = top.wait.task
            let tid = UInt32(bitPattern: heir.tid)
            let written = try? mm.atomicUpdate(top.address) { _ in tid | FUTEX.WAITERS | FUTEX.OWNER_DIED }
            pi.owner = heir
            finishFutexWait(top.wait, with: written == nil ? -Int(LinuxErrno.EFAULT.rawValue) : 0)
        }
    }
}
