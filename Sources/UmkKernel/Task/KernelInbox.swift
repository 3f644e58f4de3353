import Synchronization
import UmkHost

// KernelInbox.swift: work that other host threads hand to an instance's kernel thread (the library's spawn,
// signal and ps; the control socket's exec). Only the kernel thread touches the kernel, so a request is a
// closure the loop runs between two stops. Posting wakes the kernel thread with its tick signal; a wake
// that lands between the loop's look at the inbox and its waitpid is lost, so a caller waiting for the
// answer wakes it again every few milliseconds until the work is taken.
final class KernelInbox: Sendable {
    typealias Work = @Sendable (Kernel) -> Void

    private struct State {
        var work: [Work] = []
        var closed = false
        var kernelThread: Int32 = 0
    }
    private let state = Mutex(State())
    /// Looked at by the loop on every turn: an atomic load, no lock, when nothing is posted.
    private let posted = Atomic<Bool>(false)

    /// The loop takes work from here on (on the kernel thread).
    func open() {
        let tid = HostThreadWake.currentThreadID
        state.withLock { $0.kernelThread = tid }
    }

    var hasWork: Bool { posted.load(ordering: .acquiring) }

    /// The work posted so far, in order (on the kernel thread).
    func take() -> [Work] {
        posted.store(false, ordering: .releasing)
        return state.withLock { s in
            defer { s.work = [] }
            return s.work
        }
    }

    /// The instance is over: nothing is taken any more, and work still queued is dropped (its callers see nil).
    func close() {
        state.withLock { s in
            s.closed = true
            s.work = []
            s.kernelThread = 0  // its tid may go to another thread of the process: never signal it again
        }
    }

    /// Runs `body` on the kernel thread and returns its result, or nil when the instance has ended (or ends
    /// before taking the work).
    func call<T: Sendable>(_ body: @escaping @Sendable (Kernel) -> T) -> T? {
        let monitor = HostMonitor()
        let answer = Mutex<(done: Bool, value: T?)>((false, nil))
        let accepted = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.work.append { kernel in
                let value = body(kernel)
                monitor.update { answer.withLock { $0 = (true, value) } }
            }
            return true
        }
        guard accepted else { return nil }
        posted.store(true, ordering: .releasing)
        while true {
            let (tid, closed) = state.withLock { ($0.kernelThread, $0.closed) }
            if tid != 0 && !closed { HostThreadWake.wake(tid) }
            let deadline = HostClock.monotonicNanoseconds() + 5_000_000
            if monitor.wait(until: deadline, for: { answer.withLock { $0.done } }) { break }
            if closed { return nil }
        }
        return answer.withLock { $0.value }
    }
}
