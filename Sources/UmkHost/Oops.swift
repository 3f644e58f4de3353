// Oops.swift: the kernel thread's crash record (CUmk's oops.c). A kernel bug must not look like a crash of
// the host program: on a Swift runtime trap or another fatal signal in the kernel thread the C handler prints
// the guest task being served, its last system calls and the kernel backtrace, kills every stub and exits
// 125 (Linux's oops, UML's panic). The handler may not allocate or touch Swift objects, so the dispatcher keeps
// the record here, in C memory, with plain stores on each system call's entry and exit.
import Glibc
import CUmk
import Synchronization

public final class OopsRecord {
    @usableFromInline let state: UnsafeMutablePointer<umk_oops>

    public init() {
        state = .allocate(capacity: 1)
        UnsafeMutableRawPointer(state).initializeMemory(as: UInt8.self, repeating: 0,
                                                        count: MemoryLayout<umk_oops>.size)
    }

    deinit { state.deallocate() }

    /// The system call names, copied into C once per host process.
    private static let namesCopied = Mutex(false)

    /// On the kernel thread, once booted: the handler reports from this record. `names` is the kernel's table
    /// of system call names by number.
    public func attachToThisThread(names: [String?]) {
        Self.namesCopied.withLock { copied in
            guard !copied else { return }
            copied = true
            for (nr, name) in names.enumerated() { if let name { umk_oops_set_name(Int32(nr), name) } }
        }
        umk_oops_attach(state)
    }

    /// On the kernel thread, before the record goes: the handler falls back to the signal's default action.
    public func detachFromThisThread() { umk_oops_detach() }

    /// A system call's entry: who makes it (`comm`: the command name) and its registers.
    @inlinable public func enter(pid: Int32, tid: Int32, regs: Registers, comm: [UInt8]) {
        withUnsafePointer(to: regs) { r in
            r.withMemoryRebound(to: umk_regs.self, capacity: 1) { r in
                comm.withUnsafeBufferPointer { umk_oops_enter(state, pid, tid, r, $0.baseAddress, $0.count) }
            }
        }
    }

    /// Its exit: the result, or nil when there is none (blocked, exited).
    @inlinable public func leave(result: Int?) {
        umk_oops_leave(state, result.map { Int64($0) } ?? Int64.min)
    }

    /// The report without a backtrace, for an unexpected host error in the kernel thread.
    public func report(_ reason: String) { umk_oops_report(reason) }
}

/// Every live stub, by leader pid, for the crash handler to kill (oops.c): registered when spawned,
/// removed before it is killed or once it was reaped.
enum StubRegistry {
    static func add(_ pid: Int32) { umk_oops_stub_add(pid) }
    static func remove(_ pid: Int32) { umk_oops_stub_remove(pid) }
}

/// A test hook: makes the calling thread hit a kernel bug of the kind named, as a system test's
/// UMK_TEST_KERNEL_BUG asks (Kernel+Oops.swift). Never reachable from a guest.
public enum KernelBugForTest {
    /// What the `host` kind makes the kernel loop throw.
    public static var hostError: Errno { Errno(rawValue: EIO) }

    public static func trigger(_ kind: String) {
        switch kind {
        case "segv":
            let p = UnsafeMutablePointer<Int>(bitPattern: 8 | (Int(getpid()) & 0))!  // unmapped, unknown to the optimizer
            p.pointee = 1
        case "overflow":
            var n = Int.max - Int(getpid() & 0)
            n += 1
            print(n)
        case "abort":
            abort()
        default:
            preconditionFailure("UMK_TEST_KERNEL_BUG: a kernel bug on purpose")
        }
    }
}
