// Mounts.swift: mount(2), umount2(2) and chroot(2) from inside the guest (fs/namespace.c do_mount,
// path_umount; fs/open.c chroot). The guest's root (uid 0) holds CAP_SYS_ADMIN and CAP_SYS_CHROOT of the
// instance's own namespace, as in a container; others get EPERM. A guest mounts only what the kernel has
// (tmpfs, proc, sysfs, devpts) or binds a directory of its own tree: it can never name a host path.
enum MS {
    static let RDONLY: UInt64 = 1, NOSUID: UInt64 = 2, NODEV: UInt64 = 4, NOEXEC: UInt64 = 8
    static let REMOUNT: UInt64 = 32, BIND: UInt64 = 4096, MOVE: UInt64 = 8192, REC: UInt64 = 16384
    static let UNBINDABLE: UInt64 = 1 << 17, PRIVATE: UInt64 = 1 << 18, SLAVE: UInt64 = 1 << 19, SHARED: UInt64 = 1 << 20
    static let propagation = UNBINDABLE | PRIVATE | SLAVE | SHARED
    /// MS_MGC_VAL: the old magic number in the top half, ignored.
    static let magicMask: UInt64 = 0xffff_0000, magic: UInt64 = 0xC0ED_0000
}

extension SyscallTable {
    mutating func addMountCalls() {
        add(165, [.string, .path, .string, .hex, .pointer],
            .partial("tmpfs, proc, sysfs, devpts and binds of guest directories; no MS_MOVE, no read-only remount")) {
            k, t, a throws(LinuxErrno) in
            try k.mount(t, source: a.address(0), target: a.address(1), type: a.address(2), flags: a[3], data: a.address(4))
        }
        add(166, [.path, .hex]) { k, t, a throws(LinuxErrno) in try k.unmount(t, a.address(0), flags: a.uint(1)) }
        add(161, [.path]) { k, t, a throws(LinuxErrno) in
            guard t.process.credentials.isRoot else { throw .EPERM }
            let name = try t.mm.readString(a.address(0))
            let d = try t.process.pathWalk.resolve(name, from: t.process.cwd, followFinal: true)
            guard d.inode.isDirectory else { throw .ENOTDIR }
            t.process.root = d
            return .value(0)
        }
    }
}

extension Kernel {
    func mount(_ t: Task, source: GuestAddress, target: GuestAddress, type: GuestAddress, flags rawFlags: UInt64,
               data: GuestAddress) throws(LinuxErrno) -> SyscallOutcome
    {
        var flags = rawFlags
        if flags & MS.magicMask == MS.magic { flags &= ~MS.magicMask }
        let walk = t.process.pathWalk
        let targetName = try t.mm.readString(target)
        let point = try walk.resolve(targetName, from: t.process.cwd, followFinal: true)
        guard t.process.credentials.isRoot else { throw .EPERM }
        guard let holder = point.mount else { throw .EINVAL }
        // fs.mount-max: each mount is kernel memory the guest could otherwise grow without bound.
        if flags & (MS.REMOUNT | MS.propagation) == 0 && mounts.mounts.count >= MountNamespace.maxMounts { throw .ENOSPC }
        let isMountRoot = holder.path == point.path && mounts.mount(at: point.path) === holder

        if flags & MS.REMOUNT != 0 {
            guard isMountRoot else { throw .EINVAL }
            // FIXME: read-only is a property of the filesystem here, not of the mount: no change of it.
            guard (flags & MS.RDONLY != 0) == holder.readOnly else { throw .EPERM }
            return .value(0)
        }
        if flags & MS.propagation != 0 {
            // One namespace and no peers: shared, private, slave and unbindable all behave alike here.
            guard isMountRoot else { throw .EINVAL }
            return .value(0)
        }
        if flags & MS.MOVE != 0 { throw .EINVAL }
        if flags & MS.BIND != 0 {
            let sourceName = try t.mm.readString(source)
            let from = try walk.resolve(sourceName, from: t.process.cwd, followFinal: true)
            guard let origin = from.mount else { throw .EINVAL }
            guard from.inode.isDirectory == point.inode.isDirectory else { throw .ENOTDIR }
            let inode = from.inode
            let rel = origin.path == "/" ? from.path : String(from.path.dropFirst(origin.path.count))
            mounts.add(at: point.path, type: origin.type, source: origin.source, rootPath: rel.isEmpty ? "/" : rel,
                       readOnly: origin.readOnly, mountOptions: origin.mountOptions, superOptions: origin.superOptions,
                       device: origin.device, tmpfs: origin.tmpfs) { _ in inode }
            return .value(0)
        }
        guard point.inode.isDirectory else { throw .ENOTDIR }
        let fsType = String(decoding: try t.mm.readString(type, max: 256), as: UTF8.self)
        let options = data.isNull ? [] : String(decoding: try t.mm.readString(data, max: 4096), as: UTF8.self)
            .split(separator: ",").map(String.init)
        let sourceName = source.isNull ? fsType : String(decoding: try t.mm.readString(source), as: UTF8.self)
        var perMount: [String] = []
        if flags & MS.NOSUID != 0 { perMount.append("nosuid") }
        if flags & MS.NODEV != 0 { perMount.append("nodev") }
        if flags & MS.NOEXEC != 0 { perMount.append("noexec") }
        perMount.append("relatime")
        switch fsType {
        case "tmpfs":
            let (size, mode) = try tmpfsOptions(options)
            let c = t.process.credentials
            let fs = Tmpfs(frames: frames, device: mounts.newDevice(), sizeBytes: size, rootMode: mode,
                           owner: (c.fsuid, c.fsgid))
            mounts.add(at: point.path, type: "tmpfs", source: sourceName, readOnly: false, mountOptions: perMount,
                       superOptions: ["size=\(fs.maxPages * 4)k", "mode=" + String(mode, radix: 8)],
                       device: (0, fs.device), tmpfs: fs) { _ in fs.root }
        case "proc":
            mounts.add(at: point.path, type: "proc", source: sourceName, mountOptions: perMount, device: (0, 22)) {
                [unowned self] p in p.map { self.procRoot(for: $0) } ?? ProcInode(.directory { [] }, ino: 1)
            }
        case "sysfs":
            mounts.add(at: point.path, type: "sysfs", source: sourceName, readOnly: true, mountOptions: perMount,
                       device: (0, 21)) { [unowned self] _ in self.sysRoot }
        case "devpts":
            mounts.add(at: point.path, type: "devpts", source: sourceName, mountOptions: perMount,
                       superOptions: ["gid=5", "mode=620", "ptmxmode=000"], device: (0, DevPtsInode.deviceMinor)) {
                [unowned self] _ in self.devPts
            }
        default:
            throw .ENODEV  // no such filesystem type in this kernel
        }
        return .value(0)
    }

