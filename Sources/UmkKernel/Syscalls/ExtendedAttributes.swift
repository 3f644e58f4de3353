import UmkHost

// ExtendedAttributes.swift: the xattr calls (fs/xattr.c). Where they are kept: a host file's own (a read-only
// tree shows them; a writable bind changes them on the host), a tmpfs file's (TmpfsXattr.swift), and an
// overlay file's: the host file's until it is copied up, which carries them to its upper copy. Permission as
// xattr_permission: trusted.* is for the guest's root alone (hidden from others), security.* is set by root
// only, user.* needs read or write permission and exists on regular files and directories only.
extension SyscallTable {
    mutating func addExtendedAttributeCalls() {
        // getxattr, lgetxattr, fgetxattr
        for (nr, follow, byFD) in [(191, true, false), (192, false, false), (193, true, true)] {
            add(nr, [byFD ? .fd : .path, .string, .outBuffer, .uint]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                let name = try k.xattrName(t, a.address(1))
                let value = try k.getExtendedAttribute(t, inode, name)
                let size = a.count(3)
                if size > 0 {
                    guard size >= value.count else { throw .ERANGE }
                    try t.mm.writeBytes(a.address(2), value)
                }
                return .value(value.count)
            }
        }
        // listxattr, llistxattr, flistxattr
        for (nr, follow, byFD) in [(194, true, false), (195, false, false), (196, true, true)] {
            add(nr, [byFD ? .fd : .path, .outBuffer, .uint]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                let names = try k.listExtendedAttributes(t, inode)
                let size = a.count(2)
                if size > 0 {
                    guard size >= names.count else { throw .ERANGE }
                    try t.mm.writeBytes(a.address(1), names)
                }
                return .value(names.count)
            }
        }
        // setxattr, lsetxattr, fsetxattr
        for (nr, follow, byFD) in [(188, true, false), (189, false, false), (190, true, true)] {
            add(nr, [byFD ? .fd : .path, .string, .inBuffer(3), .uint, .hex]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                let name = try k.xattrName(t, a.address(1))
                let flags = a.int(4)
                guard flags & ~3 == 0 else { throw .EINVAL }
                let size = a.count(3)
                guard size <= 65536 else { throw .E2BIG }
                let value = size == 0 ? [] : try t.mm.readBytes(a.address(2), size)
                try k.changeExtendedAttribute(t, inode, name, value, flags: flags)
                return .value(0)
            }
        }
        // removexattr, lremovexattr, fremovexattr
        for (nr, follow, byFD) in [(197, true, false), (198, false, false), (199, true, true)] {
            add(nr, [byFD ? .fd : .path, .string]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                let name = try k.xattrName(t, a.address(1))
                try k.changeExtendedAttribute(t, inode, name, nil, flags: 0)
                return .value(0)
            }
        }
    }
}

extension Kernel {
    /// The namespaces umk keeps (system.posix_acl_* is not: EOPNOTSUPP, as on a filesystem without ACLs).
    enum XattrNamespace {
        case trusted, security, user
        init?(_ name: String) {
            if name.hasPrefix("trusted.") { self = .trusted } else if name.hasPrefix("security.") { self = .security }
            else if name.hasPrefix("user.") { self = .user } else { return nil }
        }
    }

    /// Where `inode`'s attributes live, for reading.
    private enum XattrStore {
        case tmpfs(TmpfsInode), host(HostInode), none
    }

    private func store(_ inode: Inode, forChange: Bool) throws(LinuxErrno) -> XattrStore {
        switch inode {
        case let o as OverlayInode:
            if forChange { return .tmpfs(try o.copyUp()) }
            if let u = o.upper { return .tmpfs(u) }
            return o.lower.map { .host($0) } ?? .none
        case let t as TmpfsInode: return .tmpfs(t)
        case let h as HostInode:
            if forChange && !h.writable { throw .EROFS }
            return .host(h)
        default:
            if forChange { throw inode.isReadOnly ? .EROFS : .EOPNOTSUPP }
            return .none
        }
    }

