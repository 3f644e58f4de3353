import UmkHost

// ControllingTerminal.swift: terminals as controlling terminals of sessions (drivers/tty/tty_jobctrl.c) and
// the terminal requests (tty_ioctl, tty_mode_ioctl, pty_unix98_ioctl, n_tty_ioctl).
//
// A terminal is the console, when its input (Configuration.standardInput, umk's stdin by default) is a
// terminal (the controlling terminal of process 1's session), or a pseudo-terminal. A session has at most
// one: the terminal whose `session` is its id. The foreground
// group, the owning session, SIGTTIN for a background read and SIGTTOU for a background write (with TOSTOP)
// or mode change are umk's for both. A request on a pty master acts on its slave, as Linux's real_tty.
//
// FIXME: the console still uses the host terminal's line discipline (the guest's TCSETS passes through, and
// the host terminal driver sends SIGINT/SIGQUIT/SIGTSTP/SIGWINCH to umk, which hands them to the foreground
// group); moving it onto LineDiscipline.swift, with the host terminal raw, is the next step (gVisor's choice).
final class ControllingTerminal {
    /// The session that owns the terminal (nil when none does), and its foreground group (0 for none).
    var session: Int32?
    var foreground: Int32

    init(session: Int32?, foreground: Int32) {
        self.session = session
        self.foreground = foreground
    }
}

/// Which terminal a file is, and which side of it.
enum TerminalEnd {
    case console(ControllingTerminal)
    case master(PseudoTerminal)
    case slave(PseudoTerminal)

    var control: ControllingTerminal {
        switch self {
        case .console(let c): return c
        case .master(let p), .slave(let p): return p.control
        }
    }
    var pty: PseudoTerminal? {
        switch self {
        case .console: return nil
        case .master(let p), .slave(let p): return p
        }
    }
    var isMaster: Bool {
        if case .master = self { return true }
        return false
    }
}

enum TIOC {
    static let SCTTY: UInt = 0x540E, GPGRP: UInt = 0x540F, SPGRP: UInt = 0x5410, NOTTY: UInt = 0x5422
    static let GSID: UInt = 0x5429
    static let TCGETS: UInt = 0x5401, TCSETS: UInt = 0x5402, TCSETSW: UInt = 0x5403, TCSETSF: UInt = 0x5404
    static let TCGETS2: UInt = 0x802C_542A, TCSETS2: UInt = 0x402C_542B, TCSETSW2: UInt = 0x402C_542C
    static let TCSETSF2: UInt = 0x402C_542D
    static let TCSBRK: UInt = 0x5409, TCXONC: UInt = 0x540A, TCFLSH: UInt = 0x540B, EXCL: UInt = 0x540C
    static let NXCL: UInt = 0x540D, OUTQ: UInt = 0x5411, STI: UInt = 0x5412, GWINSZ: UInt = 0x5413
    static let SWINSZ: UInt = 0x5414, INQ: UInt = 0x541B, PKT: UInt = 0x5420, SETD: UInt = 0x5423
    static let GETD: UInt = 0x5424, TCSBRKP: UInt = 0x5425, SBRK: UInt = 0x5427, CBRK: UInt = 0x5428
    static let GPTN: UInt = 0x8004_5430, SPTLCK: UInt = 0x4004_5431, GDEV: UInt = 0x8004_5432
    static let SIG: UInt = 0x4004_5436, GPKT: UInt = 0x8004_5438, GPTLCK: UInt = 0x8004_5439
    static let GEXCL: UInt = 0x8004_5440, GPTPEER: UInt = 0x5441
    static let TOSTOP: UInt32 = 0x100
}

extension Kernel {
    /// The terminal a file is, if any: the console only when its input is a terminal.
    func terminalEnd(of f: OpenFile) -> TerminalEnd? {
        if let console = f as? ConsoleFile {
            guard console.isTerminal, let terminal else { return nil }
            return .console(terminal)
        }
        return f.terminalEnd
    }

    /// The controlling terminal of `p`'s session, if it has one.
    func controllingTerminal(of p: Process) -> TerminalEnd? {
        if let terminal, terminal.session == p.session { return .console(terminal) }
        for pty in pseudoTerminals.values where pty.control.session == p.session { return .slave(pty) }
        return nil
    }

