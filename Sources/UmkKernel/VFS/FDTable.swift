// FDTable.swift: a process's file descriptor table (Linux's files_struct): fd -> open file description plus
// the close-on-exec bit. New fds take the lowest free number; RLIMIT_NOFILE bounds them (EMFILE). The table
// owns its POSIX record locks, as files_struct does in Linux: every fd that goes (close, dup2 over it, exec,
// exit) drops the table's locks on that file, and the last fd of an open file description its flock and
// OFD locks (locks_remove_posix, locks_remove_file), and fsnotify hears of the close (fsnotify_close).
final class FDTable {
    struct Entry {
        var file: OpenFile
        var closeOnExec: Bool
    }

    private(set) var entries: [Entry?] = []
    /// Processes sharing this table (CLONE_FILES).
    var users = 1
    /// The instance's lock table, told when an fd goes.
    weak var locks: FileLocks?
    /// Told when the last fd of an open file description goes (IN_CLOSE_*, an inotify instance's end).
    weak var notify: FileNotify?

    func get(_ fd: Int32) throws(LinuxErrno) -> OpenFile {
        guard fd >= 0, Int(fd) < entries.count, let e = entries[Int(fd)] else { throw .EBADF }
        return e.file
    }

    func entry(_ fd: Int32) throws(LinuxErrno) -> Entry {
        guard fd >= 0, Int(fd) < entries.count, let e = entries[Int(fd)] else { throw .EBADF }
        return e
    }

    func setCloseOnExec(_ fd: Int32, _ on: Bool) throws(LinuxErrno) {
        _ = try entry(fd)
        entries[Int(fd)]!.closeOnExec = on
    }

    /// Installs `file` at the lowest free fd >= `minimum`, below `limit`.
    func install(_ file: OpenFile, closeOnExec: Bool, minimum: Int32 = 0, limit: UInt64) throws(LinuxErrno) -> Int32 {
        var fd = Int(minimum)
        while fd < entries.count && entries[fd] != nil { fd += 1 }
        guard UInt64(fd) < limit else { throw .EMFILE }
        place(fd, Entry(file: file, closeOnExec: closeOnExec))
        return Int32(fd)
    }

    /// Puts `file` at `fd`, closing what was there (dup2/dup3).
    func install(_ file: OpenFile, at fd: Int32, closeOnExec: Bool) {
        place(Int(fd), Entry(file: file, closeOnExec: closeOnExec))
    }

    private func place(_ fd: Int, _ e: Entry) {
        if fd >= entries.count { entries.append(contentsOf: repeatElement(nil, count: fd - entries.count + 1)) }
        e.file.descriptorCount += 1
        let old = entries[fd]
        entries[fd] = e
        if let old { dropped(old.file) }
    }

    /// An fd of `file` went: its locks may go with it.
    private func dropped(_ file: OpenFile) {
        file.descriptorCount -= 1
        file.flush(closedBy: self)
        locks?.closed(file, by: self)
        if file.descriptorCount == 0 {
            file.released()
            notify?.closed(file)
        }
    }

    func close(_ fd: Int32) throws(LinuxErrno) {
        let e = try entry(fd)
        entries[Int(fd)] = nil
        dropped(e.file)
    }

    /// close_range: every open descriptor of `range` closed, or marked close-on-exec with `cloexec`.
    func closeRange(_ range: ClosedRange<Int>, cloexec: Bool) {
        guard range.lowerBound < entries.count else { return }
        for fd in range.lowerBound...min(range.upperBound, entries.count - 1) where entries[fd] != nil {
            if cloexec {
                entries[fd]!.closeOnExec = true
            } else {
                let file = entries[fd]!.file
                entries[fd] = nil
                dropped(file)
            }
        }
    }

    func closeAllOnExec() {
        for i in entries.indices where entries[i]?.closeOnExec == true {
            let file = entries[i]!.file
            entries[i] = nil
            dropped(file)
        }
    }

    var openCount: Int { entries.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}

extension FDTable {
    /// fork: a new table referring to the same open file descriptions (one offset, shared).
    func copy() -> FDTable {
        let t = FDTable()
        t.locks = locks
        t.notify = notify
        for (fd, e) in entries.enumerated() {
            if let e { t.install(e.file, at: Int32(fd), closeOnExec: e.closeOnExec) }
        }
        return t
    }

    /// exit: every descriptor closed (pipe ends see their peers go), once the last sharer goes.
    func release() {
        users -= 1
        guard users == 0 else { return }
        for fd in entries.indices where entries[fd] != nil { try? close(Int32(fd)) }
        locks?.releaseAll(self)
    }

    /// CLONE_FILES: one more process uses this table.
    func shared() -> FDTable {
        users += 1
        return self
    }

    /// exec of a process sharing its table: it gets its own copy.
    func unshared() -> FDTable {
        users -= 1
        return copy()
    }
}
