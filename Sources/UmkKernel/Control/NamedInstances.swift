import UmkHost

// NamedInstances.swift: `umk run --name NAME [-d]` and the commands that reach a running instance by name
// (`umk ls`, `exec`, `ps`, `stop`, `kill`, `logs`), in the manner of docker's and UML's mconsole. Each named
// instance has NAME.sock (its control socket, ControlServer.swift) and, when detached, NAME.log (its console)
// in the control directory (ControlDirectory: $XDG_RUNTIME_DIR/umk, or /tmp/umk-UID). A socket left by an
// instance that died is found stale (nothing listens) and removed.
public enum NamedInstances {
    /// Why a command about a named instance failed: one line for stderr, and umk's exit status (125).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public var exitStatus: Int32 = 125
        init(_ description: String, exitStatus: Int32 = 125) {
            self.description = description
            self.exitStatus = exitStatus
        }
    }

    /// A running instance, as `umk ls` lists it.
    public struct Summary: Sendable {
        public let name: String
        public let umkPID: Int32
        public let uptimeSeconds: Int
        public let processes: Int
        public let memoryBytes: Int
        public let command: String
    }

    /// Letters, digits and `_ . -`, starting with a letter or digit, at most 64: a file name in any case.
    public static func validate(_ name: String) throws(Failure) {
        let ok = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f || c == 0x2e || c == 0x2d
        } && name.utf8.first.map { $0 != 0x2e && $0 != 0x2d && $0 != 0x5f } == true
        guard ok else { throw Failure("invalid instance name '\(name)': use letters, digits, _ . - (at most 64, starting with a letter or digit)") }
    }

    static func directory() throws(Failure) -> String {
        do { return try ControlDirectory.path() } catch { throw Failure(error.description) }
    }

    /// Connects to NAME's socket: a clear failure if there is no such instance (removing a stale socket).
    static func connect(_ name: String) throws(Failure) -> ControlSocket {
        try validate(name)
        let path = try directory() + "/\(name).sock"
        do {
            return try ControlSocket.connect(to: path)
        } catch {
            switch error.rawValue {
            case 111:  // ECONNREFUSED: the instance died without removing its socket
                ControlDirectory.remove(path)
                throw Failure("no instance named \(name) is running")
            case 2: throw Failure("no instance named \(name) is running")
            case 13: throw Failure("\(name): permission denied")
            default: throw Failure("\(name): \(LinuxErrno(host: error).message)")
            }
        }
    }

    /// One request and its answer; an `error` answer becomes a Failure.
    static func ask(_ name: String, _ request: [String]) throws(Failure) -> [String] {
        let c = try connect(name)
        do {
            try c.send(request)
            guard let (answer, _) = try c.receive() else { throw Failure("\(name) ended") }
            if answer.first == "error" { throw Failure(answer.count >= 3 ? answer[2] : answer.dropFirst().joined(separator: " ")) }
            return answer
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure("\(name): \(error)")
        }
    }

    // MARK: run --name

    /// Runs `argv` as process 1 of an instance named `name`, serving its control socket until it ends: the
    /// exit status for `umk run`. In a detached umk (`run -d`), reports on the ready pipe whether it started.
    public static func run(_ name: String, configuration: Configuration, argv: [String]) -> Int32 {
        func fail(_ message: String, _ status: Int32) -> Int32 {
            HostDetach.reportReady("error \(status) umk: \(message)")
            HostProcess.printError("umk: \(message)")
            return status
        }
        let socketPath: String
        let listener: ControlSocket
        do throws(Failure) {
            try validate(name)
            socketPath = try directory() + "/\(name).sock"
            if ControlDirectory.exists(socketPath) {
                if (try? ControlSocket.connect(to: socketPath)) != nil { throw Failure("an instance named \(name) is running already") }
                ControlDirectory.remove(socketPath)  // stale
            }
            do {
                listener = try ControlSocket.listen(at: socketPath)
            } catch {
                throw error.rawValue == 98 ? Failure("an instance named \(name) is running already")  // EADDRINUSE
                    : Failure("\(socketPath): \(LinuxErrno(host: error).message)")
            }
        } catch {
            return fail(error.description, error.exitStatus)
        }
        let instance = Instance(configuration)
        do {
            try instance.start(argv)
        } catch {
            ControlDirectory.remove(socketPath)
            return fail(error.description, error.exitStatus)
        }
        let server = ControlServer(name: name, socketPath: socketPath, listener: listener, instance: instance,
                                   command: argv.joined(separator: " "))
        server.start()
        HostDetach.reportReady("ok")
        let status = instance.wait() ?? .signaled(9)
        server.close()
        return status.shellStatus
    }

    /// `umk run -d`: starts umk again with `arguments` (those of this run, less -d), detached, its console in
    /// NAME.log; returns once the instance runs (0, having printed NAME), or why it did not start.
    public static func detach(_ name: String, arguments: [String]) throws(Failure) {
        try validate(name)
        let dir = try directory()
        if (try? ControlSocket.connect(to: dir + "/\(name).sock")) != nil { throw Failure("an instance named \(name) is running already") }
        let child: (ready: HostFile, pid: Int32)
        do {
            child = try HostDetach.spawn(arguments, environment: HostProcess.environment, logPath: dir + "/\(name).log")
        } catch {
            throw Failure("cannot start umk detached: \(LinuxErrno(host: error).message)")
        }
        let line = HostDetach.readLine(child.ready)
        if line == "ok" { return }
        let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
        if parts.count == 3, parts[0] == "error", let status = Int32(parts[1]) {
            throw Failure(parts[2].hasPrefix("umk: ") ? String(parts[2].dropFirst(5)) : parts[2], exitStatus: status)
        }
        let status = HostDetach.exitStatus(of: child.pid)
        throw Failure("the detached instance ended at once (status \(status)); see umk logs \(name)", exitStatus: status == 0 ? 125 : status)
    }

    /// A name for `run -d` without --name: eight hex digits, as short container ids.
    public static func generatedName() -> String {
        var bytes = [UInt8](repeating: 0, count: 4)
        bytes.withUnsafeMutableBytes { HostRandom.fill($0) }
        return bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// "TERM", "SIGTERM" or "15".
    public static func signalNumber(_ s: String) -> Int32? {
        if let n = Int32(s) { return (1...64).contains(n) ? n : nil }
        let name = s.uppercased().hasPrefix("SIG") ? s.uppercased() : "SIG" + s.uppercased()
        return (1...31).first { signalName(Int32($0)) == name }.map { Int32($0) }
    }

    // MARK: the other commands

    /// Writes NAME's console log to umk's stdout; with `follow`, goes on writing what is added until the
    /// instance ends (docker logs -f).
    public static func printLog(_ name: String, follow: Bool) throws(Failure) {
        let path = try logPath(name)
        let file: HostFile
        do { file = try HostStreams.open(path, forWriting: false) } catch { throw Failure("\(path): \(LinuxErrno(host: error).message)") }
        var offset: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let alive = follow && isRunning(name)  // looked at before the read: nothing written before the end is missed
            while true {
                let n = buffer.withUnsafeMutableBytes { (try? file.read(into: $0, at: offset)) ?? 0 }
                guard n > 0 else { break }
                var done = 0
                while done < n, let w = try? HostFile.standardOutput.write(Array(buffer[done..<n])), w > 0 { done += w }
                guard done == n else { return }  // stdout is gone
                offset += Int64(n)
            }
            if !alive { return }
            HostClock.sleep(untilMonotonic: HostClock.monotonicNanoseconds() + 100_000_000)
        }
    }

    /// The running instances (stale sockets are removed on the way).
    public static func list() throws(Failure) -> [Summary] {
        let dir = try directory()
        var out: [Summary] = []
        for name in ControlDirectory.names(in: dir, suffix: ".sock") {
            guard let a = try? ask(name, ["info"]), a.count >= 7 else { continue }
            out.append(Summary(name: a[1], umkPID: Int32(a[2]) ?? 0, uptimeSeconds: Int(a[3]) ?? 0,
                               processes: Int(a[4]) ?? 0, memoryBytes: Int(a[5]) ?? 0, command: a[6]))
        }
        return out
    }

    public static func processes(_ name: String) throws(Failure) -> [GuestProcessInfo] {
        let answer = try ask(name, ["ps"])
        return answer.dropFirst().compactMap { row in
            let f = row.split(separator: "\t", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 6, let pid = Int32(f[0]), let ppid = Int32(f[1]), let state = f[2].first,
                  let threads = Int(f[3]), let rss = Int(f[4]) else { return nil }
            return GuestProcessInfo(pid: pid, parentPid: ppid, state: state, threads: threads, residentBytes: rss, command: f[5])
        }
    }

    public static func kill(_ name: String, signal: Int32) throws(Failure) {
        _ = try ask(name, ["kill", String(signal)])
    }

    /// SIGTERM to process 1, SIGKILL to everything after `grace` seconds; returns once the instance is gone.
    public static func stop(_ name: String, grace: Double) throws(Failure) {
        let c = try connect(name)
        do {
            try c.send(["stop", String(grace)])
            _ = try c.receive()  // ok, or the end of the stream as umk exits
        } catch {}
        let path = (try? directory()).map { $0 + "/\(name).sock" } ?? ""
        let deadline = HostClock.monotonicNanoseconds() + 10_000_000_000
        while ControlDirectory.exists(path) && HostClock.monotonicNanoseconds() < deadline {
            HostClock.sleep(untilMonotonic: HostClock.monotonicNanoseconds() + 10_000_000)
        }
    }

    /// The console log of a detached instance (kept after it ends, until the name is used again).
    public static func logPath(_ name: String) throws(Failure) -> String {
        try validate(name)
        let path = try directory() + "/\(name).log"
        guard ControlDirectory.exists(path) else { throw Failure("no log for \(name): it was not started with -d") }
        return path
    }

    /// Whether NAME's socket answers (for `logs --follow`).
    public static func isRunning(_ name: String) -> Bool {
        guard let dir = try? directory() else { return false }
        return (try? ControlSocket.connect(to: dir + "/\(name).sock")) != nil
    }

    /// `umk gdb NAME PID`: hands gdb's connection to the instance, which puts PID under gdb. The connection is
    /// umk's stdin when it is a socket (gdb's `target remote | umk gdb NAME PID`), else one accepted at
    /// `listen` (HOST:PORT on 127.0.0.1, :PORT or a UNIX socket path; `target remote ADDR`).
    public static func gdb(_ name: String, pid: Int32, listen: String?) throws(Failure) {
        let c = try connect(name)
        var connection: DebugConnection? = nil
        if let listen {
            guard let address = DebugAddress(listen) else {
                throw Failure("--listen \(listen): expected HOST:PORT on 127.0.0.1, :PORT, or a UNIX socket path")
            }
            SignalProxy.blockInThisThread()
            SignalProxy.install()
            do {
                connection = try DebugConnection.accept(at: address, listening: {
                    HostProcess.printError("umk: waiting for gdb on \(address) (in gdb: target remote \(address))")
                }, interrupted: { !SignalProxy.take().isEmpty })
            } catch {
                throw Failure("--listen \(listen): \(LinuxErrno(host: error).message)")
            }
        } else if !HostStreams.isSocket(0) {
            throw Failure("gdb's connection goes on stdin: in gdb, target remote | umk gdb \(name) \(pid); or use --listen ADDR")
        }
        do {
            try c.send(["gdb", String(pid)], descriptors: [connection?.file.fd ?? 0])
            guard let (answer, _) = try c.receive() else { throw Failure("\(name) ended") }
            if answer.first == "error" { throw Failure(answer.count >= 3 ? answer[2] : "gdb attach failed") }
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure("\(name): \(error)")
        }
    }

    /// `umk exec NAME -- CMD`: runs CMD in the instance with umk's own stdin, stdout and stderr, forwarding the
    /// signals umk gets to it; returns its status as a shell gives it.
    /// With `terminal`, the program gets a pseudo-terminal of the instance (its controlling terminal), and
    /// umk's own terminal passes every byte through raw until it ends. The instance's end of it is a socket
    /// this client pumps to and from its terminal: the instance never reads a descriptor that another
    /// process (the shell that ran umk) reads too, and a client that dies hangs the terminal up.
    public static func exec(_ name: String, argv: [String], environment: [String], workingDirectory: String?,
                            user: (uid: UInt32, gid: UInt32)?, terminal: Bool = false) throws(Failure) -> Int32 {
        var size = ""
        if terminal {
            guard HostFile.standardInput.isTerminal, let s = HostTerminal.size(of: 0) else {
                throw Failure("-t: the input is not a terminal")
            }
            size = "\(s.rows)x\(s.columns)"
        }
        let c = try connect(name)
        let cwd = HostProcess.currentDirectory() ?? ""
        let (uid, gid) = user.map { (String($0.uid), String($0.gid)) } ?? ("-", "-")
        let request = ["exec", workingDirectory ?? "", workingDirectory == nil ? cwd : "", uid, gid, size,
                       String(environment.count)] + environment + argv
        SignalProxy.blockInThisThread()
        SignalProxy.install()
        var stream: HostFile? = nil
        do {
            if terminal {
                let (mine, theirs) = try HostStreams.socketPair()
                stream = mine
                try c.send(request, descriptors: [theirs.fd, theirs.fd, theirs.fd])
            } else {
                try c.send(request, descriptors: [0, 1, 2])
            }
        } catch {
            throw Failure(error.rawValue == 7 ? "\(name): the command and its environment are too long" : "\(name): \(LinuxErrno(host: error).message)")
        }
        var started = false
        let control = HostFile(fd: c.fd, owned: false)
        var toGuest: [UInt8] = []
        var inputOpen = true
        while true {
            for sig in SignalProxy.take() where started {
                if sig == 28 {  // SIGWINCH: the terminal's new size, for the program's pseudo-terminal
                    if terminal, let s = HostTerminal.size(of: 0) { try? c.send(["resize", String(s.rows), String(s.columns)]) }
                    continue
                }
                try? c.send(["signal", String(sig)])
            }
            if let s = stream {
                // The terminal stream: keys to the instance (what the socket takes now), output to stdout.
                let watched = [control, s] + (inputOpen && toGuest.isEmpty ? [HostFile.standardInput] : [])
                let ready = HostStreams.readable(watched, timeoutMilliseconds: toGuest.isEmpty ? 100 : 10)
                if ready.count > 2 && ready[2] {
                    if let keys = HostStreams.readSome(0) { toGuest = keys } else { inputOpen = false }
                }
                if !toGuest.isEmpty {
                    guard let n = HostStreams.sendSome(s.fd, toGuest) else { throw Failure("\(name) ended") }
                    toGuest.removeFirst(n)
                }
                if ready[1] {
                    if let out = HostStreams.readSome(s.fd, max: 65536) { _ = HostStreams.writeAll(1, out) } else { stream = nil }
                }
                guard ready[0] else { continue }
            } else {
                guard c.waitReadable(timeoutMilliseconds: 100) else { continue }
            }
            guard let (message, _) = (try? c.receive()) ?? nil else {
                throw Failure("\(name) ended")
            }
            switch message.first {
            case "started":
                started = true
                if terminal {
                    HostTerminal.saveMode()  // put back by umk's exit, however it exits
                    HostTerminal.makeRaw()
                }
            case "error":
                throw Failure(message.count >= 3 ? (message[2].hasPrefix("umk: ") ? String(message[2].dropFirst(5)) : message[2]) : "exec failed",
                              exitStatus: message.count >= 2 ? Int32(message[1]) ?? 125 : 125)
            case "exit" where message.count == 3:
                // What the program printed last is in the terminal stream already: out before the status.
                while let s = stream, HostStreams.readable([s], timeoutMilliseconds: 50)[0],
                      let out = HostStreams.readSome(s.fd, max: 65536) {
                    _ = HostStreams.writeAll(1, out)
                }
                let n = Int32(message[2]) ?? 0
                return message[1] == "exited" ? n & 0xff : 128 &+ (n & 0x7f)
            default: break
            }
        }
    }
}
