import UmkHost

// ControlServer.swift: the serving end of a named instance's control socket (NamedInstances.swift has the
// asking end). A thread accepts connections; each is served on a thread of its own, so that an exec waiting
// for its program never holds up a `umk ps`. Requests (lists of strings):
//   info                          -> ok NAME UMK-PID UPTIME-S PROCESSES MEMORY-BYTES COMMAND
//   ps                            -> ok ROW...   (PID PPID STATE THREADS RSS COMMAND, tab-separated)
//   kill SIG                      -> ok | error MESSAGE
//   stop GRACE-S                  -> ok, once the instance has ended (SIGTERM, then SIGKILL after GRACE-S)
//   exec CWD PREFERRED-CWD UID GID TTY N ENV*N ARGV...  with stdin, stdout and stderr attached; TTY is
//        ROWSxCOLUMNS for a pseudo-terminal (exec -t), else empty
//                                 -> started PID | error STATUS MESSAGE; later: exit exited|signaled N
//     and while it runs the client may send: signal SIG (to the program's process group), resize ROWS COLUMNS
//   gdb PID                       with gdb's connected socket attached -> ok | error STATUS MESSAGE
// Every connection is checked: only the user running the instance may use it (SO_PEERCRED).
final class ControlServer: @unchecked Sendable {
    let name: String
    let socketPath: String
    private let listener: ControlSocket
    private let instance: Instance
    private let command: String
    private let startedAt = HostClock.monotonicNanoseconds()
    private var acceptor: HostThread?
    /// The socket file as bound: once it is gone or another file stands there (its directory removed, as
    /// systemd removes $XDG_RUNTIME_DIR at logout), nothing can reach the instance any more, and it stops
    /// rather than run on unmanaged.
    private lazy var boundIdentity = ControlDirectory.identity(socketPath)

    init(name: String, socketPath: String, listener: ControlSocket, instance: Instance, command: String) {
        self.name = name
        self.socketPath = socketPath
        self.listener = listener
        self.instance = instance
        self.command = command
    }

    func start() {
        _ = boundIdentity
        acceptor = HostThread(name: "umk-control") { [self] in
            while true {
                // Looked at once a second while no one connects.
                if !listener.waitReadable(timeoutMilliseconds: 1000) {
                    guard ControlDirectory.identity(socketPath) == boundIdentity else {
                        HostProcess.printError("umk: \(name): the control socket \(socketPath) is gone; stopping the instance")
                        instance.shutDown()
                        break
                    }
                    continue
                }
                let connection: ControlSocket
                do throws(Errno) {
                    connection = try listener.accept()
                } catch {
                    if error.rawValue == 22 || error.rawValue == 9 { break }  // EINVAL, EBADF: shut down (close)
                    HostClock.sleep(untilMonotonic: HostClock.monotonicNanoseconds() + 100_000_000)  // EMFILE...
                    continue
                }
                HostThread.detached(name: "umk-control") { [self] in serve(connection) }
            }
        }
    }

    /// No more connections: the socket goes (if it is still this instance's), so that the name is free again.
    func close() {
        if ControlDirectory.identity(socketPath) == boundIdentity { ControlDirectory.remove(socketPath) }
        listener.shutDown()
        acceptor?.join()
        acceptor = nil
    }

