// Mount.swift: the instance's mount table (fs/namespace.c, one mount namespace per instance). A mount puts
// the root of a filesystem (or, for a bind, any directory or file) over a path of the tree; the path walk
// crosses into it, and `..` at its root goes back to the mount point's parent, as on Linux.
//
// Mount points are known by their path in the namespace, the way /proc/mounts names them. FIXME: Linux
// keeps a mount on its dentry, so renaming a directory that holds a mount point moves the mount along;
// here such a rename is refused (EBUSY), as renaming the mount point itself is on Linux.

/// What a mount shows and how /proc/mounts describes it.
final class Mount {
    /// mnt_id in /proc/PID/mountinfo and statx's stx_mnt_id.
    let id: Int
    /// The mount it sits on (nil for the root).
    let parentID: Int?
    /// The mount point: an absolute, normalised path in the namespace.
    let path: String
    /// The file system type (tmpfs, proc, sysfs, devpts, overlay, ...) and source, as mount(8) shows them.
    let type: String
    let source: String
    /// The root of the mount within its filesystem, for mountinfo ("/" but for binds of a subdirectory).
    let rootPath: String
    let readOnly: Bool
    /// Per-mount options (nosuid, nodev, noexec, relatime) and the filesystem's own (size=..., mode=...).
    let mountOptions: [String]
    let superOptions: [String]
    let device: (major: UInt32, minor: UInt32)
    /// What the mount point shows: procfs answers for the process that walks it (its `self`).
    let makeRoot: (Process?) -> Inode
    /// A tmpfs mount's filesystem, for statfs and its size.
    let tmpfs: Tmpfs?

    init(id: Int, parentID: Int?, path: String, type: String, source: String, rootPath: String = "/",
         readOnly: Bool = false, mountOptions: [String] = [], superOptions: [String] = [],
         device: (UInt32, UInt32), tmpfs: Tmpfs? = nil, makeRoot: @escaping (Process?) -> Inode)
    {
        self.id = id
        self.parentID = parentID
        self.path = path
        self.type = type
        self.source = source
        self.rootPath = rootPath
        self.readOnly = readOnly
        self.mountOptions = mountOptions
        self.superOptions = superOptions
        self.device = device
        self.tmpfs = tmpfs
        self.makeRoot = makeRoot
    }

    /// The options column of /proc/mounts: rw or ro, then the mount's and the filesystem's own.
    var optionString: String { ([readOnly ? "ro" : "rw"] + mountOptions + superOptions).joined(separator: ",") }
}

final class MountNamespace {
    /// The most mounts one instance may have (Linux's fs.mount-max is 100000; umk's mounts are kernel
    /// memory not charged to --mem, and a few hundred is more than containers use).
    static let maxMounts = 1000
    /// Every mount, in the order made (the root first); later mounts at the same path hide earlier ones.
    private(set) var mounts: [Mount] = []
    /// The top mount at each mount point.
    private var top: [String: Mount] = [:]
    /// Every directory that is a mount point or holds one below it: the walk looks for mounts only there.
    private var ancestors: Set<String> = []
    private var nextID = 20
    /// Changes with every mount and unmount (the path walk's memos are of one generation).
    private(set) var generation = 0
    /// Anonymous device minors (major 0) handed to new in-memory filesystems.
    private var nextDevice: UInt32 = 40

    func newDevice() -> UInt32 {
        nextDevice += 1
        return nextDevice
    }

    /// Adds a mount at `path` (normalised) over whatever is there.
    @discardableResult
    func add(at path: String, type: String, source: String, rootPath: String = "/", readOnly: Bool = false,
             mountOptions: [String] = [], superOptions: [String] = [], device: (UInt32, UInt32), tmpfs: Tmpfs? = nil,
             makeRoot: @escaping (Process?) -> Inode) -> Mount
    {
        nextID += 1
        let m = Mount(id: nextID, parentID: parentMount(of: path)?.id, path: path, type: type, source: source,
                      rootPath: rootPath, readOnly: readOnly, mountOptions: mountOptions, superOptions: superOptions,
                      device: device, tmpfs: tmpfs, makeRoot: makeRoot)
        mounts.append(m)
        top[path] = m
        generation += 1
        var p = path
        while true {
            ancestors.insert(p)
            if p == "/" { break }
            p = MountNamespace.parentPath(p)
        }
        return m
    }

    /// Removes the top mount at `path`: EINVAL if there is none, EBUSY if another mount sits on it.
    func remove(at path: String) throws(LinuxErrno) -> Mount {
        guard path != "/", let m = top[path] else { throw .EINVAL }
        if mounts.contains(where: { $0.parentID == m.id }) { throw .EBUSY }
        generation += 1
        mounts.removeAll { $0 === m }
        top[path] = mounts.last { $0.path == path }
        rebuildAncestors()
        return m
    }

    /// Removes the top mount at `path` and every mount that sits on it, transitively (a lazy unmount).
    func removeTree(at path: String) throws(LinuxErrno) {
        guard path != "/", let m = top[path] else { throw .EINVAL }
        var gone: Set<Int> = [m.id]
        for x in mounts where x.parentID.map({ gone.contains($0) }) ?? false { gone.insert(x.id) }  // made in order
        generation += 1
        mounts.removeAll { gone.contains($0.id) }
        for p in Set(top.keys) where top[p].map({ gone.contains($0.id) }) ?? false {
            top[p] = mounts.last { $0.path == p }
        }
        rebuildAncestors()
    }

    private func rebuildAncestors() {
        ancestors = []
        for m in mounts {
            var p = m.path
            while true {
                ancestors.insert(p)
                if p == "/" { break }
                p = MountNamespace.parentPath(p)
            }
        }
    }

    /// The mount at exactly `path`, if any, unless a later mount over a directory above it hides it (as a
    /// mount over /mnt hides what was mounted at /mnt/b).
    func mount(at path: String) -> Mount? {
        guard let m = top[path] else { return nil }
        var p = path
        while p != "/" {
            p = MountNamespace.parentPath(p)
            if let above = top[p], above.id > m.id { return nil }
        }
        return m
    }

    /// `d`'s path when mount points lie at or below it, else nil. Memoised on the dentry for this generation
    /// of the table, so that a walk from a deep cwd does not build the cwd's path every time.
    func ancestorPath(of d: Dentry) -> String? {
        guard d.mount != nil else { return nil }
        if let memo = d.mountMemo, memo.generation == generation { return memo.path }
        let p = d.path
        let found = holdsMounts(p) ? p : nil
        d.mountMemo = (generation, found)
        return found
    }

    /// Whether `path` is a mount point or has one below it.
    func holdsMounts(_ path: String) -> Bool { ancestors.contains(path) }

    /// The mount a new mount at `path` sits on: the one already there (stacking), else the deepest above it.
    func parentMount(of path: String) -> Mount? {
        if let m = top[path] { return m }
        var p = path
        while p != "/" {
            p = MountNamespace.parentPath(p)
            if let m = top[p] { return m }
        }
        return nil
    }

    static func parentPath(_ p: String) -> String {
        guard let slash = p.lastIndex(of: "/"), slash != p.startIndex else { return "/" }
        return String(p[..<slash])
    }

    /// `path` made absolute against `base`, with `.`, `..` and repeated slashes folded (no symlinks are
    /// followed: for configuration paths and the names /proc/mounts shows).
    static func normalise(_ path: String, base: String = "/") -> String {
        var parts: [Substring] = path.hasPrefix("/") ? [] : base.split(separator: "/")
        for c in path.split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }
}
