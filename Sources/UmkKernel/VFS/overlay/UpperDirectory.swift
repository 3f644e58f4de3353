// UpperDirectory.swift: `--upper DIR`, the overlay's upper layer kept in a host directory between runs, so
// that a later run starts from what an earlier one changed and a user can see the changes as files. The
// layout is the OCI image layer's, which needs no privilege: a removed name is an empty `.wh.NAME` file, an
// opaque directory holds `.wh..wh..opq`.
//
// The layer is read into the instance's tmpfs upper at boot and written back when the instance ends (the
// guest's file work stays at memory speed, and a run killed with SIGKILL leaves DIR as the last run left
// it). Written back: directories, regular files (data, mode, times; owners where the host lets umk chown),
// symlinks, whiteouts and opaque markers. FIXME: hard links are written as separate copies, FIFOs and
// sockets are not kept, and owners that umk may not set come back as the user's who runs umk.
extension Kernel {
    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"

    /// Opens (making it if need be) and locks DIR, and reads it into the upper layer. Before the kernel's
    /// seccomp filter: flock is not on its list.
    func loadUpperDirectory(_ path: String) throws(LaunchError) {
        let what = "--upper \(path)"
        let dir: HostInode
        do {
            dir = try HostInode.upperDirectory(path: path)
        } catch {
            throw .kernelFailure("\(what): \(error.message)")
        }
        let locked: Bool
        do {
            let lockFile = try dir.handle.reopen(flags: O.RDONLY | O.DIRECTORY)
            locked = try lockFile.tryLockExclusively()
            upperLock = lockFile
        } catch {
            throw .kernelFailure("\(what): \(LinuxErrno(host: error).message)")
        }
        guard locked else { throw .kernelFailure("\(what): in use by another umk") }
        do {
            try load(dir, into: root.upper.root)
        } catch {
            throw .kernelFailure("\(what): \(error.message)")
        }
        upperDirectory = dir
    }

    private func load(_ dir: HostInode, into up: TmpfsInode) throws(LinuxErrno) {
        for e in try dir.directoryEntries() {
            if e.name == Kernel.opaqueMarker {
                up.opaque = true
                continue
            }
            if e.name.hasPrefix(Kernel.whiteoutPrefix) {
                let name = String(e.name.dropFirst(Kernel.whiteoutPrefix.count))
                if !name.isEmpty && up.entry(name) == nil { up.whiteOut(name) }
                continue
            }
            guard let node = try dir.lookup(e.name) as? HostInode else { continue }
            let st = try node.stat()
            let child: Inode
            switch node.fileType {
            case S.IFDIR:
                child = try up.create(e.name, mode: st.mode, owner: (st.uid, st.gid))
                if let d = child as? TmpfsInode { try load(node, into: d) }
            case S.IFREG:
                child = try up.create(e.name, mode: st.mode, owner: (st.uid, st.gid))
                if let f = child as? TmpfsInode { try copy(node, size: st.size, into: f) }
            case S.IFLNK:
                child = try up.createSymlink(e.name, target: try node.readLink(), owner: (st.uid, st.gid))
            default:
                continue
            }
            try child.setAttributes(AttributeChange(atime: st.atime, mtime: st.mtime))
        }
    }

    private func copy(_ file: HostInode, size: UInt64, into f: TmpfsInode) throws(LinuxErrno) {
        let source = try file.open(flags: O.RDONLY, dentry: Dentry(detached: "upper", inode: file))
        var at: UInt64 = 0
        while at < size {
            var chunk = try IOSequence.reading(1 << 20) { (io) throws(LinuxErrno) in try source.read(into: io, at: Int64(at)) }
            if chunk.isEmpty { break }
            let n = chunk.count
            guard try IOSequence.draining(&chunk, { (io) throws(LinuxErrno) in try f.write(from: io, at: at) }) == n else { throw .ENOSPC }
            at += UInt64(n)
        }
    }

