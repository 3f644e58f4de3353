import Logging
import UmkHost

// Kernel.swift: one guest kernel instance and its main loop (arch/um os-Linux/skas/process.c `userspace`).
//
// Everything runs on the instance's kernel thread (with ptrace stubs, it spawned and seized them, so only it
// may trace them). The loop waits for any task's platform context to stop, handles the stop (a system call,
// a fault, a signal), and resumes it. Guest system calls never reach the host: the context is stopped at each
// one, and the kernel writes the result into rax.
final class Kernel {
    let configuration: Configuration
    let frames: PhysicalFrames
    let pageCache: PageCache
    /// How guest code runs (Platform.swift): ptrace stubs.
    let platform: Platform
    var rootDentry: Dentry! = nil
    let root: Overlay
    /// The mount table (MountSetup.swift builds it at boot).
    let mounts = MountNamespace()
    /// `--upper`: the host directory the upper layer is saved to, and the open file whose flock keeps other
    /// instances off it (UpperDirectory.swift).
    var upperDirectory: HostInode?
    var upperLock: HostFile?
    let log: Logger
    let strace: Strace?
    let bootNanoseconds = HostClock.monotonicNanoseconds()
    var hostname: [UInt8]
    var domainname: [UInt8] = Array("(none)".utf8)

    /// Live tasks by the id of the platform context they run on (a vfork child runs on its parent's).
    var tasks: [Int32: Task] = [:]
    /// UMK_BREAK_SYSCALL (a name or number): the system call at whose dispatch the kernel calls
    /// umk_debug_syscall, for `break umk_debug_syscall` in gdb (Tools/gdb-syscall).
    let breakSyscall: Int? = HostProcess.environmentValue("UMK_BREAK_SYSCALL").flatMap { value in
        Int(value) ?? SyscallNames.table.firstIndex(where: { $0 == value })
    }
    /// Numbers the instance hands out (pipe and socket inodes, eventfd ids): per instance, so that instances
    /// in one host process share no mutable state.
    var numbers = InstanceNumbers()
    /// Every live thread by tid (tkill, futexes, /proc): pids and tids come from one space.
    var threads: [Int32: Task] = [:]
    /// Every process not yet reaped, zombies included, by guest pid.
    var processes: [Int32: Process] = [:]
    var nextPID: Int32 = 1
    /// The last pid handed out and how many processes were created since boot (/proc/loadavg, /proc/stat).
    var lastPID: Int32 = 0
    var processesCreated = 0
    /// CPU time of the processes that have exited, for /proc/stat's cpu lines.
    var exitedCPU = CPUTimes()
    /// The load averages (LoadAverage.swift), sampled by the loop.
    var loadAverage = LoadAverage(now: HostClock.monotonicNanoseconds())
    private var unknownSyscallsLogged = Set<Int>()
    var exitStatus: ExitStatus?
    /// Work from other host threads (KernelInbox.swift), and whom to tell when a program started from
    /// outside ends (Spawn.swift).
    let inbox: KernelInbox
    var exitWatchers: [Int32: @Sendable (ExitStatus) -> Void] = [:]
    /// `umk exec -t`'s pseudo-terminals, pumped by the loop, and by the pid of the program each was made for.
    var terminalRelays: [TerminalRelay] = []
    var relaysByPid: [Int32: TerminalRelay] = [:]

