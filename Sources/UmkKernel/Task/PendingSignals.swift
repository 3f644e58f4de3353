// PendingSignals.swift: a task's pending signals (kernel/signal.c struct sigpending). A standard signal
// (1...31) pends once, keeping its first sender's siginfo; a real-time one (32...64) queues every
// instance, in order, so that each carries its own value (sigqueue, timers), up to RLIMIT_SIGPENDING.
struct PendingSignals {
    private(set) var mask: UInt64 = 0
    private var queued: [Int32: [SignalInfo]] = [:]
    /// Instances queued in all (what RLIMIT_SIGPENDING bounds).
    private(set) var count = 0

    static func bit(_ sig: Int32) -> UInt64 { UInt64(1) << UInt64(sig - 1) }

    func contains(_ sig: Int32) -> Bool { mask & PendingSignals.bit(sig) != 0 }

    /// Queues a signal. False when nothing new was queued: a standard signal already pending (the two
    /// merge), or a real-time one past `limit` (queued without its info only when `force`, as kill does).
    @discardableResult
    mutating func add(_ info: SignalInfo, limit: Int, force: Bool = true) -> Bool {
        let sig = info.signo
        if sig < 32 && contains(sig) { return false }
        if sig >= 32 && count >= limit {
            guard force, !contains(sig) else { return false }
        }
        mask |= PendingSignals.bit(sig)
        queued[sig, default: []].append(info)
        count += 1
        return true
    }

    /// The next instance of `sig`, removed; the signal stays pending while more are queued.
    mutating func take(_ sig: Int32) -> SignalInfo? {
        guard contains(sig) else { return nil }
        var list = queued[sig] ?? []
        var first = SignalInfo(signo: sig)
        if !list.isEmpty {
            first = list.removeFirst()
            count -= 1
        }
        queued[sig] = list.isEmpty ? nil : list
        if list.isEmpty { mask &= ~PendingSignals.bit(sig) }
        return first
    }

    func peek(_ sig: Int32) -> SignalInfo? { queued[sig]?.first }

    /// Forgets every instance of `sig`.
    mutating func discard(_ sig: Int32) {
        count -= queued[sig]?.count ?? 0
        queued[sig] = nil
        mask &= ~PendingSignals.bit(sig)
    }

    /// Forgets the instances of `sig` that `match` says (a re-armed timer's).
    mutating func discard(_ sig: Int32, where match: (SignalInfo) -> Bool) {
        guard var list = queued[sig] else { return }
        let before = list.count
        list.removeAll(where: match)
        count -= before - list.count
        queued[sig] = list.isEmpty ? nil : list
        if list.isEmpty { mask &= ~PendingSignals.bit(sig) }
    }

    /// The lowest-numbered signal of a mask.
    static func lowest(_ mask: UInt64) -> Int32? { mask == 0 ? nil : Int32(mask.trailingZeroBitCount + 1) }

    /// The lowest-numbered pending signal in `set`, as Linux dequeues them.
    func lowest(in set: UInt64) -> Int32? { PendingSignals.lowest(mask & set) }
}