    /// Terminal requests, for any terminal file; nil when `request` is not one of them, or the console is
    /// not a terminal (the file's own ioctl answers then).
    func terminalIoctl(_ t: Task, _ f: OpenFile, _ request: UInt, _ arg: GuestAddress) throws(LinuxErrno) -> SyscallOutcome? {
        guard let end = terminalEnd(of: f) else { return nil }
        let tty = end.control
        let p = t.process
        let owns = tty.session == p.session
        switch request {
        case TIOC.GPGRP:
            guard owns || end.isMaster else { throw .ENOTTY }
            try t.mm.write(arg, tty.foreground)
            return .value(0)
        case TIOC.GSID:
            guard owns || end.isMaster else { throw .ENOTTY }
            guard let session = tty.session else { throw .ENOTTY }
            try t.mm.write(arg, session)
            return .value(0)
        case TIOC.SPGRP:
            guard owns else { throw .ENOTTY }
            if let outcome = try backgroundCheck(t, Signal.TTOU, tty) { return outcome }
            let group = try t.mm.read(arg, as: Int32.self)
            guard group >= 0 else { throw .EINVAL }
            guard processes.values.contains(where: { $0.processGroup == group && $0.exitStatus == nil }) else { throw .ESRCH }
            guard processes.values.contains(where: { $0.processGroup == group && $0.session == p.session }) else { throw .EPERM }
            tty.foreground = group
            return .value(0)
        case TIOC.SCTTY:
            // tiocsctty: a session leader without a terminal takes this one, unless another session has it
            // (root may steal it with arg 1); it must be open for reading.
            if owns && p.session == p.pid { return .value(0) }
            guard p.session == p.pid, controllingTerminal(of: p) == nil else { throw .EPERM }
            if tty.session != nil && !(arg.raw == 1 && p.credentials.euid == 0) { throw .EPERM }
            guard f.isReadable || p.credentials.euid == 0 else { throw .EPERM }
            if end.pty?.isHungUp == true { throw .EIO }
            tty.session = p.session
            tty.foreground = p.processGroup
            return .value(0)
        case TIOC.NOTTY:
            guard owns, !end.isMaster else { throw .ENOTTY }
            if p.session == p.pid {  // the session leader lets go: its foreground group hears of it
                signalGroup(tty.foreground, Signal.HUP)
                signalGroup(tty.foreground, Signal.CONT)
                tty.session = nil
                tty.foreground = 0
            }
            return .value(0)
        default:
            break
        }
        guard let pty = end.pty else {
            // The console: a mode change is writing to the terminal; the rest passes to the host's.
            if [TIOC.TCSETS, TIOC.TCSETSW, TIOC.TCSETSF].contains(request), owns {
                return try backgroundCheck(t, Signal.TTOU, tty)
            }
            return nil
        }
        return try ptyIoctl(t, f, pty, master: end.isMaster, owns: owns, request, arg)
    }

