import UmkHost

// Threads.swift: the threads of a process (kernel/fork.c copy_process with CLONE_THREAD, kernel/exit.c do_exit
// for one thread, fs/exec.c de_thread). A thread shares its process's address space, files, filesystem
// context and signal handlers; it has its own registers, signal mask and pending signals, and runs on a
// platform context of its own (a host thread of the stub), so threads run guest code in parallel.
extension Kernel {
    /// Most tasks one instance runs at once: each is a host thread.
    static let maxTasks = 8192

    /// clone(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM ...): a new thread of the caller's process.
    func spawnThread(_ t: Task, flags: UInt64, stack: UInt64, parentTID: UInt64, childTID: UInt64, tls: UInt64,
                     setTID: Int32? = nil) throws(LinuxErrno) -> SyscallOutcome
    {
        let p = t.process
        guard threads.count < min(Kernel.maxTasks, Int(clamping: p.limits[RLIMIT.NPROC].soft)) else { throw .EAGAIN }
        let context: PlatformContext
        do {
            context = try p.mm.space.newContext()
        } catch {
            log.warning("pid \(p.pid): no host thread for a new thread: \(LinuxErrno(host: error).message)", source: "threads")
            throw .EAGAIN
        }
        let ct = Task(tid: setTID ?? allocatePID(), process: p)
        ct.context = context
        startThreadClock(ct)
        ct.regs = t.regs
        ct.regs.rax = 0
        if stack != 0 { ct.regs.rsp = stack }
        if flags & CLONE.SETTLS != 0 { ct.regs.fsBase = tls }
        ct.signalMask = t.signalMask
        ct.scheduling = t.scheduling.forChild
        // The FPU and vector state is copied (fpu_clone); the alternate signal stack is not (CLONE_VM).
        if let image = try? t.context.extendedState() { try? context.setExtendedState(image) }
        if flags & CLONE.PARENT_SETTID != 0 { try? p.mm.write(GuestAddress(parentTID), ct.tid) }
        if flags & CLONE.CHILD_SETTID != 0 { try? p.mm.write(GuestAddress(childTID), ct.tid) }
        if flags & CLONE.CHILD_CLEARTID != 0 { ct.clearChildTID = childTID }
        p.tasks.append(ct)
        threads[ct.tid] = ct
        tasks[context.id] = ct
        ct.completion = 0
        makeRunnable(ct)
        return .value(Int(ct.tid))
    }

    /// exit(2): one thread ends; the last one's end is the process's.
    func exitThread(_ t: Task, status: Int32) -> SyscallOutcome {
        let p = t.process
        guard p.tasks.count > 1 else {
            terminate(p, .exited(status))
            return .exited
        }
        releaseThread(t)
        p.mm.space.releaseContext(t.context)
        strace?.exit(t.tid, .exited(status))
        return .exited
    }

    /// A thread leaves its process (mm_release, exit_notify for a non-leader): its robust futexes are
    /// released, its clear_child_tid word is zeroed and its futex woken (pthread_join), and it is forgotten.
    private func releaseThread(_ t: Task) {
        let p = t.process
        exitRobustList(t)
        if t.clearChildTID != 0, (try? p.mm.write(GuestAddress(t.clearChildTID), UInt32(0))) != nil {
            _ = try? futexWake(p.mm, t.clearChildTID, shared: true, count: 1, bitset: .max)
        }
        forget(t)
        // Its own pending signals go with it; the process's stay for the others.
        t.pending = PendingSignals()
    }

    /// Takes a dying thread off every list of the kernel; a process that ends keeps its tasks listed for its
    /// zombie's /proc files (`keepListed`).
    func forget(_ t: Task, keepListed: Bool = false) {
        let p = t.process
        t.isAlive = false
        if let trace = t.pendingTrace {  // killed during a call: strace's "<... NAME resumed>) = ?"
            strace?.vanished(trace)
            t.pendingTrace = nil
        }
        detach(t)
        if t.isQueued { runnable.removeAll { $0 === t } }
        t.isQueued = false
        if t.inHost {
            t.inHost = false
            tasksInHost -= 1
        }
        if !keepListed { p.tasks.removeAll { $0 === t } }
        if threads[t.tid] === t { threads[t.tid] = nil }
        if tasks[t.context.id] === t { tasks[t.context.id] = nil }
    }

    /// execve's de_thread: every other thread of the caller's process dies (running ones with the old address
    /// space's stub), and the caller takes the process's pid as its tid.
    func killOtherThreads(_ t: Task) {
        let p = t.process
        for other in p.tasks where other !== t {
            exitRobustList(other)
            forget(other)
            p.mm.space.releaseContext(other.context)
        }
        if t.tid != p.pid {
            if threads[t.tid] === t { threads[t.tid] = nil }
            t.tid = p.pid
            threads[p.pid] = t
        }
    }
}
