// EventPoll.swift: an epoll instance (fs/eventpoll.c): the open file epoll_create returns, holding one entry
// (epitem) per watched (fd, open file) pair and a ready list (rdllist). An entry watches its file's wait
// queues: every wake of them runs `wakeup` (ep_poll_callback), which puts the entry on the ready list and
// wakes the instance's own queue, where epoll_wait's tasks and the instances that nest this one wait.
// epoll_wait polls the ready list in order: an entry no longer ready leaves it; a level-triggered entry
// reported goes back to its tail, an edge-triggered one waits for the next wake, a one-shot one is disabled
// until EPOLL_CTL_MOD. The entry of a file leaves every set when the file's last fd is closed.
// Deviation: Linux checks loops and nesting under a global mutex with a generation count; here the checks
// walk the nested instances directly (they are bounded by the same EP_MAX_NESTS).

enum EPOLL {
    static let IN: UInt32 = 0x1, PRI: UInt32 = 0x2, OUT: UInt32 = 0x4, ERR: UInt32 = 0x8, HUP: UInt32 = 0x10
    static let RDNORM: UInt32 = 0x40, RDHUP: UInt32 = 0x2000
    static let EXCLUSIVE: UInt32 = 1 << 28, WAKEUP: UInt32 = 1 << 29, ONESHOT: UInt32 = 1 << 30, ET: UInt32 = 1 << 31
    /// EP_PRIVATE_BITS: how an entry behaves, not events it reports.
    static let privateBits = WAKEUP | ONESHOT | ET | EXCLUSIVE
    /// EPOLLEXCLUSIVE_OK_BITS: what EPOLLEXCLUSIVE may come with.
    static let exclusiveOKBits = IN | OUT | ERR | HUP | WAKEUP | ET | EXCLUSIVE
    static let CTL_ADD: Int32 = 1, CTL_DEL: Int32 = 2, CTL_MOD: Int32 = 3
    /// sizeof(struct epoll_event): packed on x86-64 (u32 events, u64 data).
    static let eventSize = 12
}

/// One watched (fd, open file) pair (struct epitem).
final class EpollEntry {
    struct Key: Hashable {
        let file: ObjectIdentifier
        let fd: Int32
    }

    weak var epoll: EpollFile?
    let fd: Int32
    let file: OpenFile
    /// The events of interest with the EPOLLET/ONESHOT/EXCLUSIVE bits; only the private bits once a
    /// one-shot entry has reported.
    var events: UInt32
    var data: UInt64
    /// On the instance's ready list (ep_is_linked).
    var isReady = false
    /// The wait queues this entry watches (the file's read and write queues).
    var queues: [WaitQueue] = []

    init(epoll: EpollFile, fd: Int32, file: OpenFile, events: UInt32, data: UInt64) {
        self.epoll = epoll
        self.fd = fd
        self.file = file
        self.events = events
        self.data = data
    }

    var key: Key { Key(file: ObjectIdentifier(file), fd: fd) }
    var isDisabled: Bool { events & ~EPOLL.privateBits == 0 }
}

struct WeakEpollEntry {
    weak var entry: EpollEntry?
}

final class EpollFile: OpenFile {
    /// EP_MAX_NESTS: how deep instances may nest in each other.
    static let maxNesting = 4
    /// umk's bounds (Linux's is max_user_watches, a share of memory): entries in all instances, instances.
    static let maxWatches = 1 << 17
    static let maxInstances = 1 << 14

    unowned let kernel: Kernel
    let queue = WaitQueue()
    private(set) var entries: [EpollEntry.Key: EpollEntry] = [:]
    private var readyList: [EpollEntry] = []
    private var isReleased = false

    init(kernel: Kernel, flags: Int32) {
        self.kernel = kernel
        super.init(flags: O.RDWR, dentry: nil)
    }

    override var procLinkName: String { "anon_inode:[eventpoll]" }
    override var waitQueue: WaitQueue? { queue }

    override func stat() throws(LinuxErrno) -> FileStat { .anonymousInode }

    /// ep_eventpoll_poll: readable while an entry on the ready list is really ready (those that are not
    /// leave the list).
    override func readyEvents() -> Int16 { Int16(truncatingIfNeeded: readyMask(depth: 0)) }

