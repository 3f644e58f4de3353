import UmkHost

// Task.swift: guest processes and threads (Linux's task_struct, split as gVisor splits ThreadGroup and Task).
// A Process owns what its threads share: the address space (one stub process), the fd table, the
// filesystem context, credentials, limits and signal dispositions. A Task is one thread of it, with its
// registers and per-thread state; it runs on a platform context of its own (a host thread of the stub).

/// A resource limit pair (getrlimit/prlimit64); UInt64.max is RLIM_INFINITY.
struct ResourceLimit: Equatable {
    var soft: UInt64
    var hard: UInt64
    static let infinity = UInt64.max
}

enum RLIMIT {
    static let CPU = 0, FSIZE = 1, DATA = 2, STACK = 3, CORE = 4, RSS = 5, NPROC = 6, NOFILE = 7
    static let MEMLOCK = 8, AS = 9, LOCKS = 10, SIGPENDING = 11, MSGQUEUE = 12, NICE = 13, RTPRIO = 14
    static let RTTIME = 15, count = 16
}

/// The kernel's struct k_sigaction as the guest passes it to rt_sigaction.
struct SignalAction: Equatable {
    var handler: UInt64 = 0  // SIG_DFL
    var flags: UInt64 = 0
    var restorer: UInt64 = 0
    var mask: UInt64 = 0
}

final class Process {
    let pid: Int32
    var parentPid: Int32
    var processGroup: Int32
    var session: Int32
    /// The address space; nil once the process has exited (a zombie keeps no memory).
    var mmStorage: AddressSpace? { didSet { attachLimits() } }

    /// The address space checks RLIMIT_AS and RLIMIT_DATA of its process as they are when it maps.
    private func attachLimits() {
        mmStorage?.mappingLimits = { [weak self] in
            self.map { (address: $0.limits[RLIMIT.AS].soft, data: $0.limits[RLIMIT.DATA].soft) }
        }
    }
    var mm: AddressSpace { mmStorage! }
    var fds: FDTable
    var tasks: [Task] = []
    /// Children not yet reaped, by guest pid.
    var children = Set<Int32>()
    /// Set when the process has exited: it is a zombie until its parent reaps it.
    var exitStatus: ExitStatus?
    /// Woken when a child exits (wait4, waitid).
    let childQueue = WaitQueue()
    /// The parent task stopped in vfork until this child execs or exits, and the queue it waits on.
    var vforkParent: Task?
    let vforkQueue = WaitQueue()
    /// Whether the process has called execve (setpgid on such a child is EACCES).
    var didExec = false
    /// CPU time (CPUAccounting.swift): what the process ran on stubs it has left, where its current stub's
    /// clock stood when it began running there (nil: not on a stub now), and that of its reaped children
    /// (RUSAGE_CHILDREN, their own children included).
    var cpuBase = CPUTimes()
    var cpuOrigin: CPUTimes?
    var childrenTimes = CPUTimes()
    /// Peak resident pages seen (ru_maxrss), and the largest of its reaped children's.
    var maxResidentPages = 0
    var childrenMaxResidentPages = 0
    /// setitimer's ITIMER_REAL, ITIMER_VIRTUAL and ITIMER_PROF (alarm is the first), and timer_create's
    /// timers by id (IntervalTimers.swift).
    var itimers: [IntervalTimer?] = [nil, nil, nil]
    var posixTimers: [Int32: IntervalTimer] = [:]
    var nextTimerID: Int32 = 0
    /// Job control: the signal that stopped the process (nil while it runs), and the change its parent's
    /// wait has yet to report (WUNTRACED, WCONTINUED).
    var stopSignal: Int32?
    /// A fatal signal another process sent, taken the next time one of its tasks would run (Signals.swift).
    var pendingDeath: Int32?
    var waitReport: WaitReport?
    /// The filesystem context (Linux's fs_struct): root, working directory and umask, shared with the
    /// processes made with CLONE_FS.
    var fs: FilesystemContext
    var root: Dentry {
        get { fs.root }
        set { fs.root = newValue }
    }
    var cwd: Dentry {
        get { fs.cwd }
        set { fs.cwd = newValue }
    }
    var umask: UInt32 {
        get { fs.umask }
        set { fs.umask = newValue }
    }
    var credentials: Credentials
    var limits: [ResourceLimit]
    /// Signals sent to the process while every thread blocked them, for whichever thread takes them first.
    var sharedPending = PendingSignals()
    /// Dispositions of signals 1...64 (index 0 unused).
    var signalActions: [SignalAction] {
        get { handlers.actions }
        _modify { yield &handlers.actions }
        set { handlers.actions = newValue }
    }
    /// The dispositions themselves (sighand_struct), shared with the processes made with CLONE_SIGHAND.
    var handlers = SignalHandlers()
    /// The command name (comm): the executable's base name, at most 15 bytes.
    var name: [UInt8]
    var executablePath: String
    var deathSignal: Int32 = 0
    var childSubreaper = false
    var dumpable: Int32 = 1
    var noNewPrivileges = false
    /// PR_SET_KEEPCAPS (cleared by execve).
    var keepCapabilities = false

