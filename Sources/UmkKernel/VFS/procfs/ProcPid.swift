import UmkHost

// ProcPid.swift: /proc/PID (fs/proc/base.c): the links (exe, cwd, root, fd/N), and the files ps, top, pgrep
// and libc read, in Linux's formats: limits (proc_pid_limits), environ, cmdline, comm, fdinfo/N (fs/proc/fd.c),
// oom_score_adj; task/TID shows the same files for each thread (its own comm, stat and status), as does
// /proc/TID, which a lookup finds though a listing of /proc does not show it. stat, status and statm are ProcPidStatus.swift,
// maps and smaps ProcMaps.swift. A zombie keeps its directory until it is reaped, with no memory to show; a
// directory whose process has been reaped lists nothing.
// Deviation: reading another process's environ needs no ptrace permission.

extension Kernel {
    /// /proc/PID; with `thread` (not the leader), /proc/TID: that thread's view of its process.
    func procPidDirectory(_ p: Process, thread: Task? = nil) -> ProcInode {
        let base = ProcIno.pid(thread?.tid ?? p.pid)
        return ProcInode(.directory { [unowned self] in
            guard self.processes[p.pid] === p else { return [] }  // reaped since the lookup
            var entries = self.procPidEntries(p, base: base, thread: thread)
            let tasks = ProcInode(.directory { [unowned self] in
                guard self.processes[p.pid] === p else { return [] }
                return p.tasks.map { t in
                    ("\(t.tid)", ProcInode(.directory { self.procPidEntries(p, base: base + ProcIno.task, thread: t) },
                                          ino: base + ProcIno.task))
                }
            }, ino: base + 0xfe)
            entries.append(("task", tasks))
            return entries
        }, ino: base)
    }

    /// What /proc/PID and /proc/PID/task/TID hold: the same files, but comm, which is the thread's own.
    private func procPidEntries(_ p: Process, base: UInt64, thread: Task? = nil) -> [(String, ProcInode)] {
        func file(_ n: UInt64, _ make: @escaping () -> [UInt8]) -> ProcInode { ProcInode(.file(make), ino: base + n) }
        func text(_ n: UInt64, _ make: @escaping () -> String) -> ProcInode { file(n) { Array(make().utf8) } }
        return [
            // Magic links, as on Linux: following one reaches the process's own file or directory.
            ("exe", ProcInode(.symlink { Array(p.executablePath.utf8) }, ino: base + 1, magic: { () throws(LinuxErrno) -> Dentry in
                try p.pathWalk.resolve(Array(p.executablePath.utf8), from: p.root, followFinal: true)
            })),
            ("cwd", ProcInode(.symlink { Array(p.cwd.path(from: p.root).utf8) }, ino: base + 2, magic: { () throws(LinuxErrno) -> Dentry in p.cwd })),
            ("root", ProcInode(.symlink { Array(p.root.path.utf8) }, ino: base + 3, magic: { () throws(LinuxErrno) -> Dentry in p.root })),
            ("comm", ProcInode(.file { (thread.flatMap { $0.name } ?? p.name) + [0x0a] }, ino: base + 4, writer: { name throws(LinuxErrno) in
                // proc_pid_cmm_write: the bytes up to a newline, at most 15, for the thread (the leader's names
                // the process); only the process itself may.
                guard self.current?.process === p else { throw .EINVAL }
                let cut = Array(name.prefix { $0 != 0x0a && $0 != 0 }.prefix(15))
                self.setName(cut, of: thread ?? p.tasks.first(where: { $0.tid == p.pid }), in: p)
            })),
            ("cmdline", file(5) { p.exitStatus == nil ? p.commandLine : [] }),
            ("fd", procFdDirectory(p, base: base)),
            ("fdinfo", procFdInfoDirectory(p, base: base)),
            ("stat", text(8) { [unowned self] in self.procStat(p, thread: thread) }),
            ("status", text(9) { [unowned self] in self.procStatus(p, thread: thread) }),
            ("statm", text(10) { [unowned self] in self.procStatm(p) }),
            ("maps", text(11) { [unowned self] in self.procMaps(p, detailed: false) }),
            ("smaps", text(12) { [unowned self] in self.procMaps(p, detailed: true) }),
            ("environ", file(13) { Kernel.environment(p) }),
            ("limits", text(14) { Kernel.procLimits(p) }),
            ("oom_score_adj", text(15) { "0\n" }),
            ("oom_adj", text(16) { "0\n" }),
            ("oom_score", text(17) { "0\n" }),
            ("wchan", text(18) { "0" }),
            ("cgroup", text(19) { "0::/\n" }),
            ("ns", ProcInode(.directory { [] }, ino: base + 20)),
            ("mounts", file(21) { [unowned self] in self.mountsText(for: p) }),
            ("mountinfo", file(22) { [unowned self] in self.mountInfoText(for: p) }),
        ]
    }

