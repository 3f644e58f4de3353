import UmkHost

// Process.swift: process and thread identity and per-task state that libc sets up at start
// (kernel/sys.c, kernel/exit.c, kernel/rseq.c, arch/x86/kernel/process_64.c arch_prctl, kernel/futex
// robust lists). fork, exec and wait belong to the processes issue.
extension SyscallTable {
    mutating func addProcessCalls() {
        add(39, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.process.pid)) }
        add(110, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.process.parentPid)) }
        add(186, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.tid)) }
        add(102, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.process.credentials.uid)) }
        add(107, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.process.credentials.euid)) }
        add(104, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.process.credentials.gid)) }
        add(108, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.process.credentials.egid)) }
        add(118, [.out(.intRef), .out(.intRef), .out(.intRef)]) { _, t, a throws(LinuxErrno) in
            let c = t.process.credentials
            try t.mm.write(a.address(0), c.uid)
            try t.mm.write(a.address(1), c.euid)
            try t.mm.write(a.address(2), c.suid)
            return .value(0)
        }
        add(120, [.out(.intRef), .out(.intRef), .out(.intRef)]) { _, t, a throws(LinuxErrno) in
            let c = t.process.credentials
            try t.mm.write(a.address(0), c.gid)
            try t.mm.write(a.address(1), c.egid)
            try t.mm.write(a.address(2), c.sgid)
            return .value(0)
        }
        add(115, [.int32, .idList]) { _, t, a throws(LinuxErrno) in
            let groups = t.process.credentials.groups
            let size = a.int(0)
            guard size >= 0 else { throw .EINVAL }
            if size == 0 { return .value(groups.count) }
            guard Int(size) >= groups.count else { throw .EINVAL }
            for (i, g) in groups.enumerated() { try t.mm.write(a.address(1).advanced(by: 4 * i), g) }
            return .value(groups.count)
        }
        add(111, []) { _, t, _ throws(LinuxErrno) in .value(Int(t.process.processGroup)) }
        add(121, [.int]) { k, t, a throws(LinuxErrno) in .value(Int(try k.process(t, a.int(0)).processGroup)) }
        add(124, [.int]) { k, t, a throws(LinuxErrno) in .value(Int(try k.process(t, a.int(0)).session)) }
        add(109, [.int, .int]) { k, t, a throws(LinuxErrno) in try k.sysSetpgid(t, a.int(0), a.int(1)) }
        add(112, []) { k, t, _ throws(LinuxErrno) in
            let p = t.process
            // A group leader cannot start a session, nor can anyone whose pid names a group in use.
            guard p.processGroup != p.pid, !k.processes.values.contains(where: { $0.processGroup == p.pid }) else {
                throw .EPERM
            }
            p.session = p.pid
            p.processGroup = p.pid
            return .value(Int(p.pid))
        }
        add(57, []) { k, t, _ throws(LinuxErrno) in
            try k.fork(t, flags: 17, stack: 0, parentTID: 0, childTID: 0, tls: 0)
        }
        add(58, []) { k, t, _ throws(LinuxErrno) in
            try k.fork(t, flags: CLONE.VM | CLONE.VFORK | 17, stack: 0, parentTID: 0, childTID: 0, tls: 0)
        }
        add(56, [.cloneFlags, .hidden, .hidden, .hidden, .hidden], .partial("no namespaces, CLONE_PIDFD or CLONE_PTRACE")) {
            k, t, a throws(LinuxErrno) in
            try k.checkNewTLS(flags: a[0], tls: a[4])
            return try k.fork(t, flags: a[0], stack: a[1], parentTID: a[2], childTID: a[3], tls: a[4])
        }
        add(435, [.clone3, .uint], .partial("as clone; no CLONE_PIDFD or cgroups")) {
            k, t, a throws(LinuxErrno) in try k.sysClone3(t, a.address(0), size: a[1])
        }
        add(272, [.hex], .partial("CLONE_FS, CLONE_FILES and CLONE_SYSVSEM; namespaces are EPERM")) { k, t, a throws(LinuxErrno) in
            try k.sysUnshare(t, flags: a[0])
        }
        add(59, [.path, .argv, .envp]) { k, t, a throws(LinuxErrno) in
            try k.exec(t, dirfd: AT.FDCWD, path: a.address(0), argv: a.address(1), envp: a.address(2), flags: 0)
        }
        add(322, [.dirfd, .path, .argv, .envp, .atFlags]) { k, t, a throws(LinuxErrno) in
            try k.exec(t, dirfd: a.int(0), path: a.address(1), argv: a.address(2), envp: a.address(3), flags: a.int(4))
        }
        add(61, [.int32, .waitStatus, .waitOptions, .out(.rusage)]) { k, t, a throws(LinuxErrno) in try k.sysWait4(t, a) }
        add(247, [.idtype, .int32, .out(.siginfo), .waitOptions, .out(.rusage)]) { k, t, a throws(LinuxErrno) in try k.sysWaitid(t, a) }
        add(60, [.int32]) { k, t, a throws(LinuxErrno) in k.exitThread(t, status: a.int(0) & 0xff) }
        add(231, [.int32]) { k, t, a throws(LinuxErrno) in
            k.terminate(t.process, .exited(a.int(0) & 0xff))
            return .exited
        }
        add(218, [.pointer]) { _, t, a throws(LinuxErrno) in
            t.clearChildTID = a[0]
            return .value(Int(t.tid))
        }
        add(273, [.pointer, .uint]) { _, t, a throws(LinuxErrno) in
            guard a[1] == 24 else { throw .EINVAL }  // sizeof(struct robust_list_head)
            t.robustList = (a[0], a[1])
            return .value(0)
        }
        add(274, [.int, .pointer, .pointer]) { _, t, a throws(LinuxErrno) in
            guard a.int(0) == 0 || a.int(0) == t.tid else { throw .ESRCH }
            try t.mm.write(a.address(1), t.robustList.head)
            try t.mm.write(a.address(2), t.robustList.length)
            return .value(0)
        }
        add(334, [.pointer, .hex, .int32, .hex], .partial("cpu_id stays 0 and critical sections are never aborted: the host preempting a stub is invisible to umk")) {
            k, t, a throws(LinuxErrno) in try k.sysRseq(t, a)
        }
        add(158, [.archPrctl, .pointer]) { k, t, a throws(LinuxErrno) in try k.sysArchPrctl(t, a) }
        add(157, [.prctlOption, .prctlArgument, .prctlArgument, .prctlArgument, .prctlArgument], .partial("names, death signal, subreaper, dumpable, no_new_privs")) {
            k, t, a throws(LinuxErrno) in try k.sysPrctl(t, a)
        }
        add(97, [.rlimitResource, .out(.rlimit)]) { k, t, a throws(LinuxErrno) in
            try k.prlimit(t, a.int(0), new: GuestAddress(0), old: a.address(1))
        }
        add(160, [.rlimitResource, .rlimit]) { k, t, a throws(LinuxErrno) in
            try k.prlimit(t, a.int(0), new: a.address(1), old: GuestAddress(0))
        }
        add(302, [.int32, .rlimitResource, .rlimit, .out(.rlimit)]) { k, t, a throws(LinuxErrno) in
            guard a.int(0) == 0 || a.int(0) == t.process.pid else { throw .ESRCH }
            return try k.prlimit(t, a.int(1), new: a.address(2), old: a.address(3))
        }
        add(98, [.rusageWho, .out(.rusage)]) { k, t, a throws(LinuxErrno) in try k.sysGetrusage(t, a) }
    }
}

