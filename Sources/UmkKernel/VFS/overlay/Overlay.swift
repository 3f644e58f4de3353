import UmkHost

// Overlay.swift: the guest's root (fs/overlayfs): the host directory as a read-only lower layer under a tmpfs
// upper layer, so the guest writes anywhere and the host is never touched. A name is looked up in the upper
// first; a whiteout there (the character device 0:0, as overlayfs makes them) hides the lower one, and an
// opaque upper directory hides the lower directory's contents. Writing a lower file, or changing its
// attributes, copies it up (data, mode, owner, times) with its parent directories; removing a name that the
// lower has leaves a whiteout. A copied-up file keeps showing the lower file's device and inode numbers, so
// st_dev/st_ino are stable for the life of a file.
//
// Nodes are shared while anything holds them (children are remembered weakly), so every holder of a file sees
// its copy-up; what persists is the upper tree, so a node dropped and looked up again is the same file.
final class Overlay {
    let upper: Tmpfs
    private(set) var root: OverlayInode! = nil

    init(lower: HostInode, upper: Tmpfs) throws(LinuxErrno) {
        self.upper = upper
        let st = try lower.stat()
        let top = upper.root!
        top.mode = st.mode
        (top.uid, top.gid) = (st.uid, st.gid)
        (top.atime, top.mtime, top.ctime) = (st.atime, st.mtime, st.ctime)
        top.origin = (st.devMajor, st.devMinor, st.ino)
        root = OverlayInode(overlay: self, parent: nil, name: "/", lower: lower, upper: top, fileType: S.IFDIR)
    }
}

final class OverlayInode: Inode {
    unowned let overlay: Overlay
    private(set) var parent: OverlayInode?
    private(set) var name: String
    private(set) var lower: HostInode?
    private(set) var upper: TmpfsInode?
    let fileType: UInt16
    private var children: [String: WeakNode] = [:]
    /// Removed (or replaced by a rename) while something still holds it: it is never copied up again, so a
    /// removed directory that is still someone's cwd does not come back when they create in it.
    private var removed = false

    private struct WeakNode { weak var node: OverlayInode? }

    init(overlay: Overlay, parent: OverlayInode?, name: String, lower: HostInode?, upper: TmpfsInode?, fileType: UInt16) {
        self.overlay = overlay
        self.parent = parent
        self.name = name
        self.lower = lower
        self.upper = upper
        self.fileType = fileType
    }

    var isReadOnly: Bool { false }

    func stat() throws(LinuxErrno) -> FileStat {
        guard let upper else { return try lower!.stat() }
        if let lower, isDirectory {
            // A merged directory: the lower one's size, links and blocks, the upper's mode, owner and times.
            var s = try lower.stat()
            let u = try upper.stat()
            (s.mode, s.uid, s.gid, s.atime, s.mtime, s.ctime) = (u.mode, u.uid, u.gid, u.atime, u.mtime, u.ctime)
            return s
        }
        var s = try upper.stat()
        if let o = upper.origin { (s.devMajor, s.devMinor, s.ino) = (o.devMajor, o.devMinor, o.ino) }
        return s
    }

    func readLink() throws(LinuxErrno) -> [UInt8] {
        if let upper { return try upper.readLink() }
        return try lower!.readLink()
    }

    // MARK: Lookup

    func lookup(_ name: String) throws(LinuxErrno) -> Inode { try child(name) }

    private func child(_ name: String) throws(LinuxErrno) -> OverlayInode {
        guard isDirectory else { throw .ENOTDIR }
        if let n = children[name]?.node { return n }
        var up: TmpfsInode? = nil
        if let e = upper?.entry(name) {
            if e.isWhiteout { throw .ENOENT }
            up = e
        }
        var low: HostInode? = nil
        if let lower, up == nil || (up!.isDirectory && !up!.opaque) {
            do {
                low = try lower.lookup(name) as? HostInode
            } catch .ENOENT {
            } catch {
                if up == nil { throw error }
            }
            if let l = low, up != nil, !l.isDirectory { low = nil }  // an upper directory hides a lower file
        }
        guard let type = up?.fileType ?? low?.fileType else { throw .ENOENT }
        let node = OverlayInode(overlay: overlay, parent: self, name: name, lower: low, upper: up, fileType: type)
        if children.count > 64 { children = children.filter { $0.value.node != nil } }
        children[name] = WeakNode(node: node)
        return node
    }

    /// Whether the lower directory has `name` (visible or not): removing or moving it then leaves a whiteout.
    private func lowerHas(_ name: String) -> Bool {
        guard let lower, !(upper?.opaque ?? false) else { return false }
        return (try? lower.lookup(name)) != nil
    }

    /// Whether `name` exists in the merged directory.
    private func has(_ name: String) -> Bool { (try? child(name)) != nil }

    func directoryEntries() throws(LinuxErrno) -> [DirectoryEntry] {
        guard isDirectory else { throw .ENOTDIR }
        var out: [DirectoryEntry] = []
        var seen = Set<String>()
        if let upper {
            for e in try upper.directoryEntries() {
                seen.insert(e.name)
                guard let node = upper.entry(e.name), !node.isWhiteout else { continue }
                out.append(DirectoryEntry(ino: node.origin?.ino ?? e.ino, fileType: node.fileType, name: e.name))
            }
            if upper.opaque { return out }
        }
        if let lower {
            for e in try lower.directoryEntries() where !seen.contains(e.name) { out.append(e) }
        }
        return out
    }

    // MARK: Copy-up

