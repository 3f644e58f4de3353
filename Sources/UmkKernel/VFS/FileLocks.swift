// FileLocks.swift: advisory file locks (fs/locks.c): one table per instance, keyed by the locked file's
// identity (st_dev and st_ino), never by anything the guest names.
//
// Three kinds, as Linux has them:
// - flock(2) locks: whole-file, owned by the open file description; they never meet the other two kinds.
// - POSIX record locks (F_SETLK): byte ranges owned, as Linux's fl_owner = current->files, by the fd
//   table: a forked child (a new table) inherits none, execve keeps them, and closing any fd of the file
//   drops all of the table's locks on it.
// - OFD record locks (F_OFD_SETLK): byte ranges owned by the open file description; they conflict with
//   POSIX locks of other owners, as they share Linux's flc_posix list.
// A request that conflicts waits on the file's queue (the caller returns .block) and runs again from the
// start when any lock of that file goes or shrinks. What differs from Linux: the number of locks is capped
// (ENOLCK), since umk's kernel memory is not charged to --mem; there are no mandatory locks and no leases.

/// Who holds a lock: an fd table (POSIX locks) or an open file description (flock and OFD locks).
enum FileLockOwner: Hashable {
    case table(ObjectIdentifier)
    case file(ObjectIdentifier)
}

/// F_RDLCK, F_WRLCK, F_UNLCK: struct flock's l_type.
enum FileLockType: Int16 {
    case read = 0, write = 1, unlock = 2
}

/// One lock, or one request for a lock. `end` is inclusive; Int64.max (OFFSET_MAX) reaches any end of file.
struct FileLock: Equatable {
    var owner: FileLockOwner
    /// The guest pid of the process that took it (F_GETLK's l_pid), -1 for OFD locks.
    var pid: Int32
    var type: FileLockType
    var start: Int64 = 0
    var end: Int64 = .max

    func overlaps(_ o: FileLock) -> Bool { start <= o.end && o.start <= end }

    /// posix_locks_conflict / flock_locks_conflict: another owner's lock over the same bytes, one of the two
    /// a write lock.
    func conflicts(with o: FileLock) -> Bool {
        owner != o.owner && overlaps(o) && (type == .write || o.type == .write)
    }
}

/// The locks of one file and where their waiters sleep.
final class LockedFile {
    /// POSIX and OFD record locks in Linux's list order: each owner's locks together, sorted by start, in
    /// the order owners first locked.
    var records: [FileLock] = []
    var flocks: [FileLock] = []
    let queue = WaitQueue()
    var isEmpty: Bool { records.isEmpty && flocks.isEmpty }
}

final class FileLocks {
    /// Most locks one instance holds at once (ENOLCK beyond).
    static let maxLocks = 10_000
    /// posix_locks_deadlock's MAX_DEADLK_ITERATIONS.
    static let maxDeadlockSteps = 10

    private(set) var files: [FileKey: LockedFile] = [:]
    private(set) var count = 0
    /// Record locks per fd table, so a close looks its file up only when the table holds some.
    private var recordCount: [ObjectIdentifier: Int] = [:]
    /// The POSIX owners waiting in F_SETLKW, for deadlock detection (Linux's blocked_hash). An entry is
    /// current only while its task still sleeps on the file's queue.
    private var waiting: [FileLockOwner: (task: Task, key: FileKey, request: FileLock)] = [:]
    private let wake: (WaitQueue) -> Void
    /// The cap on `count` (maxLocks; unit tests use fewer).
    let limit: Int

    init(limit: Int = FileLocks.maxLocks, wake: @escaping (WaitQueue) -> Void) {
        self.limit = limit
        self.wake = wake
    }

    private func entry(_ key: FileKey) -> LockedFile {
        if let e = files[key] { return e }
        let e = LockedFile()
        files[key] = e
        return e
    }

    /// Wakes the file's waiters after its locks changed, and forgets a file with no locks left.
    private func changed(_ key: FileKey, _ e: LockedFile) {
        wake(e.queue)
        if e.isEmpty && e.queue.isEmpty { files[key] = nil }
    }

    private func tidy(_ key: FileKey) {
        if let e = files[key], e.isEmpty, e.queue.isEmpty { files[key] = nil }
    }

    // MARK: flock

    /// flock_lock_inode: takes, converts or drops the whole-file lock of `owner`. A conversion drops the old
    /// lock first, as Linux does, so a refused conversion leaves none. Returns the queue to wait on when
    /// the lock must wait and `wait` allows it.
    func flock(_ key: FileKey, owner: FileLockOwner, type: FileLockType, wait: Bool)
        throws(LinuxErrno) -> WaitQueue?
    {
        let e = entry(key)
        if let i = e.flocks.firstIndex(where: { $0.owner == owner }) {
            if e.flocks[i].type == type { return nil }
            e.flocks.remove(at: i)
            count -= 1
            wake(e.queue)
        }
        let request = FileLock(owner: owner, pid: -1, type: type)
        if type == .unlock {
            tidy(key)
            return nil
        }
        if e.flocks.contains(where: { request.conflicts(with: $0) }) {
            if wait { return e.queue }
            tidy(key)
            throw .EAGAIN
        }
        guard count < limit else {
            tidy(key)
            throw .ENOLCK
        }
        e.flocks.append(request)
        count += 1
        return nil
    }

    // MARK: record locks

    /// posix_test_lock: the first lock that would block `request`. An F_UNLCK request (F_OFD_GETLK only)
    /// finds the caller's own lock over the range instead (Linux 6.4's extension).
    func test(_ key: FileKey, _ request: FileLock) -> FileLock? {
        guard let e = files[key] else { return nil }
        if request.type == .unlock {
            return e.records.first { $0.owner == request.owner && $0.overlaps(request) }
        }
        return e.records.first { request.conflicts(with: $0) }
    }

