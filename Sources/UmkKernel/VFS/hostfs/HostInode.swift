import UmkHost

// HostInode.swift: the hostfs node (arch/um fs/hostfs). A hostfs inode holds an O_PATH handle of the host
// file: lookups, stats and opens are relative to it, so a name is resolved one component at a time by the
// kernel's own path walk and the host never walks `..` or a symlink for us.
final class HostInode: Inode {
    let handle: HostFile
    let fileType: UInt16
    /// A writable tree (a bind mount without `ro`): changes go to the host (HostInode+Changes.swift). The
    /// root's lower layer is never writable.
    let writable: Bool
    var isReadOnly: Bool { !writable }

    init(handle: HostFile, fileType: UInt16, writable: Bool = false) {
        self.handle = handle
        self.fileType = fileType
        self.writable = writable
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

    /// The host file or directory at `path` (following symlinks in it: the user named it), for a bind.
    static func bindSource(path: String, writable: Bool) throws(LinuxErrno) -> HostInode {
        do {
            let h = try HostFile.open(at: nil, path, flags: 0o10000000)  // O_PATH
            let type = try h.status().fileType
            return HostInode(handle: h, fileType: type, writable: writable)
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
            return HostInode(handle: h, fileType: st.fileType, writable: writable)
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
            } else if writable {
                // Through the handle itself (/proc/self/fd), so that a file bind with no parent opens too;
                // O_TRUNC is the kernel's (after its checks), O_APPEND the host file's.
                host = try handle.reopen(flags: flags & (O.accessMode | O.APPEND))
                if flags & O.TRUNC != 0 && flags & O.accessMode != O.RDONLY { try host.truncateOpen(to: 0) }
            } else if let parent {
                host = try HostFile.open(at: parent.handle, name, flags: O.RDONLY | O.NOFOLLOW)
            } else {
                host = try handle.reopen(flags: O.RDONLY)
            }
            return HostOpenFile(host: host, inode: self, dentry: dentry, flags: flags)
        } catch {
            throw LinuxErrno(host: error)
        }
    }
}
