import UmkHost

// SyscallTable.swift: the system call table as data (gVisor's syscalls/linux/linux64.go): for each x86-64
// number, the name, how --strace shows its arguments and result, how complete it is, and the handler.
// Handlers are grouped by family, one file each (Files, FileInfo, Memory, Process, Time, Signals, System).

/// The six raw argument registers of a system call, with typed views.
struct SyscallArgs {
    let values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    @inline(__always) subscript(_ i: Int) -> UInt64 {
        switch i {
        case 0: return values.0
        case 1: return values.1
        case 2: return values.2
        case 3: return values.3
        case 4: return values.4
        default: return values.5
        }
    }
    @inline(__always) func int(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: self[i]) }
    @inline(__always) func uint(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: self[i]) }
    @inline(__always) func long(_ i: Int) -> Int64 { Int64(bitPattern: self[i]) }
    @inline(__always) func address(_ i: Int) -> GuestAddress { GuestAddress(self[i]) }
    /// A size_t count, clamped so that arithmetic on it cannot overflow (callers bound it further).
    @inline(__always) func count(_ i: Int) -> Int { Int(min(self[i], UInt64(Int.max >> 1))) }
}

/// What a handler did, when that is not just a value for rax.
enum SyscallOutcome {
    /// Return this (a value, or -errno) in rax.
    case value(Int)
    /// The task is gone (exit, exit_group): nothing to resume.
    case exited
    /// The task's registers were replaced wholesale (execve): resume with them as they are.
    case replaced
    /// Wait on the queue (and/or until the task's deadline); then the call runs again, or completes with
    /// the value its waker left.
    case block(WaitQueue?)
    /// Wait on all of these queues at once (poll, select).
    case blockAll([WaitQueue])
}

typealias SyscallHandler = @Sendable (Kernel, Task, SyscallArgs) throws(LinuxErrno) -> SyscallOutcome

/// How complete an entry is, for `umk syscalls` and the README.
enum SyscallSupport: Equatable {
    case full
    case partial(String)
}

/// How --strace shows one argument (Strace*.swift decode them as strace does).
indirect enum ArgFormat: Equatable, Sendable {
    /// A long, an int (the low 32 bits), an unsigned long, hex, an address (NULL for 0), an fd.
    case int, int32, uint, hex, pointer, fd, dirfd, path, string
    /// A buffer the guest passes in; its length is argument N.
    case inBuffer(Int)
    /// A buffer the call fills; its length is the result (outBufferHex: shown in \xNN, as getrandom's).
    case outBuffer, outBufferHex
    case openFlags, mode, accessMode, atFlags, whence, mmapProt, mmapFlags, signal, clock, fcntlCommand
    case ioctlRequest, argv, flockOperation, inotifyMask
    /// epoll_ctl's op, and the struct epoll_event it passes; epoll_wait's events (as many as the result).
    case epollOp, epollEvent, epollEvents
    /// Shown when the call returns, decoded if it succeeded (its address otherwise): what the call fills.
    case out(ArgFormat)
    /// Structs: struct stat, statx, sigaction, a sigset_t whose size is argument N, timespec, timeval,
    /// rlimit, utsname, clone_args; an iovec array of argument N elements; a msghdr; a sockaddr of argument
    /// N bytes (sockaddrOut: filled, its length at argument N); a pollfd array of argument N elements.
    case stat, statx, sigaction, sigset(Int), timespec, timeval, rlimit, utsname, clone3
    case iovec(Int), msghdr, sockaddr(Int), sockaddrOut(Int), pollfds(Int)
    /// An in-out socklen_t ([110 => 2]); a filled int pair (pipe's [3, 4]); an int read through a pointer.
    case socklenInOut, fdPair, intRef
    /// wait4's status (filled) and options; execve's environment (shown as a count).
    case waitStatus, waitOptions, envp
    /// clone's arguments, all of them in strace's order (child_stack=NULL, flags=CLONE_VM|SIGCHLD, ...);
    /// an argument strace never shows.
    case cloneFlags, hidden
    /// Arguments whose meaning depends on another one: fcntl's third, ioctl's third, futex's after the op,
    /// prctl's after the option.
    case fcntlArgument, ioctlArgument, futexArgument, prctlArgument
    /// Constants and flags by name.
    case archPrctl, sigprocmaskHow, futexOp, prctlOption, addressFamily, socketType, socketProtocol, madvice
    case rlimitResource, messageFlags, mremapFlags, shutdownHow, getrandomFlags, timerFlags, statxFlags, statxMask
    /// O_CLOEXEC and O_NONBLOCK under the call's own prefix: EFD_CLOEXEC, SOCK_NONBLOCK ("O": O_CLOEXEC).
    case cloexec(String)
    /// getdents64's buffer, as the number of entries in it; sigaltstack's stack_t; nanosleep's remaining
    /// time (a timespec when a signal interrupted the call, else the address).
    case dirents, stack, remainder
    /// siginfo_t, statfs, sysinfo, rusage, itimerval, itimerspec; an fd_set of argument 0 descriptors
    /// (select); pselect6's {sigset, size}; a CPU mask and an id list as long as the result says.
    case siginfo, sigevent, statfs, sysinfo, rusage, itimerval, itimerspec, fdSet, pselectMask, cpuSet, idList
    /// setsockopt's and getsockopt's level, option name (its level is argument 1), and value (its length
    /// is argument N; sockoptOut: filled, its length behind the pointer at argument N).
    case sockoptLevel, sockoptName, sockopt(Int), sockoptOut(Int)
    /// getrusage's who, setitimer's which, waitid's idtype, timerfd_settime's flags.
    case rusageWho, itimerWhich, idtype, timerfdFlags
    /// rt_sigreturn's {mask=[...]}, read from the signal frame at the stack pointer.
    case sigreturnFrame
}