extension Kernel {
    /// The process named by a pid argument where 0 means the caller (getpgid, getsid, setpgid).
    func process(_ t: Task, _ pid: Int32) throws(LinuxErrno) -> Process {
        if pid == 0 { return t.process }
        guard pid > 0, let p = processes[pid], p.exitStatus == nil || p.tasks.isEmpty == false else { throw .ESRCH }
        return p
    }

    func sysSetpgid(_ t: Task, _ pid: Int32, _ pgid: Int32) throws(LinuxErrno) -> SyscallOutcome {
        guard pgid >= 0 else { throw .EINVAL }
        let caller = t.process
        let p = try process(t, pid)
        if p !== caller {
            guard p.parentPid == caller.pid else { throw .ESRCH }
            guard p.session == caller.session else { throw .EPERM }
            guard !p.didExec else { throw .EACCES }
        }
        guard p.session != p.pid else { throw .EPERM }  // a session leader keeps its group
        let group = pgid == 0 ? p.pid : pgid
        if group != p.pid {
            guard processes.values.contains(where: { $0.processGroup == group && $0.session == caller.session }) else {
                throw .EPERM
            }
        }
        p.processGroup = group
        return .value(0)
    }

    /// Which children a wait call asks about.
    enum WaitSelector {
        case any, pid(Int32), group(Int32)
        func matches(_ p: Process) -> Bool {
            switch self {
            case .any: return true
            case .pid(let pid): return p.pid == pid
            case .group(let g): return p.processGroup == g
            }
        }
    }

