// LockCommands.swift: the numbers of fcntl's lock commands and flock(2)'s operations
// (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h). Their argument, struct flock, is
// CLinuxABI's linux_flock, copied whole in and out (Syscalls/Locks.swift).

/// fcntl's lock commands and flock(2)'s operations.
enum F {
    static let GETLK: Int32 = 5, SETLK: Int32 = 6, SETLKW: Int32 = 7
    static let OFD_GETLK: Int32 = 36, OFD_SETLK: Int32 = 37, OFD_SETLKW: Int32 = 38
    static let SETLEASE: Int32 = 1024, GETLEASE: Int32 = 1025
}

enum LOCK {
    static let SH: Int32 = 1, EX: Int32 = 2, NB: Int32 = 4, UN: Int32 = 8, MAND: Int32 = 32
}
