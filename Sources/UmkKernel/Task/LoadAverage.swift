import UmkHost

// LoadAverage.swift: the 1, 5 and 15 minute load averages (kernel/sched/loadavg.c): every 5 seconds, the
// number of tasks that are runnable or in an uninterruptible wait is folded into three exponentially decaying
// averages, in 11-bit fixed point. The kernel is tickless when idle, as Linux's NO_HZ is: the loop samples
// when it runs past the due time, and periods missed while idle are folded in at once with the count as it
// is then (calc_load_n), which is what Linux does for its idle CPUs.

struct LoadAverage {
    static let shift: UInt64 = 11
    static let one: UInt64 = 1 << shift
    /// exp(-5s/1min), exp(-5s/5min), exp(-5s/15min) in fixed point.
    static let decay: [UInt64] = [1884, 2014, 2037]
    static let period: Int64 = 5_000_000_000

    private(set) var averages: [UInt64] = [0, 0, 0]
    private(set) var due: Int64

    init(now: Int64) { due = now + LoadAverage.period + 10_000_000 }

    /// Folds in the periods that have ended by `now`, with `active` tasks in each.
    mutating func sample(now: Int64, active: Int) {
        guard now >= due else { return }
        let periods = UInt64((now - due) / LoadAverage.period + 1)
        due += Int64(periods) * LoadAverage.period
        let a = UInt64(active) * LoadAverage.one
        for i in averages.indices {
            averages[i] = LoadAverage.fold(averages[i], LoadAverage.power(LoadAverage.decay[i], periods), a)
        }
    }

    /// calc_load: load * e + active * (1 - e), rounded up while the load rises.
    private static func fold(_ load: UInt64, _ e: UInt64, _ active: UInt64) -> UInt64 {
        var new = load * e + active * (one - e)
        if active >= load { new += one - 1 }
        return new / one
    }

    /// fixed_power_int: x^n in fixed point, by squaring.
    private static func power(_ x: UInt64, _ n: UInt64) -> UInt64 {
        var result = one, x = x, n = n
        let half = one / 2
        while n > 0 {
            if n & 1 != 0 { result = (result * x + half) >> shift }
            n >>= 1
            if n == 0 { break }
            x = (x * x + half) >> shift
        }
        return result
    }

    /// "0.42 0.13 0.04", as /proc/loadavg prints them (rounded to the hundredth).
    var text: String {
        averages.map { v in
            let x = v + LoadAverage.one / 200
            let frac = ((x & (LoadAverage.one - 1)) * 100) >> LoadAverage.shift
            return "\(x >> LoadAverage.shift)." + (frac < 10 ? "0" : "") + "\(frac)"
        }.joined(separator: " ")
    }
}