    private func serve(_ c: ControlSocket) {
        // A client that connects and says nothing does not keep a thread and a descriptor for ever.
        guard c.waitReadable(timeoutMilliseconds: 30_000),
              let (request, files) = try? c.receive(), let verb = request.first else { return }
        guard c.peerUID == ControlDirectory.userID else {
            // Its request was read (and any descriptors closed) first, so that the client hears why.
            try? c.send(["error", "125", "permission denied: the instance belongs to uid \(ControlDirectory.userID)"])
            return
        }
        switch verb {
        case "info":
            let uptime = (HostClock.monotonicNanoseconds() - startedAt) / 1_000_000_000
            try? c.send(["ok", name, String(HostProcess.id), String(uptime), String(instance.processes().count),
                         String(instance.memoryInUse()), command])
        case "ps":
            // Command lines cut to 100 characters: the reply must fit one message however many processes.
            let rows = instance.processes().map { p in
                "\(p.pid)\t\(p.parentPid)\t\(p.state)\t\(p.threads)\t\(p.residentBytes)\t\(p.command.prefix(100))"
            }
            try? c.send(["ok"] + rows)
        case "kill":
            guard request.count == 2, let sig = Int32(request[1]), (1...64).contains(sig) else {
                try? c.send(["error", "bad signal"])
                return
            }
            try? c.send(instance.signal(sig) ? ["ok"] : ["error", "\(name) has no process 1 to signal"])
        case "stop":
            let grace = request.count == 2 ? Double(request[1]).flatMap { $0.isFinite ? $0 : nil } ?? 10 : 10
            if !instance.signal(15) || instance.wait(timeout: max(0, min(grace, 3600))) == nil {
                instance.shutDown()
            }
            try? c.send(["ok"])
        case "exec":
            exec(c, Array(request.dropFirst()), files)
        case "gdb":
            guard request.count == 2, let pid = Int32(request[1]), files.count == 1 else {
                try? c.send(["error", "125", "malformed gdb request"])
                return
            }
            if let why = instance.attachDebugger(descriptor: files[0].fd, pid: pid) {
                try? c.send(["error", "125", "\(name): \(why)"])
            } else {
                try? c.send(["ok"])
            }
        default:
            try? c.send(["error", "unknown request \(verb)"])
        }
    }

    private func exec(_ c: ControlSocket, _ fields: [String], _ files: [HostFile]) {
        // "-": the instance's own user.
        let uid = fields.count > 2 && fields[2] != "-" ? UInt32(fields[2]) : nil
        let gid = fields.count > 3 && fields[3] != "-" ? UInt32(fields[3]) : nil
        let size = fields.count > 4 ? fields[4].split(separator: "x").compactMap { UInt16($0) } : []
        guard fields.count >= 7, files.count == 3, (uid != nil) == (fields[2] != "-"), (gid != nil) == (fields[3] != "-"),
              fields[4].isEmpty || size.count == 2,
              let n = Int(fields[5]), n >= 0, n <= fields.count, fields.count >= 6 + n + 1 else {
            try? c.send(["error", "125", "malformed exec request"])
            return
        }
        // The instance's environment, with the client's -e entries over it (as docker exec's).
        var environment = instance.configuration.environment
        for entry in fields[6..<(6 + n)] {
            let key = entry.prefix { $0 != "=" }
            environment.removeAll { $0.prefix { $0 != "=" } == key }
            environment.append(entry)
        }
        var options = SpawnOptions(standardInput: .descriptor(files[0].fd), standardOutput: .descriptor(files[1].fd),
                                   standardError: .descriptor(files[2].fd), environment: environment)
        options.workingDirectory = fields[0].isEmpty ? nil : fields[0]
        options.preferredWorkingDirectory = fields[1].isEmpty ? nil : fields[1]
        options.uid = uid
        options.gid = gid
        if size.count == 2 { options.terminalSize = (size[0], size[1]) }
        let process: GuestProcess
        do {
            process = try instance.spawn(Array(fields[(6 + n)...]), options)
        } catch {
            try? c.send(["error", String(error.exitStatus), "umk: \(error)"])
            return
        }
        try? c.send(["started", String(process.pid)])
        // The client forwards the signals it gets (^C at its terminal) until the program ends.
        HostThread.detached(name: "umk-control") {
            while let (message, _) = (try? c.receive()) ?? nil {
                if message.count == 2, message[0] == "signal", let sig = Int32(message[1]) { process.signal(sig, group: true) }
                if message.count == 3, message[0] == "resize", let rows = UInt16(message[1]), let columns = UInt16(message[2]) {
                    process.resizeTerminal(rows: rows, columns: columns)
                }
            }
        }
        let status = process.wait() ?? .signaled(9)
        switch status {
        case .exited(let code): try? c.send(["exit", "exited", String(code)])
        case .signaled(let sig): try? c.send(["exit", "signaled", String(sig)])
        }
        c.shutDown()
    }
}