    private func ptyIoctl(_ t: Task, _ f: OpenFile, _ pty: PseudoTerminal, master: Bool, owns: Bool, _ request: UInt,
                          _ arg: GuestAddress) throws(LinuxErrno) -> SyscallOutcome {
        // A hung-up slave answers nothing but EIO (hung_up_tty_ioctl).
        if !master && pty.isHungUp && request != TIOC.GPTN { throw .EIO }
        let p = t.process
        let isRoot = p.credentials.euid == 0
        switch request {
        case TIOC.TCGETS, TIOC.TCGETS2:
            let modes = master ? pty.masterTermios : pty.ld.termios
            try t.mm.writeBytes(arg, modes.bytes(size: request == TIOC.TCGETS ? Termios.size : Termios.size2))
            return .value(0)
        case TIOC.TCSETS, TIOC.TCSETSW, TIOC.TCSETSF, TIOC.TCSETS2, TIOC.TCSETSW2, TIOC.TCSETSF2:
            if owns && !master, let outcome = try backgroundCheck(t, Signal.TTOU, pty.control) { return outcome }
            let old = [TIOC.TCSETS, TIOC.TCSETSW, TIOC.TCSETSF].contains(request)
            let bytes = try t.mm.readBytes(arg, old ? Termios.size : Termios.size2)
            if request == TIOC.TCSETSF || request == TIOC.TCSETSF2 { pty.flush(fromMaster: master, input: true, output: false) }
            if master {
                pty.masterTermios = Termios(bytes: bytes, previous: pty.masterTermios)
            } else {
                pty.setTermios(Termios(bytes: bytes, previous: pty.ld.termios))
            }
            return .value(0)
        case TIOC.GWINSZ:
            try t.mm.writeBytes(arg, pty.windowSize.bytes)
            return .value(0)
        case TIOC.SWINSZ:
            pty.resize(WindowSize(bytes: try t.mm.readBytes(arg, 8)))
            return .value(0)
        case TIOC.INQ:
            try t.mm.write(arg, Int32(pty.inputCount(master: master)))
            return .value(0)
        case TIOC.OUTQ:
            try t.mm.write(arg, Int32(pty.outputCount(master: master)))
            return .value(0)
        case TIOC.TCFLSH:
            guard (0...2).contains(arg.raw) else { throw .EINVAL }
            pty.flush(fromMaster: master, input: arg.raw != 1, output: arg.raw != 0)
            return .value(0)
        case TIOC.TCXONC:
            // TCOOFF and TCOON stop and restart output; TCIOFF and TCION send the stop or start character.
            switch arg.raw {
            case 0, 1: pty.ld.receiveFlow(stop: arg.raw == 0)
            case 2, 3:
                let c = pty.ld.termios.cc[arg.raw == 2 ? Termios.VSTOP : Termios.VSTART]
                if c != 0 && !master && pty.transmitRoom > 0 { pty.transmit([c]) }
            default: throw .EINVAL
            }
            return .value(0)
        case TIOC.TCSBRK, TIOC.TCSBRKP, TIOC.SBRK, TIOC.CBRK:
            return .value(0)  // tcdrain: a pty holds no output in a device; a break means nothing on a pty
        case TIOC.GETD:
            try t.mm.write(arg, Int32(0))  // N_TTY
            return .value(0)
        case TIOC.SETD:
            guard try t.mm.read(arg, as: Int32.self) == 0 else { throw .EINVAL }
            return .value(0)
        case TIOC.EXCL, TIOC.NXCL:
            pty.exclusive = request == TIOC.EXCL
            return .value(0)
        case TIOC.GEXCL:
            try t.mm.write(arg, Int32(pty.exclusive ? 1 : 0))
            return .value(0)
        case TIOC.STI:
            // Injecting input needs CAP_SYS_ADMIN (legacy_tiocsti is off, as on current distributions).
            guard isRoot else { throw .EIO }
            pty.inject(try t.mm.read(arg, as: UInt8.self))
            return .value(0)
        case TIOC.GDEV:
            let minor = UInt32(pty.index)
            try t.mm.write(arg, (minor & 0xff) | (PseudoTerminal.major << 8) | ((minor & ~0xff) << 12))
            return .value(0)
        default:
            break
        }
        guard master else { throw .ENOTTY }
        switch request {
        case TIOC.GPTN:
            try t.mm.write(arg, UInt32(pty.index))
            return .value(0)
        case TIOC.SPTLCK:
            pty.locked = try t.mm.read(arg, as: Int32.self) != 0
            return .value(0)
        case TIOC.GPTLCK:
            try t.mm.write(arg, Int32(pty.locked ? 1 : 0))
            return .value(0)
        case TIOC.PKT:
            pty.packetMode = try t.mm.read(arg, as: Int32.self) != 0
            return .value(0)
        case TIOC.GPKT:
            try t.mm.write(arg, Int32(pty.packetMode ? 1 : 0))
            return .value(0)
        case TIOC.SIG:
            guard (1...64).contains(arg.raw) else { throw .EINVAL }
            if pty.control.foreground != 0 { signalGroup(pty.control.foreground, Int32(arg.raw)) }
            return .value(0)
        case TIOC.GPTPEER:
            // ptm_open_peer: the slave, opened from the master without a path walk.
            let flags = Int32(truncatingIfNeeded: arg.raw)
            guard flags & ~(O.accessMode | O.NOCTTY | O.NONBLOCK | O.CLOEXEC) == 0 else { throw .EINVAL }
            let file = try pty.slaveInode.open(flags: flags, dentry: Dentry(detached: pty.name, inode: pty.slaveInode))
            return .value(Int(try p.fds.install(file, closeOnExec: flags & O.CLOEXEC != 0, limit: p.limits[RLIMIT.NOFILE].soft)))
        default:
            throw .ENOTTY
        }
    }