    init(pid: Int32, parentPid: Int32, mm: AddressSpace, fds: FDTable, root: Dentry, cwd: Dentry,
         credentials: Credentials, limits: [ResourceLimit], executablePath: String)
    {
        self.pid = pid
        self.parentPid = parentPid
        processGroup = pid
        session = pid
        self.mmStorage = mm
        self.fds = fds
        fs = FilesystemContext(root: root, cwd: cwd)
        self.credentials = credentials
        self.limits = limits
        self.executablePath = executablePath
        name = Process.comm(of: executablePath)
        attachLimits()
    }

    static func comm(of path: String) -> [UInt8] {
        Array((path.split(separator: "/").last.map(String.init) ?? path).utf8.prefix(15))
    }

    /// When the process was created (fork, or boot for process 1), on the host monotonic clock: exec keeps it.
    /// /proc/PID/stat counts it from the instance's boot.
    let startNanoseconds = HostClock.monotonicNanoseconds()
    /// The kernel the process lives in (for its view of /proc).
    weak var kernel: Kernel?
    /// argv as /proc/PID/cmdline shows it: each argument NUL-terminated.
    var commandLine: [UInt8] = []

    var pathWalk: PathWalk {
        PathWalk(root: root, credentials: credentials, mounts: kernel?.mounts, process: self)
    }

    static let defaultLimits: [ResourceLimit] = {
        var l = [ResourceLimit](repeating: ResourceLimit(soft: .max, hard: .max), count: RLIMIT.count)
        l[RLIMIT.STACK] = ResourceLimit(soft: 8 << 20, hard: .max)
        l[RLIMIT.CORE] = ResourceLimit(soft: 0, hard: .max)
        l[RLIMIT.NPROC] = ResourceLimit(soft: 4096, hard: 4096)
        l[RLIMIT.NOFILE] = ResourceLimit(soft: 1024, hard: 4096)
        l[RLIMIT.MEMLOCK] = ResourceLimit(soft: 8 << 20, hard: 8 << 20)
        l[RLIMIT.SIGPENDING] = ResourceLimit(soft: 4096, hard: 4096)
        l[RLIMIT.MSGQUEUE] = ResourceLimit(soft: 819_200, hard: 819_200)
        l[RLIMIT.NICE] = ResourceLimit(soft: 0, hard: 0)
        l[RLIMIT.RTPRIO] = ResourceLimit(soft: 0, hard: 0)
        return l
    }()
}

final class SignalHandlers {
    var actions = [SignalAction](repeating: SignalAction(), count: 65)

    func copy() -> SignalHandlers {
        let c = SignalHandlers()
        c.actions = actions
        return c
    }
}

final class FilesystemContext {
    var root: Dentry
    var cwd: Dentry
    var umask: UInt32 = 0o022

    init(root: Dentry, cwd: Dentry) {
        self.root = root
        self.cwd = cwd
    }

    func copy() -> FilesystemContext {
        let c = FilesystemContext(root: root, cwd: cwd)
        c.umask = umask
        return c
    }
}

