// FSNotify.swift: the kernel's side of file change notification (include/linux/fsnotify.h, fs/notify/fsnotify.c,
// fs/notify/inotify/inotify_fsnotify.c): the instance-wide table of inotify watches by file identity, and the
// hooks the system call layer calls once per successful change. Every hook first checks that some watch exists,
// so while no inotify instance watches anything they cost one dictionary emptiness test and no stat.
//
// Differs from Linux: watches are keyed by FileKey (st_dev + st_ino), so a watch follows the file, not a
// dentry; IN_DELETE_SELF comes when the last name goes even if the file is still open (Linux waits for the
// last reference); events on an open file whose name was renamed go to the directory and name it was opened
// by; changes made on the host under a writable bind are not seen; a read into a bad buffer fails before it takes
// an event (Linux loses the event it could not copy); max_user_instances and max_user_watches count every
// user together; exec's open of the program sends no events. No fanotify, no dnotify.

/// inotify's event and flag bits (include/uapi/linux/inotify.h).
enum IN {
    static let ACCESS: UInt32 = 0x1, MODIFY: UInt32 = 0x2, ATTRIB: UInt32 = 0x4
    static let CLOSE_WRITE: UInt32 = 0x8, CLOSE_NOWRITE: UInt32 = 0x10, OPEN: UInt32 = 0x20
    static let MOVED_FROM: UInt32 = 0x40, MOVED_TO: UInt32 = 0x80, CREATE: UInt32 = 0x100, DELETE: UInt32 = 0x200
    static let DELETE_SELF: UInt32 = 0x400, MOVE_SELF: UInt32 = 0x800
    static let UNMOUNT: UInt32 = 0x2000, Q_OVERFLOW: UInt32 = 0x4000, IGNORED: UInt32 = 0x8000
    static let ONLYDIR: UInt32 = 0x0100_0000, DONT_FOLLOW: UInt32 = 0x0200_0000, EXCL_UNLINK: UInt32 = 0x0400_0000
    static let MASK_CREATE: UInt32 = 0x1000_0000, MASK_ADD: UInt32 = 0x2000_0000
    static let ISDIR: UInt32 = 0x4000_0000, ONESHOT: UInt32 = 0x8000_0000
    static let allEvents: UInt32 = 0xfff
    /// ALL_INOTIFY_BITS: anything else in an add_watch mask is EINVAL.
    static let allBits: UInt32 = allEvents | UNMOUNT | Q_OVERFLOW | IGNORED | ONLYDIR | DONT_FOLLOW | EXCL_UNLINK
        | MASK_CREATE | MASK_ADD | ISDIR | ONESHOT
    /// What a watch keeps of an add_watch mask: its events and the flags that steer delivery.
    static let kept: UInt32 = allEvents | ONESHOT | EXCL_UNLINK

    /// The names of the bits set in `mask`, joined by "|" (for --strace).
    static func names(_ mask: UInt32) -> String {
        let all: [(UInt32, String)] = [
            (ACCESS, "IN_ACCESS"), (MODIFY, "IN_MODIFY"), (ATTRIB, "IN_ATTRIB"), (CLOSE_WRITE, "IN_CLOSE_WRITE"),
            (CLOSE_NOWRITE, "IN_CLOSE_NOWRITE"), (OPEN, "IN_OPEN"), (MOVED_FROM, "IN_MOVED_FROM"),
            (MOVED_TO, "IN_MOVED_TO"), (CREATE, "IN_CREATE"), (DELETE, "IN_DELETE"), (DELETE_SELF, "IN_DELETE_SELF"),
            (MOVE_SELF, "IN_MOVE_SELF"), (UNMOUNT, "IN_UNMOUNT"), (Q_OVERFLOW, "IN_Q_OVERFLOW"),
            (IGNORED, "IN_IGNORED"), (ONLYDIR, "IN_ONLYDIR"), (DONT_FOLLOW, "IN_DONT_FOLLOW"),
            (EXCL_UNLINK, "IN_EXCL_UNLINK"), (MASK_CREATE, "IN_MASK_CREATE"), (MASK_ADD, "IN_MASK_ADD"),
            (ISDIR, "IN_ISDIR"), (ONESHOT, "IN_ONESHOT"),
        ]
        var parts = all.filter { mask & $0.0 != 0 }.map(\.1)
        let rest = all.reduce(mask) { $0 & ~$1.0 }
        if rest != 0 || parts.isEmpty { parts.append("0x" + String(rest, radix: 16)) }
        return parts.joined(separator: "|")
    }
}

/// One watch: an inotify instance's interest in one file (Linux's inotify_inode_mark).
final class InotifyWatch {
    /// The instance; it drops its watches from the table when its last fd goes.
    weak var instance: InotifyFile?
    let wd: Int32
    let key: FileKey
    let isDirectory: Bool
    /// Events wanted, with IN_ONESHOT and IN_EXCL_UNLINK.
    var mask: UInt32

