import UmkHost

// ExtendedAttributes.swift: the xattr calls (fs/xattr.c). Reads show a host file's attributes (through the
// overlay while the file is not copied up); files of the guest's own layers keep none yet, so changes there
// are EOPNOTSUPP, as on a filesystem without xattr support (cp -a and tar carry on), and EROFS on a read-only
// tree. FIXME: copy-up drops the host file's attributes, and tmpfs should keep user.* and security.* ones.
extension SyscallTable {
    mutating func addExtendedAttributeCalls() {
        // getxattr, lgetxattr, fgetxattr
        for (nr, follow, byFD) in [(191, true, false), (192, false, false), (193, true, true)] {
            add(nr, [byFD ? .fd : .path, .string, .outBuffer, .uint]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                let name = try k.xattrName(t, a.address(1))
                let size = a.count(3)
                guard let host = k.attributeSource(inode) else { throw .ENODATA }
                let value: [UInt8]
                do throws(Errno) { value = try host.handle.extendedAttribute(name, max: min(size, 65536)) } catch {
                    throw LinuxErrno(host: error)
                }
                if size > 0 { try t.mm.writeBytes(a.address(2), value) }
                return .value(value.count)
            }
        }
        // listxattr, llistxattr, flistxattr
        for (nr, follow, byFD) in [(194, true, false), (195, false, false), (196, true, true)] {
            add(nr, [byFD ? .fd : .path, .outBuffer, .uint]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                let size = a.count(2)
                guard let host = k.attributeSource(inode) else { return .value(0) }
                let names: [UInt8]
                do throws(Errno) { names = try host.handle.extendedAttributeNames(max: min(size, 65536)) } catch {
                    throw LinuxErrno(host: error)
                }
                if size > 0 { try t.mm.writeBytes(a.address(1), names) }
                return .value(names.count)
            }
        }
        // setxattr, lsetxattr, fsetxattr, removexattr, lremovexattr, fremovexattr
        for (nr, follow, byFD) in [(188, true, false), (189, false, false), (190, true, true),
                                   (197, true, false), (198, false, false), (199, true, true)] {
            add(nr, [byFD ? .fd : .path, .string]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                _ = try k.xattrName(t, a.address(1))
                throw inode.isReadOnly ? .EROFS : .EOPNOTSUPP
            }
        }
    }
}

extension Kernel {
    /// The host file whose attributes `inode` shows: a hostfs node, or an overlay node not yet copied up.
    func attributeSource(_ inode: Inode) -> HostInode? {
        if let o = inode as? OverlayInode { return o.upper == nil ? o.lower : nil }
        return inode as? HostInode
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
        let name = try t.mm.readString(at, max: 256)
        guard !name.isEmpty else { throw .ERANGE }
        return String(decoding: name, as: UTF8.self)
    }
}
