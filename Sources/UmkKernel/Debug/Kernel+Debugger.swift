import UmkHost

// Kernel+Debugger.swift: attaching the gdb stub (GdbStub.swift) to a process of the instance.

extension Kernel {
    /// `--gdb ADDR`: listens at ADDR and waits for gdb before process 1 runs its first instruction; the
    /// process stays stopped there until gdb resumes it. Runs at boot, before the kernel's seccomp filter,
    /// which allows no socket calls.
    func waitForDebugger(_ text: String, _ process: Process) throws(LaunchError) {
        guard let address = DebugAddress(text) else {
            throw .kernelFailure("--gdb \(text): expected HOST:PORT on 127.0.0.1, :PORT, or a UNIX socket path")
        }
        let connection: DebugConnection
        do {
            connection = try DebugConnection.accept(at: address, listening: {
                HostProcess.printError("umk: waiting for gdb on \(address) (in gdb: target remote \(address))")
            }, interrupted: {
                !SignalProxy.take().filter { [1, 2, 15].contains($0) }.isEmpty  // SIGHUP, SIGINT, SIGTERM
            })
        } catch where error.rawValue == 4 {  // EINTR
            throw .kernelFailure("--gdb \(address): interrupted while waiting for gdb")
        } catch {
            throw .kernelFailure("--gdb \(address): \(LinuxErrno(host: error).message)")
        }
        attachDebugger(connection: connection, to: process, attached: false)
    }

    /// Puts `process` under gdb over `connection`: all of its threads stop at their next stop in the kernel
    /// (those running guest code are interrupted), and gdb hears of the stop when it asks (`?`). The entry
    /// point for attaching to a process of a running instance too (`attached` true then).
    @discardableResult
    func attachDebugger(connection: DebugConnection, to process: Process, attached: Bool) -> GdbStub {
        let stub = GdbStub(kernel: self, connection: connection, target: process, attached: attached)
        debugger = stub
        if process.tasks.contains(where: { $0.inHost }) { stub.stopOnAttach() }
        log.notice("gdb attached to pid \(process.pid)", source: "debugger")
        return stub
    }
}
