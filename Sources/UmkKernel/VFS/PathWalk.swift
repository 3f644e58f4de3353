import CLinuxABI

// PathWalk.swift: name resolution (Linux's fs/namei.c), one component at a time, in the kernel.
//
// Confinement is structural: `..` moves to the dentry's parent and stops at the walk's root, and an absolute
// symlink restarts at that root, so no path or link can name a host file outside it. At most 40 symlinks
// are followed per walk (ELOOP), components are at most 255 bytes and paths 4095 (ENAMETOOLONG).
struct PathWalk {
    static let maxSymlinks = 40
    static let maxComponent = 255

    /// The process's root: `/` and `..` at the top lead here.
    let root: Dentry
    let credentials: Credentials
    /// The instance's mount table, and the process walking (procfs answers `self` for it).
    var mounts: MountNamespace? = nil
    var process: Process? = nil
    /// openat2's RESOLVE_* restrictions, and the directory RESOLVE_BENEATH keeps the walk under.
    var restrictions = Resolve()
    var beneath: Dentry? = nil

    /// openat2's resolve flags (include/uapi/linux/openat2.h).
    struct Resolve: OptionSet {
        let rawValue: UInt64
        static let noXDev = Resolve(LINUX_RESOLVE_NO_XDEV), noMagicLinks = Resolve(LINUX_RESOLVE_NO_MAGICLINKS)
        static let noSymlinks = Resolve(LINUX_RESOLVE_NO_SYMLINKS), beneath = Resolve(LINUX_RESOLVE_BENEATH)
        static let inRoot = Resolve(LINUX_RESOLVE_IN_ROOT), cached = Resolve(LINUX_RESOLVE_CACHED)
        static let all: Resolve = [.noXDev, .noMagicLinks, .noSymlinks, .beneath, .inRoot, .cached]
        /// RESOLVE_BENEATH and RESOLVE_IN_ROOT: scoped lookups, where magic links are refused (EXDEV).
        var isScoped: Bool { !isDisjoint(with: [.beneath, .inRoot]) }
        init(rawValue: UInt64) { self.rawValue = rawValue }
        private init(_ bit: Int32) { rawValue = UInt64(bit) }
    }

    /// This walk with openat2's restrictions, from `start`: RESOLVE_IN_ROOT makes `start` the root.
    func restricted(_ r: Resolve, from start: Dentry) -> PathWalk {
        var w = self
        w.restrictions = r
        if r.contains(.inRoot) { w = PathWalk(root: start, credentials: credentials, mounts: mounts, process: process, restrictions: r) }
        if r.contains(.beneath) { w.beneath = start }
        return w
    }

    init(root: Dentry, credentials: Credentials, mounts: MountNamespace? = nil, process: Process? = nil,
         restrictions: Resolve = Resolve())
    {
        self.root = root
        self.credentials = credentials
        self.mounts = mounts
        self.process = process
        self.restrictions = restrictions
    }

    /// Resolves `path` (relative ones from `start`). `followFinal` says whether a symlink in the last
    /// component is followed (it always is when the path ends in a slash).
    func resolve(_ path: [UInt8], from start: Dentry, followFinal: Bool) throws(LinuxErrno) -> Dentry {
        guard !path.isEmpty else { throw .ENOENT }
        var links = 0
        return try walk(path, from: start, followFinal: followFinal, links: &links)
    }

    /// Resolves all but the last component of `path`: the directory a new name would go into, and the name.
    /// The name is "." for "/" and for paths ending in "." (callers creating a file reject those).
    func resolveParent(_ path: [UInt8], from start: Dentry) throws(LinuxErrno) -> (Dentry, String) {
        guard !path.isEmpty else { throw .ENOENT }
        var comps = components(path)
        guard let last = comps.popLast() else { return (root, ".") }
        var prefix: [UInt8] = path.first == UInt8(ascii: "/") ? [UInt8(ascii: "/")] : []
        for c in comps {
            prefix += Array(c.utf8)
            prefix.append(UInt8(ascii: "/"))
        }
        var links = 0
        let parent = prefix.isEmpty ? start : try walk(prefix, from: start, followFinal: true, links: &links)
        guard parent.inode.isDirectory else { throw .ENOTDIR }
        return (parent, last)
    }

