// FutexQueues.swift: where futex waiters wait (kernel/futex/core.c's hash buckets of futex_q, and
// futex_pi_state). Each word a task waits on is a FutexWaiter on the list of its key, ordered as Linux's
// plist orders a bucket (and its rt_mutex the waiters of a PI futex): real-time tasks first, by priority,
// then everyone else; first come first woken among equals. A task sleeps on a WaitQueue of its own
// (FutexWait.queue), so that moving its waiter to another key (requeue) moves the wait with it and a wake-up
// reaches it alone. The system calls are in Syscalls/Futex.swift and Syscalls/FutexPI.swift.

/// Where a futex word lives (get_futex_key): what a waiter and a waker must agree on to meet.
enum FutexKey: Hashable {
    /// A private futex (FUTEX_PRIVATE_FLAG), or a shared one in private memory: the address space and the
    /// address. `shared` keeps the two apart as Linux's FUT_OFF_MMSHARED does (a shared wake does not meet a
    /// private wait on the same word).
    case process(ObjectIdentifier, address: UInt64, shared: Bool)
    /// A shared futex in shared memory (MAP_SHARED anonymous memory, tmpfs, files): the physical frame and
    /// the offset in it, the same in every process that maps the page. Linux keys it by inode and page index;
    /// the frame stands for both while the page is mapped, which it is while anyone waits on it.
    case physical(frame: Int, offset: Int)
}

/// One word a task waits on (futex_q). It holds its wait strongly (a waker's snapshot of a list may outlive
/// the wait's registration); FutexQueues.remove breaks the cycle.
final class FutexWaiter {
    let wait: FutexWait
    var key: FutexKey
    /// The word's address in the waiter's own address space: a PI futex handed over when its owner dies
    /// gets the new owner's TID written there, as the waiter itself does on Linux (fixup_pi_state_owner).
    var address: UInt64
    /// FUTEX_WAIT_BITSET's mask (all ones for the other waits).
    let bitset: UInt32
    /// futex_waitv's index of this word, which the call returns when this is the word woken.
    let index: Int
    var kind: Kind
    /// Where it queues (__futex_queue's prio): 99 - the real-time priority of a SCHED_FIFO or SCHED_RR task,
    /// 100 (MAX_RT_PRIO) for every other; lower first.
    let rank: Int32

    enum Kind {
        /// FUTEX_WAIT, FUTEX_WAIT_BITSET, futex_waitv.
        case plain
        /// Blocked on the PI futex `key` (FUTEX_LOCK_PI, LOCK_PI2, or a requeued WAIT_REQUEUE_PI).
        case pi
        /// FUTEX_WAIT_REQUEUE_PI still on its condition word: FUTEX_CMP_REQUEUE_PI moves it to the PI futex
        /// `target` (at `targetAddress` in the waiter's address space), or takes that futex for it.
        case requeuePI(target: FutexKey, targetAddress: UInt64)
    }

    init(wait: FutexWait, key: FutexKey, address: UInt64, bitset: UInt32 = .max, index: Int = 0, kind: Kind = .plain) {
        self.wait = wait
        self.key = key
        self.address = address
        self.bitset = bitset
        self.index = index
        self.kind = kind
        let s = wait.task.scheduling
        rank = SCHED.isRealTime(s.policy) ? 99 - s.priority : 100
    }

    var isPI: Bool {
        if case .pi = kind { return true }
        return false
    }
}

/// A task's futex wait: the words it waits on (one, or futex_waitv's list) and the queue it sleeps on.
final class FutexWait {
    let task: Task
    let queue = WaitQueue()
    var waiters: [FutexWaiter] = []

    init(task: Task) { self.task = task }

    /// Whether the task sleeps in this wait now (registered waits that have not blocked yet are the caller's).
    var isSleeping: Bool { task.isAlive && task.isBlocked && !queue.isEmpty }
}

/// The kernel side of a PI futex that has waiters (futex_pi_state): who owns it. Like Linux's, it lives while
/// waiters block on the futex; with none, the futex word alone says who owns it. Priority inheritance itself
/// (boosting the owner to its top waiter's priority) is not done: real-time policies do not change how the
/// host runs a stub anyway (Scheduling.swift), and the lock goes to waiters in the order above.
final class FutexPIState {
    var owner: Task

    init(owner: Task) { self.owner = owner }
}

/// Every futex waiter and PI state of an instance.
final class FutexQueues {
    private var buckets: [FutexKey: [FutexWaiter]] = [:]
    private var piStates: [FutexKey: FutexPIState] = [:]
    private var waits: [ObjectIdentifier: FutexWait] = [:]

    /// The waiters on `key`, in the order they are woken.
    func waiters(on key: FutexKey) -> [FutexWaiter] { buckets[key] ?? [] }

    /// The wait `task` is registered in, if any.
    func wait(of task: Task) -> FutexWait? { waits[ObjectIdentifier(task)] }

    /// Registers a new wait of its task (it must have none) with its waiters at the end of their keys' lists.
    func add(_ w: FutexWait) {
        precondition(waits[ObjectIdentifier(w.task)] == nil, "a task waits on futexes twice")
        waits[ObjectIdentifier(w.task)] = w
        for waiter in w.waiters { enqueue(waiter) }
    }

    /// plist_add: after every waiter of the same or a better rank.
    private func enqueue(_ waiter: FutexWaiter) {
        var list = buckets[waiter.key] ?? []
        list.insert(waiter, at: list.firstIndex { $0.rank > waiter.rank } ?? list.count)
        buckets[waiter.key] = list
    }

    /// Ends a wait: its waiters leave their lists (and it), and PI states left without waiters go.
    func remove(_ w: FutexWait) {
        guard waits[ObjectIdentifier(w.task)] === w else { return }
        waits[ObjectIdentifier(w.task)] = nil
        for waiter in w.waiters { unlink(waiter) }
        w.waiters.removeAll()
    }

    /// Requeue: `waiter` goes behind its equals on `key` (on the same key it keeps its place, as in Linux,
    /// where both keys hash to one bucket).
    func move(_ waiter: FutexWaiter, to key: FutexKey, address: UInt64, kind: FutexWaiter.Kind) {
        if key != waiter.key {
            unlink(waiter)
            waiter.key = key
            enqueue(waiter)
        }
        waiter.address = address
        waiter.kind = kind
        dropIdlePIState(key)
    }

    private func unlink(_ waiter: FutexWaiter) {
        let key = waiter.key
        guard var list = buckets[key], let i = list.firstIndex(where: { $0 === waiter }) else { return }
        list.remove(at: i)
        buckets[key] = list.isEmpty ? nil : list
        dropIdlePIState(key)
    }

    // MARK: PI states

    func piState(_ key: FutexKey) -> FutexPIState? { piStates[key] }

    func setPIState(_ state: FutexPIState, for key: FutexKey) { piStates[key] = state }

    /// The PI states `task` owns (its pi_state_list).
    func piStates(ownedBy task: Task) -> [(FutexKey, FutexPIState)] {
        piStates.filter { $0.value.owner === task }.map { ($0.key, $0.value) }
    }

    /// A PI state lives only while a PI waiter blocks on its futex (put_pi_state).
    func dropIdlePIState(_ key: FutexKey) {
        guard piStates[key] != nil else { return }
        if !(buckets[key] ?? []).contains(where: { $0.isPI }) { piStates[key] = nil }
    }
}