    /// What a wait found: a zombie to reap, or a stop or continue to report.
    enum WaitFinding {
        case exited(Process)
        case stopped(Process, Int32)
        case continued(Process)

        var process: Process {
            switch self {
            case .exited(let p), .stopped(let p, _), .continued(let p): return p
            }
        }
    }

    /// The first matching child with something to report (in pid order, as `options` asks: exits with
    /// `exited`, stops with WUNTRACED/WSTOPPED (2), continues with WCONTINUED (8)), or nil; ECHILD when no
    /// child matches at all.
    func waitable(_ t: Task, _ selector: WaitSelector, exited: Bool = true, options: Int32 = 0) throws(LinuxErrno)
        -> WaitFinding?
    {
        var any = false
        for pid in t.process.children.sorted() {
            guard let c = processes[pid], selector.matches(c) else { continue }
            any = true
            if c.exitStatus != nil {
                if exited { return .exited(c) }
                continue
            }
            switch c.waitReport {
            case .stopped(let sig) where options & 2 != 0: return .stopped(c, sig)
            case .continued where options & 8 != 0: return .continued(c)
            default: break
            }
        }
        if !any { throw .ECHILD }
        return nil
    }

    func sysWait4(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let pid = a.int(0), options = a.int(2)
        guard pid != Int32.min else { throw .ESRCH }
        let allowed: Int32 = 1 | 2 | 8 | 0x2000_0000 | 0x4000_0000 | Int32(bitPattern: 0x8000_0000)
        guard options & ~allowed == 0 else { throw .EINVAL }
        let selector: WaitSelector = pid == -1 ? .any : pid > 0 ? .pid(pid) : .group(pid == 0 ? t.process.processGroup : -pid)
        guard let found = try waitable(t, selector, options: options) else {
            if options & 1 != 0 { return .value(0) }  // WNOHANG
            return .block(t.process.childQueue)
        }
        let z = found.process
        let status: Int32
        switch found {
        case .exited:
            // The child is reaped even when the status cannot be stored (wait_task_zombie).
            reap(z)
            switch z.exitStatus! {
            case .exited(let code): status = (code & 0xff) << 8
            case .signaled(let sig): status = sig
            }
        case .stopped(_, let sig):
            z.waitReport = nil
            status = (sig << 8) | 0x7f
        case .continued:
            z.waitReport = nil
            status = 0xffff
        }
        if !a.address(1).isNull { try t.mm.write(a.address(1), status) }
        if !a.address(3).isNull {
            if case .exited = found {
                try writeZombieRusage(t, a.address(3), z)
            } else {
                try writeRusage(t, a.address(3), cpuTimes(z), maxResidentPages: z.maxResidentPages)
            }
        }
        return .value(Int(z.pid))
    }