final class Task {
    /// The thread id; execve from a thread other than the leader gives it the leader's (de_thread).
    var tid: Int32
    let process: Process
    var regs = Registers()
    /// Resumed in its stub and not stopped since.
    var inHost = false
    var isAlive = true
    /// The queues this task sleeps on, if it is blocked in a system call.
    var blockedOn: [WaitQueue] = []
    /// A blocked call's deadline on the host monotonic clock (nanosleep, timeouts).
    var deadline: Int64?
    /// The deadline of a sleep a signal cut short (nanosleep's remaining time).
    var interruptedDeadline: Int64?
    /// Set by whoever wakes the task with an answer: the blocked call returns this instead of running again.
    var completion: Int?
    /// Bytes a blocking write has already moved, across its restarts.
    var ioProgress = 0
    /// Messages a blocking recvmmsg or sendmmsg has already moved, across its restarts, and recvmmsg's
    /// deadline on the host monotonic clock.
    var batchProgress = 0
    var batchDeadline: Int64?
    /// A FIFO open waiting for its partner: the end it holds meanwhile, and the partner's open count then.
    var fifoOpen: (end: PipeEnd, partnerOpens: Int)?
    /// --strace's record of a call that blocked, printed when a waker completes it.
    var pendingTrace: Strace.Pending?
    /// --strace: signals ignored on arrival, printed (as strace sees them) when the task next resumes.
    var ignoredSignals: [SignalInfo] = []
    var signalMask: UInt64 = 0
    /// Signals sent while blocked, or waiting for delivery to a handler, and what each one carries.
    var pending = PendingSignals()
    /// Readers of a signalfd waiting for a signal to be queued to this task.
    let signalfdQueue = WaitQueue()
    /// What is pending for this thread: its own signals and its process's (sent to the process while every
    /// thread blocked them).
    var pendingSignals: UInt64 { pending.mask | process.sharedPending.mask }
    /// The thread's own name (PR_SET_NAME, /proc/PID/task/TID/comm); nil: the process's.
    var name: [UInt8]?
    /// The signals an rt_sigtimedwait in progress takes.
    var sigwaitSet: UInt64?
    /// Stopped with its process (job control): not resumed until SIGCONT.
    var parked = false
    /// The mask to restore after the handler that ends a sigsuspend.
    var savedMask: UInt64?
    /// A signal cut the blocked system call short: finish it (EINTR or restart) before delivering.
    var interrupted = false
    /// Whether a signal may interrupt the current wait (not the vfork wait).
    var interruptible = true
    /// Waiting in a system call (on a queue, a deadline, or only for a signal).
    var isBlocked = false
    /// In the kernel's run queue already.
    var isQueued = false
    var clearChildTID: UInt64 = 0
    var robustList: (head: UInt64, length: UInt64) = (0, 0)
    /// rseq(2) registration: the guest's struct rseq, its length and abort signature.
    var rseq: (address: UInt64, length: UInt32, signature: UInt32)?
    /// A vfork parent's extended register state while its child runs in the same stub, restored when the
    /// child execs or exits: the child's vector registers never leak into the parent.
    var vforkSavedState: [UInt8]?
    /// nice, policy and CPU affinity (Scheduling.swift).
    var scheduling = SchedulingState()
    /// sigaltstack(2): base, size and flags of the alternate signal stack (SS_DISABLE when none).
    var alternateStack: (base: UInt64, size: UInt64, flags: Int32) = (0, 0, 2)

    init(tid: Int32, process: Process) {
        self.tid = tid
        self.process = process
    }

    var mm: AddressSpace { process.mm }
    /// Where the task runs guest code: a context of its address space's platform space (a vfork child
    /// borrows its parent's until it execs or exits).
    var context: PlatformContext!
    /// The last page fault umk let the task retry as spurious: address, rip, and the address space's flush
    /// count then (Kernel.handleSignalStop).
    var retriedFault: (address: UInt64, rip: UInt64, flushes: Int)?
    /// Its context's CPU time (user, total ns) when the task began running there (CLOCK_THREAD_CPUTIME_ID).
    var threadCPUOrigin: (user: Int64, total: Int64) = (0, 0)
    /// The host scheduling attributes its context follows now (Kernel.applyScheduling).
    var appliedScheduling = SchedulingState()
}