    /// Tasks woken from a wait, to run their system call again (or complete it).
    var runnable: [Task] = []
    /// Blocked tasks that have a deadline.
    var sleepers: [Task] = []
    /// Tasks resumed and not yet stopped again.
    var tasksInHost = 0
    /// The host descriptors of the console: process 1's stdin, stdout and stderr (Configuration's).
    let consoleStreams: ConsoleStreams
    /// Tasks reading the console, woken when its input is readable.
    let consoleQueue = WaitQueue()
    /// Host descriptors guests read as consoles (the console's input, and each program's stdin given from
    /// outside), with the queues the loop wakes when they are readable.
    lazy var hostInputs = [HostInput(file: consoleStreams.input, queue: consoleQueue)]
    /// Console output: its writer thread (made on this, the kernel thread) and the tasks waiting for room.
    let consoleOutput = ConsoleOutput(writer: ConsoleWriter())
    /// Armed interval timers, wall and CPU (IntervalTimers.swift); processes under a finite RLIMIT_CPU; when the
    /// loop next looks at CPU time.
    var armedTimers: [IntervalTimer] = []
    var cpuLimitedProcesses = 0
    /// Processes a fatal signal from another process is to kill, and by when at the latest.
    var doomed: [(process: Process, deadline: Int64)] = []
    private var nextCPUCheck: Int64 = 0
    /// FIFOs open now, by inode (Pipe.swift).
    var namedPipes: [FileKey: Pipe] = [:]
    /// AF_UNIX sockets bound to a path, by the socket node's identity, and to an abstract name.
    var unixSockets: [FileKey: BoundSocket] = [:]
    var abstractSockets: [[UInt8]: BoundSocket] = [:]
    /// Sockets whose queues carry files (SCM_RIGHTS), held weakly, and whether a socket's last fd went since
    /// the last collection of sockets in flight (UnixGarbage.swift).
    var socketCarriers: [ObjectIdentifier: BoundSocket] = [:]
    var socketCollectionPending = false
    /// Sockets whose last fd went since the last collection, and what that collection walked: a collection
    /// waits for releases in proportion to its size, so that its work per close stays bounded.
    var socketReleasesSinceCollection = 0
    var lastSocketCollectionWork = 0
    /// Files a closed socket's queue carried, freed one at a time rather than by nested deinits.
    var filesToRelease: [OpenFile] = []
    var releasingFiles = false
    /// The last abstract name autobind gave (five hex digits).
    var lastAutobind = 0
    /// Futex waiters and PI states (FutexQueues.swift).
    let futexes = FutexQueues()
    /// System V IPC and POSIX message queues: the instance is one IPC namespace (IPC/IPCNamespace.swift).
    lazy var ipc = IPCNamespace()
    /// flock, POSIX and OFD locks of every file of the instance (VFS/FileLocks.swift).
    lazy var fileLocks = FileLocks { [unowned self] queue in self.wake(queue) }
    /// epoll: entries in all instances, instances, and how deep a wake is in nested instances (EventPoll.swift).
    var epollWatches = 0
    var epollInstances = 0
    var wakeDepth = 0
    var epollsWoken: Set<ObjectIdentifier> = []
    /// Armed timerfds (TimerFD.swift), expired by the loop as wall timers are.
    var armedTimerFiles: [TimerFile] = []
    /// inotify watches, by file (VFS/FSNotify.swift).
    lazy var notify = FileNotify(kernel: self)
    /// The timer interrupt, created on the kernel thread (its signal goes to this thread alone).
    private let tick: TickTimer
    private var tickPlan = TickPlan.off
    private var reportedStall = false
    /// What the crash handler reports if the kernel thread dies of a bug (Host's Oops.swift).
    let oops = OopsRecord()
    /// UMK_TEST_KERNEL_BUG's `host` kind: the loop fails as on an unexpected host error (Kernel+Oops.swift).
    var testHostError = false
    /// gdb's stub, while gdb debugs a process of the instance (--gdb; Debug/GdbStub.swift).
    var debugger: GdbStub?

    deinit {
        if let first = cpus.first { HostCPU.releasePlacement(first) }
    }

    init(_ config: Configuration, inbox: KernelInbox = KernelInbox()) throws(LaunchError) {
        configuration = config
        self.inbox = inbox
        consoleStreams = ConsoleStreams(config)
        var logger = Logger(label: "umk")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .warning
        log = logger
        hostname = Array(config.hostname.utf8)
        strace = config.straceFD.map {
            Strace(fd: $0, filter: config.straceFilter.flatMap { try? StraceFilter.parse($0).get() }, timing: config.straceTiming)
        }
        do {
            frames = try PhysicalFrames(bytes: config.memoryBytes)
            frames.overcommit = config.overcommit
            pageCache = PageCache(frames: frames)
            platform = PtracePlatform(memory: frames.memory)
            frames.reclaim = { [unowned pageCache] in pageCache.shrink($0) }
            // The root: the host directory read-only under a throwaway tmpfs (overlay/Overlay.swift).
            root = try Overlay(lower: try HostInode.root(path: config.root), upper: Tmpfs(frames: frames, device: 1))
        } catch {
            throw .kernelFailure("\(config.root): \(error.message)")
        }
        do {
            tick = try TickTimer()
        } catch {
            throw .kernelFailure("the timer interrupt: \(LinuxErrno(host: error).message)")
        }
        do {
            cpus = try Kernel.chooseCPUs(config.cpus)
        } catch {
            throw .kernelFailure(error.description)
        }
        (platform as? PtracePlatform)?.cpus = cpus.count > 1 ? cpus : []
        if let upper = config.upper { try loadUpperDirectory(upper) }
        try setUpMounts()
    }

