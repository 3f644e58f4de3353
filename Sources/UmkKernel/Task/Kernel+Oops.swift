import UmkHost

// Kernel+Oops.swift: what the kernel tells umk's crash report (Host's Oops.swift), and a kernel bug on purpose
// for its system test.
//
// UMK_TEST_KERNEL_BUG=NAME[:KIND] in umk's own environment makes the kernel thread hit a bug when a guest first
// makes the system call NAME: KIND is `trap` (a failed precondition, the default), `overflow`, `segv`,
// `abort`, or `host` (the loop then fails as on an unexpected host error, EIO). The guest cannot reach it: it sees only the environment umk gives it, never umk's own, and umk reads
// the variable once, at its start.
extension Kernel {
    static let testBug: (nr: Int, kind: String)? = {
        guard let value = HostProcess.environmentValue("UMK_TEST_KERNEL_BUG"), !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        guard let nr = SyscallNames.table.firstIndex(where: { $0 == parts[0] }) else { return nil }
        return (nr, parts.count > 1 ? parts[1] : "trap")
    }()

    func hitTestBug(_ kind: String) {
        if kind == "host" { testHostError = true } else { KernelBugForTest.trigger(kind) }
    }
}

extension Kernel {
    /// A system call's end, for the crash report's list of the task's last calls.
    @inline(__always) func recordSyscallExit(_ outcome: SyscallOutcome) {
        switch outcome {
        case .value(let v): oops.leave(result: v)
        case .replaced: oops.leave(result: 0)  // execve
        case .exited, .block, .blockAll: oops.leave(result: nil)
        }
    }
}
