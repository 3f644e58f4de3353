import Logging
import UmkHost

// Kernel.swift: one guest kernel instance and its main loop (arch/um os-Linux/skas/process.c `userspace`).
//
// Everything runs on the instance's kernel thread: it spawned and seized the stubs, so only it may ptrace
// them. The loop waits for any stub to stop, handles the stop (a system call, a fault, a signal), and
// resumes it with PTRACE_SYSEMU. Guest system calls never reach the host: the stub is stopped at each
// one, and the kernel writes the result into rax.
final class Kernel {
    let configuration: Configuration
    let frames: PhysicalFrames
    let rootDentry: Dentry
    let log: Logger
    let strace: Strace?
    let bootNanoseconds = HostClock.monotonicNanoseconds()
    var hostname: [UInt8]
    var domainname: [UInt8] = Array("(none)".utf8)

    /// Live tasks by the host pid of the stub they run in.
    private var tasks: [Int32: Task] = [:]
    private var nextPID: Int32 = 1
    private var unknownSyscallsLogged = Set<Int>()
    private var exitStatus: ExitStatus?

    init(_ config: Configuration) throws(LaunchError) {
        configuration = config
        var logger = Logger(label: "umk")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .warning
        log = logger
        hostname = Array(config.hostname.utf8)
        strace = config.straceFD.map { Strace(fd: $0) }
        do {
            frames = try PhysicalFrames(bytes: config.memoryBytes)
            rootDentry = Dentry(root: try HostInode.root(path: config.root))
        } catch {
            throw .kernelFailure("\(config.root): \(error.message)")
        }
        // Keep the kernel thread and its stubs on one host CPU: a ptrace round trip costs 11 us there and
        // 66 us across CPUs (DESIGN.md). The stubs inherit this affinity when they are cloned.
        let cpu = HostCPU.current
        if cpu >= 0 { try? HostCPU.pinCurrentThread(to: cpu) }
    }

    // MARK: Boot

    /// Starts process 1 running `argv` and runs the guest until process 1 exits.
    func boot(_ argv: [String]) throws(LaunchError) -> ExitStatus {
        guard let program = argv.first else { throw .notFound("") }
        let credentials = Credentials(uid: configuration.uid, gid: configuration.gid)
        let walk = PathWalk(root: rootDentry, credentials: credentials)
        let cwd: Dentry
        do throws(LinuxErrno) {
            cwd = try walk.resolve(Array(configuration.workingDirectory.utf8), from: rootDentry, followFinal: true)
            guard cwd.inode.isDirectory else { throw LinuxErrno.ENOTDIR }
        } catch {
            throw .kernelFailure("working directory \(configuration.workingDirectory): \(error.message)")
        }
        let path = try findProgram(program, walk: walk, cwd: cwd)
        let request = ExecRequest(path: Array(path.utf8), argv: argv.map { Array($0.utf8) },
                                  envp: configuration.environment.map { Array($0.utf8) })
        let image: ProgramImage
        do {
            image = try loadProgram(request, walk: walk, cwd: cwd, credentials: credentials,
                                    stackLimit: Process.defaultLimits[RLIMIT.STACK].soft)
        } catch {
            switch error {
            case .ENOENT where !path.contains("/"): throw .notFound(program)
            case .ENOENT: throw .notFound(path)
            case .ENOMEM: throw .kernelFailure("out of guest memory loading \(path) (--mem)")
            default: throw .cannotExecute(path, reason: error.message)
            }
        }
        let fds = FDTable()
        fds.install(ConsoleFile(host: .standardInput), at: 0, closeOnExec: false)
        fds.install(ConsoleFile(host: .standardOutput), at: 1, closeOnExec: false)
        fds.install(ConsoleFile(host: .standardError), at: 2, closeOnExec: false)
        let process = Process(pid: allocatePID(), parentPid: 0, mm: image.mm, fds: fds, root: rootDentry, cwd: cwd,
                              credentials: credentials, limits: Process.defaultLimits, executablePath: image.path)
        let task = Task(tid: process.pid, process: process)
        task.regs = image.registers
        tasks[task.hostPID] = task
        do {
            try resume(task)
            try loop()
        } catch {
            for t in tasks.values { t.mm.stub.kill() }
            throw .kernelFailure("host: \(LinuxErrno(host: error).message)")
        }
        return exitStatus ?? .signaled(9)
    }