    func sysWaitid(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let idtype = a.int(0), id = a.int(1), options = a.int(3)
        let WEXITED: Int32 = 4, WNOWAIT: Int32 = 0x0100_0000
        let allowed: Int32 = 1 | 2 | 4 | 8 | WNOWAIT | 0x2000_0000 | 0x4000_0000 | Int32(bitPattern: 0x8000_0000)
        guard options & ~allowed == 0, options & (2 | 4 | 8) != 0 else { throw .EINVAL }
        let selector: WaitSelector
        switch idtype {
        case 0: selector = .any
        case 1:
            guard id > 0 else { throw .EINVAL }
            selector = .pid(id)
        case 2:
            guard id >= 0 else { throw .EINVAL }
            selector = .group(id == 0 ? t.process.processGroup : id)
        default: throw .EINVAL  // P_PIDFD: no pidfds yet
        }
        guard let found = try waitable(t, selector, exited: options & WEXITED != 0, options: options) else {
            if options & 1 != 0 {
                if !a.address(2).isNull { try t.mm.writeBytes(a.address(2), [UInt8](repeating: 0, count: 128)) }
                return .value(0)
            }
            return .block(t.process.childQueue)
        }
        let z = found.process
        if !a.address(2).isNull {
            var b = ByteWriter(count: 128)
            b.put(Signal.CHLD, at: 0)
            switch found {
            case .exited:
                switch z.exitStatus! {
                case .exited(let code): (b.put(SignalInfo.CLD_EXITED, at: 8), b.put(code, at: 24))
                case .signaled(let sig): (b.put(SignalInfo.CLD_KILLED, at: 8), b.put(sig, at: 24))
                }
            case .stopped(_, let sig): (b.put(SignalInfo.CLD_STOPPED, at: 8), b.put(sig, at: 24))
            case .continued: (b.put(SignalInfo.CLD_CONTINUED, at: 8), b.put(Signal.CONT, at: 24))
            }
            b.put(z.pid, at: 16)
            b.put(z.credentials.uid, at: 20)
            try t.mm.writeBytes(a.address(2), b.bytes)
        }
        if !a.address(4).isNull {
            if case .exited = found {
                try writeZombieRusage(t, a.address(4), z)
            } else {
                try writeRusage(t, a.address(4), cpuTimes(z), maxResidentPages: z.maxResidentPages)
            }
        }
        if options & WNOWAIT == 0 {
            if case .exited = found { reap(z) } else { z.waitReport = nil }
        }
        return .value(0)
    }

    /// wait4's and waitid's rusage: the child's own and its reaped children's.
    func writeZombieRusage(_ t: Task, _ at: GuestAddress, _ z: Process) throws(LinuxErrno) {
        try writeRusage(t, at, z.cpuBase + z.childrenTimes,
                        maxResidentPages: max(z.maxResidentPages, z.childrenMaxResidentPages))
    }