    /// The host CPUs the guest runs on: virtual CPU i is host CPU cpus[i]. The kernel thread is pinned to the
    /// first, and every stub inherits that pin when it is cloned: a ptrace round trip costs several times
    /// more when tracer and tracee sit on different CPUs (DESIGN.md, README). With --cpus N > 1 the stubs may
    /// use all N (the platform sets their affinity), so that compute runs in parallel.
    let cpus: [Int32]
    /// The console as process 1's controlling terminal, when its input is a terminal.
    lazy var terminal: ControllingTerminal? = consoleStreams.input.isTerminal ? ControllingTerminal(session: 1, foreground: 1) : nil
    /// The instance's pseudo-terminals by number (devpts), while either side is open.
    var pseudoTerminals: [Int: PseudoTerminal] = [:]
    /// Work that must not run where it arose (a file's release inside an exit): run by the loop next.
    var deferred: [() -> Void] = []
    /// The task whose system call is being handled (Linux's `current`), for the files that need it.
    var current: Task?
    /// The host's /proc/cpuinfo, read at boot, and the guest's /sys (SysFS.swift).
    let hostCPUInfo = HostScheduling.cpuinfo()
    lazy var sysRoot: ProcInode = makeSysRoot()
    /// /proc/sys/kernel/random/boot_id: one random UUID per instance.
    lazy var bootID: String = Kernel.randomUUID() + "\n"
    lazy var devPts = DevPtsInode(kernel: self)
    /// The filesystem of memfd_create's files (Memfd.swift), made on first use.
    lazy var memfdFS = Tmpfs.forMemfd(frames: frames, device: mounts.newDevice())
    /// umk's own nice value: no stub runs at a higher priority.
    let baseNice = HostScheduling.ownNice

    struct CPUChoiceError: Error, CustomStringConvertible {
        let description: String
    }

    private static func chooseCPUs(_ wanted: Int?) throws(CPUChoiceError) -> [Int32] {
        let allowed = (try? HostCPU.affinity()) ?? []
        let current = HostCPU.current
        guard !allowed.isEmpty, current >= 0 else { return [] }  // no affinity control: leave it to the host
        let n = wanted ?? 1
        guard n <= allowed.count else {
            throw CPUChoiceError(description: "--cpus \(n): umk may use only \(allowed.count) host CPUs here")
        }
        // Starting at the CPU umk runs on, so that a one-CPU instance stays where the host put it, unless
        // another instance of this process sits there and a CPU has fewer (released in deinit).
        let first = HostCPU.claimLeastUsed(of: allowed, preferring: current)
        let start = allowed.firstIndex(of: first) ?? 0
        let chosen = Array((allowed[start...] + allowed[..<start]).prefix(n))
        try? HostCPU.pinCurrentThread(to: chosen[0])
        return chosen
    }

    // MARK: Boot

