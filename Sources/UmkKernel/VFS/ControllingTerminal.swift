import UmkHost

// ControllingTerminal.swift: the console as the controlling terminal of process 1's session, when umk's stdin
// is a terminal (drivers/tty/tty_jobctrl.c). The host's line discipline still does the editing, echo and the
// INTR/QUIT/SUSP characters (the guest sets its modes with TCSETS, passed through), and the host terminal
// driver sends the resulting SIGINT/SIGQUIT/SIGTSTP and SIGWINCH to umk: umk hands them to the guest's
// foreground process group. The rest of the terminal's job control is umk's: the foreground group
// (tcsetpgrp), the owning session, SIGTTIN for a background read and SIGTTOU for a background write (with
// TOSTOP) or mode change. FIXME: a line discipline of umk's own, shared with /dev/ptmx pseudo-terminals, is
// the next step (gVisor's choice): until then the host terminal's modes are the guest's while it runs.
final class ControllingTerminal {
    /// The session that owns the terminal (nil after its leader gave it up), and its foreground group.
    var session: Int32?
    var foreground: Int32

    init(session: Int32, foreground: Int32) {
        self.session = session
        self.foreground = foreground
    }
}

enum TIOC {
    static let SCTTY: UInt = 0x540E, GPGRP: UInt = 0x540F, SPGRP: UInt = 0x5410, NOTTY: UInt = 0x5422
    static let GSID: UInt = 0x5429
    static let TOSTOP: UInt32 = 0x100
}

extension Kernel {
    /// The job-control ioctls of the console; nil when `request` is not one of them, or the console is not
    /// a terminal (the file's own ioctl answers then).
    func terminalIoctl(_ t: Task, _ f: OpenFile, _ request: UInt, _ arg: GuestAddress) throws(LinuxErrno) -> SyscallOutcome? {
        guard let tty = terminal, let console = f as? ConsoleFile, console.isTerminal else { return nil }
        let p = t.process
        let owns = tty.session == p.session
        switch request {
        case TIOC.GPGRP:
            guard owns else { throw .ENOTTY }
            try t.mm.write(arg, tty.foreground)
            return .value(0)
        case TIOC.GSID:
            guard owns else { throw .ENOTTY }
            try t.mm.write(arg, p.session)
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
            if owns && p.session == p.pid { return .value(0) }
            guard p.session == p.pid, tty.session == nil || (arg.raw == 1 && p.credentials.euid == 0) else { throw .EPERM }
            tty.session = p.session
            tty.foreground = p.processGroup
            return .value(0)
        case TIOC.NOTTY:
            guard owns else { throw .ENOTTY }
            if p.session == p.pid {  // the session leader lets go: its foreground group hears of it
                signalGroup(tty.foreground, 1)
                signalGroup(tty.foreground, Signal.CONT)
                tty.session = nil
            }
            return .value(0)
        case 0x5402, 0x5403, 0x5404:  // TCSETS*: changing the modes is writing to the terminal
            guard owns else { return nil }
            return try backgroundCheck(t, Signal.TTOU, tty)
        default:
            return nil
        }
    }

    /// A read (or, with TOSTOP, a write) of the console by a background process of its session.
    func terminalAccess(_ t: Task, _ f: OpenFile, write: Bool) throws(LinuxErrno) -> SyscallOutcome? {
        guard let tty = terminal, let console = f as? ConsoleFile, console.isTerminal, tty.session == t.process.session
        else { return nil }
        if write {
            guard let flags = console.host.terminalLocalFlags, flags & TIOC.TOSTOP != 0 else { return nil }
            return try backgroundCheck(t, Signal.TTOU, tty)
        }
        return try backgroundCheck(t, Signal.TTIN, tty)
    }

    /// tty_check_change: a process outside the foreground group gets `sig` for its whole group and the call
    /// runs again once it is continued; EIO instead for a read when SIGTTIN is ignored or blocked, or when
    /// the group is orphaned (nobody would continue it). An ignored or blocked SIGTTOU lets the write through.
    private func backgroundCheck(_ t: Task, _ sig: Int32, _ tty: ControllingTerminal) throws(LinuxErrno) -> SyscallOutcome? {
        let p = t.process
        guard p.processGroup != tty.foreground else { return nil }
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
            if let t = p.tasks.first { send(t, sig, info: SignalInfo(signo: sig, code: SignalInfo.SI_KERNEL)) }
        }
    }
}
