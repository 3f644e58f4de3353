import UmkHost

// ExtendedAttributes.swift: the xattr calls (fs/xattr.c). Reads show the host file's attributes; the tree is
// read-only, so changes are EROFS once the name resolves.
extension SyscallTable {
    mutating func addExtendedAttributeCalls() {
        // getxattr, lgetxattr, fgetxattr
        for (nr, follow, byFD) in [(191, true, false), (192, false, false), (193, true, true)] {
            add(nr, [byFD ? .fd : .path, .string, .outBuffer, .uint]) { k, t, a throws(LinuxErrno) in
                let inode = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                let name = try k.xattrName(t, a.address(1))
                let size = a.count(3)
                guard let host = inode as? HostInode else { throw .ENODATA }
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
                guard let host = inode as? HostInode else { return .value(0) }
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
                _ = try k.xattrTarget(t, a, follow: follow, byFD: byFD)
                _ = try k.xattrName(t, a.address(1))
                throw .EROFS
            }
        }
    }
}

extension Kernel {
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
