import UmkHost

// JobControl.swift: stopped and continued processes (kernel/signal.c do_signal_stop, prepare_signal's
// SIGCONT; kernel/exit.c kill_orphaned_pgrp). A stopped process's tasks are parked at their next stop in the
// kernel: one running guest code is interrupted (PTRACE_INTERRUPT) and then not resumed, one blocked in a
// system call stays there, and none is resumed until SIGCONT (or dies by SIGKILL). Its parent hears of each
// change through SIGCHLD (CLD_STOPPED, CLD_CONTINUED, unless SA_NOCLDSTOP) and wait's WUNTRACED/WCONTINUED.

/// A change of a child's state its parent's wait has yet to report.
enum WaitReport: Equatable {
    case stopped(Int32)
    case continued
}

extension Kernel {
    /// Stops every task of `p` (a stop signal's default action).
    func stop(_ p: Process, _ sig: Int32) {
        guard p.exitStatus == nil, p.stopSignal == nil else { return }
        p.stopSignal = sig
        p.waitReport = .stopped(sig)
        for t in p.tasks where t.inHost { try? t.context.interrupt() }
        notifyParent(p, code: SignalInfo.CLD_STOPPED, status: sig)
    }

    /// SIGCONT: the stopped tasks of `p` go on.
    func continueProcess(_ p: Process) {
        guard p.exitStatus == nil, p.stopSignal != nil else { return }
        p.stopSignal = nil
        p.waitReport = .continued
        notifyParent(p, code: SignalInfo.CLD_CONTINUED, status: Signal.CONT)
        for t in p.tasks {
            // What was sent while it was stopped acts now: a fatal one as the process next runs, a handler
            // on its way out.
            var ready = t.pendingSignals & ~t.signalMask
            while let sig = PendingSignals.lowest(ready) {
                ready &= ~PendingSignals.bit(sig)
                let action = p.signalActions[Int(sig)]
                guard action.handler <= 1 else { continue }
                t.pending.discard(sig)
                p.sharedPending.discard(sig)
                if !isIgnored(action, sig) && !Signal.stops.contains(sig) {
                    doom(p, sig)
                    return
                }
            }
            if t.parked {
                t.parked = false
                try? resume(t)
            } else if t.pendingSignals & ~t.signalMask != 0 {
                interruptForSignal(t)
            }
        }
    }

    /// Whether `t` must stay off the CPU: its process is stopped (a pending SIGKILL still gets through).
    func parkIfStopped(_ t: Task) -> Bool {
        guard t.process.stopSignal != nil else { return false }
        t.parked = true
        return true
    }

    private func notifyParent(_ p: Process, code: Int32, status: Int32) {
        guard let parent = processes[p.parentPid], parent.exitStatus == nil else { return }
        wake(parent.childQueue)
        guard parent.signalActions[Int(Signal.CHLD)].flags & SA.NOCLDSTOP == 0 else { return }
        var info = SignalInfo(signo: Signal.CHLD, code: code, pid: p.pid, uid: p.credentials.uid)
        info.status = status
        info.childTimes = (p.cpuBase.user / 10_000_000, p.cpuBase.system / 10_000_000)  // USER_HZ 100, as at exit
        sendToProcess(parent, Signal.CHLD, info: info)
    }

    /// POSIX's orphaned process group: no member has a parent in another group of the same session, so no
    /// shell is left to continue it. `leaving` is a process about to exit, not counted.
    func isOrphaned(_ group: Int32, leaving: Process? = nil) -> Bool {
        for p in processes.values where p.processGroup == group && p.exitStatus == nil && p !== leaving {
            if let parent = processes[p.parentPid], parent.exitStatus == nil, parent !== leaving,
                parent.processGroup != group, parent.session == p.session
            {
                return false
            }
        }
        return true
    }

    /// kill_orphaned_pgrp: when `p`'s exit orphans a process group that has stopped members, each member
    /// gets SIGHUP and then SIGCONT, so that nothing stays stopped with nobody to continue it. Both its own
    /// group and its children's groups are looked at.
    func continueOrphanedGroups(leaving p: Process) {
        var groups: Set<Int32> = []
        let parentGroup = processes[p.parentPid]?.processGroup
        if parentGroup != p.processGroup, processes[p.parentPid]?.session == p.session { groups.insert(p.processGroup) }
        for c in p.children {
            if let child = processes[c], child.processGroup != p.processGroup, child.session == p.session {
                groups.insert(child.processGroup)
            }
        }
        for g in groups.sorted() {
            let members = processes.values.filter { $0.processGroup == g && $0.exitStatus == nil && $0 !== p }
            guard members.contains(where: { $0.stopSignal != nil }), isOrphaned(g, leaving: p) else { continue }
            for m in members.sorted(by: { $0.pid < $1.pid }) {
                sendToProcess(m, 1, info: SignalInfo(signo: 1, code: SignalInfo.SI_KERNEL))
                sendToProcess(m, Signal.CONT, info: SignalInfo(signo: Signal.CONT, code: SignalInfo.SI_KERNEL))
            }
        }
    }
}
