import UmkHost

// Spawn.swift: programs started in an instance from outside it: process 1 at boot, and later ones from the
// library (Instance.spawn) or the control socket (`umk exec`). A later program is the kernel's own child, as
// `docker exec` makes it: parent pid 0, a session and process group of its own, no controlling terminal, its
// stdin, stdout and stderr the host descriptors it was given. It is reaped when it exits, and whoever
// started it is told its status.

/// What to start, and whom to tell when it ends (called on the kernel thread).
struct SpawnRequest: Sendable {
    var argv: [String]
    var environment: [String]
    var workingDirectory: String
    /// Used instead of `workingDirectory` when the guest has it (Configuration.preferredWorkingDirectory).
    var preferredWorkingDirectory: String? = nil
    var uid: UInt32
    var gid: UInt32
    /// fds 0, 1 and 2 (the kernel owns these objects from now on), or nil for the instance's console.
    var standardStreams: [HostFile]? = nil
    /// `umk exec -t`: a pseudo-terminal of this size between the program and its streams (TerminalRelay).
    var terminal: (rows: UInt16, columns: UInt16)? = nil
    var onExit: (@Sendable (ExitStatus) -> Void)? = nil
}

/// A host descriptor the guest reads as a console (a stdin given to a program), and the queue the loop
/// wakes when it is readable. Weak: the registry must not keep the descriptor open.
struct HostInput {
    weak var file: HostFile?
    let queue: WaitQueue
}

/// One process as `umk ps` lists it.
public struct GuestProcessInfo: Sendable, Equatable {
    public let pid: Int32
    public let parentPid: Int32
    /// ps's state letter: R running, S sleeping, T stopped, Z zombie.
    public let state: Character
    public let threads: Int
    public let residentBytes: Int
    public let command: String
}

extension Kernel {
    /// Loads `r.argv` and makes it a process ready to run (not yet resumed).
    func startProcess(_ r: SpawnRequest) throws(LaunchError) -> Process {
        guard let program = r.argv.first else { throw .notFound("") }
        let loadStart = strace != nil ? HostClock.monotonicNanoseconds() : 0
        let credentials = Credentials(uid: r.uid, gid: r.gid)
        var walk = PathWalk(root: rootDentry, credentials: credentials)
        walk.mounts = mounts
        var cwd: Dentry
        do throws(LinuxErrno) {
            cwd = try walk.resolve(Array(r.workingDirectory.utf8), from: rootDentry, followFinal: true)
            if let preferred = r.preferredWorkingDirectory,
               let there = try? walk.resolve(Array(preferred.utf8), from: rootDentry, followFinal: true),
               there.inode.isDirectory {
                cwd = there
            }
            guard cwd.inode.isDirectory else { throw LinuxErrno.ENOTDIR }
        } catch {
            throw .kernelFailure("working directory \(r.workingDirectory): \(error.message)")
        }
        let path = try findProgram(program, environment: r.environment, walk: walk, cwd: cwd)
        let request = ExecRequest(path: Array(path.utf8), argv: r.argv.map { Array($0.utf8) },
                                  envp: r.environment.map { Array($0.utf8) })
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
        fds.locks = fileLocks
        fds.notify = notify
        var relay: TerminalRelay? = nil
        if let streams = r.standardStreams, streams.count == 3, let size = r.terminal {
            let (made, slave) = try makeTerminalRelay(input: streams[0], output: streams[1], rows: size.rows,
                                                      columns: size.columns, owner: credentials)
            relay = made
            for fd in 0..<3 { fds.install(slave, at: Int32(fd), closeOnExec: false) }
        } else if let streams = r.standardStreams, streams.count == 3 {
            let input = WaitQueue()
            hostInputs.removeAll { $0.file == nil }
            hostInputs.append(HostInput(file: streams[0], queue: input))
            for (fd, host) in streams.enumerated() {
                fds.install(ConsoleFile(host: host, queue: input, output: consoleOutput), at: Int32(fd), closeOnExec: false)
            }
        } else {
            fds.install(ConsoleFile(host: consoleStreams.input, queue: consoleQueue, output: consoleOutput), at: 0, closeOnExec: false)
            fds.install(ConsoleFile(host: consoleStreams.output, queue: consoleQueue, output: consoleOutput), at: 1, closeOnExec: false)
            fds.install(ConsoleFile(host: consoleStreams.error, queue: consoleQueue, output: consoleOutput), at: 2, closeOnExec: false)
        }
        let process = Process(pid: allocatePID(), parentPid: 0, mm: image.mm, fds: fds, root: rootDentry, cwd: cwd,
                              credentials: credentials, limits: Process.defaultLimits, executablePath: image.path)
        process.kernel = self
        process.name = Process.comm(of: path)
        process.commandLine = r.argv.flatMap { Array($0.utf8) + [0] }
        let task = Task(tid: process.pid, process: process)
        process.tasks = [task]
        processes[process.pid] = process
        do {
            task.context = try image.mm.space.newContext()
        } catch {
            processes[process.pid] = nil
            process.tasks = []
            relay?.close(self)
            throw .kernelFailure("a guest thread: \(LinuxErrno(host: error).message)")
        }
        if let relay {
            // Its own session's controlling terminal, in the foreground (as login or sshd leave a shell).
            relay.pty.control.session = process.session
            relay.pty.control.foreground = process.processGroup
            relaysByPid[process.pid] = relay
        }
        startCPUInterval(process)
        startThreadClock(task)
        task.regs = image.registers
        // --strace: strace's first line is the execve that starts a program; umk's loading of it stands for it.
        strace?.boot(task, path: path, argv: r.argv, envp: task.regs.rsp &+ 16 &+ 8 &* UInt64(r.argv.count),
                     environmentCount: r.environment.count, since: loadStart)
        tasks[task.context.id] = task
        threads[task.tid] = task
        if let onExit = r.onExit { exitWatchers[process.pid] = onExit }
        return process
    }

