// ProcSysVIPC.swift: /proc/sysvipc/shm, sem and msg (ipc/util.c sysvipc_proc_show and each kind's
// *_proc_show), one line per object in index order under a fixed header, in Linux's 64-bit formats; and the
// IPC limits of /proc/sys/kernel (ipc/ipc_sysctl.c), read-only.

extension Kernel {
    /// The files of /proc/sysvipc.
    func procSysvipcFiles() -> [(String, () -> String)] {
        [("shm", { [unowned self] in self.procSysvipcShm() }),
         ("sem", { [unowned self] in self.procSysvipcSem() }),
         ("msg", { [unowned self] in self.procSysvipcMsg() })]
    }

    /// The IPC sysctls of /proc/sys/kernel.
    static let ipcSysctls: [(String, String)] = [
        ("shmmax", "\(SHM.MAX)\n"), ("shmall", "\(SHM.ALL)\n"), ("shmmni", "\(SHM.MNI)\n"), ("shm_rmid_forced", "0\n"),
        ("sem", "\(SEM.MSL)\t\(SEM.MNS)\t\(SEM.OPM)\t\(SEM.MNI)\n"),
        ("msgmax", "\(MSGQ.MAX)\n"), ("msgmnb", "\(MSGQ.MNB)\n"), ("msgmni", "\(MSGQ.MNI)\n"),
    ]

    private func procSysvipcShm() -> String {
        sweepSegments()
        var out = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid"
            + "      atime      dtime      ctime                   rss                  swap\n"
        for s in ipc.segments.ordered {
            let p = s.perm
            out += fit(p.key, 10) + " " + fit(p.id, 10) + "  " + fit(octal: p.mode, 4) + " " + fit(s.size, 21) + " "
                + fit(s.creatorPid, 5) + " " + fit(s.lastPid, 5) + "  " + fit(attachCount(s), 5) + " "
                + owners(p) + " " + fit(s.atime, 10) + " " + fit(s.dtime, 10) + " " + fit(s.ctime, 10) + " "
                + fit(residentPages(s) * 4096, 21) + " " + fit(0, 21) + "\n"
        }
        return out
    }

    private func procSysvipcSem() -> String {
        var out = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
        for s in ipc.semaphoreSets.ordered {
            let p = s.perm
            out += fit(p.key, 10) + " " + fit(p.id, 10) + "  " + fit(octal: p.mode, 4) + " " + fit(s.count, 10) + " "
                + owners(p) + " " + fit(s.otime, 10) + " " + fit(s.ctime, 10) + "\n"
        }
        return out
    }

    private func procSysvipcMsg() -> String {
        var out = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
            + "      stime      rtime      ctime\n"
        for q in ipc.messageQueues.ordered {
            let p = q.perm
            out += fit(p.key, 10) + " " + fit(p.id, 10) + "  " + fit(octal: p.mode, 4) + "  " + fit(q.bytes, 10) + " "
                + fit(q.messages.count, 10) + " " + fit(q.lastSender, 5) + " " + fit(q.lastReceiver, 5) + " "
                + owners(p) + " " + fit(q.stime, 10) + " " + fit(q.rtime, 10) + " " + fit(q.ctime, 10) + "\n"
        }
        return out
    }

    /// "%5u %5u %5u %5u": uid, gid, cuid, cgid.
    private func owners(_ p: IPCPermissions) -> String {
        [p.uid, p.gid, p.cuid, p.cgid].map { fit($0, 5) }.joined(separator: " ")
    }

    /// printf's "%Nd": right-aligned in `width` columns (wider numbers take more).
    private func fit<T: BinaryInteger>(_ n: T, _ width: Int) -> String {
        let s = "\(n)"
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    private func fit(octal n: UInt32, _ width: Int) -> String {
        let s = String(n, radix: 8)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
