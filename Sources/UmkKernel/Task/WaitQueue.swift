// WaitQueue.swift: where tasks sleep inside the kernel (Linux's wait_queue_head_t). A system call that must
// wait returns .block(queue): the task stays stopped in its stub, holding no host CPU and not the kernel
// loop, until someone wakes the queue or its deadline passes. Then the call runs again from the start with
// the same arguments (handlers block before they change anything), or, if the waker left a completion
// value, it returns that value.
final class WaitQueue {
    fileprivate(set) var waiters: [Task] = []
    /// The epoll entries watching a file that wakes this queue (ep_poll_callback's wait entries): told of
    /// every wake, whether or not a task waits. Weak: the epoll instance owns its entries.
    var watchers: [WeakEpollEntry] = []
    var isEmpty: Bool { waiters.isEmpty }
    /// Whether a wake would reach anyone: a waiting task, or one waiting on an epoll instance that watches
    /// this queue (directly or through nested instances). For wakes the loop makes by looking (the console).
    func hasInterest() -> Bool {
        if !waiters.isEmpty { return true }
        if watchers.isEmpty { return false }  // the loop asks on every turn: no set made for nothing
        var seen: Set<ObjectIdentifier> = []
        return hasInterest(depth: 0, seen: &seen)
    }

    private func hasInterest(depth: Int, seen: inout Set<ObjectIdentifier>) -> Bool {
        if !waiters.isEmpty { return true }
        guard depth <= EpollFile.maxNesting, seen.insert(ObjectIdentifier(self)).inserted else { return false }
        for w in watchers {
            if let q = w.entry?.epoll?.queue, q.hasInterest(depth: depth + 1, seen: &seen) { return true }
        }
        return false
    }
}

extension Kernel {
    /// Parks `t` on `queue` (and on the timer if t.deadline is set).
    func block(_ t: Task, on queue: WaitQueue?) {
        block(t, on: queue.map { [$0] } ?? [])
    }

    /// Parks `t` on every queue of `queues` (poll): the first wake-up on any of them wakes it.
    func block(_ t: Task, on queues: [WaitQueue]) {
        t.isBlocked = true
        t.blockedOn = queues
        for q in queues { q.waiters.append(t) }
        if t.deadline != nil { sleepers.append(t) }
    }

    /// Wakes every task waiting on `queue`, and tells its epoll watchers. `events` says what the wake is
    /// about when the waker knows (Linux's wake_up_poll key: a pipe's reader wakes writers with POLLOUT),
    /// 0 when it may be anything; an edge-triggered entry interested in none of them is not re-armed.
    /// `watchers` false wakes the tasks alone (a change that is no new readiness for epoll).
    func wake(_ queue: WaitQueue, events: Int16 = 0, watchers: Bool = true) {
        if watchers && !queue.watchers.isEmpty { notifyWatchers(queue, events: events) }
        guard !queue.waiters.isEmpty else { return }
        let waiters = queue.waiters
        queue.waiters.removeAll()
        for t in waiters where t.isBlocked { makeRunnable(t) }
    }

    /// Takes `t` off whatever it waits on and queues it to run its system call again.
    func makeRunnable(_ t: Task) {
        detach(t)
        if !t.isQueued {
            t.isQueued = true
            runnable.append(t)
        }
    }

    /// Forgets every wait of `t` (it is woken, or dying).
    func detach(_ t: Task) {
        t.isBlocked = false
        for q in t.blockedOn { q.waiters.removeAll { $0 === t } }
        t.blockedOn.removeAll()
        if !sleepers.isEmpty { sleepers.removeAll { $0 === t } }
    }

    /// Wakes sleepers whose deadline has passed; returns the next deadline still ahead.
    func expireSleepers(now: Int64) -> Int64? {
        var next: Int64? = nil
        for t in sleepers {
            guard let d = t.deadline else { continue }
            if d <= now {
                makeRunnable(t)
            } else {
                next = min(next ?? d, d)
            }
        }
        return next
    }
}