    private func procFdDirectory(_ p: Process, base: UInt64) -> ProcInode {
        ProcInode(.directory {
            p.fds.entries.indices.compactMap { fd -> (String, ProcInode)? in
                guard let file = p.fds.entries[fd]?.file else { return nil }
                return ("\(fd)", ProcInode(.symlink { Array(file.procLinkName.utf8) }, ino: base + ProcIno.fd + UInt64(fd),
                                          magic: { () throws(LinuxErrno) -> Dentry in try file.reopenTarget() }))
            }
        }, ino: base + 6)
    }

    /// fdinfo/N (fs/proc/fd.c seq_show): the offset, the status flags in octal (with O_CLOEXEC and, for
    /// files opened by name, O_LARGEFILE as a 64-bit open adds it), the mount and the inode.
    private func procFdInfoDirectory(_ p: Process, base: UInt64) -> ProcInode {
        ProcInode(.directory {
            p.fds.entries.indices.compactMap { fd -> (String, ProcInode)? in
                guard let entry = p.fds.entries[fd] else { return nil }
                return ("\(fd)", ProcInode(.file {
                    let file = entry.file
                    let position = (try? file.seek(0, whence: 1)) ?? 0
                    var flags = file.statusFlags | (entry.closeOnExec ? O.CLOEXEC : 0)
                    if file.dentry != nil { flags |= 0o100000 }
                    let ino = (try? file.stat().ino) ?? 0
                    return Array("pos:\t\(position)\nflags:\t0\(String(flags, radix: 8))\nmnt_id:\t1\nino:\t\(ino)\n\(file.fdInfo)".utf8)
                }, ino: base + ProcIno.fdinfo + UInt64(fd)))
            }
        }, ino: base + 7)
    }

    // MARK: environ, limits

    /// /proc/PID/environ: the environment strings where exec put them, read from the guest's memory as it
    /// is now (a program that rewrote them shows its changes); empty for a zombie or an unreadable range.
    static func environment(_ p: Process) -> [UInt8] {
        guard let mm = p.mmStorage, !mm.environmentStrings.isEmpty else { return [] }
        let r = mm.environmentStrings
        return (try? mm.readBytes(GuestAddress(r.lowerBound), Int(clamping: r.upperBound - r.lowerBound))) ?? []
    }

    /// /proc/PID/limits (proc_pid_limits): the table of soft and hard limits.
    static func procLimits(_ p: Process) -> String {
        let rows: [(String, String)] = [
            ("Max cpu time", "seconds"), ("Max file size", "bytes"), ("Max data size", "bytes"),
            ("Max stack size", "bytes"), ("Max core file size", "bytes"), ("Max resident set", "bytes"),
            ("Max processes", "processes"), ("Max open files", "files"), ("Max locked memory", "bytes"),
            ("Max address space", "bytes"), ("Max file locks", "locks"), ("Max pending signals", "signals"),
            ("Max msgqueue size", "bytes"), ("Max nice priority", ""), ("Max realtime priority", ""),
            ("Max realtime timeout", "us"),
        ]
        func column(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(width - s.count, 0)) }
        func value(_ v: UInt64) -> String { v == ResourceLimit.infinity ? "unlimited" : "\(v)" }
        var out = column("Limit", 25) + " " + column("Soft Limit", 20) + " " + column("Hard Limit", 20) + " "
            + column("Units", 10) + "\n"
        for (i, row) in rows.enumerated() where i < p.limits.count {
            let limit = p.limits[i]
            out += column(row.0, 25) + " " + column(value(limit.soft), 20) + " " + column(value(limit.hard), 20) + " "
            out += row.1.isEmpty ? "\n" : column(row.1, 10) + "\n"
        }
        return out
    }
}

extension String {
    /// The string with zeroes in front up to `width` characters.
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(width - count, 0)) + self }
}