    func readyMask(depth: Int) -> UInt32 {
        while let first = readyList.first {
            if poll(first, depth: depth) != 0 { return EPOLL.IN | EPOLL.RDNORM }
            first.isReady = false
            readyList.removeFirst()
        }
        return 0
    }

    /// ep_item_poll: the entry's file's events now, of those the entry wants.
    private func poll(_ e: EpollEntry, depth: Int) -> UInt32 {
        let ready: UInt32
        if let inner = e.file as? EpollFile {
            ready = depth >= EpollFile.maxNesting ? 0 : inner.readyMask(depth: depth + 1)
        } else {
            ready = UInt32(UInt16(bitPattern: e.file.readyEvents()))
        }
        return ready & e.events
    }

    override var fdInfo: String {
        entries.values.sorted { $0.fd < $1.fd }.map { e in
            let ino = (try? e.file.stat().ino) ?? 0
            return "tfd: \(pad(e.fd, 8)) events: \(pad(hex: e.events, 8)) data: \(pad(hex: e.data, 16))  pos:0 ino:\(String(ino, radix: 16)) sdev:0\n"
        }.joined()
    }
    private func pad(_ n: Int32, _ w: Int) -> String { String(repeating: " ", count: max(0, w - String(n).count)) + String(n) }
    private func pad<T: BinaryInteger>(hex n: T, _ w: Int) -> String {
        let s = String(n, radix: 16)
        return String(repeating: " ", count: max(0, w - s.count)) + s
    }

    // MARK: The set (epoll_ctl)

    func entry(fd: Int32, file: OpenFile) -> EpollEntry? { entries[EpollEntry.Key(file: ObjectIdentifier(file), fd: fd)] }

    /// ep_insert: watches the file's queues, and goes on the ready list at once if the file is ready.
    func insert(fd: Int32, file: OpenFile, events: UInt32, data: UInt64) throws(LinuxErrno) {
        guard kernel.epollWatches < EpollFile.maxWatches else { throw .ENOSPC }
        let e = EpollEntry(epoll: self, fd: fd, file: file, events: events, data: data)
        entries[e.key] = e
        kernel.epollWatches += 1
        file.epollEntries.append(e)
        for q in [file.waitQueue, file.writeWaitQueue] {
            guard let q, !e.queues.contains(where: { $0 === q }) else { continue }
            q.watchers.append(WeakEpollEntry(entry: e))
            e.queues.append(q)
        }
        queueIfReady(e)
    }

    /// ep_modify: new events and data; ready now, it goes on the ready list (an edge-triggered entry
    /// reports the state it finds once more, as on Linux).
    func modify(_ e: EpollEntry, events: UInt32, data: UInt64) {
        e.events = events
        e.data = data
        queueIfReady(e)
    }

    private func queueIfReady(_ e: EpollEntry) {
        guard poll(e, depth: 0) != 0 else { return }
        if !e.isReady {
            e.isReady = true
            readyList.append(e)
        }
        kernel.wake(queue, events: POLL.IN)
    }

    /// ep_remove: the entry stops watching and leaves the ready list.
    func remove(_ e: EpollEntry) {
        guard entries.removeValue(forKey: e.key) != nil else { return }
        kernel.epollWatches -= 1
        e.file.epollEntries.removeAll { $0 === e }
        for q in e.queues { q.watchers.removeAll { $0.entry === e || $0.entry == nil } }
        e.queues.removeAll()
        if e.isReady {
            e.isReady = false
            readyList.removeAll { $0 === e }
        }
    }

    /// ep_poll_callback: a queue the entry watches was woken. A disabled one-shot entry, or a wake about
    /// events the entry does not want, changes nothing.
    func wakeup(_ e: EpollEntry, events: Int16) {
        guard !e.isDisabled else { return }
        let key = UInt32(UInt16(bitPattern: events))
        if key != 0 && key & e.events == 0 { return }
        if !e.isReady {
            e.isReady = true
            readyList.append(e)
        }
        // One wake of this instance per wake of the first queue: shared nested instances cannot multiply it.
        if kernel.epollsWoken.insert(ObjectIdentifier(self)).inserted { kernel.wake(queue, events: POLL.IN) }
    }

    /// The epoll instances directly inside this one.
    var nested: [EpollFile] { entries.values.compactMap { $0.file as? EpollFile } }
    /// The epoll instances this one is directly inside.
    var containers: [EpollFile] { epollEntries.compactMap { $0.epoll } }