    /// Starts process 1 running `argv` (none: an instance that waits for programs from outside, whose
    /// processes start at pid 2), calls `started` once it runs, and runs the guest until process 1 exits or
    /// the instance is shut down.
    func boot(_ argv: [String]?, started: () -> Void = {}) throws(LaunchError) -> ExitStatus {
        if let argv {
            let first = try startProcess(SpawnRequest(
                argv: argv, environment: configuration.environment, workingDirectory: configuration.workingDirectory,
                preferredWorkingDirectory: configuration.preferredWorkingDirectory,
                uid: configuration.uid, gid: configuration.gid))
            precondition(first.pid == 1)
            // --gdb: gdb's connection is accepted now, before the kernel's seccomp filter goes on.
            if let address = configuration.gdb { try waitForDebugger(address, first) }
        } else {
            nextPID = 2
        }
        oops.attachToThisThread(names: SyscallNames.table)
        installKernelFilter()
        inbox.open()
        started()
        do {
            if let first = processes[1] { try resume(first.tasks[0]) }
            try loop()
        } catch {
            // As unexpected as a trap: the same report, less the backtrace (exit status 125 all the same).
            oops.report("unexpected host error: \(LinuxErrno(host: error).message)")
            shutDown()
            throw .kernelFailure("host: \(LinuxErrno(host: error).message)")
        }
        shutDown()
        if configuration.reportUnimplemented, exitStatus != .exited(0), !unknownSyscallsLogged.isEmpty {
            let names = unknownSyscallsLogged.sorted().map { SyscallNames.name($0) }.joined(separator: ", ")
            HostProcess.printError("umk: the guest called unimplemented system calls: \(names); see umk syscalls")
        }
        do {
            try saveUpperDirectory()
        } catch {
            throw .kernelFailure("--upper \(configuration.upper ?? ""): the changes could not all be saved: \(error.message)")
        }
        return exitStatus ?? .signaled(9)
    }

    /// Ends the instance from outside (Instance.shutDown): every process is killed, as at process 1's end.
    func shutDownFromOutside() {
        guard exitStatus == nil else { return }
        let status = processes[1]?.exitStatus ?? .signaled(9)
        for p in processes.values.sorted(by: { $0.pid > $1.pid }) where p.exitStatus == nil { terminate(p, .signaled(9)) }
        if exitStatus == nil { exitStatus = status }
    }

    /// The instance is over: every stub goes, and the console output still queued is written out.
    private func shutDown() {
        inbox.close()
        for p in processes.values {
            p.mmStorage = nil
            p.tasks.removeAll()  // tasks and process refer to each other: without this neither would go
        }
        processes.removeAll()
        tasks.removeAll()
        platform.shutDown()
        consoleOutput.writer.finish()
        oops.detachFromThisThread()
        // Programs still waited for (the instance ended under them) hear that they were killed.
        let watchers = exitWatchers
        exitWatchers = [:]
        for (_, w) in watchers { w(.signaled(9)) }
    }

    /// Booted: from here on the kernel thread may make only the host calls on KernelFilter's list.
    /// UMK_SECCOMP=log records refusals in the host's audit log instead; UMK_SECCOMP=off skips it.
    private func installKernelFilter() {
        let mode = HostProcess.environmentValue("UMK_SECCOMP") ?? "on"
        guard mode != "off" else { return }
        do throws(Errno) {
            try KernelFilter.install(logOnly: mode == "log", hostWrites: hasWritableBinds || configuration.upper != nil,
                                      debugger: debugger != nil || configuration.debuggerAttachable)
        } catch {
            log.warning("the host refused umk's own seccomp filter (\(LinuxErrno(host: error).message)); running without it", source: "security")
        }
    }

    /// pid_max of a default Linux: pids wrap past it and skip those still in use.
    static let maxPID: Int32 = 4_194_304

    func allocatePID() -> Int32 {
        while processes[nextPID] != nil || threads[nextPID] != nil || processes.values.contains(where: { $0.processGroup == nextPID || $0.session == nextPID }) {
            nextPID = nextPID >= Kernel.maxPID ? 2 : nextPID + 1
        }
        defer { nextPID = nextPID >= Kernel.maxPID ? 2 : nextPID + 1 }
        lastPID = nextPID
        processesCreated += 1
        return nextPID
    }

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    // MARK: The loop

