import UmkHost

// TerminalRelay.swift: `umk exec -t`: a program started from outside gets a pseudo-terminal of the instance's
// devpts as its stdin, stdout, stderr and controlling terminal, and the kernel itself plays the master side
// (as sshd or a container runtime's pty relay would, here with no process for it): what the client types
// (its own terminal in raw mode, pumped by the client into a socket only this instance reads) is written to
// the master, and what the slave prints goes back through the console writer. The client's end of file, or
// the program's end, closes the master: the slave hangs up, as when an ssh session drops.
final class TerminalRelay {
    let pty: PseudoTerminal
    let input: HostFile
    let output: HostFile
    /// Slave output the console writer had no room for yet; client input the master had no room for yet.
    private var pending: [UInt8] = []
    private var typed: [UInt8] = []
    private(set) var closed = false

    init(pty: PseudoTerminal, input: HostFile, output: HostFile) {
        self.pty = pty
        self.input = input
        self.output = output
    }

    /// Moves what can move now, both ways, without blocking.
    func pump(_ kernel: Kernel) {
        guard !closed else { return }
        // Client -> slave, while the master has room; what it does not take now waits in `typed`.
        while true {
            if typed.isEmpty {
                guard input.isReadable() else { break }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = buffer.withUnsafeMutableBytes { (try? input.read(into: [HostBuffer(base: $0.baseAddress!, count: $0.count)])) ?? 0 }
                guard n > 0 else {
                    close(kernel)  // the client's end of file (or an error): hang up
                    return
                }
                typed = Array(buffer[0..<n])
            }
            let n = (try? pty.masterWrite(typed)) ?? 0
            if n == 0 { break }
            typed.removeFirst(n)
        }
        // Slave -> client, while the console writer takes it.
        while true {
            if pending.isEmpty { pending = (try? pty.masterRead(4096)) ?? [] }
            guard !pending.isEmpty else { break }
            let n = pending.withUnsafeMutableBytes { b in
                (try? kernel.consoleOutput.writer.write(output, from: [HostBuffer(base: b.baseAddress!, count: b.count)])) ?? b.count
            }
            if n == 0 { break }  // full: the loop looks again within a tick
            pending.removeFirst(n)
        }
    }

    /// Whether it waits for the console writer's room, or for the program to read what was typed.
    var isBlocked: Bool { !pending.isEmpty || !typed.isEmpty }
    /// Whether the loop should wake for client input (not while typed bytes still wait for the master).
    var wantsInput: Bool { !closed && typed.isEmpty }

    /// The window size the client's terminal has (TIOCSWINSZ from the master: SIGWINCH to the foreground).
    func resize(rows: UInt16, columns: UInt16) {
        var size = WindowSize()
        size.bytes = [UInt8(rows & 0xff), UInt8(rows >> 8), UInt8(columns & 0xff), UInt8(columns >> 8), 0, 0, 0, 0]
        pty.resize(size)
    }

    func close(_ kernel: Kernel) {
        guard !closed else { return }
        closed = true
        pty.masterClosed()
        kernel.terminalRelays.removeAll { $0 === self }
    }
}

extension Kernel {
    /// A new pseudo-terminal for a program started with `umk exec -t`: its slave file (to be fds 0, 1 and 2)
    /// and the relay that plays its master. The program's process (a session leader) takes it as its
    /// controlling terminal once it exists (`attachTerminal`).
    func makeTerminalRelay(input: HostFile, output: HostFile, rows: UInt16, columns: UInt16,
                           owner: Credentials) throws(LaunchError) -> (TerminalRelay, OpenFile) {
        guard let index = (0..<PseudoTerminal.maxCount).first(where: { pseudoTerminals[$0] == nil }) else {
            throw .kernelFailure("no pseudo-terminal left (kernel.pty.max)")
        }
        let pty = PseudoTerminal(kernel: self, index: index, owner: owner)
        pseudoTerminals[index] = pty
        pty.locked = false
        let relay = TerminalRelay(pty: pty, input: input, output: output)
        relay.resize(rows: rows, columns: columns)
        let slave = PtySlaveFile(pty: pty, dentry: Dentry(detached: pty.name, inode: pty.slaveInode), flags: O.RDWR)
        terminalRelays.append(relay)
        return (relay, slave)
    }

    /// Every live relay moves its bytes (the loop, on each turn while there are any).
    func pumpTerminalRelays() {
        for relay in terminalRelays { relay.pump(self) }
    }
}