    private func components(_ path: [UInt8]) -> [String] {
        path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    private func walk(_ path: [UInt8], from start: Dentry, followFinal: Bool, links: inout Int) throws(LinuxErrno)
        -> Dentry
    {
        guard path.count < 4096 else { throw .ENAMETOOLONG }
        if path.first == UInt8(ascii: "/") { try jumpToRoot(from: start) }
        var current = path.first == UInt8(ascii: "/") ? root : start
        // The namespace path of `current` while it is a directory that holds mount points, else nil: only
        // there can a child be a mount.
        var mountPath = mountAncestorPath(current)
        var pending = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { Array($0) }
        var trailingSlash = path.last == UInt8(ascii: "/")
        var i = 0
        while i < pending.count {
            let name = pending[i]
            let isLast = i == pending.count - 1
            i += 1
            if name == [UInt8(ascii: ".")] {
                guard current.inode.isDirectory else { throw .ENOTDIR }
                continue
            }
            if name == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                guard current.inode.isDirectory else { throw .ENOTDIR }
                if let beneath, current === beneath { throw .EXDEV }  // would climb out of the start
                if current !== root, let parent = current.parent {
                    if restrictions.contains(.noXDev) && parent.mount !== current.mount { throw .EXDEV }
                    current = parent
                    mountPath = mountAncestorPath(current)
                }
                continue
            }
            guard name.count <= PathWalk.maxComponent else { throw .ENAMETOOLONG }
            guard current.inode.isDirectory else { throw .ENOTDIR }
            try checkSearch(current)
            let nameString = String(decoding: name, as: UTF8.self)
            var child: Inode? = nil
            var crossed: Mount? = nil
            var childPath: String? = nil
            if let mountPath, let mounts {
                let p = mountPath == "/" ? "/" + nameString : mountPath + "/" + nameString
                if let m = mounts.mount(at: p) {
                    child = m.makeRoot(process)
                    crossed = m
                }
                if mounts.holdsMounts(p) { childPath = p }
            }
            let node: Inode
            if let child { node = child } else { node = try current.inode.lookup(nameString) }
            if crossed != nil && restrictions.contains(.noXDev) { throw .EXDEV }
            if let magic = node as? ProcInode, magic.magic != nil, !isLast || followFinal || trailingSlash {
                links += 1
                guard links <= PathWalk.maxSymlinks else { throw .ELOOP }
                // nd_jump_link: refused without magic links, in a scoped walk, or into another mount.
                if restrictions.contains(.noMagicLinks) || restrictions.contains(.noSymlinks) { throw .ELOOP }
                if restrictions.isScoped { throw .EXDEV }
                let target = try magic.follow()
                if restrictions.contains(.noXDev) && target.mount !== current.mount { throw .EXDEV }
                current = target
                mountPath = mountAncestorPath(current)
                continue
            }
            if node.isSymlink && (!isLast || followFinal || trailingSlash) {
                links += 1
                guard links <= PathWalk.maxSymlinks else { throw .ELOOP }
                if restrictions.contains(.noSymlinks) { throw .ELOOP }
                let target = try node.readLink()
                guard !target.isEmpty else { throw .ENOENT }
                if target.first == UInt8(ascii: "/") {
                    try jumpToRoot(from: current)
                    current = root
                    mountPath = mountAncestorPath(current)
                }
                let rest = Array(pending[i...])
                pending = target.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { Array($0) } + rest
                if rest.isEmpty && target.last == UInt8(ascii: "/") { trailingSlash = true }
                i = 0
                continue
            }
            current = Dentry(name: nameString, parent: current, inode: node, mount: crossed)
            mountPath = childPath
            if let mounts { current.mountMemo = (mounts.generation, childPath) }
        }
        if trailingSlash && !current.inode.isDirectory { throw .ENOTDIR }
        return current
    }

    /// An absolute path or symlink: out of the question under RESOLVE_BENEATH, and a crossing under
    /// RESOLVE_NO_XDEV when the root is in another mount.
    private func jumpToRoot(from d: Dentry) throws(LinuxErrno) {
        if beneath != nil { throw .EXDEV }
        if restrictions.contains(.noXDev) && root.mount !== d.mount { throw .EXDEV }
    }

    private func mountAncestorPath(_ d: Dentry) -> String? { mounts?.ancestorPath(of: d) }

    private func checkSearch(_ d: Dentry) throws(LinuxErrno) {
        guard !credentials.isRoot else { return }
        guard credentials.permits(try d.inode.stat(), .execute) else { throw .EACCES }
    }
}
