import UmkHost

// Inode.swift: a node of the guest's file tree (Linux's struct inode and its inode_operations). Each
// filesystem has its own folder beside this file: hostfs, overlay, tmpfs, procfs ...
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