    private func loop() throws(Errno) {
        while exitStatus == nil {
            if testHostError { throw KernelBugForTest.hostError }
            if inbox.hasWork {
                for work in inbox.take() { work(self) }
                continue
            }
            if !deferred.isEmpty {
                let work = deferred
                deferred = []
                for w in work { w() }
                continue
            }
            if !runnable.isEmpty {
                try runRunnable()
                continue
            }
            if configuration.forwardSignals { forwardProxiedSignals() }
            if let debugger { debugger.service() }
            // A forwarded signal or gdb may have ended process 1 (the instance is over), or gdb woke a task.
            if !runnable.isEmpty || exitStatus != nil { continue }
            let now = HostClock.monotonicNanoseconds()
            if now >= loadAverage.due { sampleLoad(now: now) }
            var nextDeadline = sleepers.isEmpty ? nil : expireSleepers(now: now)
            if !armedTimers.isEmpty, let next = expireWallTimers(now: now) {
                nextDeadline = min(nextDeadline ?? next, next)
            }
            if !armedTimerFiles.isEmpty, let next = expireTimerFiles(now: now) {
                nextDeadline = min(nextDeadline ?? next, next)
            }
            if !doomed.isEmpty, let next = carryOutDeaths(now: now) { nextDeadline = min(nextDeadline ?? next, next) }
            let watchCPU = tasksInHost > 0 && watchesCPUTime
            if watchCPU && now >= nextCPUCheck {
                nextCPUCheck = now + Kernel.tickInterval
                checkCPUTime()
            }
            // FIXME: the console is looked at, not told: while its input holds unread bytes each look wakes
            // its queue again, so an edge-triggered epoll entry on it is re-armed by every look.
            if !terminalRelays.isEmpty { pumpTerminalRelays() }
            var awaitedInputs: [HostInput] = []  // on every turn: no array made while nobody waits
            for input in hostInputs where input.file != nil && input.queue.hasInterest() { awaitedInputs.append(input) }
            for input in awaitedInputs where input.file?.isReadable() == true { wake(input.queue) }
            if !consoleOutput.queue.isEmpty && consoleOutput.writer.hasRoom { wake(consoleOutput.queue) }
            if !runnable.isEmpty { continue }
            if tasksInHost == 0 {
                armTick(nil, periodic: false, now: now)  // the idle sleep has its own deadline: no ticks
                idle(until: nextDeadline, now: now, inputs: awaitedInputs)
                continue
            }
            armTick(nextDeadline, periodic: watchCPU || !awaitedInputs.isEmpty || !consoleOutput.queue.isEmpty
                        || !terminalRelays.isEmpty || debugger != nil, now: now)
            guard let first = try platform.waitForStop() else { continue }
            if tasksInHost == 1 {
                try handleStop(first.0, first.1)
                continue
            }
            // Several tasks run: take every stop already waiting before resuming any, since waitpid(-1)
            // reports the same busy task first again and again and would starve the others.
            var stops = [first]
            while let next = try platform.pollStop() { stops.append(next) }
            for (pid, stop) in stops { try handleStop(pid, stop) }
        }
        tick.arm(first: 0, interval: 0)
        tickPlan = .off
    }

    /// Kills the doomed processes whose time has come: every task that is not doomed itself is stopped in
    /// the kernel, or the deadline passed. Their tasks die at their next stop (woken if blocked, interrupted
    /// if running). Returns the next deadline of those left.
    private func carryOutDeaths(now: Int64) -> Int64? {
        let othersRunning = tasks.values.contains { $0.inHost && $0.process.pendingDeath == nil }
        var next: Int64? = nil
        var left: [(process: Process, deadline: Int64)] = []
        for d in doomed where d.process.exitStatus == nil {
            guard !othersRunning || now >= d.deadline else {
                left.append(d)
                next = min(next ?? d.deadline, d.deadline)
                continue
            }
            for task in d.process.tasks {
                if task.isBlocked || task.parked {
                    task.parked = false
                    makeRunnable(task)
                } else if task.inHost {
                    try? task.context.interrupt()
                }
            }
        }
        doomed = left
        return next
    }

    /// Signals sent to umk go to the guest, from "the kernel" (si_pid 0): those a terminal raises (SIGINT,
    /// SIGQUIT, SIGTSTP from its keys, SIGWINCH) to the console's foreground process group when it is the
    /// guest's controlling terminal; the rest (SIGHUP, SIGTERM, SIGUSR1, SIGUSR2) to process 1, as
    /// `docker run` forwards them.
    private func forwardProxiedSignals() {
        for sig in SignalProxy.take() {
            if [2, 3, 20, 28].contains(sig), let tty = terminal, tty.session != nil {
                signalGroup(tty.foreground, sig)
                continue
            }
            guard sig != 28, let p = processes[1], p.exitStatus == nil else { continue }
            sendToProcess(p, sig, info: SignalInfo(signo: sig, code: SignalInfo.SI_USER))
        }
    }

