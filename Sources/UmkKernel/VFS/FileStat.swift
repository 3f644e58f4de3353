import CLinuxABI
import UmkHost

// FileStat.swift: a file's attributes as the kernel reports them (Linux's struct kstat), what stat, fstat and
// statx copy out. Every filesystem fills one of these: hostfs from the host's statx, the others from their own
// inodes, so no kernel object fabricates a host type.
struct FileStat {
    /// STATX_* bits of the fields that are filled in.
    var mask: UInt32 = FileStat.basicStats
    var blksize: UInt32 = 4096
    var attributes: UInt64 = 0
    var nlink: UInt32 = 1
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    var mode: UInt16 = 0
    var ino: UInt64 = 0
    var size: UInt64 = 0
    /// 512-byte blocks allocated.
    var blocks: UInt64 = 0
    var attributesMask: UInt64 = 0
    var atime: (Int64, UInt32) = (0, 0)
    var btime: (Int64, UInt32) = (0, 0)
    var ctime: (Int64, UInt32) = (0, 0)
    var mtime: (Int64, UInt32) = (0, 0)
    var rdevMajor: UInt32 = 0, rdevMinor: UInt32 = 0
    var devMajor: UInt32 = 0, devMinor: UInt32 = 0
    var mountID: UInt64 = 0

    /// STATX_BASIC_STATS: type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks.
    static let basicStats = LINUX_STATX_BASIC_STATS

    init() {}

    /// What fstat shows for the kernel's anonymous files (eventfd, signalfd, timerfd, epoll, inotify): an
    /// inode of anon_inodefs, mode 0600.
    static var anonymousInode: FileStat {
        var s = FileStat()
        s.mode = 0o600
        s.nlink = 1
        s.blksize = 4096
        s.devMinor = 13  // anon_inodefs
        return s
    }

    /// A host file's attributes, as hostfs shows them.
    init(host s: HostStat) {
        mask = s.mask
        blksize = s.blksize
        attributes = s.attributes
        nlink = s.nlink
        uid = s.uid
        gid = s.gid
        mode = s.mode
        ino = s.ino
        size = s.size
        blocks = s.blocks
        attributesMask = s.attributesMask
        atime = s.atime
        btime = s.btime
        ctime = s.ctime
        mtime = s.mtime
        rdevMajor = s.rdevMajor
        rdevMinor = s.rdevMinor
        devMajor = s.devMajor
        devMinor = s.devMinor
        mountID = s.mountID
    }

    var fileType: UInt16 { mode & S.IFMT }
    var isDirectory: Bool { fileType == S.IFDIR }
    var isSymlink: Bool { fileType == S.IFLNK }
    var isRegular: Bool { fileType == S.IFREG }
}

/// A file's identity for the kernel's tables (FIFOs, locks): the device and inode numbers stat reports.
struct FileKey: Hashable {
    var devMajor: UInt32, devMinor: UInt32, ino: UInt64
    init(devMajor: UInt32, devMinor: UInt32, ino: UInt64) { (self.devMajor, self.devMinor, self.ino) = (devMajor, devMinor, ino) }
    init(_ s: FileStat) { (devMajor, devMinor, ino) = (s.devMajor, s.devMinor, s.ino) }
}

/// Counters an instance numbers its objects with (get_next_ino's role); each starts where Linux's would
/// not collide with the others in one instance.
struct InstanceNumbers {
    var pipeInode: UInt64 = 1
    var socketInode: UInt64 = 1 << 20
    var eventfdID: UInt64 = 0

    mutating func next(_ counter: WritableKeyPath<InstanceNumbers, UInt64>) -> UInt64 {
        defer { self[keyPath: counter] &+= 1 }
        return self[keyPath: counter]
    }
}