    /// Writes the upper layer back to DIR: DIR then holds exactly the layer (what it had and the layer
    /// does not is removed).
    func saveUpperDirectory() throws(LinuxErrno) {
        guard let dir = upperDirectory else { return }
        try save(root.upper.root, to: dir)
    }

    private func save(_ up: TmpfsInode, to dir: HostInode) throws(LinuxErrno) {
        var keep = Set<String>()
        if up.opaque {
            keep.insert(Kernel.opaqueMarker)
            if (try? dir.lookup(Kernel.opaqueMarker)) == nil { _ = try dir.create(Kernel.opaqueMarker, mode: S.IFREG | 0o644, owner: (0, 0)) }
        }
        for e in try up.directoryEntries() {
            guard let node = up.entry(e.name) else { continue }
            let existing = try? dir.lookup(e.name)
            if node.isWhiteout {
                let marker = Kernel.whiteoutPrefix + e.name
                keep.insert(marker)
                if existing != nil { try removeTree(dir, e.name) }
                if (try? dir.lookup(marker)) == nil { _ = try dir.create(marker, mode: S.IFREG | 0o644, owner: (0, 0)) }
                continue
            }
            keep.insert(e.name)
            if let existing, existing.fileType != node.fileType || node.isSymlink {
                try removeTree(dir, e.name)
            }
            let st = try node.stat()
            var target: Inode
            switch node.fileType {
            case S.IFDIR:
                if let d = try? dir.lookup(e.name) { target = d } else {
                    target = try dir.create(e.name, mode: S.IFDIR | 0o700, owner: (st.uid, st.gid))
                }
                guard let sub = target as? HostInode else { continue }
                try save(node, to: sub)
            case S.IFREG:
                if let f = try? dir.lookup(e.name) { target = f } else {
                    target = try dir.create(e.name, mode: S.IFREG | 0o600, owner: (st.uid, st.gid))
                }
                let out = try target.open(flags: O.WRONLY | O.TRUNC, dentry: Dentry(detached: "upper", inode: target))
                var at: UInt64 = 0
                while at < st.size {
                    var chunk = try IOSequence.reading(1 << 20) { (io) throws(LinuxErrno) in node.read(into: io, at: at) }
                    if chunk.isEmpty { break }
                    let n = chunk.count
                    let written = try IOSequence.draining(&chunk) { (io) throws(LinuxErrno) in try out.write(from: io, at: Int64(at)) }
                    guard written == n else { throw .EIO }  // a short write to a regular host file
                    at += UInt64(n)
                }
            case S.IFLNK:
                target = try dir.createSymlink(e.name, target: try node.readLink(), owner: (st.uid, st.gid))
                continue  // a symlink's mode and times are not kept
            default:
                continue
            }
            try? target.setAttributes(AttributeChange(uid: st.uid, gid: st.gid))
            try target.setAttributes(AttributeChange(mode: st.mode & 0o7777, atime: st.atime, mtime: st.mtime))
        }
        for e in try dir.directoryEntries() where !keep.contains(e.name) { try removeTree(dir, e.name) }
    }

    /// Removes `name` from host directory `dir`, a directory with all it holds.
    private func removeTree(_ dir: HostInode, _ name: String) throws(LinuxErrno) {
        guard let node = try? dir.lookup(name) else { return }
        if node.isDirectory, let sub = node as? HostInode {
            for e in try sub.directoryEntries() { try removeTree(sub, e.name) }
        }
        try dir.remove(name, directory: node.isDirectory)
    }
}

extension HostInode {
    /// `--upper DIR`: a writable host directory, made if missing (its parent must exist).
    static func upperDirectory(path: String) throws(LinuxErrno) -> HostInode {
        if let d = try? bindSource(path: path, writable: true) {
            guard d.isDirectory else { throw .ENOTDIR }
            return d
        }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let slash = trimmed.lastIndex(of: "/")
        let parentPath = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
        let name = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        let parent = try bindSource(path: parentPath, writable: true)
        _ = try parent.create(name, mode: S.IFDIR | 0o755, owner: (0, 0))
        return try bindSource(path: path, writable: true)
    }
}