    /// Every task is blocked in the kernel: sleep the kernel thread until the next deadline or console input.
    /// With neither, nothing can ever wake them: the guest hangs, as it would on Linux.
    private func idle(until deadline: Int64?, now: Int64, inputs: [HostInput]) {
        // Waiting for the console writer to make room: look again within a tick (it also signals this thread).
        var deadline = deadline
        if !consoleOutput.queue.isEmpty || terminalRelays.contains(where: { $0.isBlocked }) {
            deadline = min(deadline ?? Int64.max, now + Kernel.tickInterval)
        }
        // Relays' inputs wake it too: the loop's next turn pumps them.
        let live = inputs.compactMap { input in input.file.map { (queue: input.queue, file: $0) } }
            + terminalRelays.filter(\.wantsInput).map { (queue: WaitQueue(), file: $0.input) }
        if let debugger {
            // Input or a packet from gdb, whichever comes first (the loop reads gdb's).
            let ms = deadline.map { Int32(clamping: max(0, ($0 - now + 999_999) / 1_000_000)) } ?? -1
            let ready = HostStreams.readable([debugger.connection.file] + live.map { $0.file }, timeoutMilliseconds: ms)
            for (input, isReady) in zip(live, ready.dropFirst()) where isReady { wake(input.queue) }
        } else if !live.isEmpty {
            let ms = deadline.map { Int32(clamping: max(0, ($0 - now + 999_999) / 1_000_000)) } ?? -1
            for (input, ready) in zip(live, HostStreams.readable(live.map { $0.file }, timeoutMilliseconds: ms)) where ready {
                wake(input.queue)
            }
        } else if let deadline {
            HostClock.sleep(untilMonotonic: deadline)
        } else if tasks.isEmpty {
            HostClock.sleep(untilMonotonic: now + 1_000_000_000)  // no program yet: the inbox's wake ends it
        } else {
            if !reportedStall {
                reportedStall = true
                log.warning("every guest task is blocked with nothing to wake it", source: "scheduler")
            }
            HostClock.sleep(untilMonotonic: now + 1_000_000_000)
        }
    }

    /// The timer interrupt: armed only while something needs it, so that the loop's wait is interrupted in
    /// time: a deadline (a sleeper, a wall timer), or a periodic look (console input, CPU-time timers and
    /// limits). Once armed it repeats every tick, which also bounds a wake-up lost to the race between the
    /// check and the wait; it is re-armed only when the plan changes, not on every stop.
    private func armTick(_ deadline: Int64?, periodic: Bool, now: Int64) {
        let plan: TickPlan = deadline.map { .at($0) } ?? (periodic ? .periodic : .off)
        guard plan != tickPlan else { return }
        tickPlan = plan
        switch plan {
        case .off: tick.arm(first: 0, interval: 0)
        case .periodic: tick.arm(first: Kernel.tickInterval, interval: Kernel.tickInterval)
        case .at(let d): tick.arm(first: max(d - now, 1), interval: Kernel.tickInterval)
        }
    }

    private enum TickPlan: Equatable {
        case off, periodic
        case at(Int64)
    }

    static let tickInterval: Int64 = 10_000_000

    private func runRunnable() throws(Errno) {
        let batch = runnable
        runnable.removeAll()
        for t in batch { t.isQueued = false }
        for t in batch where t.isAlive && !t.isBlocked && !t.inHost {
            if let sig = t.process.pendingDeath {
                terminate(t.process, .signaled(sig))
            } else if t.interrupted {
                let rip = t.regs.rip
                finishInterrupted(t)
                if let trace = t.pendingTrace {  // the call returns early (rip moved back: to run again)
                    strace?.interrupted(trace, t, restarted: t.regs.rip != rip, result: Int(Int64(bitPattern: t.regs.rax)))
                    t.pendingTrace = nil
                }
                try resume(t)
            } else if let value = t.completion {
                t.completion = nil
                t.regs.rax = UInt64(bitPattern: Int64(value))
                if let trace = t.pendingTrace { strace?.end(trace, t, result: value) }  // vfork, futex wake
                t.pendingTrace = nil
                try resume(t)
            } else if dispatch(t) {
                try resume(t)
            }
        }
    }