    /// posix_lock_inode: sets or clears `request`'s range for its owner, splitting and merging what the
    /// owner holds. Returns the queue to wait on when the lock must wait and `waiter` is given (F_SETLKW);
    /// EAGAIN when it must wait and may not; EDEADLK when waiting would close a cycle of POSIX owners.
    func set(_ key: FileKey, _ request: FileLock, waiter: Task?) throws(LinuxErrno) -> WaitQueue? {
        let e = entry(key)
        if request.type != .unlock, let blocker = e.records.first(where: { request.conflicts(with: $0) }) {
            guard let waiter else {
                tidy(key)
                throw .EAGAIN
            }
            if case .table = request.owner {
                if deadlocks(request.owner, blocker) { throw .EDEADLK }
                waiting[request.owner] = (waiter, key, request)
            }
            return e.queue
        }
        waiting[request.owner] = nil
        let old = e.records.filter { $0.owner == request.owner }
        var merged = request
        var kept: [FileLock] = []
        for l in old {
            if l.type == request.type {
                // The same type over or next to the range: one lock. (Both starts are >= 0, so -1 is safe.)
                if l.end >= merged.start - 1 && l.start - 1 <= merged.end {
                    merged.start = min(merged.start, l.start)
                    merged.end = max(merged.end, l.end)
                } else {
                    kept.append(l)
                }
                continue
            }
            guard l.overlaps(request) else {
                kept.append(l)
                continue
            }
            // Another type (or an unlock) over part of it: what lies outside the range stays.
            if l.start < request.start {
                var left = l
                left.end = request.start - 1
                kept.append(left)
            }
            if l.end > request.end {  // so request.end < Int64.max
                var right = l
                right.start = request.end + 1
                kept.append(right)
            }
        }
        if request.type != .unlock { kept.append(merged) }
        kept.sort { $0.start < $1.start }
        let growth = kept.count - old.count
        guard growth <= 0 || count + growth <= limit else {
            tidy(key)
            throw .ENOLCK
        }
        let at = e.records.firstIndex { $0.owner == request.owner } ?? e.records.count
        e.records.removeAll { $0.owner == request.owner }
        e.records.insert(contentsOf: kept, at: min(at, e.records.count))
        count += growth
        if case .table(let table) = request.owner {
            let n = (recordCount[table] ?? 0) + growth
            recordCount[table] = n > 0 ? n : nil
        }
        if kept != old { changed(key, e) } else { tidy(key) }
        return nil
    }

    /// posix_locks_deadlock: whether the owner of `blocker` waits, through a chain of POSIX owners each
    /// waiting for the next, for a lock `owner` holds.
    private func deadlocks(_ owner: FileLockOwner, _ blocker: FileLock) -> Bool {
        var b = blocker
        for _ in 0..<FileLocks.maxDeadlockSteps {
            guard let w = waiting[b.owner], w.task.isAlive, w.task.isBlocked, let e = files[w.key],
                  w.task.blockedOn.contains(where: { $0 === e.queue }),
                  let next = e.records.first(where: { w.request.conflicts(with: $0) })
            else { return false }
            if next.owner == owner { return true }
            b = next
        }
        return false
    }

    // MARK: release

    /// The lock-table identity of an open file: its device and inode; a file that cannot be stat'ed is its
    /// own identity.
    static func key(of file: OpenFile) -> FileKey {
        if let key = file.lockKey { return key }
        let key: FileKey
        if let s = try? file.stat() {
            key = FileKey(s)
        } else {
            key = FileKey(devMajor: .max, devMinor: .max, ino: UInt64(UInt(bitPattern: ObjectIdentifier(file).hashValue)))
        }
        file.lockKey = key
        return key
    }

    /// An fd of `file` in `table` went (locks_remove_posix, and locks_remove_file for the last one).
    func closed(_ file: OpenFile, by table: FDTable) {
        if holdsRecordLocks(table) {
            release(FileLocks.key(of: file), owner: .table(ObjectIdentifier(table)))
        }
        if file.descriptorCount == 0, let key = file.lockKey {
            release(key, owner: .file(ObjectIdentifier(file)))
        }
    }

    /// Whether the fd table holds any record lock (so that closing one of its fds has work to do).
    func holdsRecordLocks(_ table: FDTable) -> Bool { recordCount[ObjectIdentifier(table)] != nil }

    /// Drops every lock of `owner` on the file: record locks, and flock locks of an open file description.
    func release(_ key: FileKey, owner: FileLockOwner) {
        guard let e = files[key] else { return }
        let records = e.records.count, flocks = e.flocks.count
        e.records.removeAll { $0.owner == owner }
        e.flocks.removeAll { $0.owner == owner }
        let dropped = records - e.records.count
        count -= dropped + flocks - e.flocks.count
        if case .table(let table) = owner, dropped > 0 {
            let n = (recordCount[table] ?? 0) - dropped
            recordCount[table] = n > 0 ? n : nil
        }
        if records != e.records.count || flocks != e.flocks.count { changed(key, e) }
    }

    /// An fd table goes (its process exits or execs into a copy): whatever it still holds goes too.
    func releaseAll(_ table: FDTable) {
        let owner = FileLockOwner.table(ObjectIdentifier(table))
        waiting[owner] = nil
        guard holdsRecordLocks(table) else { return }
        for key in Array(files.keys) { release(key, owner: owner) }
        recordCount[ObjectIdentifier(table)] = nil
    }
}