    init(instance: InotifyFile, wd: Int32, key: FileKey, isDirectory: Bool, mask: UInt32) {
        self.instance = instance
        self.wd = wd
        self.key = key
        self.isDirectory = isDirectory
        self.mask = mask
    }
}

/// The instance's watches by file, and its inotify limits (/proc/sys/fs/inotify).
final class FileNotify {
    static let maxQueuedEvents = 16384
    static let maxUserInstances = 128
    /// Linux scales this with RAM from 8192 up; here it is the floor, for every user together.
    static let maxUserWatches = 8192

    private(set) var watches: [FileKey: [InotifyWatch]] = [:]
    private(set) var watchCount = 0
    var instanceCount = 0
    private var lastCookie: UInt32 = 0
    unowned let kernel: Kernel

    init(kernel: Kernel) { self.kernel = kernel }

    /// An fd table's last fd of `f` went.
    func closed(_ f: OpenFile) { kernel.notifyClosed(f) }

    /// Whether anything watches at all: the hooks' fast test.
    var isActive: Bool { !watches.isEmpty }

    /// fsnotify_get_cookie: one number shared by the two halves of a rename.
    func nextCookie() -> UInt32 {
        lastCookie &+= 1
        return lastCookie
    }

    func add(_ w: InotifyWatch) throws(LinuxErrno) {
        guard watchCount < FileNotify.maxUserWatches else { throw .ENOSPC }
        watches[w.key, default: []].append(w)
        watchCount += 1
    }

    /// Takes `w` off its file; with `ignored`, its instance is told (IN_IGNORED) and forgets it.
    func remove(_ w: InotifyWatch, ignored: Bool = true) {
        guard var list = watches[w.key], let i = list.firstIndex(where: { $0 === w }) else { return }
        list.remove(at: i)
        watches[w.key] = list.isEmpty ? nil : list
        watchCount -= 1
        if ignored, let instance = w.instance { instance.forget(w) }
    }

    /// Queues `mask` for the watches on `key` that want it (send_to_group, inotify_handle_inode_event).
    /// `name` goes with events a directory's watch gets about one of its children.
    func send(_ mask: UInt32, to key: FileKey, name: [UInt8] = [], cookie: UInt32 = 0, unlinked: Bool = false) {
        guard let list = watches[key] else { return }
        // inotify never reported IN_ISDIR with the self events, and still does not.
        let reported = mask & (IN.DELETE_SELF | IN.MOVE_SELF) != 0 ? mask & ~IN.ISDIR : mask
        for w in list where w.mask & mask & IN.allEvents != 0 {
            if unlinked && w.mask & IN.EXCL_UNLINK != 0 { continue }
            guard let instance = w.instance else { continue }
            instance.queue(InotifyEvent(wd: w.wd, mask: reported, cookie: cookie, name: name))
            if w.mask & IN.ONESHOT != 0 { remove(w) }
        }
    }

    /// The file at `key` is gone (fsnotify_inoderemove): IN_DELETE_SELF, then every watch on it ends.
    func removed(_ key: FileKey) {
        send(IN.DELETE_SELF, to: key)
        for w in watches[key] ?? [] { remove(w) }
    }

    /// A filesystem was unmounted (fsnotify_unmount_inodes): each watch on it gets IN_UNMOUNT, then ends; the
    /// newest files first, as Linux walks the superblock's inode list.
    func unmounted(device: (UInt32, UInt32)) {
        let keys = watches.keys.filter { $0.devMajor == device.0 && $0.devMinor == device.1 }.sorted { $0.ino > $1.ino }
        for key in keys {
            for w in watches[key] ?? [] {
                w.instance?.queue(InotifyEvent(wd: w.wd, mask: IN.UNMOUNT | (w.isDirectory ? IN.ISDIR : 0), cookie: 0, name: []))
                remove(w)
            }
        }
    }
}

/// A file's identity for the watch table, or nil if it cannot say (a file gone under a host bind).
func notifyKey(_ inode: Inode) -> FileKey? {
    guard let st = try? inode.stat() else { return nil }
    return FileKey(st)
}

/// What a hook needs of a name about to be removed or replaced, taken before the change.
struct DoomedName {
    let key: FileKey
    let inode: Inode
    let wasLastLink: Bool
    let isDirectory: Bool

    init?(_ inode: Inode) {
        guard let st = try? inode.stat() else { return nil }
        key = FileKey(st)
        self.inode = inode
        isDirectory = st.isDirectory
        wasLastLink = st.isDirectory || st.nlink <= 1
    }

    /// Whether the file lost its last name (the stat after the change fails or says so).
    var isGone: Bool {
        if wasLastLink || isDirectory { return true }
        guard let st = try? inode.stat() else { return true }
        return st.nlink == 0
    }
}

// MARK: The hooks (include/linux/fsnotify.h), one per kind of change.