    private func handleStop(_ pid: Int32, _ stop: ContextStop) throws(Errno) {
        guard let task = tasks[pid] else { return }
        if task.inHost {
            task.inHost = false
            tasksInHost -= 1
        }
        switch stop {
        case .syscall:
            try task.context.getRegisters(&task.regs)
            if dispatch(task) { try resume(task) }
        case .signal(let sig):
            try handleSignalStop(task, sig)
        case .event:
            // Interrupted (a signal to deliver): the task was running, so its saved registers are stale.
            try task.context.getRegisters(&task.regs)
            try resume(task)
        case .exited(let code):
            // A context cannot end by itself short of a bug; treat it as killed.
            log.error("guest context \(pid) exited with \(code)", source: "platform")
            terminate(task.process, .signaled(9))
        case .killed(let sig):
            terminate(task.process, .signaled(sig))
        }
    }

    /// Sets the task's registers and lets it run until its next stop; queued mapping changes go first.
    @inline(__always)
    func resume(_ task: Task) throws(Errno) {
        if let sig = task.process.pendingDeath {
            terminate(task.process, .signaled(sig))
            return
        }
        do {
            if let debugger, debugger.holds(task) {
                task.parked = true  // until gdb lets it go (GdbStub.resume)
                return
            }
            if task.pendingSignals & ~task.signalMask != 0 || !task.ignoredSignals.isEmpty {  // (the latter: --strace)
                guard try deliverSignals(task) else { return }
            }
            if task.process.stopSignal != nil && parkIfStopped(task) { return }
            if task.scheduling != task.appliedScheduling { applyScheduling(task) }
            try task.mm.flush()
            try task.context.setRegisters(task.regs)
            try task.context.resume()
        } catch {
            // The host refused this task's context something (a mapping batch failed: the space is dead
            // already, see AddressSpace.flush): that guest process dies; the instance and the others go on.
            log.error("pid \(task.process.pid): host error \(error) on its platform context; killing it", source: "platform")
            terminate(task.process, .signaled(9))
            return
        }
        if !task.inHost {
            task.inHost = true
            tasksInHost += 1
        }
    }

    /// A signal stop: a fault of the guest (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) or a host signal sent
    /// to the stub. Faults the memory manager can satisfy (stack growth, copy-on-write, pages not yet
    /// backed) resume the guest; the rest take the signal's default action, since handler delivery is not
    /// built yet.
    private func handleSignalStop(_ task: Task, _ sig: Int32) throws(Errno) {
        let context = task.context!
        switch sig {
        case 11:  // SIGSEGV
            let info = try context.faultInfo()
            try context.getRegisters(&task.regs)
            if info.code > 0 && task.mm.handleFault(at: info.address) {
                try resume(task)
                return
            }
            // Two threads faulting on one page: the first one's handling (a copy-on-write break) has fixed it
            // by the time the second's is looked at. Run the access once more before calling it a fault; a
            // real one repeats with no mapping change in between.
            if info.code > 0 && task.mm.isMapped(info.address) {
                let fault = (address: info.address, rip: task.regs.rip, flushes: task.mm.flushes)
                if let last = task.retriedFault, last == fault {
                    task.retriedFault = nil
                } else {
                    task.retriedFault = fault
                    try resume(task)
                    return
                }
            }
            if info.code > 0 && task.mm.isBeyondEndOfFile(info.address) {
                try deliverFault(task, 7, FaultInfo(signo: 7, code: 2, address: info.address))  // SIGBUS, BUS_ADRERR
                return
            }
            if task.mm.vmas.find(info.address) != nil && task.mm.atHostMappingLimit {
                // A touch of memory the guest may use, but its stub has no host mapping left: that process's
                // own limit, so it is the one to go.
                log.warning("out of host mappings: killing pid \(task.process.pid)", source: "memory")
                terminate(task.process, .signaled(9))
                return
            }
            if task.mm.vmas.find(info.address) != nil && frames.freeFrames == 0 {
                // No frame left to back it: the OOM killer takes the largest process, and the fault is
                // tried again if that was another one.
                let victim = oomVictim(faulting: task.process)
                log.warning("out of guest memory: killing pid \(victim.pid) (\(victim.mm.residentPages * 4) KiB resident)", source: "memory")
                terminate(victim, .signaled(9))
                if victim !== task.process, task.isAlive { try resume(task) }
                return
            }
            log.debug("pid \(task.process.pid): SIGSEGV at \(GuestAddress(info.address)) rip \(GuestAddress(task.regs.rip))", source: "signals")
            try deliverFault(task, sig, info)
        case 31:  // SIGSYS: the stub's seccomp filter trapped a system call that was not a SYSEMU stop
            let info = try context.faultInfo()
            try context.getRegisters(&task.regs)
            if info.code == Kernel.SYS_SECCOMP, let nr = Kernel.vsyscallNumber(at: info.address) {
                try emulateVsyscall(task, nr)
                return
            }
            try deliverFault(task, sig, info)
        case 17, 28, 23, 18, 19, 20, 21, 22:
            // Default-ignored and stop signals the host sent the stub itself (guest job control is the kernel's
            // own, JobControl.swift): dropped.
            try context.resume()
            task.inHost = true
            tasksInHost += 1
        default:
            let info = try context.faultInfo()
            try context.getRegisters(&task.regs)
            try deliverFault(task, sig, info)
        }
    }

