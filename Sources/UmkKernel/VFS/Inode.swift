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

    // Directory contents and changes (Directory.swift). A filesystem that does not change leaves these to
    // the defaults below: EROFS on a read-only one, else EPERM.
    /// The names in this directory, without "." and "..".
    func directoryEntries() throws(LinuxErrno) -> [DirectoryEntry]
    /// A new node `name` of type and permissions `mode` (S_IFREG, S_IFDIR, S_IFIFO, S_IFSOCK, S_IFCHR) owned
    /// by `owner`; EEXIST if the name is taken.
    func create(_ name: String, mode: UInt16, owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode
    func createSymlink(_ name: String, target: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode
    /// A second name for `target`, which is on this filesystem (EXDEV if not).
    func link(_ name: String, to target: Inode) throws(LinuxErrno)
    /// Removes `name`: a directory (which must be empty) when `directory`, else anything else.
    func remove(_ name: String, directory: Bool) throws(LinuxErrno)
    /// Moves `name` to `newName` in `newParent` (a directory of the same filesystem), replacing what is there
    /// as rename(2) allows; `exchange` swaps the two instead (RENAME_EXCHANGE).
    func rename(_ name: String, to newParent: Inode, as newName: String, exchange: Bool) throws(LinuxErrno)
    /// chmod, chown, truncate, utimes: what the caller may change has been checked.
    func setAttributes(_ change: AttributeChange) throws(LinuxErrno)
}

extension Inode {
    func directoryEntries() throws(LinuxErrno) -> [DirectoryEntry] { throw isDirectory ? .EINVAL : .ENOTDIR }
    func create(_ name: String, mode: UInt16, owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        throw refusal
    }
    func createSymlink(_ name: String, target: [UInt8], owner: (uid: UInt32, gid: UInt32)) throws(LinuxErrno) -> Inode {
        throw refusal
    }
    func link(_ name: String, to target: Inode) throws(LinuxErrno) { throw refusal }
    func remove(_ name: String, directory: Bool) throws(LinuxErrno) { throw refusal }
    func rename(_ name: String, to newParent: Inode, as newName: String, exchange: Bool) throws(LinuxErrno) {
        throw refusal
    }
    func setAttributes(_ change: AttributeChange) throws(LinuxErrno) { throw refusal }

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

    func directoryEntries() throws(LinuxErrno) -> [DirectoryEntry] {
        guard isDirectory else { throw .ENOTDIR }
        var out: [DirectoryEntry] = []
        do throws(Errno) {
            let dir = try HostFile.open(at: handle, ".", flags: O.RDONLY | O.DIRECTORY)
            while true {
                let records = try dir.readDirectory(limit: 65536)
                if records.isEmpty { break }
                var at = 0
                while at + 19 < records.count {
                    let ino = records[at..<(at + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    let length = Int(records[at + 16]) | Int(records[at + 17]) << 8
                    guard length >= 20, at + length <= records.count else { break }
                    let nameBytes = records[(at + 19)..<(at + length)].prefix { $0 != 0 }
                    let name = String(decoding: nameBytes, as: UTF8.self)
                    if name != "." && name != ".." {
                        out.append(DirectoryEntry(ino: ino, fileType: UInt16(records[at + 18]) << 12, name: name))
                    }
                    at += length
                }
            }
        } catch {
            throw LinuxErrno(host: error)
        }
        return out
    }

    /// The regular file `name` in this directory, open for reading on the host.
    func openChild(_ name: String) throws(LinuxErrno) -> HostFile {
        do { return try HostFile.open(at: handle, name, flags: O.RDONLY | O.NOFOLLOW) } catch { throw LinuxErrno(host: error) }
    }

    func readLink() throws(LinuxErrno) -> [UInt8] {
        guard isSymlink else { throw .EINVAL }
        do { return try handle.readLink() } catch { throw LinuxErrno(host: error) }
    }

    func open(flags: Int32, dentry: Dentry) throws(LinuxErrno) -> OpenFile {
        try open(flags: flags, dentry: dentry, parent: dentry.parent?.inode as? HostInode, name: dentry.name)
    }

    /// Opens this node, which is `name` in host directory `parent` (regular files are opened by name there).
    func open(flags: Int32, dentry: Dentry, parent: HostInode?, name: String) throws(LinuxErrno) -> OpenFile {
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
            } else if let parent {
                host = try HostFile.open(at: parent.handle, name, flags: O.RDONLY | O.NOFOLLOW)
            } else {
                throw Errno(rawValue: 2)
            }
            return HostOpenFile(host: host, inode: self, dentry: dentry, flags: flags)
        } catch {
            throw LinuxErrno(host: error)
        }
    }
}