extension Kernel {
    /// fsnotify_create, fsnotify_mkdir: `name` is new in `dir` (open O_CREAT, mkdir, mknod, symlink).
    func notifyCreate(in dir: Dentry, _ name: String, isDirectory: Bool) {
        guard notify.isActive, let dirKey = notifyKey(dir.inode) else { return }
        notify.send(IN.CREATE | (isDirectory ? IN.ISDIR : 0), to: dirKey, name: Array(name.utf8))
    }

    /// fsnotify_link: the file's link count moved (IN_ATTRIB to it alone), and `name` is new in `dir`.
    func notifyLink(_ inode: Inode, in dir: Dentry, _ name: String) {
        guard notify.isActive else { return }
        if let key = notifyKey(inode) { notify.send(IN.ATTRIB, to: key) }
        notifyCreate(in: dir, name, isDirectory: false)
    }

    /// Before unlink, rmdir or a replacing rename: what the hooks after it need (nil when nothing watches).
    func notifyBeforeRemoval(_ inode: Inode?) -> DoomedName? {
        guard notify.isActive, let inode else { return nil }
        return DoomedName(inode)
    }

    /// vfs_unlink, vfs_rmdir: a file's link count drops (IN_ATTRIB, files only), the file goes if that was its
    /// last name (IN_DELETE_SELF, IN_IGNORED: Linux sends these before the directory's IN_DELETE when no one
    /// holds the file), and the directory loses `name`.
    func notifyRemoved(_ doomed: DoomedName?, from dir: Dentry, _ name: String) {
        guard let doomed, notify.isActive else { return }
        if !doomed.isDirectory { notify.send(IN.ATTRIB, to: doomed.key) }
        if doomed.isGone { notify.removed(doomed.key) }
        if let dirKey = notifyKey(dir.inode) {
            notify.send(IN.DELETE | (doomed.isDirectory ? IN.ISDIR : 0), to: dirKey, name: Array(name.utf8))
        }
    }

    /// fsnotify_move: `source` left `oldName` in `from` for `newName` in `to` (MOVED_FROM and MOVED_TO with one
    /// cookie, then IN_MOVE_SELF); a replaced `target` loses a link, and goes if it was its last.
    func notifyMoved(_ source: Inode, from: Dentry, _ oldName: String, to: Dentry, _ newName: String, replaced: DoomedName?) {
        guard notify.isActive, let key = notifyKey(source) else { return }
        let isDir: UInt32 = source.isDirectory ? IN.ISDIR : 0
        let cookie = notify.nextCookie()
        if let k = notifyKey(from.inode) { notify.send(IN.MOVED_FROM | isDir, to: k, name: Array(oldName.utf8), cookie: cookie) }
        if let k = notifyKey(to.inode) { notify.send(IN.MOVED_TO | isDir, to: k, name: Array(newName.utf8), cookie: cookie) }
        if let replaced, !replaced.isDirectory { notify.send(IN.ATTRIB, to: replaced.key) }
        notify.send(IN.MOVE_SELF, to: key)
        if let replaced, replaced.isGone { notify.removed(replaced.key) }
    }

    /// fsnotify_dentry, fsnotify_change: an event on the file named by `dentry`, for its own watches and, with
    /// its name, for its directory's (IN_ATTRIB, IN_MODIFY, IN_ACCESS, IN_OPEN, IN_CLOSE_*).
    func notifyChange(_ dentry: Dentry, _ mask: UInt32, unlinkedCheck: Bool = false) {
        guard notify.isActive, let st = try? dentry.inode.stat() else { return }
        let m = mask | (st.isDirectory ? IN.ISDIR : 0)
        let unlinked = unlinkedCheck && st.nlink == 0
        if let parent = dentry.parent, let k = notifyKey(parent.inode) {
            notify.send(m, to: k, name: Array(dentry.name.utf8), unlinked: unlinked)
        }
        notify.send(m, to: FileKey(st), unlinked: unlinked)
    }

    /// fsnotify_file: an event on an open file (not O_PATH, not one without a name such as a pipe); watches
    /// with IN_EXCL_UNLINK do not see it once the file has no name left.
    func notifyFile(_ f: OpenFile, _ mask: UInt32) {
        guard notify.isActive, !f.isPathOnly, let d = f.dentry, !(f is InotifyFile) else { return }
        notifyChange(d, mask, unlinkedCheck: true)
    }

    /// The IN_ACCESS or IN_MODIFY a successful read or write of `n > 0` bytes sends.
    func notifyTransfer(_ f: OpenFile, _ outcome: SyscallOutcome, write: Bool) -> SyscallOutcome {
        if notify.isActive, case .value(let n) = outcome, n > 0 { notifyFile(f, write ? IN.MODIFY : IN.ACCESS) }
        return outcome
    }

    /// fsnotify_close: the last fd of an open file description went (close, dup2 over it, exec, exit).
    func notifyClosed(_ f: OpenFile) {
        if notify.instanceCount > 0, let instance = f as? InotifyFile { instance.release() }
        guard notify.isActive else { return }
        notifyFile(f, f.isWritable ? IN.CLOSE_WRITE : IN.CLOSE_NOWRITE)
    }
}