    /// tmpfs's size= (bytes with k/m/g, or a percentage of memory) and mode= options; EINVAL for others
    /// it does not know, as shmem_parse_one does.
    private func tmpfsOptions(_ options: [String]) throws(LinuxErrno) -> (Int?, UInt16) {
        var size: Int? = nil
        var mode: UInt16 = 0o1777
        for o in options {
            let parts = o.split(separator: "=", maxSplits: 1).map(String.init)
            let value = parts.count == 2 ? parts[1] : ""
            switch parts[0] {
            case "size":
                if value.hasSuffix("%"), let pct = Int(value.dropLast()), pct >= 0, pct <= 100 {
                    size = frames.totalFrames * 4096 / 100 * pct
                } else if let n = Kernel.byteCount(value) {
                    size = n
                } else {
                    throw .EINVAL
                }
            case "mode":
                guard let m = UInt16(value, radix: 8), m <= 0o7777 else { throw .EINVAL }
                mode = m
            case "nr_inodes", "uid", "gid", "rw", "nosuid", "nodev", "noexec", "relatime", "noatime", "strictatime":
                continue
            default:
                throw .EINVAL
            }
        }
        return (size, mode)
    }

    /// "64k", "16m", "1g", "4096": memparse's suffixes.
    static func byteCount(_ s: String) -> Int? {
        guard let last = s.last else { return nil }
        let shift: Int
        switch last {
        case "k", "K": shift = 10
        case "m", "M": shift = 20
        case "g", "G": shift = 30
        default: return Int(s)
        }
        guard let n = Int(s.dropLast()), n >= 0, n <= Int.max >> shift else { return nil }
        return n << shift
    }

    /// umount2 (path_umount): the target must be the root of a mount; EBUSY while a process has its root,
    /// cwd or an open file there, unless MNT_DETACH, which takes it out of the tree at once (what still
    /// holds it keeps it, as a lazy unmount does).
    func unmount(_ t: Task, _ target: GuestAddress, flags: UInt32) throws(LinuxErrno) -> SyscallOutcome {
        let force: UInt32 = 1, detach: UInt32 = 2, expire: UInt32 = 4, noFollow: UInt32 = 8
        guard flags & ~(force | detach | expire | noFollow) == 0,
              flags & expire == 0 || flags & (force | detach) == 0 else { throw .EINVAL }
        let name = try t.mm.readString(target)
        let d = try t.process.pathWalk.resolve(name, from: t.process.cwd, followFinal: flags & noFollow == 0)
        guard t.process.credentials.isRoot else { throw .EPERM }
        guard let m = d.mount, m.path == d.path, mounts.mount(at: d.path) === m else { throw .EINVAL }
        if m.path == "/" { throw .EBUSY }
        if flags & expire != 0 { throw .EAGAIN }  // the first MNT_EXPIRE only marks it
        if flags & detach == 0 && isBusy(m) { throw .EBUSY }
        if flags & detach != 0 {
            try mounts.removeTree(at: m.path)  // lazily: the mounts on it go with it
        } else {
            _ = try mounts.remove(at: m.path)
        }
        // fsnotify_sb_delete: a tmpfs's watches end with it (IN_UNMOUNT, IN_IGNORED) when no mount shows it any
        // more and nothing holds it (a lazy unmount of a busy one ends them later in Linux; here never).
        if notify.isActive, m.tmpfs != nil, flags & detach == 0,
           !mounts.mounts.contains(where: { $0.device == m.device }) {
            notify.unmounted(device: m.device)
        }
        return .value(0)
    }

    /// Whether any process has its root, cwd or an open file in mount `m`.
    private func isBusy(_ m: Mount) -> Bool {
        for p in processes.values where p.exitStatus == nil {
            if p.root.mount === m || p.cwd.mount === m { return true }
            for entry in p.fds.entries { if let f = entry?.file, f.dentry?.mount === m { return true } }
        }
        return false
    }
}
