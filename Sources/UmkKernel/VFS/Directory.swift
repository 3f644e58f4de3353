import CLinuxABI
import UmkHost

// Directory.swift: reading directories (fs/readdir.c) and changing names and attributes (the inode
// operations of include/linux/fs.h: create, mkdir, mknod, symlink, link, unlink, rmdir, rename, setattr).
// Filesystems that keep their own entries (tmpfs, the overlay) list them as DirectoryEntry values; the kernel
// writes the guest's dirent64 records, so no filesystem builds a host structure.

/// One name in a directory, as getdents64 reports it.
struct DirectoryEntry {
    var ino: UInt64
    /// DT_* type: the S_IFMT bits shifted down by 12.
    var type: UInt8
    var name: String

    init(ino: UInt64, fileType: UInt16, name: String) {
        self.ino = ino
        type = UInt8(truncatingIfNeeded: fileType >> 12)
        self.name = name
    }

    /// The dirent64 record length for a name of `count` bytes: header, name, NUL, 8-byte aligned.
    static func recordLength(_ count: Int) -> Int { (Int(LINUX_DIRENT64_NAME_OFFSET) + count + 1 + 7) & ~7 }

    /// The dirent64 record, with `next` as d_off (the position after it): struct linux_dirent64's header up
    /// to d_name, the name, then zeros (its NUL and the padding).
    func record(next: Int64) -> [UInt8] {
        let utf8 = Array(name.utf8)
        let length = DirectoryEntry.recordLength(utf8.count)
        var header = linux_dirent64()
        header.d_ino = ino
        header.d_off = next
        header.d_reclen = UInt16(truncatingIfNeeded: length)
        header.d_type = type
        var out: [UInt8] = []
        out.reserveCapacity(length)
        out.append(header: header, count: Int(LINUX_DIRENT64_NAME_OFFSET))
        out += utf8
        out += repeatElement(0, count: length - out.count)
        return out
    }
}

/// What a change of attributes asks for (notify_change's struct iattr): nil fields stay as they are.
struct AttributeChange {
    var mode: UInt16? = nil
    var uid: UInt32? = nil
    var gid: UInt32? = nil
    var size: UInt64? = nil
    var atime: (Int64, UInt32)? = nil
    var mtime: (Int64, UInt32)? = nil
}

/// An open directory of a filesystem that lists its entries: the listing is taken at the first read and at
/// each rewind, and the position is an index into it, so names removed while a reader goes through it (as
/// `rm -rf` does) never make it skip or repeat one.
final class DirectoryFile: OpenFile {
    let inode: Inode
    private var listing: [DirectoryEntry]? = nil
    private var position = 0

    init(inode: Inode, dentry: Dentry, flags: Int32) {
        self.inode = inode
        super.init(flags: flags, dentry: dentry)
    }

    override func read(into io: IOSequence) throws(LinuxErrno) -> Int { throw .EISDIR }
    override func read(into io: IOSequence, at offset: Int64) throws(LinuxErrno) -> Int { throw .EISDIR }
    override func stat() throws(LinuxErrno) -> FileStat { try inode.stat() }

    override func seek(_ offset: Int64, whence: Int32) throws(LinuxErrno) -> Int64 {
        let base: Int
        switch whence {
        case 0: base = 0
        case 1: base = position
        default: throw .EINVAL
        }
        let (target, o) = Int64(base).addingReportingOverflow(offset)
        guard !o, target >= 0 else { throw .EINVAL }
        position = Int(clamping: target)
        if position == 0 { listing = nil }
        return Int64(position)
    }

    override func readDirectory(limit: Int) throws(LinuxErrno) -> [UInt8] {
        if listing == nil {
            let parentIno = (try? dentry?.parent?.inode.stat().ino) ?? nil
            let own = try inode.stat().ino
            listing = [DirectoryEntry(ino: own, fileType: S.IFDIR, name: "."),
                       DirectoryEntry(ino: parentIno ?? own, fileType: S.IFDIR, name: "..")]
                + (try inode.directoryEntries())
        }
        var out: [UInt8] = []
        while let entries = listing, position < entries.count {
            let r = entries[position].record(next: Int64(position + 1))
            guard out.count + r.count <= limit else {
                if out.isEmpty { throw .EINVAL }  // not even one record fits
                break
            }
            out += r
            position += 1
        }
        return out
    }
}

extension Inode {
    /// Defaults for filesystems that do not change: EROFS on a read-only one, else EPERM.
    var refusal: LinuxErrno { isReadOnly ? .EROFS : .EPERM }
}
