import CLinuxABI

// InotifyFile.swift: an inotify instance (fs/notify/inotify/inotify_user.c): the open file inotify_init returns,
// holding its watches (wd numbers from 1, per instance, never reused until they wrap, as idr_alloc_cyclic) and a
// bounded queue of events that read(2) hands out as struct inotify_event records, whole ones only.

/// One queued event (inotify_event_info); `name` is the child's name, or empty for the watched file itself.
struct InotifyEvent: Equatable {
    var wd: Int32
    var mask: UInt32
    var cookie: UInt32
    var name: [UInt8]

    static let headerSize = MemoryLayout<linux_inotify_event>.size

    /// round_event_name_len: the name, its NUL and zero padding to a multiple of 16 bytes.
    var paddedNameLength: Int {
        name.isEmpty ? 0 : (name.count + 1 + InotifyEvent.headerSize - 1) / InotifyEvent.headerSize * InotifyEvent.headerSize
    }
    var size: Int { InotifyEvent.headerSize + paddedNameLength }

    /// struct linux_inotify_event {int wd; u32 mask, cookie, len; char name[len];}: the header, the name,
    /// then zeros (its NUL and the padding).
    var bytes: [UInt8] {
        var header = linux_inotify_event()
        header.wd = wd
        header.mask = mask
        header.cookie = cookie
        header.len = UInt32(truncatingIfNeeded: paddedNameLength)
        var out: [UInt8] = []
        out.reserveCapacity(size)
        out.append(header: header)
        out += name
        out += repeatElement(0, count: size - out.count)
        return out
    }

    /// inotify_merge's event_compare: same watch, mask and name (the cookie is not compared).
    func merges(with other: InotifyEvent) -> Bool { wd == other.wd && mask == other.mask && name == other.name }
}

final class InotifyFile: OpenFile {
    unowned let notify: FileNotify
    let queue = WaitQueue()
    private var events: [InotifyEvent] = []
    private var head = 0
    /// Whether the IN_Q_OVERFLOW event is in the queue now (there is only ever one).
    private var overflowQueued = false
    private(set) var watches: [Int32: InotifyWatch] = [:]
    private var lastWd: Int32 = 0
    private var isReleased = false

    init(notify: FileNotify, flags: Int32) {
        self.notify = notify
        super.init(flags: O.RDONLY | (flags & O.NONBLOCK), dentry: nil)
    }

    override var procLinkName: String { "anon_inode:inotify" }
    override var waitQueue: WaitQueue? { queue }
    var pendingCount: Int { events.count - head }

    // MARK: Watches

    /// The watch on the file at `key`, if this instance has one.
    func watch(on key: FileKey) -> InotifyWatch? { watches.values.first { $0.key == key } }

    /// A new watch with the next free wd (ENOSPC past max_user_watches).
    func addWatch(_ key: FileKey, isDirectory: Bool, mask: UInt32) throws(LinuxErrno) -> Int32 {
        var wd = lastWd
        repeat {
            wd = wd == Int32.max ? 1 : wd + 1
        } while watches[wd] != nil
        let w = InotifyWatch(instance: self, wd: wd, key: key, isDirectory: isDirectory, mask: mask)
        try notify.add(w)
        lastWd = wd
        watches[wd] = w
        return wd
    }

    /// inotify_rm_watch: EINVAL for a wd this instance does not have.
    func removeWatch(_ wd: Int32) throws(LinuxErrno) {
        guard let w = watches[wd] else { throw .EINVAL }
        notify.remove(w)
    }

    /// A watch ended (rm_watch, IN_ONESHOT, its file gone): IN_IGNORED is its last event.
    func forget(_ w: InotifyWatch) {
        guard watches[w.wd] === w else { return }
        queue(InotifyEvent(wd: w.wd, mask: IN.IGNORED, cookie: 0, name: []))
        watches[w.wd] = nil
    }

    /// inotify_release: the last fd went. The watches go with no events; a reader still waiting (another
    /// thread, whose fd was closed under it) runs its call again and finds the fd gone.
    func release() {
        guard !isReleased else { return }
        isReleased = true
        for w in watches.values { notify.remove(w, ignored: false) }
        watches.removeAll()
        events.removeAll()
        head = 0
        notify.instanceCount -= 1
        notify.kernel.wake(queue)
    }

    // MARK: The event queue

    /// fsnotify_add_event with inotify_merge: past max_queued_events one IN_Q_OVERFLOW stands for all that
    /// are lost; an event equal to the last one queued is merged into it.
    func queue(_ e: InotifyEvent) {
        guard !isReleased else { return }
        if pendingCount >= FileNotify.maxQueuedEvents {
            guard !overflowQueued else { return }
            overflowQueued = true
            events.append(InotifyEvent(wd: -1, mask: IN.Q_OVERFLOW, cookie: 0, name: []))
        } else {
            if pendingCount > 0, let last = events.last, last.merges(with: e) { return }
            events.append(e)
        }
        notify.kernel.wake(queue)
    }

    private func takeFirst() -> InotifyEvent {
        let e = events[head]
        head += 1
        if e.mask == IN.Q_OVERFLOW { overflowQueued = false }
        if head == events.count {
            events.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 {
            events.removeFirst(head)
            head = 0
        }
        return e
    }

    /// inotify_read: as many whole events as fit; EINVAL if not even the first does; EAGAIN (a wait, unless
    /// O_NONBLOCK) when there are none.
    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        guard pendingCount > 0 else { throw .EAGAIN }
        var out: [UInt8] = []
        while pendingCount > 0, out.count + events[head].size <= io.count { out += takeFirst().bytes }
        if out.isEmpty { throw .EINVAL }
        return io.copyOut(out)
    }

    /// noop_llseek: the position stays 0.
    override func seek(_ offset: Int64, whence: Int32) throws(LinuxErrno) -> Int64 { 0 }

    override func readyEvents() -> Int16 { pendingCount > 0 ? POLL.IN | POLL.RDNORM : 0 }

    /// FIONREAD: the bytes a read would take to empty the queue.
    override func ioctl(_ request: UInt, _ arg: UnsafeMutableRawPointer?) throws(LinuxErrno) -> Int {
        guard request == 0x541b, let arg else { throw .ENOTTY }  // FIONREAD
        let total = events[head...].reduce(0) { $0 + $1.size }
        arg.storeBytes(of: Int32(truncatingIfNeeded: total), as: Int32.self)
        return 0
    }

    override func stat() throws(LinuxErrno) -> FileStat { .anonymousInode }
}