    /// A read (or, with TOSTOP, a write) of a terminal by a background process of the session it controls.
    func terminalAccess(_ t: Task, _ f: OpenFile, write: Bool) throws(LinuxErrno) -> SyscallOutcome? {
        guard let end = terminalEnd(of: f), !end.isMaster, end.control.session == t.process.session else { return nil }
        if write {
            let tostop: Bool
            if let pty = end.pty {
                tostop = pty.ld.termios.has(lflag: Termios.TOSTOP)
            } else if let console = f as? ConsoleFile, let flags = console.host.terminalLocalFlags {
                tostop = flags & TIOC.TOSTOP != 0
            } else {
                tostop = false
            }
            guard tostop else { return nil }
            return try backgroundCheck(t, Signal.TTOU, end.control)
        }
        return try backgroundCheck(t, Signal.TTIN, end.control)
    }

    /// tty_check_change: a process outside the foreground group gets `sig` for its whole group and the call
    /// runs again once it is continued; EIO instead for a read when SIGTTIN is ignored or blocked, or when
    /// the group is orphaned (nobody would continue it). An ignored or blocked SIGTTOU lets the write through.
    private func backgroundCheck(_ t: Task, _ sig: Int32, _ tty: ControllingTerminal) throws(LinuxErrno) -> SyscallOutcome? {
        let p = t.process
        guard tty.foreground != 0, p.processGroup != tty.foreground else { return nil }
        let ignored = t.signalMask & PendingSignals.bit(sig) != 0 || p.signalActions[Int(sig)].handler == 1
        if ignored {
            if sig == Signal.TTIN { throw .EIO }
            return nil
        }
        if isOrphaned(p.processGroup) { throw .EIO }
        signalGroup(p.processGroup, sig)
        t.regs.rax = t.regs.origRax  // the call again, once continued (-ERESTARTSYS)
        t.regs.rip &-= 2
        return .replaced
    }

    /// Sends `sig` to every live process of a group, from the kernel (the terminal).
    func signalGroup(_ group: Int32, _ sig: Int32) {
        for p in processes.values.sorted(by: { $0.pid < $1.pid }) where p.processGroup == group && p.exitStatus == nil {
            sendToProcess(p, sig, info: SignalInfo(signo: sig, code: SignalInfo.SI_KERNEL))
        }
    }

    /// Opening a terminal device node: /dev/tty (the caller's controlling terminal, ENXIO without one),
    /// /dev/ptmx (a new pseudo-terminal) and /dev/pts/N. nil for any other node. A session leader without a
    /// terminal that opens a slave without O_NOCTTY takes it as its controlling terminal
    /// (tty_open_proc_set_tty).
    func openTerminalDevice(_ t: Task, _ inode: Inode, _ dentry: Dentry, flags: Int32) throws(LinuxErrno) -> OpenFile? {
        let p = t.process
        if let slave = inode as? PtySlaveInode {
            let pty = slave.pty
            if pty.exclusive && p.credentials.euid != 0 { throw .EBUSY }
            let file = try slave.open(flags: flags, dentry: dentry)
            if flags & O.NOCTTY == 0, p.session == p.pid, controllingTerminal(of: p) == nil, pty.control.session == nil {
                pty.control.session = p.session
                pty.control.foreground = p.processGroup
            }
            return file
        }
        let st = try inode.stat()
        guard st.rdevMajor == 5 else { return nil }
        switch st.rdevMinor {
        case 0:
            switch controllingTerminal(of: p) {
            case .slave(let pty):
                return try pty.slaveInode.open(flags: flags, dentry: Dentry(detached: pty.name, inode: pty.slaveInode))
            case .console:
                return ConsoleFile(host: consoleStreams.input, queue: consoleQueue, output: consoleOutput)
            default:
                throw .ENXIO
            }
        case 1:
            // /dev/console: the console's terminal when its input is one, else its output.
            let host = terminal != nil ? consoleStreams.input : consoleStreams.output
            return ConsoleFile(host: host, queue: consoleQueue, output: consoleOutput)
        case 2:
            return try openPtmx(t, inode: inode, dentry: dentry, flags: flags)
        default:
            return nil
        }
    }

    /// A session leader's exit: the terminal it controlled loses its session, and its foreground group gets
    /// SIGHUP (disassociate_ctty).
    func disassociateTerminal(leaving p: Process) {
        guard p.session == p.pid, case .slave(let pty)? = controllingTerminal(of: p) else { return }
        let group = pty.control.foreground
        pty.control.session = nil
        pty.control.foreground = 0
        if group != 0 { signalGroup(group, Signal.HUP) }
    }
}