    /// Starts a program in the running instance (on the kernel thread, from the inbox): its pid.
    func spawn(_ r: SpawnRequest) throws(LaunchError) -> Int32 {
        // Work taken in one batch with what ended the instance comes after its end.
        guard exitStatus == nil else { throw .kernelFailure("the instance has ended") }
        let p = try startProcess(r)
        do {
            try resume(p.tasks[0])
        } catch {
            terminate(p, .signaled(9))
        }
        return p.pid
    }

    /// A process is over (Lifecycle's terminate): tell whoever started it, and reap it if the kernel is its
    /// parent (a program started from outside, or an orphan with no process 1 to inherit it).
    func processEnded(_ p: Process, _ status: ExitStatus) {
        if let relay = relaysByPid.removeValue(forKey: p.pid) {
            relay.pump(self)  // what it printed last goes out before its end is told
            relay.close(self)
        }
        if let watcher = exitWatchers.removeValue(forKey: p.pid) { watcher(status) }
        if p.parentPid == 0 && p.pid != 1 { reap(p) }
    }

    /// execvp's search: a name without a slash is looked up in the program's PATH (or the default); the
    /// first executable regular file wins, EACCES if only non-executable ones exist.
    func findProgram(_ name: String, environment: [String], walk: PathWalk, cwd: Dentry) throws(LaunchError) -> String {
        if name.contains("/") { return name }
        let pathVar = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? Kernel.defaultPath
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

    /// The processes for `umk ps`, by pid.
    func processList() -> [GuestProcessInfo] {
        processes.values.sorted { $0.pid < $1.pid }.map { p in
            let state: Character
            if p.exitStatus != nil {
                state = "Z"
            } else if p.stopSignal != nil {
                state = "T"
            } else {
                state = p.tasks.contains { $0.inHost || $0.isQueued } ? "R" : "S"
            }
            var args = p.commandLine.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if args.last == "" { args.removeLast() }
            return GuestProcessInfo(pid: p.pid, parentPid: p.parentPid, state: state, threads: p.tasks.count,
                                    residentBytes: (p.mmStorage?.residentPages ?? 0) * 4096,
                                    command: args.joined(separator: " "))
        }
    }
}