    /// clone3: struct clone_args (at least its first 64 bytes, CLONE_ARGS_SIZE_VER0), then as clone.
    func sysClone3(_ t: Task, _ at: GuestAddress, size: UInt64) throws(LinuxErrno) -> SyscallOutcome {
        guard size >= 64 else { throw .EINVAL }
        guard size <= 4096 else { throw .E2BIG }
        let raw = try t.mm.readBytes(at, Int(min(size, 88)))
        func field(_ i: Int) -> UInt64 {
            8 * i + 8 <= raw.count ? raw.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self) } : 0
        }
        let flags = field(0), exitSignal = field(4), stack = field(5), stackSize = field(6)
        guard flags & 0xff == 0, exitSignal <= 64 else { throw .EINVAL }
        guard flags & CLONE.PIDFD == 0, flags & 0x2_0000_0000 == 0 else { throw .EINVAL }  // pidfd, INTO_CGROUP
        guard (stack == 0) == (stackSize == 0) else { throw .EINVAL }
        try checkNewTLS(flags: flags, tls: field(7))
        let setTID = try chosenTID(t, at: field(8), count: field(9))
        return try fork(t, flags: flags | exitSignal, stack: stack == 0 ? 0 : stack &+ stackSize,
                        parentTID: field(3), childTID: field(2), tls: field(7), setTID: setTID)
    }

    /// clone3's set_tid (alloc_pid): one level of pid namespace here, so at most one tid, which must be free
    /// and may be chosen only by root (CAP_CHECKPOINT_RESTORE).
    private func chosenTID(_ t: Task, at address: UInt64, count: UInt64) throws(LinuxErrno) -> Int32? {
        guard count <= 32 else { throw .EINVAL }  // MAX_PID_NS_LEVEL
        guard (address == 0) == (count == 0) else { throw .EINVAL }
        guard count > 0 else { return nil }
        guard count == 1 else { throw .EINVAL }  // deeper than this namespace
        let tid = try t.mm.read(GuestAddress(address), as: Int32.self)
        guard tid >= 1, tid < Kernel.maxPID else { throw .EINVAL }
        guard t.process.credentials.euid == 0 else { throw .EPERM }
        guard processes[tid] == nil, threads[tid] == nil,
              !processes.values.contains(where: { $0.processGroup == tid || $0.session == tid })
        else { throw .EEXIST }
        return tid
    }

    /// unshare(2) (kernel/fork.c ksys_unshare): the caller's process stops sharing its filesystem context or
    /// fd table. Unsharing what a thread group shares (threads, handlers, memory) is EINVAL with other threads.
    func sysUnshare(_ t: Task, flags: UInt64) throws(LinuxErrno) -> SyscallOutcome {
        let known = CLONE.FS | CLONE.FILES | CLONE.SYSVSEM | CLONE.THREAD | CLONE.SIGHAND | CLONE.VM
            | CLONE.namespaces | 0x2_0000_0000 | 0x80  // CLONE_NEWTIME is 0x80
        guard flags & ~known == 0 else { throw .EINVAL }
        let p = t.process
        if flags & (CLONE.THREAD | CLONE.SIGHAND | CLONE.VM) != 0 && p.tasks.count > 1 { throw .EINVAL }
        if flags & (CLONE.namespaces | 0x80) != 0 { throw .EPERM }
        if flags & CLONE.FS != 0 { p.fs = p.fs.copy() }
        if flags & CLONE.FILES != 0 && p.fds.users > 1 { p.fds = p.fds.unshared() }
        return .value(0)
    }

    /// CLONE_SETTLS takes the ARCH_SET_FS check (set_new_tls): a base outside user space is EPERM, never
    /// a register the host refuses when the child first runs.
    func checkNewTLS(flags: UInt64, tls: UInt64) throws(LinuxErrno) {
        if flags & CLONE.SETTLS != 0 && tls >= AddressSpace.userLimit { throw .EPERM }
    }

    func sysRseq(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let address = a[0], length = a.uint(1), flags = a.int(2), signature = a.uint(3)
        if flags & 1 != 0 {  // RSEQ_FLAG_UNREGISTER
            guard flags == 1, let r = t.rseq else { throw .EINVAL }
            guard r.address == address, r.length == length else { throw .EINVAL }
            guard r.signature == signature else { throw .EPERM }
            t.rseq = nil
            return .value(0)
        }
        guard flags == 0 else { throw .EINVAL }
        if let r = t.rseq {
            guard r.address == address, r.length == length else { throw .EINVAL }
            guard r.signature == signature else { throw .EPERM }
            throw .EBUSY
        }
        guard length >= 32, address & 31 == 0 else { throw .EINVAL }
        // cpu_id_start, cpu_id, node_id and mm_cid: every task runs on virtual CPU 0 of node 0.
        try t.mm.write(GuestAddress(address), UInt32(0))
        try t.mm.write(GuestAddress(address &+ 4), UInt32(0))
        try t.mm.write(GuestAddress(address &+ 24), UInt32(0))
        try t.mm.write(GuestAddress(address &+ 28), UInt32(0))
        t.rseq = (address, length, signature)
        return .value(0)
    }

    func sysArchPrctl(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        switch a.int(0) {
        case 0x1002:  // ARCH_SET_FS
            guard a[1] < AddressSpace.userLimit else { throw .EPERM }
            t.regs.fsBase = a[1]
        case 0x1001:  // ARCH_SET_GS
            guard a[1] < AddressSpace.userLimit else { throw .EPERM }
            t.regs.gsBase = a[1]
        case 0x1003: try t.mm.write(a.address(1), t.regs.fsBase)  // ARCH_GET_FS
        case 0x1004: try t.mm.write(a.address(1), t.regs.gsBase)  // ARCH_GET_GS
        case 0x1011: return .value(1)  // ARCH_GET_CPUID: cpuid is allowed
        case 0x1012: throw .ENODEV  // ARCH_SET_CPUID: no CPUID faulting
        default: throw .EINVAL  // CET shadow stacks, AMX permissions, ...
        }
        return .value(0)
    }

    /// A thread's name (comm); the main thread's is the process's too (ps shows it).
    func setName(_ name: [UInt8], of t: Task?, in p: Process) {
        if let t, t.tid != p.pid {
            t.name = name
        } else {
            p.name = name
            t?.name = nil
        }
    }

    func sysPrctl(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let p = t.process
        switch a.int(0) {
        case 15:  // PR_SET_NAME
            // strncpy_from_user of 16 bytes: the name is what comes before a NUL, at most 15 bytes.
            var name: [UInt8] = []
            for i in 0..<15 {
                let b = try t.mm.read(a.address(1).advanced(by: i), as: UInt8.self)
                if b == 0 { break }
                name.append(b)
            }
            setName(name, of: t, in: p)
        case 16:  // PR_GET_NAME
            let own = t.name ?? p.name
            var out = own + [UInt8](repeating: 0, count: 16 - own.count)
            out[15] = 0
            try t.mm.writeBytes(a.address(1), out)
        case 1:  // PR_SET_PDEATHSIG
            guard a[1] <= 64 else { throw .EINVAL }
            p.deathSignal = Int32(a[1])
        case 2: try t.mm.write(a.address(1), p.deathSignal)  // PR_GET_PDEATHSIG
        case 36: p.childSubreaper = a[1] != 0  // PR_SET_CHILD_SUBREAPER
        case 37: try t.mm.write(a.address(1), Int32(p.childSubreaper ? 1 : 0))
        case 3: return .value(Int(p.dumpable))  // PR_GET_DUMPABLE
        case 4:  // PR_SET_DUMPABLE
            guard a[1] <= 1 else { throw .EINVAL }
            p.dumpable = Int32(a[1])
        case 38:  // PR_SET_NO_NEW_PRIVS
            guard a[1] == 1, a[2] == 0, a[3] == 0, a[4] == 0 else { throw .EINVAL }
            p.noNewPrivileges = true
        case 39: return .value(p.noNewPrivileges ? 1 : 0)
        case 8:  // PR_SET_KEEPCAPS: the guest's capabilities are not modelled beyond uid 0; the flag is kept
            guard a[1] <= 1 else { throw .EINVAL }
            p.keepCapabilities = a[1] == 1
        case 7: return .value(p.keepCapabilities ? 1 : 0)  // PR_GET_KEEPCAPS
        case 27: return .value(0)  // PR_GET_SECUREBITS
        case 23:  // PR_CAPBSET_READ
            guard a[1] <= 40 else { throw .EINVAL }
            return .value(1)
        case 0x5356_4d41:  // PR_SET_VMA (anonymous VMA names): accepted, not shown until procfs exists
            guard a[1] == 0 else { throw .EINVAL }
        default:
            throw .EINVAL
        }
        return .value(0)
    }

    func prlimit(_ t: Task, _ resource: Int32, new: GuestAddress, old: GuestAddress) throws(LinuxErrno) -> SyscallOutcome {
        guard resource >= 0, Int(resource) < RLIMIT.count else { throw .EINVAL }
        let r = Int(resource)
        var next: ResourceLimit? = nil
        if !new.isNull {
            let soft = try t.mm.read(new, as: UInt64.self)
            let hard = try t.mm.read(new.advanced(by: 8), as: UInt64.self)
            guard soft <= hard else { throw .EINVAL }
            if hard > t.process.limits[r].hard && t.process.credentials.euid != 0 { throw .EPERM }
            if r == RLIMIT.NOFILE && hard > 1 << 20 { throw .EPERM }  // fs.nr_open
            next = ResourceLimit(soft: soft, hard: hard)
        }
        if !old.isNull {
            try t.mm.write(old, t.process.limits[r].soft)
            try t.mm.write(old.advanced(by: 8), t.process.limits[r].hard)
        }
        if let next {
            t.process.limits[r] = next
            if r == RLIMIT.STACK { t.mm.stackLimit = next.soft }
            if r == RLIMIT.CPU { recountCPULimits() }
        }
        return .value(0)
    }

    func sysGetrusage(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> SyscallOutcome {
        let p = t.process
        switch a.int(0) {
        case 0, 1:  // RUSAGE_SELF, RUSAGE_THREAD: one thread per process yet
            p.maxResidentPages = max(p.maxResidentPages, p.mm.residentPages)
            try writeRusage(t, a.address(1), cpuTimes(p), maxResidentPages: p.maxResidentPages)
        case -1:
            try writeRusage(t, a.address(1), p.childrenTimes, maxResidentPages: p.childrenMaxResidentPages)
        default: throw .EINVAL
        }
        return .value(0)
    }
}
