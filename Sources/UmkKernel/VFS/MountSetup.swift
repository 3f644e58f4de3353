import UmkHost

// MountSetup.swift: the mounts every instance boots with, as a container has them (docker's defaults), then
// the command line's: `-v HOST:GUEST[:ro]` binds and `--tmpfs PATH[:size=N]`, in the order given.
//
//   /          overlay   the host root read-only under a throwaway tmpfs (overlay/Overlay.swift)
//   /proc      proc      the instance's own (procfs)
//   /sys       sysfs     read-only, the few files programs read (SysFS.swift)
//   /dev       tmpfs     the kernel's devices and the usual links (devfs below); the host's never show
//   /dev/pts   devpts    the instance's pseudo-terminals
//   /dev/shm   tmpfs     empty
extension Kernel {
    func setUpMounts() throws(LaunchError) {
        let overlay = root
        let rootMount = mounts.add(at: "/", type: "overlay", source: "overlay",
                                   superOptions: ["lowerdir=" + configuration.root], device: (0, 1)) { _ in overlay.root }
        rootDentry = Dentry(root: overlay.root, mount: rootMount)
        let container = ["nosuid", "nodev", "noexec", "relatime"]
        mounts.add(at: "/proc", type: "proc", source: "proc", mountOptions: container, device: (0, 22)) {
            [unowned self] p in p.map { self.procRoot(for: $0) } ?? ProcInode(.directory { [] }, ino: 1)
        }
        mounts.add(at: "/sys", type: "sysfs", source: "sysfs", readOnly: true, mountOptions: container,
                   device: (0, 21)) { [unowned self] _ in self.sysRoot }
        try addDevfs()
        mounts.add(at: "/dev/pts", type: "devpts", source: "devpts", mountOptions: ["nosuid", "noexec", "relatime"],
                   superOptions: ["gid=5", "mode=620", "ptmxmode=000"], device: (0, DevPtsInode.deviceMinor)) {
            [unowned self] _ in self.devPts
        }
        try addTmpfs(at: "/dev/shm", sizeBytes: nil, source: "shm", mountOptions: ["nosuid", "nodev"])
        for request in configuration.mounts {
            switch request {
            case .tmpfs(let guest, let size):
                try addTmpfs(at: guest, sizeBytes: size, source: "tmpfs", mountOptions: ["nosuid", "nodev"])
            case .bind(let host, let guest, let readOnly):
                try addBind(host: host, guest: guest, readOnly: readOnly)
            }
        }
    }

    /// Whether a bind lets the guest change host files (the kernel's seccomp filter then allows those calls).
    var hasWritableBinds: Bool {
        configuration.mounts.contains { if case .bind(_, _, false) = $0 { return true } else { return false } }
    }