    /// xattr_permission: what `t` may do with `name` on `inode`.
    private func checkXattrPermission(_ t: Task, _ inode: Inode, _ ns: XattrNamespace, write: Bool) throws(LinuxErrno) {
        let c = t.process.credentials
        switch ns {
        case .trusted: if !c.isRoot { throw write ? .EPERM : .ENODATA }
        case .security: if write && !c.isRoot { throw .EPERM }
        case .user:
            guard inode.fileType == S.IFREG || inode.isDirectory else { throw write ? .EPERM : .ENODATA }
            let st = try inode.stat()
            if write && inode.isDirectory && st.mode & S.ISVTX != 0 && st.uid != c.fsuid && !c.isRoot { throw .EPERM }
            guard c.permits(st, write ? .write : .read) else { throw .EACCES }
        }
    }

    func getExtendedAttribute(_ t: Task, _ inode: Inode, _ name: String) throws(LinuxErrno) -> [UInt8] {
        guard let ns = XattrNamespace(name) else { throw .EOPNOTSUPP }
        try checkXattrPermission(t, inode, ns, write: false)
        switch try store(inode, forChange: false) {
        case .tmpfs(let u): return try u.extendedAttribute(name)
        case .host(let h):
            do throws(Errno) { return try h.handle.extendedAttribute(name, max: 65536) } catch { throw LinuxErrno(host: error) }
        case .none: throw .ENODATA
        }
    }

    /// The names, each NUL-terminated, that `t` may see.
    func listExtendedAttributes(_ t: Task, _ inode: Inode) throws(LinuxErrno) -> [UInt8] {
        let names: [String]
        switch try store(inode, forChange: false) {
        case .tmpfs(let u): names = u.extendedAttributeNames
        case .host(let h):
            do throws(Errno) {
                names = try h.handle.extendedAttributeNames(max: 65536).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            } catch {
                throw LinuxErrno(host: error)
            }
        case .none: names = []
        }
        let visible = names.filter { !$0.hasPrefix("trusted.") || t.process.credentials.isRoot }
        return visible.flatMap { Array($0.utf8) + [0] }
    }

    /// setxattr (a value) or removexattr (nil).
    func changeExtendedAttribute(_ t: Task, _ inode: Inode, _ name: String, _ value: [UInt8]?, flags: Int32) throws(LinuxErrno) {
        guard let ns = XattrNamespace(name) else { throw inode.isReadOnly ? .EROFS : .EOPNOTSUPP }
        if inode.isReadOnly && !(inode is HostInode) { throw .EROFS }
        try checkXattrPermission(t, inode, ns, write: true)
        switch try store(inode, forChange: true) {
        case .tmpfs(let u): try u.setExtendedAttribute(name, value, flags: flags)
        case .host(let h):
            do throws(Errno) {
                if let value { try h.handle.setExtendedAttribute(name, value, flags: flags) } else { try h.handle.removeExtendedAttribute(name) }
            } catch {
                throw LinuxErrno(host: error)
            }
        case .none: throw .EOPNOTSUPP
        }
    }

    func xattrTarget(_ t: Task, _ a: SyscallArgs, follow: Bool, byFD: Bool) throws(LinuxErrno) -> Inode {
        if byFD {
            let f = try t.process.fds.get(a.int(0))
            guard let d = f.dentry else { throw .ENOTSUP }  // the console has no attributes to show
            return d.inode
        }
        let name = try t.mm.readString(a.address(0))
        return try t.process.pathWalk.resolve(name, from: t.process.cwd, followFinal: follow).inode
    }

    func xattrName(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> String {
        let name: [UInt8]
        do { name = try t.mm.readString(at, max: 256) } catch .ENAMETOOLONG { throw .ERANGE }  // past XATTR_NAME_MAX
        guard !name.isEmpty else { throw .ERANGE }
        return String(decoding: name, as: UTF8.self)
    }
}
