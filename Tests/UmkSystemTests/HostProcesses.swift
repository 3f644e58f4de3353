// HostProcesses.swift: finds umk's stub processes on the host, to check that none outlives its instance.
//
// The test process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so a stub orphaned by its
// umk is reparented to the test process rather than to init: every leftover of a run is then a child of the
// test process, which tells it apart from the stubs of umk instances that other users run on the same host.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct HostProcess: CustomStringConvertible {
    var pid: pid_t
    var parent: pid_t
    var comm: String
    /// The state letter of /proc/PID/stat: R, S, D, Z, T ...
    var state: Character

    var isZombie: Bool { state == "Z" || state == "X" }
    /// A umk process or one of its stubs. Stubs are named umk-stub (comm shows "memfd:umk-stub" when exec'd from
    /// the memfd of that name); before their exec they still carry umk's own name.
    var isUmk: Bool { comm.contains("umk") }
    var description: String { "pid \(pid) (\(comm)) state \(state) parent \(parent)" }

    /// /proc/PID/stat of one process, or nil when it is gone.
    init?(pid: pid_t) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
        else { return nil }
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        guard rest.count >= 2, let state = rest[0].first, let parent = pid_t(rest[1]) else { return nil }
        self.pid = pid
        self.parent = parent
        self.comm = String(stat[stat.index(after: open)..<close])
        self.state = state
    }
}

enum HostProcesses {
    /// Whether the test process is a child subreaper; set up on first use.
    static let isSubreaper: Bool = {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        // prctl is variadic in C, so Swift cannot call it directly; its ABI for integer arguments is the same.
        guard let symbol = dlsym(nil, "prctl") else { return false }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        let setChildSubreaper: Int32 = 36
        return prctl(setChildSubreaper, 1, 0, 0, 0) == 0
    }()

    static func all() -> [HostProcess] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.compactMap { HostProcess(pid: $0) }
    }

    static func children(of parent: pid_t) -> [HostProcess] { all().filter { $0.parent == parent } }

    /// umk processes and stubs left as children of the test process, after reaping the dead ones; waits up
    /// to `seconds` for the live ones to die (a stub's parent-death signal takes a moment).
    static func strays(waiting seconds: Double = 2) -> [HostProcess] {
        _ = isSubreaper
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let left = children(of: getpid()).filter(\.isUmk)
            for zombie in left where zombie.isZombie {
                var status: Int32 = 0
                _ = waitpid(zombie.pid, &status, WNOHANG)
            }
            let live = left.filter { !$0.isZombie }
            if live.isEmpty || Date() >= deadline { return live }
            usleep(50_000)
        }
    }

    /// Whether `pid` is still a live (not zombie) process.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let process = HostProcess(pid: pid) else { return false }
        return !process.isZombie
    }
}