    private func allocatePID() -> Int32 {
        defer { nextPID += 1 }
        return nextPID
    }

    /// execvp's search: a name without a slash is looked up in the guest's PATH (the instance environment's,
    /// or the default); the first executable regular file wins, EACCES if only non-executable ones exist.
    private func findProgram(_ name: String, walk: PathWalk, cwd: Dentry) throws(LaunchError) -> String {
        if name.contains("/") { return name }
        let pathVar = configuration.environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? Kernel.defaultPath
        var sawDenied: String? = nil
        for dir in pathVar.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            guard let d = try? walk.resolve(Array(candidate.utf8), from: cwd, followFinal: true) else { continue }
            guard d.inode.fileType == S.IFREG, let st = try? d.inode.stat() else { continue }
            if walk.credentials.permits(st, .execute) { return candidate }
            sawDenied = candidate
        }
        if let sawDenied { throw .cannotExecute(sawDenied, reason: LinuxErrno.EACCES.message) }
        throw .notFound(name)
    }

    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    // MARK: The loop

    private func loop() throws(Errno) {
        while exitStatus == nil {
            let (pid, stop) = try Tracer.wait()
            guard let task = tasks[pid] else { continue }
            switch stop {
            case .syscall:
                try Tracer.getRegisters(pid, &task.regs)
                if dispatch(task) { try resume(task) }
            case .signal(let sig):
                try handleSignalStop(task, sig)
            case .event:
                try Tracer.resumeSysemu(pid)
            case .exited(let code):
                // The stub exited by itself: it cannot, short of a bug; treat as a kill.
                log.error("stub \(pid) exited with \(code)")
                terminate(task.process, .signaled(9))
            case .killed(let sig):
                terminate(task.process, .signaled(sig))
            }
        }
    }

    /// Sets the task's registers and lets it run until its next stop; queued mapping changes go first.
    @inline(__always)
    func resume(_ task: Task) throws(Errno) {
        if task.mm.stub.hasPendingChanges { try task.mm.stub.flush() }
        try Tracer.setRegisters(task.hostPID, task.regs)
        try Tracer.resumeSysemu(task.hostPID)
    }

    /// A signal stop: a fault of the guest (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) or a host signal sent
    /// to the stub. Faults the memory manager can satisfy (stack growth, pages not yet backed) resume the
    /// guest; the rest take the signal's default action, since handler delivery is not built yet.
    private func handleSignalStop(_ task: Task, _ sig: Int32) throws(Errno) {
        let pid = task.hostPID
        switch sig {
        case 11:  // SIGSEGV
            let info = try Tracer.signalInfo(pid)
            try Tracer.getRegisters(pid, &task.regs)
            if info.code > 0 && task.mm.handleFault(at: info.address) {
                try resume(task)
                return
            }
            log.debug("pid \(task.process.pid): SIGSEGV at \(GuestAddress(info.address)) rip \(GuestAddress(task.regs.rip))")
            terminate(task.process, .signaled(sig))
        case 17, 28, 23, 18:  // SIGCHLD, SIGWINCH, SIGURG, SIGCONT: default is to ignore
            try Tracer.resumeSysemu(pid)
        case 19, 20, 21, 22:  // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: job control is a later issue
            try Tracer.resumeSysemu(pid)
        default:
            terminate(task.process, .signaled(sig))
        }
    }

    // MARK: Exit

    /// Ends a process: its stub is killed and reaped; process 1's end is the instance's end.
    func terminate(_ process: Process, _ status: ExitStatus) {
        let pid = process.mm.stub.pid
        tasks[pid] = nil
        process.mm.stub.kill()
        strace?.exit(process.pid, status)
        if process.pid == 1 { exitStatus = status }
    }

    /// Logs an unimplemented system call once per instance, by name.
    func logUnknown(_ nr: Int) {
        if unknownSyscallsLogged.insert(nr).inserted {
            log.notice("unimplemented system call \(SyscallNames.name(nr)) (\(nr)): ENOSYS")
        }
    }
}