    /// ep_loop_check_proc: how deep instances nest below this one, or nil if `target` is among them (or
    /// they nest too deep to look). Each instance is looked at once (Linux's loop_check_gen), so that a
    /// lattice of shared instances costs its size, not its number of paths.
    func depthBelow(reaching target: EpollFile) -> Int? {
        var memo: [ObjectIdentifier: Int?] = [:]
        return depthBelow(reaching: target, depth: 0, memo: &memo)
    }

    private func depthBelow(reaching target: EpollFile, depth: Int, memo: inout [ObjectIdentifier: Int?]) -> Int? {
        if self === target { return nil }
        guard depth <= EpollFile.maxNesting else { return nil }
        if let known = memo[ObjectIdentifier(self)] { return known }
        var deepest: Int? = 0
        for inner in nested {
            guard let d = inner.depthBelow(reaching: target, depth: depth + 1, memo: &memo) else {
                deepest = nil
                break
            }
            deepest = max(deepest ?? 0, d + 1)
        }
        memo[ObjectIdentifier(self)] = deepest
        return deepest
    }

    /// ep_get_upwards_depth_proc: how deep this instance sits inside others (each looked at once).
    func depthAbove() -> Int {
        var memo: [ObjectIdentifier: Int] = [:]
        return depthAbove(depth: 0, memo: &memo)
    }

    private func depthAbove(depth: Int, memo: inout [ObjectIdentifier: Int]) -> Int {
        guard depth <= EpollFile.maxNesting else { return depth }
        if let known = memo[ObjectIdentifier(self)] { return known }
        var deepest = 0
        for outer in containers { deepest = max(deepest, outer.depthAbove(depth: depth + 1, memo: &memo) + 1) }
        memo[ObjectIdentifier(self)] = deepest
        return deepest
    }

    // MARK: epoll_wait

    /// ep_send_events, first half: up to `max` entries that are ready, with their events, in ready-list
    /// order. Those found not ready leave the list; the reported ones stay off it until `commit`.
    func harvest(max: Int) -> [(EpollEntry, UInt32)] {
        var out: [(EpollEntry, UInt32)] = []
        var rest: [EpollEntry] = []
        let list = readyList
        readyList = []
        for (i, e) in list.enumerated() {
            if out.count >= max {
                rest.append(contentsOf: list[i...])
                break
            }
            let ev = poll(e, depth: 0)
            if ev == 0 {
                e.isReady = false
            } else {
                out.append((e, ev))
            }
        }
        readyList = rest
        return out
    }

    /// The reports were copied out: one-shot entries are disabled, level-triggered ones go back to the end
    /// of the ready list (to be polled again next time), edge-triggered ones wait for a wake.
    func commit(_ reports: [(EpollEntry, UInt32)]) {
        for (e, _) in reports {
            if e.events & EPOLL.ONESHOT != 0 {
                e.events &= EPOLL.privateBits
                e.isReady = false
            } else if e.events & EPOLL.ET == 0 {
                readyList.append(e)
            } else {
                e.isReady = false
            }
        }
    }

    /// The copy-out failed (EFAULT): the entries go back to the head of the list, unreported.
    func putBack(_ reports: [(EpollEntry, UInt32)]) { readyList = reports.map { $0.0 } + readyList }

    /// ep_clear_and_put: the last fd went; every entry goes, and a task still waiting in epoll_wait (its
    /// fd closed by another thread) runs its call again and finds the fd gone.
    override func released() {
        super.released()
        guard !isReleased else { return }
        isReleased = true
        for e in Array(entries.values) { remove(e) }
        kernel.epollInstances -= 1
        kernel.wake(queue)
    }
}

extension Kernel {
    /// Tells the epoll entries watching `queue` of a wake. Nesting is bounded by epoll_ctl's checks; the
    /// depth guard keeps a wake from recursing past it whatever happens.
    func notifyWatchers(_ queue: WaitQueue, events: Int16) {
        guard wakeDepth <= EpollFile.maxNesting + 1 else { return }
        wakeDepth += 1
        defer {
            wakeDepth -= 1
            if wakeDepth == 0 { epollsWoken.removeAll(keepingCapacity: true) }
        }
        queue.watchers.removeAll { $0.entry == nil }
        for w in queue.watchers {
            if let e = w.entry, let ep = e.epoll { ep.wakeup(e, events: events) }
        }
    }
}