    /// /dev as a container has it (drivers/char/mem.c's devices, the terminals, devtmpfs's links): a tmpfs
    /// the guest may add files to, but no device nodes (mknod of one is EPERM).
    private func addDevfs() throws(LaunchError) {
        let fs = Tmpfs(frames: frames, device: mounts.newDevice(), sizeBytes: 64 << 20, rootMode: 0o755)
        do throws(LinuxErrno) {
            let dev = fs.root!
            for (name, minor) in [("null", 3), ("zero", 5), ("full", 7), ("random", 8), ("urandom", 9)] as [(String, UInt32)] {
                try dev.createDevice(name, mode: 0o666, major: 1, minor: minor)
            }
            try dev.createDevice("tty", mode: 0o666, major: 5, minor: 0)
            try dev.createDevice("console", mode: 0o620, major: 5, minor: 1)
            try dev.createDevice("ptmx", mode: 0o666, major: 5, minor: 2)
            for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                                   ("stderr", "/proc/self/fd/2"), ("core", "/proc/kcore")] {
                _ = try dev.createSymlink(name, target: Array(target.utf8), owner: (0, 0))
            }
            for name in ["pts", "shm"] { _ = try dev.create(name, mode: S.IFDIR | 0o755, owner: (0, 0)) }
        } catch {
            throw .kernelFailure("/dev: \(error.message)")
        }
        let path = try mountPoint("/dev", directory: true, what: "/dev")
        mounts.add(at: path, type: "tmpfs", source: "tmpfs", mountOptions: ["nosuid"],
                   superOptions: ["size=65536k", "mode=755"], device: (0, fs.device), tmpfs: fs) { _ in fs.root }
    }

    private func addTmpfs(at guest: String, sizeBytes: Int?, source: String, mountOptions: [String]) throws(LaunchError) {
        let fs = Tmpfs(frames: frames, device: mounts.newDevice(), sizeBytes: sizeBytes)
        let path = try mountPoint(guest, directory: true, what: "--tmpfs \(guest)")
        mounts.add(at: path, type: "tmpfs", source: source, mountOptions: mountOptions,
                   superOptions: ["size=\(fs.maxPages * 4)k", "mode=1777"], device: (0, fs.device), tmpfs: fs) { _ in fs.root }
    }

    private func addBind(host: String, guest: String, readOnly: Bool) throws(LaunchError) {
        let what = "-v \(host):\(guest)"
        let source: HostInode
        do {
            source = try HostInode.bindSource(path: host, writable: !readOnly)
        } catch {
            throw .kernelFailure("\(what): \(host): \(error.message)")
        }
        guard source.isDirectory || source.fileType == S.IFREG else {
            throw .kernelFailure("\(what): \(host): not a directory or regular file")
        }
        let path = try mountPoint(guest, directory: source.isDirectory, what: what)
        let st = try? source.stat()
        mounts.add(at: path, type: "bind", source: host, readOnly: readOnly, mountOptions: ["relatime"],
                   device: (st?.devMajor ?? 0, st?.devMinor ?? 0)) { _ in source }
    }

    /// The namespace path of mount point `guest`: its parent is resolved as the guest would (symlinks in the
    /// guest tree followed, confined to it), and what is missing is made in the throwaway root as root, as
    /// docker makes a bind's target. Returns the path the walk will meet.
    private func mountPoint(_ guest: String, directory: Bool, what: String) throws(LaunchError) -> String {
        guard guest.hasPrefix("/") else { throw .kernelFailure("\(what): \(guest): the guest path must be absolute") }
        let normal = MountNamespace.normalise(guest)
        guard normal != "/" else { throw .kernelFailure("\(what): cannot mount over the guest's root") }
        var walk = PathWalk(root: rootDentry, credentials: Credentials(uid: 0, gid: 0))
        walk.mounts = mounts
        var current: Dentry = rootDentry
        let parts = normal.split(separator: "/").map(String.init)
        do throws(LinuxErrno) {
            for (i, name) in parts.enumerated() {
                let isLast = i == parts.count - 1
                if let next = try? walk.resolve(Array(name.utf8), from: current, followFinal: !isLast) {
                    current = next
                    continue
                }
                let mode: UInt16 = isLast && !directory ? S.IFREG | 0o644 : S.IFDIR | 0o755
                let inode = try current.inode.create(name, mode: mode, owner: (0, 0))
                current = Dentry(name: name, parent: current, inode: inode)
            }
        } catch {
            throw .kernelFailure("\(what): \(guest): \(error.message)")
        }
        if current.inode.isDirectory != directory {
            throw .kernelFailure("\(what): \(guest): \(directory ? "not a directory" : "is a directory") in the guest")
        }
        return current.path
    }

    /// /proc/mounts (fs/proc_namespace.c show_vfsmnt): the mounts a process sees from its root.
    func mountsText(for p: Process) -> [UInt8] {
        var out = ""
        for m in visibleMounts(p) {
            out += "\(octalEscaped(m.source)) \(octalEscaped(m.shownPath(from: p.root.path))) \(m.shownType) \(m.optionString) 0 0\n"
        }
        return Array(out.utf8)
    }

    /// /proc/PID/mountinfo (show_mountinfo): ids, device, root in its filesystem, mount point, options.
    func mountInfoText(for p: Process) -> [UInt8] {
        var out = ""
        for m in visibleMounts(p) {
            let perMount = ([m.readOnly ? "ro" : "rw"] + m.mountOptions).joined(separator: ",")
            let superOptions = ([m.readOnly ? "ro" : "rw"] + m.superOptions).joined(separator: ",")
            out += "\(m.id) \(m.parentID ?? 1) \(m.device.major):\(m.device.minor) \(octalEscaped(m.rootPath)) "
                + "\(octalEscaped(m.shownPath(from: p.root.path))) \(perMount) - \(m.shownType) \(octalEscaped(m.source)) "
                + "\(superOptions)\n"
        }
        return Array(out.utf8)
    }

    /// The mounts at or below the process's root (a chroot sees only those).
    private func visibleMounts(_ p: Process) -> [Mount] {
        let root = p.root.path
        return mounts.mounts.filter { root == "/" || $0.path == root || $0.path.hasPrefix(root + "/") }
    }

    /// mangle(): space, tab, newline and backslash as octal escapes.
    private func octalEscaped(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case " ": out += "\\040"
            case "\t": out += "\\011"
            case "\n": out += "\\012"
            case "\\": out += "\\134"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

extension Mount {
    /// The mount point as a process whose root is `root` names it.
    func shownPath(from root: String) -> String {
        if root == "/" { return path }
        if path == root { return "/" }
        return String(path.dropFirst(root.count))
    }

    /// A bind shows its filesystem's type, as on Linux: a host bind is the host's, shown as hostfs would be.
    var shownType: String { type == "bind" ? "hostfs" : type }
}

extension Kernel {
    /// At the end of the instance: breaks the links that would keep its file systems, and the frames and host
    /// files they hold, alive once the kernel is gone (a tmpfs and its root inode refer to each other).
    func releaseFilesystems() {
        root.upper.detachRoot()
        for m in mounts.mounts { m.tmpfs?.detachRoot() }
        memfdFS.detachRoot()  // made here if no memfd was (an empty tmpfs: cheaper than remembering)
    }
}
