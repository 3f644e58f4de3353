// LinuxErrno.swift: the errno values umk returns to the guest (asm-generic/errno*.h), with the names and
// messages --strace prints. A guest error is its own type: host errors (swift-system's Errno) become one
// only through init(host:).

public struct LinuxErrno: Error, Hashable, Sendable {
    public let rawValue: Int32
    @inlinable public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let EPERM = LinuxErrno(1)
    public static let ENOENT = LinuxErrno(2)
    public static let ESRCH = LinuxErrno(3)
    public static let EINTR = LinuxErrno(4)
    public static let EIO = LinuxErrno(5)
    public static let ENXIO = LinuxErrno(6)
    public static let E2BIG = LinuxErrno(7)
    public static let ENOEXEC = LinuxErrno(8)
    public static let EBADF = LinuxErrno(9)
    public static let ECHILD = LinuxErrno(10)
    public static let EAGAIN = LinuxErrno(11)
    public static let ENOMEM = LinuxErrno(12)
    public static let EACCES = LinuxErrno(13)
    public static let EFAULT = LinuxErrno(14)
    public static let ENOTBLK = LinuxErrno(15)
    public static let EBUSY = LinuxErrno(16)
    public static let EEXIST = LinuxErrno(17)
    public static let EXDEV = LinuxErrno(18)
    public static let ENODEV = LinuxErrno(19)
    public static let ENOTDIR = LinuxErrno(20)
    public static let EISDIR = LinuxErrno(21)
    public static let EINVAL = LinuxErrno(22)
    public static let ENFILE = LinuxErrno(23)
    public static let EMFILE = LinuxErrno(24)
    public static let ENOTTY = LinuxErrno(25)
    public static let ETXTBSY = LinuxErrno(26)
    public static let EFBIG = LinuxErrno(27)
    public static let ENOSPC = LinuxErrno(28)
    public static let ESPIPE = LinuxErrno(29)
    public static let EROFS = LinuxErrno(30)
    public static let EMLINK = LinuxErrno(31)
    public static let EPIPE = LinuxErrno(32)
    public static let EDOM = LinuxErrno(33)
    public static let ERANGE = LinuxErrno(34)
    public static let EDEADLK = LinuxErrno(35)
    public static let EDEADLOCK = EDEADLK
    public static let ENAMETOOLONG = LinuxErrno(36)
    public static let ENOLCK = LinuxErrno(37)
    public static let ENOSYS = LinuxErrno(38)
    public static let ENOTEMPTY = LinuxErrno(39)
    public static let ELOOP = LinuxErrno(40)
    public static let ENOMSG = LinuxErrno(42)
    public static let EIDRM = LinuxErrno(43)
    public static let ECHRNG = LinuxErrno(44)
    public static let EL2NSYNC = LinuxErrno(45)
    public static let EL3HLT = LinuxErrno(46)
    public static let EL3RST = LinuxErrno(47)
    public static let ELNRNG = LinuxErrno(48)
    public static let EUNATCH = LinuxErrno(49)
    public static let ENOCSI = LinuxErrno(50)
    public static let EL2HLT = LinuxErrno(51)
    public static let EBADE = LinuxErrno(52)
    public static let EBADR = LinuxErrno(53)
    public static let EXFULL = LinuxErrno(54)
    public static let ENOANO = LinuxErrno(55)
    public static let EBADRQC = LinuxErrno(56)
    public static let EBADSLT = LinuxErrno(57)
    public static let EBFONT = LinuxErrno(59)
    public static let ENOSTR = LinuxErrno(60)
    public static let ENODATA = LinuxErrno(61)
    public static let ETIME = LinuxErrno(62)
    public static let ENOSR = LinuxErrno(63)
    public static let ENONET = LinuxErrno(64)
    public static let ENOPKG = LinuxErrno(65)
    public static let EREMOTE = LinuxErrno(66)
    public static let ENOLINK = LinuxErrno(67)
    public static let EADV = LinuxErrno(68)
    public static let ESRMNT = LinuxErrno(69)
    public static let ECOMM = LinuxErrno(70)
    public static let EPROTO = LinuxErrno(71)
    public static let EMULTIHOP = LinuxErrno(72)
    public static let EDOTDOT = LinuxErrno(73)
    public static let EBADMSG = LinuxErrno(74)
    public static let EOVERFLOW = LinuxErrno(75)
    public static let ENOTUNIQ = LinuxErrno(76)
    public static let EBADFD = LinuxErrno(77)
    public static let EREMCHG = LinuxErrno(78)
    public static let ELIBACC = LinuxErrno(79)
    public static let ELIBBAD = LinuxErrno(80)
    public static let ELIBSCN = LinuxErrno(81)
    public static let ELIBMAX = LinuxErrno(82)
    public static let ELIBEXEC = LinuxErrno(83)
    public static let EILSEQ = LinuxErrno(84)
    public static let ERESTART = LinuxErrno(85)
    public static let ESTRPIPE = LinuxErrno(86)
    public static let EUSERS = LinuxErrno(87)
    public static let ENOTSOCK = LinuxErrno(88)
    public static let EDESTADDRREQ = LinuxErrno(89)
    public static let EMSGSIZE = LinuxErrno(90)
    public static let EPROTOTYPE = LinuxErrno(91)
    public static let ENOPROTOOPT = LinuxErrno(92)
    public static let EPROTONOSUPPORT = LinuxErrno(93)
    public static let ESOCKTNOSUPPORT = LinuxErrno(94)
    public static let ENOTSUP = LinuxErrno(95)
    public static let EOPNOTSUPP = LinuxErrno(95)
    public static let EPFNOSUPPORT = LinuxErrno(96)
    public static let EAFNOSUPPORT = LinuxErrno(97)
    public static let EADDRINUSE = LinuxErrno(98)
    public static let EADDRNOTAVAIL = LinuxErrno(99)
    public static let ENETDOWN = LinuxErrno(100)
    public static let ENETUNREACH = LinuxErrno(101)
    public static let ENETRESET = LinuxErrno(102)
    public static let ECONNABORTED = LinuxErrno(103)
    public static let ECONNRESET = LinuxErrno(104)
    public static let ENOBUFS = LinuxErrno(105)
    public static let EISCONN = LinuxErrno(106)
    public static let ENOTCONN = LinuxErrno(107)
    public static let ESHUTDOWN = LinuxErrno(108)
    public static let ETOOMANYREFS = LinuxErrno(109)
    public static let ETIMEDOUT = LinuxErrno(110)
    public static let ECONNREFUSED = LinuxErrno(111)
    public static let EHOSTDOWN = LinuxErrno(112)
    public static let EHOSTUNREACH = LinuxErrno(113)
    public static let EALREADY = LinuxErrno(114)
    public static let EINPROGRESS = LinuxErrno(115)
    public static let ESTALE = LinuxErrno(116)
    public static let EUCLEAN = LinuxErrno(117)
    public static let ENOTNAM = LinuxErrno(118)
    public static let ENAVAIL = LinuxErrno(119)
    public static let EISNAM = LinuxErrno(120)
    public static let EREMOTEIO = LinuxErrno(121)
    public static let EDQUOT = LinuxErrno(122)
    public static let ENOMEDIUM = LinuxErrno(123)
    public static let EMEDIUMTYPE = LinuxErrno(124)
    public static let ECANCELED = LinuxErrno(125)
    public static let ENOKEY = LinuxErrno(126)
    public static let EKEYEXPIRED = LinuxErrno(127)
    public static let EKEYREVOKED = LinuxErrno(128)
    public static let EKEYREJECTED = LinuxErrno(129)
    public static let EOWNERDEAD = LinuxErrno(130)
    public static let ENOTRECOVERABLE = LinuxErrno(131)
    public static let ERFKILL = LinuxErrno(132)

