import CLinuxABI

// StatLayout.swift: a FileStat as the guest reads it, the x86-64 `struct stat` (arch/x86/include/uapi/asm/stat.h)
// and `struct statx` (include/uapi/linux/stat.h), declared in CLinuxABI's linux_abi.h.
extension FileStat {
    /// new_encode_dev: the 32-bit dev_t encoding that stat(2) reports.
    static func encodeDevice(_ major: UInt32, _ minor: UInt32) -> UInt64 {
        UInt64((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12))
    }

    /// cp_new_stat.
    var linuxStat: linux_stat {
        var s = linux_stat()
        s.st_dev = FileStat.encodeDevice(devMajor, devMinor)
        s.st_ino = ino
        s.st_nlink = UInt64(nlink)
        s.st_mode = UInt32(mode)
        s.st_uid = uid
        s.st_gid = gid
        s.st_rdev = FileStat.encodeDevice(rdevMajor, rdevMinor)
        s.st_size = Int64(bitPattern: size)
        s.st_blksize = Int64(blksize)
        s.st_blocks = Int64(bitPattern: blocks)
        (s.st_atime, s.st_atime_nsec) = (UInt64(bitPattern: atime.0), UInt64(atime.1))
        (s.st_mtime, s.st_mtime_nsec) = (UInt64(bitPattern: mtime.0), UInt64(mtime.1))
        (s.st_ctime, s.st_ctime_nsec) = (UInt64(bitPattern: ctime.0), UInt64(ctime.1))
        return s
    }

    /// cp_statx.
    var linuxStatx: linux_statx {
        var s = linux_statx()
        s.stx_mask = mask
        s.stx_blksize = blksize
        s.stx_attributes = attributes
        s.stx_nlink = nlink
        s.stx_uid = uid
        s.stx_gid = gid
        s.stx_mode = mode
        s.stx_ino = ino
        s.stx_size = size
        s.stx_blocks = blocks
        s.stx_attributes_mask = attributesMask
        s.stx_atime = FileStat.timestamp(atime)
        s.stx_btime = FileStat.timestamp(btime)
        s.stx_ctime = FileStat.timestamp(ctime)
        s.stx_mtime = FileStat.timestamp(mtime)
        s.stx_rdev_major = rdevMajor
        s.stx_rdev_minor = rdevMinor
        s.stx_dev_major = devMajor
        s.stx_dev_minor = devMinor
        s.stx_mnt_id = mountID
        return s
    }

    private static func timestamp(_ t: (Int64, UInt32)) -> linux_statx_timestamp {
        var x = linux_statx_timestamp()
        (x.tv_sec, x.tv_nsec) = (t.0, t.1)
        return x
    }
}
