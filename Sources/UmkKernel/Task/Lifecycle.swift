import UmkHost

// Lifecycle.swift: processes begin (fork, vfork, clone), change image (execve) and end (exit, a fatal
// signal), and their parents reap them (kernel/fork.c, fs/exec.c, kernel/exit.c).
enum CLONE {
    static let VM: UInt64 = 0x100, FS: UInt64 = 0x200, FILES: UInt64 = 0x400, SIGHAND: UInt64 = 0x800
    static let PIDFD: UInt64 = 0x1000, PTRACE: UInt64 = 0x2000, VFORK: UInt64 = 0x4000, PARENT: UInt64 = 0x8000
    static let THREAD: UInt64 = 0x10000, NEWNS: UInt64 = 0x20000, SYSVSEM: UInt64 = 0x40000
    static let SETTLS: UInt64 = 0x80000, PARENT_SETTID: UInt64 = 0x100000, CHILD_CLEARTID: UInt64 = 0x200000
    static let DETACHED: UInt64 = 0x400000, UNTRACED: UInt64 = 0x800000, CHILD_SETTID: UInt64 = 0x1000000
    static let namespaces: UInt64 = 0x7e02_0000  // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
}

extension Kernel {
    /// Most processes one instance runs at once: each is a host process (its stub), so this bounds what a
    /// guest fork bomb can cost the host, besides --mem.
    static let maxProcesses = 1024

    // MARK: fork, vfork, clone

    /// A new process from `t`: a copy-on-write copy of its memory in a new stub or, for CLONE_VM|CLONE_VFORK
    /// (vfork, posix_spawn), the parent's own address space: the child then runs in the parent's stub while
    /// the parent waits, until the child execs or exits.
    func fork(_ t: Task, flags: UInt64, stack: UInt64, parentTID: UInt64, childTID: UInt64, tls: UInt64,
              setTID: Int32? = nil) throws(LinuxErrno) -> SyscallOutcome
    {
        // copy_process's rules: a thread shares the signal handlers, which need the address space.
        if flags & CLONE.THREAD != 0 && flags & CLONE.SIGHAND == 0 { throw .EINVAL }
        if flags & CLONE.SIGHAND != 0 && flags & CLONE.VM == 0 { throw .EINVAL }
        if flags & CLONE.namespaces != 0 { throw .EPERM }
        if flags & CLONE.PIDFD != 0 { throw .EINVAL }  // FIXME: no pidfds yet (nor pidfd_open: ENOSYS)
        if flags & CLONE.THREAD != 0 {
            return try spawnThread(t, flags: flags, stack: stack, parentTID: parentTID, childTID: childTID, tls: tls,
                                   setTID: setTID)
        }
        let parent = t.process
        guard processes.count < min(Kernel.maxProcesses, Int(clamping: parent.limits[RLIMIT.NPROC].soft)),
              threads.count < Kernel.maxTasks
        else { throw .EAGAIN }
        let sharedVM = flags & CLONE.VM != 0
        // vfork (CLONE_VM|CLONE_VFORK): the child borrows the parent's context while the parent waits; any
        // other child runs on a context of its own, in a copy of the memory or (CLONE_VM) in the same one.
        let borrowsContext = sharedVM && flags & CLONE.VFORK != 0
        let mm = sharedVM ? parent.mm : try parent.mm.fork()
        if !sharedVM, let debugger { debugger.forked(mm, from: parent) }  // no int3 of gdb's in the copy
        let context: PlatformContext
        do {
            context = borrowsContext ? t.context : try mm.space.newContext()
        } catch {
            throw .EAGAIN
        }
        // The FPU and vector state is the parent's (fpu_clone), MXCSR and all.
        if !borrowsContext, let image = try? t.context.extendedState() { try? context.setExtendedState(image) }
        let child = Process(pid: setTID ?? allocatePID(), parentPid: flags & CLONE.PARENT != 0 ? parent.parentPid : parent.pid,
                            mm: mm, fds: flags & CLONE.FILES != 0 ? parent.fds.shared() : parent.fds.copy(),
                            root: parent.root, cwd: parent.cwd, credentials: parent.credentials,
                            limits: parent.limits, executablePath: parent.executablePath)
        child.kernel = self
        child.commandLine = parent.commandLine
        child.processGroup = parent.processGroup
        child.session = parent.session
        child.handlers = flags & CLONE.SIGHAND != 0 ? parent.handlers : parent.handlers.copy()
        child.name = t.name ?? parent.name
        if flags & CLONE.FS != 0 { child.fs = parent.fs } else { child.umask = parent.umask }
        child.dumpable = parent.dumpable
        child.noNewPrivileges = parent.noNewPrivileges
        let ct = Task(tid: child.pid, process: child)
        ct.context = context
        startThreadClock(ct)
        child.tasks = [ct]
        ct.regs = t.regs
        ct.regs.rax = 0
        if stack != 0 { ct.regs.rsp = stack }
        if flags & CLONE.SETTLS != 0 { ct.regs.fsBase = tls }
        ct.signalMask = t.signalMask
        ct.alternateStack = t.alternateStack
        ct.scheduling = t.scheduling.forChild
        if flags & CLONE.CHILD_SETTID != 0 { try? mm.write(GuestAddress(childTID), child.pid) }
        if flags & CLONE.CHILD_CLEARTID != 0 { ct.clearChildTID = childTID }
        if flags & CLONE.PARENT_SETTID != 0 { try? parent.mm.write(GuestAddress(parentTID), child.pid) }
        processes[child.pid] = child
        processes[child.parentPid]?.children.insert(child.pid)
        if sharedVM, let debugger { debugger.sharingMemory(with: child) }  // vfork: gdb's int3s out meanwhile
        if child.limits[RLIMIT.CPU].soft != ResourceLimit.infinity { recountCPULimits() }

        ct.completion = 0
        if borrowsContext { endCPUInterval(parent) }  // the child runs on the parent's context until it execs or exits
        startCPUInterval(child)
        tasks[context.id] = ct  // for a shared VM this hands the parent's context to the child
        threads[ct.tid] = ct
        makeRunnable(ct)
        if flags & CLONE.VFORK != 0 {
            if borrowsContext { t.vforkSavedState = try? context.extendedState() }
            child.vforkParent = t
            t.completion = Int(child.pid)
            t.interruptible = false
            t.deadline = nil
            return .block(child.vforkQueue)
        }
        return .value(Int(child.pid))
    }