    static let names: [Int32: (String, String)] = [
        1: ("EPERM", "Operation not permitted"),
        2: ("ENOENT", "No such file or directory"),
        3: ("ESRCH", "No such process"),
        4: ("EINTR", "Interrupted system call"),
        5: ("EIO", "Input/output error"),
        6: ("ENXIO", "No such device or address"),
        7: ("E2BIG", "Argument list too long"),
        8: ("ENOEXEC", "Exec format error"),
        9: ("EBADF", "Bad file descriptor"),
        10: ("ECHILD", "No child processes"),
        11: ("EAGAIN", "Resource temporarily unavailable"),
        12: ("ENOMEM", "Cannot allocate memory"),
        13: ("EACCES", "Permission denied"),
        14: ("EFAULT", "Bad address"),
        15: ("ENOTBLK", "Block device required"),
        16: ("EBUSY", "Device or resource busy"),
        17: ("EEXIST", "File exists"),
        18: ("EXDEV", "Invalid cross-device link"),
        19: ("ENODEV", "No such device"),
        20: ("ENOTDIR", "Not a directory"),
        21: ("EISDIR", "Is a directory"),
        22: ("EINVAL", "Invalid argument"),
        23: ("ENFILE", "Too many open files in system"),
        24: ("EMFILE", "Too many open files"),
        25: ("ENOTTY", "Inappropriate ioctl for device"),
        26: ("ETXTBSY", "Text file busy"),
        27: ("EFBIG", "File too large"),
        28: ("ENOSPC", "No space left on device"),
        29: ("ESPIPE", "Illegal seek"),
        30: ("EROFS", "Read-only file system"),
        31: ("EMLINK", "Too many links"),
        32: ("EPIPE", "Broken pipe"),
        33: ("EDOM", "Numerical argument out of domain"),
        34: ("ERANGE", "Numerical result out of range"),
        35: ("EDEADLK", "Resource deadlock avoided"),
        36: ("ENAMETOOLONG", "File name too long"),
        37: ("ENOLCK", "No locks available"),
        38: ("ENOSYS", "Function not implemented"),
        39: ("ENOTEMPTY", "Directory not empty"),
        40: ("ELOOP", "Too many levels of symbolic links"),
        42: ("ENOMSG", "No message of desired type"),
        43: ("EIDRM", "Identifier removed"),
        44: ("ECHRNG", "Channel number out of range"),
        45: ("EL2NSYNC", "Level 2 not synchronized"),
        46: ("EL3HLT", "Level 3 halted"),
        47: ("EL3RST", "Level 3 reset"),
        48: ("ELNRNG", "Link number out of range"),
        49: ("EUNATCH", "Protocol driver not attached"),
        50: ("ENOCSI", "No CSI structure available"),
        51: ("EL2HLT", "Level 2 halted"),
        52: ("EBADE", "Invalid exchange"),
        53: ("EBADR", "Invalid request descriptor"),
        54: ("EXFULL", "Exchange full"),
        55: ("ENOANO", "No anode"),
        56: ("EBADRQC", "Invalid request code"),
        57: ("EBADSLT", "Invalid slot"),
        59: ("EBFONT", "Bad font file format"),
        60: ("ENOSTR", "Device not a stream"),
        61: ("ENODATA", "No data available"),
        62: ("ETIME", "Timer expired"),
        63: ("ENOSR", "Out of streams resources"),
        64: ("ENONET", "Machine is not on the network"),
        65: ("ENOPKG", "Package not installed"),
        66: ("EREMOTE", "Object is remote"),
        67: ("ENOLINK", "Link has been severed"),
        68: ("EADV", "Advertise error"),
        69: ("ESRMNT", "Srmount error"),
        70: ("ECOMM", "Communication error on send"),
        71: ("EPROTO", "Protocol error"),
        72: ("EMULTIHOP", "Multihop attempted"),
        73: ("EDOTDOT", "RFS specific error"),
        74: ("EBADMSG", "Bad message"),
        75: ("EOVERFLOW", "Value too large for defined data type"),
        76: ("ENOTUNIQ", "Name not unique on network"),
        77: ("EBADFD", "File descriptor in bad state"),
        78: ("EREMCHG", "Remote address changed"),
        79: ("ELIBACC", "Can not access a needed shared library"),
        80: ("ELIBBAD", "Accessing a corrupted shared library"),
        81: ("ELIBSCN", ".lib section in a.out corrupted"),
        82: ("ELIBMAX", "Attempting to link in too many shared libraries"),
        83: ("ELIBEXEC", "Cannot exec a shared library directly"),
        84: ("EILSEQ", "Invalid or incomplete multibyte or wide character"),
        85: ("ERESTART", "Interrupted system call should be restarted"),
        86: ("ESTRPIPE", "Streams pipe error"),
        87: ("EUSERS", "Too many users"),
        88: ("ENOTSOCK", "Socket operation on non-socket"),
        89: ("EDESTADDRREQ", "Destination address required"),
        90: ("EMSGSIZE", "Message too long"),
        91: ("EPROTOTYPE", "Protocol wrong type for socket"),
        92: ("ENOPROTOOPT", "Protocol not available"),
        93: ("EPROTONOSUPPORT", "Protocol not supported"),
        94: ("ESOCKTNOSUPPORT", "Socket type not supported"),
        95: ("EOPNOTSUPP", "Operation not supported"),
        96: ("EPFNOSUPPORT", "Protocol family not supported"),
        97: ("EAFNOSUPPORT", "Address family not supported by protocol"),
        98: ("EADDRINUSE", "Address already in use"),
        99: ("EADDRNOTAVAIL", "Cannot assign requested address"),
        100: ("ENETDOWN", "Network is down"),
        101: ("ENETUNREACH", "Network is unreachable"),
        102: ("ENETRESET", "Network dropped connection on reset"),
        103: ("ECONNABORTED", "Software caused connection abort"),
        104: ("ECONNRESET", "Connection reset by peer"),
        105: ("ENOBUFS", "No buffer space available"),
        106: ("EISCONN", "Transport endpoint is already connected"),
        107: ("ENOTCONN", "Transport endpoint is not connected"),
        108: ("ESHUTDOWN", "Cannot send after transport endpoint shutdown"),
        109: ("ETOOMANYREFS", "Too many references: cannot splice"),
        110: ("ETIMEDOUT", "Connection timed out"),
        111: ("ECONNREFUSED", "Connection refused"),
        112: ("EHOSTDOWN", "Host is down"),
        113: ("EHOSTUNREACH", "No route to host"),
        114: ("EALREADY", "Operation already in progress"),
        115: ("EINPROGRESS", "Operation now in progress"),
        116: ("ESTALE", "Stale file handle"),
        117: ("EUCLEAN", "Structure needs cleaning"),
        118: ("ENOTNAM", "Not a XENIX named type file"),
        119: ("ENAVAIL", "No XENIX semaphores available"),
        120: ("EISNAM", "Is a named type file"),
        121: ("EREMOTEIO", "Remote I/O error"),
        122: ("EDQUOT", "Disk quota exceeded"),
        123: ("ENOMEDIUM", "No medium found"),
        124: ("EMEDIUMTYPE", "Wrong medium type"),
        125: ("ECANCELED", "Operation canceled"),
        126: ("ENOKEY", "Required key not available"),
        127: ("EKEYEXPIRED", "Key has expired"),
        128: ("EKEYREVOKED", "Key has been revoked"),
        129: ("EKEYREJECTED", "Key was rejected by service"),
        130: ("EOWNERDEAD", "Owner died"),
        131: ("ENOTRECOVERABLE", "State not recoverable"),
        132: ("ERFKILL", "Operation not possible due to RF-kill"),
    ]
    public var name: String { LinuxErrno.names[rawValue]?.0 ?? "E\(rawValue)" }
    public var message: String { LinuxErrno.names[rawValue]?.1 ?? "Unknown error \(rawValue)" }
}
