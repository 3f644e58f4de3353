// HostMonitor.swift: a mutex with a condition, for the threads around an instance (the embedder's, the
// control socket's) to hand work to its kernel thread and wait for answers. Deadlines are CLOCK_MONOTONIC
// nanoseconds, as HostClock's.
import Glibc
import CUmk

public final class HostMonitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex.
    public func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits, holding the mutex, until `ready` is true or the deadline passes (nil: no deadline). Returns
    /// whether `ready` became true.
    public func wait(until deadline: Int64? = nil, for ready: () -> Bool) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready() {
            guard let deadline else {
                pthread_cond_wait(condition, mutex)
                continue
            }
            var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            if pthread_cond_timedwait(condition, mutex, &ts) == ETIMEDOUT { return ready() }
        }
        return true
    }

    /// Changes the state under the mutex and wakes every waiter.
    public func update<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body()
    }
}

/// Another thread of umk's own, woken with the kernel's tick signal: its waitpid, poll or sleep ends early.
public enum HostThreadWake {
    public static var currentThreadID: Int32 { umk_console_writer_prepare() }
    public static func wake(_ tid: Int32) { umk_console_writer_notify(tid) }
}