    /// The vfork parent goes on: the child exec'd or exited. If they shared the context, it is the parent's again.
    func releaseVforkParent(_ child: Process, sharedContext: Bool) {
        guard let parentTask = child.vforkParent else { return }
        child.vforkParent = nil
        parentTask.interruptible = true
        if sharedContext, parentTask.isAlive {
            tasks[parentTask.context.id] = parentTask
            if let saved = parentTask.vforkSavedState { try? parentTask.context.setExtendedState(saved) }
            startCPUInterval(parentTask.process)
        }
        parentTask.vforkSavedState = nil
        if parentTask.isAlive { makeRunnable(parentTask) }
    }

    // MARK: execve

    func exec(_ t: Task, dirfd: Int32, path: GuestAddress, argv: GuestAddress, envp: GuestAddress, flags: Int32)
        throws(LinuxErrno) -> SyscallOutcome
    {
        guard flags & ~(AT.EMPTY_PATH | AT.SYMLINK_NOFOLLOW) == 0 else { throw .EINVAL }
        let p = t.process
        let name = try t.mm.readString(path)
        var args = try readStringArray(t, argv)
        if args.isEmpty { args = [[]] }  // Linux 5.18+: an empty argv becomes one empty string
        let env = try readStringArray(t, envp)
        var request = ExecRequest(path: name, argv: args, envp: env)
        let start: Dentry
        if name.isEmpty {
            guard flags & AT.EMPTY_PATH != 0 else { throw .ENOENT }
            guard let d = try p.fds.get(dirfd).dentry else { throw .EACCES }
            start = d
            request.path = Array(d.path.utf8)
            request.displayPath = Array("/dev/fd/\(dirfd)".utf8)
            request.pathInaccessible = try p.fds.entry(dirfd).closeOnExec
        } else {
            start = try startDentry(t, dirfd, path: name)
            if dirfd != AT.FDCWD && name.first != UInt8(ascii: "/") {
                // As fs/exec.c names it; the interpreter reopens it through /proc/self/fd.
                request.displayPath = Array("/dev/fd/\(dirfd)/".utf8) + name
                request.pathInaccessible = try p.fds.entry(dirfd).closeOnExec
            }
            if flags & AT.SYMLINK_NOFOLLOW != 0,
               try p.pathWalk.resolve(name, from: start, followFinal: false).inode.isSymlink { throw .ELOOP }
        }
        let image = try loadProgram(request, walk: p.pathWalk, cwd: start, credentials: p.credentials,
                                    stackLimit: p.limits[RLIMIT.STACK].soft, noNewPrivileges: p.noNewPrivileges)
        let context: PlatformContext
        do { context = try image.mm.space.newContext() } catch { throw .ENOMEM }
        // The point of no return: the old image goes, and with it every other thread (de_thread); the robust
        // futexes of each are released in the old memory (exec_mm_release).
        killOtherThreads(t)
        exitRobustList(t)
        let wasShared = p.vforkParent != nil && p.vforkParent!.process.mmStorage === p.mmStorage
        if tasks[t.context.id] === t { tasks[t.context.id] = nil }
        endCPUInterval(p)
        let oldContext = t.context!
        t.context = context
        t.appliedScheduling = SchedulingState()
        startThreadClock(t)
        let oldMM = p.mmStorage
        p.mmStorage = image.mm
        if !wasShared { oldMM?.space.releaseContext(oldContext) }
        startCPUInterval(p)
        tasks[context.id] = t
        releaseVforkParent(p, sharedContext: wasShared)
        if p.fds.users > 1 { p.fds = p.fds.unshared() }  // exec unshares a CLONE_FILES table
        p.fds.closeAllOnExec()
        if p.tasks.count == 1 && processes.values.contains(where: { $0 !== p && $0.handlers === p.handlers }) {
            p.handlers = p.handlers.copy()  // exec unshares CLONE_SIGHAND handlers (unshare_sighand)
        }
        for i in 1...64 where p.signalActions[i].handler > 1 { p.signalActions[i] = SignalAction() }
        deleteTimers(p, interval: false)  // POSIX timers go; setitimer's and alarm's stay
        t.alternateStack = (0, 0, 2)
        t.rseq = nil
        t.robustList = (0, 0)
        t.clearChildTID = 0
        // As Linux: the base name of the path execve was given (a symlink's, a script's), not of what it reached.
        p.name = Process.comm(of: String(decoding: request.displayPath ?? request.path, as: UTF8.self))
        t.name = nil
        p.executablePath = image.path
        if image.credentials != p.credentials { p.dumpable = 0 }  // a set-ID program is not dumpable
        p.credentials = image.credentials
        p.keepCapabilities = false
        p.didExec = true
        p.commandLine = args.flatMap { $0 + [0] }
        t.regs = image.registers
        return .replaced
    }

