// Termios.swift: a terminal's modes as TCGETS and TCSETS pass them (include/uapi/asm-generic/termbits.h):
// four flag words, the line discipline number and 19 control characters, 36 bytes; termios2 (TCGETS2)
// adds the input and output speeds. The flag and character names are Linux's.
struct Termios: Equatable {
    var iflag: UInt32
    var oflag: UInt32
    var cflag: UInt32
    var lflag: UInt32
    var line: UInt8 = 0
    var cc: [UInt8]
    var ispeed: UInt32 = 38400
    var ospeed: UInt32 = 38400

    static let size = 36, size2 = 44

    // c_iflag
    static let IGNBRK: UInt32 = 0o1, BRKINT: UInt32 = 0o2, ISTRIP: UInt32 = 0o40, INLCR: UInt32 = 0o100
    static let IGNCR: UInt32 = 0o200, ICRNL: UInt32 = 0o400, IUCLC: UInt32 = 0o1000, IXON: UInt32 = 0o2000
    static let IXANY: UInt32 = 0o4000, IUTF8: UInt32 = 0o40000
    // c_oflag
    static let OPOST: UInt32 = 0o1, OLCUC: UInt32 = 0o2, ONLCR: UInt32 = 0o4, OCRNL: UInt32 = 0o10
    static let ONOCR: UInt32 = 0o20, ONLRET: UInt32 = 0o40, TABDLY: UInt32 = 0o14000, XTABS: UInt32 = 0o14000
    // c_cflag
    static let CBAUD: UInt32 = 0o10017, BOTHER: UInt32 = 0o10000, B38400: UInt32 = 0o17, CSIZE: UInt32 = 0o60
    static let CS8: UInt32 = 0o60, CREAD: UInt32 = 0o200, PARENB: UInt32 = 0o400, CIBAUD: UInt32 = 0o2003600000
    // c_lflag
    static let ISIG: UInt32 = 0o1, ICANON: UInt32 = 0o2, ECHO: UInt32 = 0o10, ECHOE: UInt32 = 0o20
    static let ECHOK: UInt32 = 0o40, ECHONL: UInt32 = 0o100, NOFLSH: UInt32 = 0o200, TOSTOP: UInt32 = 0o400
    static let ECHOCTL: UInt32 = 0o1000, ECHOPRT: UInt32 = 0o2000, ECHOKE: UInt32 = 0o4000, IEXTEN: UInt32 = 0o100000
    static let EXTPROC: UInt32 = 0o200000
    // c_cc indices
    static let VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSTART = 8
    static let VSTOP = 9, VSUSP = 10, VEOL = 11, VREPRINT = 12, VWERASE = 14, VLNEXT = 15, VEOL2 = 16

    /// A new pseudo-terminal's modes (drivers/tty/pty.c, tty_std_termios with INIT_C_CC): cooked, echoing,
    /// signals on, 8 bits at 38400 baud.
    static let standard = Termios(
        iflag: ICRNL | IXON, oflag: OPOST | ONLCR, cflag: B38400 | CS8 | CREAD,
        lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
        cc: [3, 0o34, 0o177, 0o25, 4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0, 0, 0])

    init(iflag: UInt32, oflag: UInt32, cflag: UInt32, lflag: UInt32, cc: [UInt8]) {
        (self.iflag, self.oflag, self.cflag, self.lflag, self.cc) = (iflag, oflag, cflag, lflag, cc)
    }

    /// From a guest's struct termios (36 bytes) or termios2 (44). Old-style TCSETS keeps the speeds of
    /// the baud bits; termios2 with BOTHER gives them in numbers.
    init(bytes: [UInt8], previous: Termios) {
        func word(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
        (iflag, oflag, cflag, lflag) = (word(0), word(4), word(8), word(12))
        line = bytes[16]
        cc = Array(bytes[17..<36])
        let baud = cflag & Termios.CBAUD
        if baud == Termios.BOTHER {
            (ispeed, ospeed) = bytes.count >= Termios.size2 ? (word(36), word(40)) : (previous.ispeed, previous.ospeed)
        } else {
            ospeed = Termios.speed(baud)
            let input = (cflag & Termios.CIBAUD) >> 16
            ispeed = input == 0 ? ospeed : Termios.speed(input)
        }
    }

    func bytes(size: Int) -> [UInt8] {
        var b = ByteWriter(count: size)
        b.put(iflag, at: 0)
        b.put(oflag, at: 4)
        b.put(cflag, at: 8)
        b.put(lflag, at: 12)
        b.put(line, at: 16)
        b.put(cc, at: 17)
        if size >= Termios.size2 {
            b.put(ispeed, at: 36)
            b.put(ospeed, at: 40)
        }
        return b.bytes
    }

    /// The speed a Bnnn code names (drivers/tty/tty_baudrate.c baud_table).
    static func speed(_ code: UInt32) -> UInt32 {
        let low: [UInt32] = [0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400]
        let high: [UInt32] = [0, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1_000_000, 1_152_000,
                              1_500_000, 2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000]
        return code & Termios.BOTHER == 0 ? low[Int(code & 0o17)] : high[Int(code & 0o17)]
    }

    func has(iflag f: UInt32) -> Bool { iflag & f != 0 }
    func has(oflag f: UInt32) -> Bool { oflag & f != 0 }
    func has(lflag f: UInt32) -> Bool { lflag & f != 0 }
    /// Whether `c` is the control character at `index` (a NUL there disables it, _POSIX_VDISABLE).
    func isChar(_ c: UInt8, _ index: Int) -> Bool { c != 0 && cc[index] == c }
}

/// struct winsize: rows, columns, and the pixel sizes nobody uses.
struct WindowSize: Equatable {
    var bytes = [UInt8](repeating: 0, count: 8)
}