enum ResultFormat { case int, hex, none }

struct SyscallEntry {
    let name: String
    let args: [ArgFormat]
    let result: ResultFormat
    let support: SyscallSupport
    let handler: SyscallHandler
}

struct SyscallTable {
    private(set) var entries = [SyscallEntry?](repeating: nil, count: SyscallNames.table.count)

    mutating func add(_ nr: Int, _ args: [ArgFormat], result: ResultFormat = .int, _ support: SyscallSupport = .full,
                      _ handler: @escaping SyscallHandler)
    {
        precondition(entries[nr] == nil, "syscall \(nr) registered twice")
        entries[nr] = SyscallEntry(name: SyscallNames.name(nr), args: args, result: result, support: support,
                                   handler: handler)
    }

    @inline(__always) func entry(_ nr: Int) -> SyscallEntry? { nr >= 0 && nr < entries.count ? entries[nr] : nil }

    static let standard: SyscallTable = {
        var t = SyscallTable()
        t.addFileCalls()
        t.addPipeCalls()
        t.addLockCalls()
        t.addFileDataCalls()
        t.addFileInfoCalls()
        t.addNameCalls()
        t.addExtendedAttributeCalls()
        t.addMemoryCalls()
        t.addProcessCalls()
        t.addTimeCalls()
        t.addSignalCalls()
        t.addFutexCalls()
        t.addPollCalls()
        t.addSignalfdCalls()
        t.addEpollCalls()
        t.addEventfdCalls()
        t.addTimerfdCalls()
        t.addInotifyCalls()
        t.addCredentialCalls()
        t.addSocketCalls()
        t.addSystemCalls()
        t.addSchedulingCalls()
        t.addTimerCalls()
        t.addMountCalls()
        t.addSharedMemoryCalls()
        t.addSemaphoreCalls()
        t.addMessageQueueCalls()
        t.addPosixMessageQueueCalls()
        return t
    }()
}

extension Kernel {
    /// Handles one system call stop. Returns whether the task should be resumed.
    func dispatch(_ task: Task) -> Bool {
        let nr = Int(Int64(bitPattern: task.regs.origRax))
        let args = SyscallArgs(values: task.regs.syscallArgs)
        var entry = SyscallTable.standard.entry(nr)
        // The 32-bit entry (int $0x80) uses other numbers: it is not emulated, and never reaches the host.
        if task.regs.rip >= 2, (try? task.mm.read(GuestAddress(task.regs.rip - 2), as: UInt16.self)) == 0x80cd {
            entry = nil
        }
        var trace: Strace.Pending? = nil
        if let strace {  // a call that blocked and runs again is the same call: it keeps its record
            trace = task.pendingTrace ?? strace.begin(task, nr: nr, entry: entry, args: args)
            task.pendingTrace = nil
        }
        if nr == breakSyscall { HostDebug.syscallBreakpoint(nr) }  // UMK_BREAK_SYSCALL: a place for gdb to stop
        if let debugger { debugger.enteringSystemCall(task) }  // a guest's single step ends after this call
        oops.enter(pid: task.process.pid, tid: task.tid, regs: task.regs, comm: task.process.name)
        if let bug = Kernel.testBug, bug.nr == nr { hitTestBug(bug.kind) }
        let outcome: SyscallOutcome
        if let entry {
            current = task
            do {
                outcome = try entry.handler(self, task, args)
            } catch {
                outcome = .value(-Int(error.rawValue))
            }
            current = nil
            // After the call, once its own references to files are gone: sockets whose last fd it closed.
            if socketCollectionPending { collectSockets() }
        } else {
            logUnknown(nr)
            outcome = .value(-Int(LinuxErrno.ENOSYS.rawValue))
        }
        recordSyscallExit(outcome)
        switch outcome {
        case .block, .blockAll: break
        default:
            task.deadline = nil  // a deadline and a waiting FIFO open belong to a wait only
            task.fifoOpen = nil
        }
        // The call killed its own caller (a signal it raised through a terminal, say): nothing to resume.
        if !task.isAlive {
            if let trace { strace!.died(trace, task, outcome) }
            return false
        }
        switch outcome {
        case .value(let v):
            task.regs.rax = UInt64(bitPattern: Int64(v))
            if let trace { strace!.end(trace, task, result: v) }
            return true
        case .exited:
            if let trace { strace!.died(trace, task, outcome) }  // (exit and exit_group have no record)
            return false
        case .replaced:  // execve's 0, or the value rt_sigreturn restored
            if let trace { strace!.end(trace, task, result: nr == 15 ? Int(Int64(bitPattern: task.regs.rax)) : 0) }
            return true
        case .block(let queue):
            task.pendingTrace = trace
            if let trace { strace!.suspend(trace) }
            block(task, on: queue)
            return false
        case .blockAll(let queues):
            task.pendingTrace = trace
            if let trace { strace!.suspend(trace) }
            block(task, on: queues)
            return false
        }
    }
}

/// What `umk syscalls` prints: every x86-64 system call and how far umk implements it.
public enum SyscallReport {
    public struct Row: Sendable {
        public let number: Int
        public let name: String
        /// "supported", "partial: <what is missing>", or "missing" (the call answers ENOSYS).
        public let status: String
    }

    public static var rows: [Row] {
        SyscallNames.table.indices.compactMap { nr in
            guard let name = SyscallNames.table[nr] else { return nil }
            guard let e = SyscallTable.standard.entry(nr) else { return Row(number: nr, name: name, status: "missing") }
            switch e.support {
            case .full: return Row(number: nr, name: name, status: "supported")
            case .partial(let note): return Row(number: nr, name: name, status: "partial: \(note)")
            }
        }
    }
}
