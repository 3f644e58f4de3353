// OpenFlags.swift: x86-64 open(2), *at(2) and fcntl(2) constants (asm-generic/fcntl.h, linux/fcntl.h).
enum O {
    static let accessMode: Int32 = 0o3
    static let RDONLY: Int32 = 0, WRONLY: Int32 = 1, RDWR: Int32 = 2
    static let CREAT: Int32 = 0o100, EXCL: Int32 = 0o200, NOCTTY: Int32 = 0o400, TRUNC: Int32 = 0o1000
    static let APPEND: Int32 = 0o2000, NONBLOCK: Int32 = 0o4000, DSYNC: Int32 = 0o10000, ASYNC: Int32 = 0o20000
    static let DIRECT: Int32 = 0o40000, LARGEFILE: Int32 = 0o100000, DIRECTORY: Int32 = 0o200000
    static let NOFOLLOW: Int32 = 0o400000, NOATIME: Int32 = 0o1000000, CLOEXEC: Int32 = 0o2000000
    static let SYNC: Int32 = 0o4010000, PATH: Int32 = 0o10000000, TMPFILE: Int32 = 0o20200000
    /// VALID_OPEN_FLAGS: what openat2 accepts (open and openat ignore unknown bits).
    static let valid: Int32 = 0o37777703
    /// O_PATH_FLAGS: all that may go with O_PATH in openat2.
    static let pathFlags: Int32 = DIRECTORY | NOFOLLOW | PATH | CLOEXEC
    /// The status flags F_SETFL may change.
    static let settable: Int32 = APPEND | NONBLOCK | ASYNC | DIRECT | NOATIME
}

enum AT {
    static let FDCWD: Int32 = -100
    static let SYMLINK_NOFOLLOW: Int32 = 0x100, REMOVEDIR: Int32 = 0x200, EACCESS: Int32 = 0x200
    static let SYMLINK_FOLLOW: Int32 = 0x400, NO_AUTOMOUNT: Int32 = 0x800, EMPTY_PATH: Int32 = 0x1000
    static let STATX_SYNC_TYPE: Int32 = 0x6000
}

enum S {
    static let IFMT: UInt16 = 0o170000, IFDIR: UInt16 = 0o040000, IFREG: UInt16 = 0o100000
    static let IFLNK: UInt16 = 0o120000, IFCHR: UInt16 = 0o020000, IFBLK: UInt16 = 0o060000
    static let IFIFO: UInt16 = 0o010000, IFSOCK: UInt16 = 0o140000
    static let ISUID: UInt16 = 0o4000, ISGID: UInt16 = 0o2000, ISVTX: UInt16 = 0o1000
}
