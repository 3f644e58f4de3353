import UmkHost

// HostOpenFile.swift: an open regular file or directory of a hostfs tree: reads (and, in a writable bind,
// writes) go straight between the host file and guest memory with preadv/pwritev.
final class HostOpenFile: OpenFile {
    let host: HostFile
    let inode: HostInode

    init(host: HostFile, inode: HostInode, dentry: Dentry, flags: Int32) {
        self.host = host
        self.inode = inode
        super.init(flags: flags, dentry: dentry)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        if inode.isDirectory { throw .EISDIR }
        do { return try host.read(into: io.hostBuffers) } catch { throw LinuxErrno(host: error) }
    }
    override func read(into io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int {
        if inode.isDirectory { throw .EISDIR }
        do { return try host.read(into: io.hostBuffers, at: offset) } catch { throw LinuxErrno(host: error) }
    }
    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        guard inode.writable, !inode.isDirectory else { throw .EBADF }
        do { return try host.write(from: io.hostBuffers) } catch { throw LinuxErrno(host: error) }
    }
    override func write(from io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int {
        guard inode.writable, !inode.isDirectory else { throw .EBADF }
        do { return try host.write(from: io.hostBuffers, at: offset) } catch { throw LinuxErrno(host: error) }
    }
    override func synchronize(dataOnly: Bool) throws(LinuxErrno) {
        guard inode.writable, !inode.isDirectory else { return }
        do { try host.synchronize(dataOnly: dataOnly) } catch { throw LinuxErrno(host: error) }
    }
    /// F_SETFL's O_APPEND goes to the host file, which does the appending.
    override func statusFlagsChanged() throws(LinuxErrno) {
        guard inode.writable, !inode.isDirectory else { return }
        do {
            let now = try host.statusFlags()
            try host.setStatusFlags((now & ~O.APPEND) | (statusFlags & O.APPEND))
        } catch {
            throw LinuxErrno(host: error)
        }
    }
    override func seek(_ offset: Int64, whence: Int32) throws(LinuxErrno) -> Int64 {
        do { return try host.seek(offset, whence: whence) } catch { throw LinuxErrno(host: error) }
    }
    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }
    override func readDirectory(limit: Int) throws(LinuxErrno) -> [UInt8] {
        guard inode.isDirectory else { throw .ENOTDIR }
        do { return try host.readDirectory(limit: limit) } catch { throw LinuxErrno(host: error) }
    }
    /// The page cache knows a host file by its size and mtime: a file of a writable bind is looked at anew
    /// for each mapping, so that one made after a write sees it.
    override var mappableFile: MappedFile? {
        if inode.isDirectory { return nil }
        if mapped == nil || inode.writable, let st = try? inode.stat() { mapped = MappedFile(host: host, stat: st) }
        return mapped
    }
    private var mapped: MappedFile?
}