    /// The upper node of this file, made from the lower one (and its parents first) if there is none yet.
    @discardableResult
    func copyUp() throws(LinuxErrno) -> TmpfsInode {
        if let upper { return upper }
        if removed { throw .ENOENT }
        guard let parent, let lower else { throw .EIO }  // the root always has its upper
        let parentUpper = try parent.copyUp()
        guard overlay.upper.hasInodeRoom else { throw .ENOSPC }
        let st = try lower.stat()
        let node = TmpfsInode(fs: overlay.upper, mode: st.mode, owner: (st.uid, st.gid))
        switch fileType {
        case S.IFDIR: break
        case S.IFREG:
            guard let parentLower = parent.lower else { throw .EIO }
            try node.fill(from: try parentLower.openChild(name), size: st.size)
        case S.IFLNK: node.target = try lower.readLink()
        default: throw .EPERM  // host devices, fifos and sockets are not copied up
        }
        (node.atime, node.mtime, node.ctime) = (st.atime, st.mtime, st.ctime)
        node.origin = (st.devMajor, st.devMinor, st.ino)
        if fileType != S.IFLNK { node.copyExtendedAttributes(from: lower.handle) }
        parentUpper.replace(name, with: node)
        upper = node
        return node
    }

    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        if isDirectory { return DirectoryFile(inode: self, dentry: dentry, flags: flags) }
        let writes = flags & O.accessMode != O.RDONLY || flags & O.TRUNC != 0
        if writes && fileType == S.IFREG { try copyUp() }
        if let upper { return try upper.open(flags: flags, dentry: dentry) }
        return try lower!.open(flags: flags, dentry: dentry, parent: parent?.lower, name: name)
    }

    func setAttributes(_ change: AttributeChange) throws(LinuxErrno) { try copyUp().setAttributes(change) }

    // MARK: Names

    /// The upper directory for a new `name`: copied up, with a whiteout there taken away. `directory` says the
    /// new node is a directory, which must then hide whatever the lower had (it is made opaque).
    private func prepareNewName(_ name: String) throws(LinuxErrno) -> (TmpfsInode, hidesLower: Bool) {
        guard isDirectory else { throw .ENOTDIR }
        if has(name) { throw .EEXIST }
        let up = try copyUp()
        let hidesLower = up.entry(name)?.isWhiteout ?? false
        if hidesLower { up.detach(name) }
        children[name] = nil
        return (up, hidesLower)
    }

    func create(_ name: String, mode: UInt16, owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        let (up, hidesLower) = try prepareNewName(name)
        let made = try up.create(name, mode: mode, owner: owner) as! TmpfsInode
        if made.isDirectory && hidesLower { made.opaque = true }
        return try child(name)
    }

    func createSymlink(_ name: String, target: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        let (up, _) = try prepareNewName(name)
        _ = try up.createSymlink(name, target: target, owner: owner)
        return try child(name)
    }

    func link(_ name: String, to target: Inode) throws(LinuxErrno) {
        guard let t = target as? OverlayInode, t.overlay === overlay else { throw .EXDEV }
        guard !t.isDirectory else { throw .EPERM }
        if has(name) { throw .EEXIST }
        let source = try t.copyUp()
        let (up, _) = try prepareNewName(name)
        try up.link(name, to: source)
    }

    func remove(_ name: String, directory: Bool) throws(LinuxErrno) {
        let node = try child(name)
        if directory {
            guard node.isDirectory else { throw .ENOTDIR }
            guard try node.directoryEntries().isEmpty else { throw .ENOTEMPTY }
        } else if node.isDirectory {
            throw .EISDIR
        }
        let up = try copyUp()
        if lowerHas(name) {
            up.whiteOut(name)
        } else {
            try up.remove(name, directory: directory)  // upper only: nothing below to hide
        }
        node.removed = true
        children[name] = nil
    }

    func rename(_ name: String, to newParent: Inode, as newName: String, exchange: Bool) throws(LinuxErrno) {
        guard let dest = newParent as? OverlayInode, dest.overlay === overlay else { throw .EXDEV }
        let node = try child(name)
        // As overlayfs without redirect_dir: a directory from the lower layer is not renamed (mv copies it).
        if node.isDirectory && node.lower != nil { throw .EXDEV }
        let existing = try? dest.child(newName)
        if exchange {
            guard let existing else { throw .ENOENT }
            guard node.lower == nil && existing.lower == nil else { throw .EXDEV }
        }
        if let existing {
            if existing === node { return }
            if !exchange {
                if node.isDirectory {
                    guard existing.isDirectory else { throw .ENOTDIR }
                    guard try existing.directoryEntries().isEmpty else { throw .ENOTEMPTY }
                } else if existing.isDirectory {
                    throw .EISDIR
                }
            }
        }
        let from = try copyUp()
        let to = try dest.copyUp()
        let moving = try node.copyUp()
        if exchange, let existing {
            try from.rename(name, to: to, as: newName, exchange: true)
            dest.children[newName] = WeakNode(node: node)
            children[name] = WeakNode(node: existing)
            (node.parent, node.name, existing.parent, existing.name) = (dest, newName, self, name)
            return
        }
        if moving.isDirectory { moving.opaque = true }  // whatever the lower has at the new name stays hidden
        existing?.removed = true
        to.replace(newName, with: moving)
        if lowerHas(name) { from.whiteOut(name) } else { from.detach(name) }
        children[name] = nil
        dest.children[newName] = WeakNode(node: node)
        node.parent = dest
        node.name = newName
    }
}