    /// mm/oom_kill.c in miniature: the live process with the most resident pages; process 1 only if it is
    /// the one faulting and no other has more than nothing (Linux never picks init).
    private func oomVictim(faulting: Process) -> Process {
        let candidates = processes.values.filter { $0.exitStatus == nil && $0.mmStorage != nil && $0.pid != 1 }
        let largest = candidates.max { a, b in
            a.mm.residentPages != b.mm.residentPages ? a.mm.residentPages < b.mm.residentPages : b === faulting
        }
        guard let largest, largest.mm.residentPages > 0 else { return faulting }
        return largest
    }

    static let SYS_SECCOMP: Int32 = 1
    static let vsyscallPage: UInt64 = 0xffff_ffff_ff60_0000

    /// The legacy vsyscall entries (arch/x86/entry/vsyscall): gettimeofday, time and getcpu at fixed
    /// addresses. The host emulates them without a ptrace stop; the stub's filter turns them into SIGSYS.
    static func vsyscallNumber(at address: UInt64) -> Int? {
        switch address {
        case vsyscallPage: return 96
        case vsyscallPage + 0x400: return 201
        case vsyscallPage + 0x800: return 309
        default: return nil
        }
    }

    /// Runs a vsyscall as the system call it stands for and returns to its caller, as Linux's
    /// emulate_vsyscall does. The host has already emulated the `ret` when its filter trapped the call.
    private func emulateVsyscall(_ task: Task, _ nr: Int) throws(Errno) {
        if task.regs.rip & ~0xfff == Kernel.vsyscallPage {
            guard let caller = try? task.mm.read(GuestAddress(task.regs.rsp), as: UInt64.self) else {
                try deliverFault(task, 11, FaultInfo(signo: 11, code: 1, address: task.regs.rsp))
                return
            }
            task.regs.rip = caller
            task.regs.rsp &+= 8
        }
        task.regs.origRax = UInt64(nr)
        if dispatch(task) { try resume(task) }
    }

    /// A synchronous fault (force_sig_fault): to the guest's handler if it has one and does not block the
    /// signal; otherwise the default action (Linux unblocks and resets it, so the process dies).
    private func deliverFault(_ task: Task, _ sig: Int32, _ info: FaultInfo) throws(Errno) {
        if let debugger, debugger.intercept(task, sig, info) { return }  // gdb sees it first
        let action = task.process.signalActions[Int(sig)]
        let bit = UInt64(1) << UInt64(sig - 1)
        guard action.handler > 1, task.signalMask & bit == 0, task.pendingSignals & bit == 0 else {
            strace?.signal(task, SignalInfo(signo: sig, code: info.code, address: info.address))
            terminate(task.process, .signaled(sig))
            return
        }
        task.pending.add(SignalInfo(signo: sig, code: info.code, address: info.address), limit: .max)
        try resume(task)
    }

    /// Logs an unimplemented system call once per instance, by name.
    func logUnknown(_ nr: Int) {
        if unknownSyscallsLogged.insert(nr).inserted {
            log.notice("unimplemented system call \(SyscallNames.name(nr)) (\(nr)): ENOSYS", source: "syscalls")
        }
    }
}
