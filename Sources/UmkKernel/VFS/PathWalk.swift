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
                if current !== root, let parent = current.parent {
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
            if let magic = node as? ProcInode, magic.magic != nil, !isLast || followFinal || trailingSlash {
                links += 1
                guard links <= PathWalk.maxSymlinks else { throw .ELOOP }
                current = try magic.follow()
                mountPath = mountAncestorPath(current)
                continue
            }
            if node.isSymlink && (!isLast || followFinal || trailingSlash) {
                links += 1
                guard links <= PathWalk.maxSymlinks else { throw .ELOOP }
                let target = try node.readLink()
                guard !target.isEmpty else { throw .ENOENT }
                if target.first == UInt8(ascii: "/") {
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
        }
        if trailingSlash && !current.inode.isDirectory { throw .ENOTDIR }
        return current
    }

    /// `d`'s path in the namespace when mount points lie at or below it, else nil.
    private func mountAncestorPath(_ d: Dentry) -> String? {
        guard let mounts, d.mount != nil else { return nil }
        let p = d.path
        return mounts.holdsMounts(p) ? p : nil
    }

    private func checkSearch(_ d: Dentry) throws(LinuxErrno) {
        guard !credentials.isRoot else { return }
        guard credentials.permits(try d.inode.stat(), .execute) else { throw .EACCES }
    }
}
