import UmkHost

// TmpfsXattr.swift: extended attributes of tmpfs files (mm/shmem.c's xattr handlers over fs/xattr.c's
// simple_xattrs): trusted.*, security.* and user.* names, values up to 64 KiB, listed in the order of
// Linux's rbtree walk (names in descending byte order). They are
// kernel memory, so a filesystem holds at most Tmpfs.maxXattrBytes of them (ENOSPC past that).
extension TmpfsInode {
    func extendedAttribute(_ name: String) throws(LinuxErrno) -> [UInt8] {
        guard let v = xattrs[name] else { throw .ENODATA }
        return v
    }

    var extendedAttributeNames: [String] { xattrs.keys.sorted { $1.utf8.lexicographicallyPrecedes($0.utf8) } }

    /// Sets (or, for a nil value, removes) `name`, with setxattr's XATTR_CREATE (1) and XATTR_REPLACE (2).
    func setExtendedAttribute(_ name: String, _ value: [UInt8]?, flags: Int32) throws(LinuxErrno) {
        let old = xattrs[name]
        if flags & 1 != 0 && old != nil { throw .EEXIST }
        if (flags & 2 != 0 || value == nil) && old == nil { throw .ENODATA }
        let size = { (v: [UInt8]?) in v.map { name.utf8.count + $0.count } ?? 0 }
        let delta = size(value) - size(old)
        if delta > 0 && fs.xattrBytes + delta > Tmpfs.maxXattrBytes { throw .ENOSPC }
        fs.xattrBytes += delta
        xattrs[name] = value
        ctime = Tmpfs.now()
    }

    /// Copy-up: the host file's attributes of the namespaces tmpfs keeps come along.
    func copyExtendedAttributes(from host: HostFile) {
        guard let list = try? host.extendedAttributeNames(max: 65536) else { return }
        for raw in list.split(separator: 0) {
            let name = String(decoding: raw, as: UTF8.self)
            guard Kernel.XattrNamespace(name) != nil, let v = try? host.extendedAttribute(name, max: 65536) else { continue }
            try? setExtendedAttribute(name, v, flags: 0)
        }
    }
}
