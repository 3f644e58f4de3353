import UmkHost

// Inode.swift: a node of the guest's file tree, and the hostfs node (arch/um fs/hostfs). A hostfs inode holds
// an O_PATH handle of the host file: lookups, stats and opens are relative to it, so a name is resolved
// one component at a time by the kernel's own path walk and the host never walks `..` or a symlink for us.
protocol Inode: AnyObject {
    /// The file type bits (S_IFMT) of the node, fixed for its lifetime.
    var fileType: UInt16 { get }
    func stat() throws(LinuxErrno) -> FileStat
    /// The child named `name` (never "." or ".."): ENOENT if absent, ENOTDIR if this is not a directory.
    func lookup(_ name: String) throws(LinuxErrno) -> Inode
    func readLink() throws(LinuxErrno) -> [UInt8]
    /// Opens the node for I/O. `parent` and `name` locate it for filesystems that open by name.
    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile
    /// Whether the filesystem takes writes (the root hostfs does not: EROFS).
    var isReadOnly: Bool { get }
}

extension Inode {
    var isDirectory: Bool { fileType == S.IFDIR }
    var isSymlink: Bool { fileType == S.IFLNK }
}

final class HostInode: Inode {
    let handle: HostFile
    let fileType: UInt16
    var isReadOnly: Bool { true }

    init(handle: HostFile, fileType: UInt16) {
        self.handle = handle
        self.fileType = fileType
    }

    /// The root of a hostfs tree at host directory `path`.
    static func root(path: String) throws(LinuxErrno) -> HostInode {
        do {
            let h = try HostFile.open(at: nil, path, flags: hostPathFlags | hostDirectoryFlag)
            return HostInode(handle: h, fileType: S.IFDIR)
        } catch {
            throw LinuxErrno(host: error)
        }
    }

    static let hostPathFlags: Int32 = 0o10000000 | 0o400000  // O_PATH | O_NOFOLLOW
    static let hostDirectoryFlag: Int32 = 0o200000

    func stat() throws(LinuxErrno) -> FileStat {
        do { return FileStat(host: try handle.status()) } catch { throw LinuxErrno(host: error) }
    }

    func lookup(_ name: String) throws(LinuxErrno) -> Inode {
        guard isDirectory else { throw .ENOTDIR }
        do {
            let h = try HostFile.open(at: handle, name, flags: HostInode.hostPathFlags)
            let st = try h.status()
            return HostInode(handle: h, fileType: st.fileType)
        } catch {
            throw LinuxErrno(host: error)
        }
    }

    func readLink() throws(LinuxErrno) -> [UInt8] {
        guard isSymlink else { throw .EINVAL }
        do { return try handle.readLink() } catch { throw LinuxErrno(host: error) }
    }

    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        // Host device nodes, fifos and sockets are not the guest's: the root is mounted nodev, except for
        // the devices the kernel implements itself.
        if fileType == S.IFCHR {
            let st = try stat()
            if let kind = DeviceFile.kind(major: st.rdevMajor, minor: st.rdevMinor) {
                return DeviceFile(kind: kind, inode: self, dentry: dentry, flags: flags)
            }
        }
        guard fileType == S.IFREG || fileType == S.IFDIR else { throw .EACCES }
        do throws(Errno) {
            let host: HostFile
            if isDirectory {
                host = try HostFile.open(at: handle, ".", flags: O.RDONLY | O.DIRECTORY)
            } else if let parent = dentry.parent, let p = parent.inode as? HostInode {
                host = try HostFile.open(at: p.handle, dentry.name, flags: O.RDONLY | O.NOFOLLOW)
            } else {
                throw Errno(rawValue: 2)
            }
            return HostOpenFile(host: host, inode: self, dentry: dentry, flags: flags)
        } catch {
            throw LinuxErrno(host: error)
        }
    }
}
