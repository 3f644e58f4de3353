import UmkHost

// Devices.swift: the character devices the kernel itself implements (drivers/char/mem.c, random.c). A device
// node of the host tree opens one of these when its device number is one of them; any other host device
// node is refused (EACCES, as on a nodev mount): the guest never gets a host device.
final class DeviceFile: OpenFile {
    enum Kind { case null, zero, full, random }

    let kind: Kind
    let inode: Inode

    /// The kernel's device for a host device number, or nil.
    static func kind(major: UInt32, minor: UInt32) -> Kind? {
        guard major == 1 else { return nil }
        switch minor {
        case 3: return .null
        case 5: return .zero
        case 7: return .full
        case 8, 9: return .random
        default: return nil
        }
    }

    init(kind: Kind, inode: Inode, dentry: Dentry, flags: Int32) {
        self.kind = kind
        self.inode = inode
        super.init(flags: flags, dentry: dentry)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int {
        if kind == .null { return 0 }
        return io.fill(random: kind == .random)
    }

    override func write(from io: IOSequence) throws(LinuxErrno) -> Int {
        if kind == .full { throw .ENOSPC }
        return io.count
    }

    override func read(into io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int { try read(into: io) }
    override func write(from io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int { try write(from: io) }
    override func seek(_ offset: Int64, whence: Int32) throws(LinuxErrno) -> Int64 { 0 }
    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }
}
