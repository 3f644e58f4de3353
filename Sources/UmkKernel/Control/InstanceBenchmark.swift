import UmkHost

// InstanceBenchmark.swift: `umk bench-instances` (hidden; Tools/bench's instance rows): what an instance costs
// through the library, with no new host process for umk itself.
public enum InstanceBenchmark {
    /// Lines `KEY VALUE` for Tools/bench:
    ///   library_ms   median boot-to-exit of `argv` as an instance's process 1 (Instance.run), `count` runs
    ///   spawn_ms     median start-to-exit of `argv` spawned in one running instance
    ///   one_ms, parallel_ms   one instance alone, and `parallel` instances started at once (wall time)
    ///   idle_kib     private resident memory (umk's and its stubs', not guest memory) per idle instance,
    ///                each with `idle` as its process 1
    public static func run(_ argv: [String], idle: [String], count: Int, parallel: Int) -> [String] {
        var config = Configuration()
        config.memoryBytes = 256 << 20
        config.environment = ["PATH=" + Kernel.defaultPath]
        guard let null = try? HostStreams.open("/dev/null", forWriting: true) else { return ["error /dev/null"] }
        (config.standardInput, config.standardOutput, config.standardError) = (null.fd, null.fd, null.fd)
        func now() -> Int64 { HostClock.monotonicNanoseconds() }
        func median(_ xs: [Int64]) -> Double { Double(xs.sorted()[xs.count / 2]) / 1e6 }
        var lines: [String] = []

        _ = try? Instance(config).run(argv)  // warm-up: the stub image, the page cache of the program

        // Memory first, before the other runs leave the allocator's caches behind: umk's own and its stubs'
        // private resident memory (guest pages, in the shared memory file, are the programs' own).
        func privateBytes() -> Int {
            HostProcess.privateResidentBytes() + HostProcess.childPIDs().reduce(0) { $0 + HostProcess.privateResidentBytes(of: $1) }
        }
        let before = privateBytes()
        var instances: [Instance] = []
        for _ in 0..<parallel {
            let i = Instance(config)
            guard (try? i.start(idle)) != nil else { break }
            instances.append(i)
        }
        HostClock.sleep(untilMonotonic: now() + 300_000_000)  // the programs settle into their sleep
        let after = privateBytes()
        for i in instances { i.shutDown() }
        if !instances.isEmpty { lines.append("idle_kib \((after - before) / instances.count / 1024)") }

        var times: [Int64] = []
        for _ in 0..<count {
            let t0 = now()
            guard (try? Instance(config).run(argv)) == .exited(0) else { return lines + ["error \(argv) failed"] }
            times.append(now() - t0)
        }
        lines.append("library_ms \(median(times))")

        let shared = Instance(config)
        do {
            try shared.start()
            var spawns: [Int64] = []
            for _ in 0..<count {
                let t0 = now()
                let p = try shared.spawn(argv, SpawnOptions(standardOutput: .null, standardError: .null))
                guard p.wait() == .exited(0) else { return lines + ["error spawn failed"] }
                spawns.append(now() - t0)
            }
            shared.shutDown()
            lines.append("spawn_ms \(median(spawns))")
        } catch {
            lines.append("error spawn: \(error)")
        }

        func together(_ n: Int) -> Int64 {
            let t0 = now()
            let threads = (0..<n).map { _ in HostThread(name: "bench") { _ = try? Instance(config).run(argv) } }
            for t in threads { t.join() }
            return now() - t0
        }
        let one = (0..<5).map { _ in together(1) }
        let many = (0..<5).map { _ in together(parallel) }
        lines.append("one_ms \(median(one))")
        lines.append("parallel_ms \(median(many))")

        return lines
    }
}