    /// argv or envp: a NULL-terminated array of string pointers (NULL itself is an empty array).
    private func readStringArray(_ t: Task, _ at: GuestAddress) throws(LinuxErrno) -> [[UInt8]] {
        var out: [[UInt8]] = []
        guard !at.isNull else { return out }
        var total = 0
        var i = 0
        while true {
            let p = try t.mm.read(at.advanced(by: 8 * i), as: UInt64.self)
            if p == 0 { return out }
            let s: [UInt8]
            do {
                s = try t.mm.readString(GuestAddress(p), max: Kernel.maxArgumentString + 1)
            } catch .ENAMETOOLONG {
                throw .E2BIG  // longer than MAX_ARG_STRLEN: Linux's copy_strings says E2BIG
            }
            total += s.count + 9
            // ARG_MAX from RLIMIT_STACK, and never more than 32 MiB of umk's memory whatever the limit says.
            let limit = min(max(t.process.limits[RLIMIT.STACK].soft / 4, 128 << 10), 32 << 20)
            guard total <= Int(limit) else { throw .E2BIG }
            out.append(s)
            i += 1
        }
    }

    // MARK: exit

    /// Ends a process: its tasks stop for good, its memory and fds go, its children go to the reaper, and it
    /// stays a zombie for its parent to reap. Process 1's end is the instance's end.
    func terminate(_ p: Process, _ status: ExitStatus) {
        guard p.exitStatus == nil else { return }
        p.exitStatus = status
        if let debugger { debugger.processEnded(p, status) }
        let sharedWithParent = p.vforkParent != nil && p.vforkParent!.process.mmStorage === p.mmStorage
        // A CLONE_VM process: its memory lives on with the others, so its contexts must stop and go now.
        let memoryShared = !sharedWithParent && p.mmStorage != nil
            && processes.values.contains { $0 !== p && $0.exitStatus == nil && $0.mmStorage === p.mmStorage }
        for t in p.tasks {
            let wasRunning = t.inHost
            let ownsContext = tasks[t.context.id] === t  // not a context a vfork child borrowed from it
            forget(t, keepListed: true)
            if t.tid != p.pid { strace?.exit(t.tid, status) }  // strace -f: each thread's end
            // A vfork child killed while running in its parent's context: stop it before the parent gets it
            // back (the contexts of its own address space go with it, running or not). Likewise a context of
            // memory that others go on using.
            if wasRunning, sharedWithParent || memoryShared, (try? t.context.interrupt()) != nil {
                _ = try? t.context.waitForStop()
            }
            exitRobustList(t)
            if t.clearChildTID != 0, (try? p.mm.write(GuestAddress(t.clearChildTID), UInt32(0))) != nil, memoryShared {
                _ = try? futexWake(p.mm, t.clearChildTID, shared: true, count: 1, bitset: .max)  // mm_release
            }
            if memoryShared && ownsContext { p.mm.space.releaseContext(t.context) }
        }
        endCPUInterval(p)
        exitedCPU = exitedCPU + p.cpuBase
        deleteTimers(p, interval: true)
        if p.limits[RLIMIT.CPU].soft != ResourceLimit.infinity { recountCPULimits() }
        releaseVforkParent(p, sharedContext: sharedWithParent)
        exitIPC(p)  // SEM_UNDO (IPC/IPCNamespace.swift)
        p.mmStorage = nil  // the last user's AddressSpace kills its stub and frees its frames
        p.fds.release()
        strace?.exit(p.pid, status)

        disassociateTerminal(leaving: p)
        continueOrphanedGroups(leaving: p)
        let reaper = self.reaper(for: p)
        for c in p.children.sorted() {
            guard let child = processes[c] else { continue }
            if child.deathSignal != 0, child.exitStatus == nil {
                sendToProcess(child, child.deathSignal, info: SignalInfo(signo: child.deathSignal, pid: p.pid))  // PR_SET_PDEATHSIG
            }
            child.parentPid = reaper?.pid ?? 0
            reaper?.children.insert(c)
            if child.exitStatus != nil {
                if let reaper { wake(reaper.childQueue) } else { reap(child) }  // no init: the kernel reaps
            }
        }
        p.children.removeAll()

        if let parent = processes[p.parentPid] {
            let action = parent.signalActions[17]
            if action.handler == 1 || action.flags & SA.NOCLDWAIT != 0 {  // SIGCHLD ignored: no zombie
                reap(p)
            }
            wake(parent.childQueue)
            if parent.exitStatus == nil {
                var info = SignalInfo(signo: 17, pid: p.pid, uid: p.credentials.uid)
                info.childTimes = (p.cpuBase.user / 10_000_000, p.cpuBase.system / 10_000_000)  // USER_HZ 100
                switch status {
                case .exited(let code): (info.code, info.status) = (SignalInfo.CLD_EXITED, code)
                case .signaled(let sig): (info.code, info.status) = (SignalInfo.CLD_KILLED, sig)
                }
                sendToProcess(parent, 17, info: info)
            }
        }
        processEnded(p, status)
        if p.pid == 1 {
            exitStatus = status
            for other in processes.values where other.exitStatus == nil { terminate(other, .signaled(9)) }
        }
    }

    /// The nearest living subreaper ancestor, else process 1 (Linux's find_new_reaper).
    private func reaper(for p: Process) -> Process? {
        var pid = p.parentPid
        while let a = processes[pid], a.pid != 1 {
            if a.childSubreaper && a.exitStatus == nil { return a }
            pid = a.parentPid
        }
        if let initProcess = processes[1], initProcess !== p, initProcess.exitStatus == nil { return initProcess }
        return nil
    }

    /// Removes a zombie for good.
    func reap(_ p: Process) {
        processes[p.pid] = nil
        p.tasks.removeAll()  // its tasks refer to it: the process and its files go now, not never
        if let parent = processes[p.parentPid] {
            parent.children.remove(p.pid)
            parent.childrenTimes = parent.childrenTimes + p.cpuBase + p.childrenTimes
            parent.childrenMaxResidentPages = max(parent.childrenMaxResidentPages, p.maxResidentPages,
                                                  p.childrenMaxResidentPages)
        }
    }
}
