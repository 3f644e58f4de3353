// HostSystem.swift: the host's clocks, entropy, CPU facts and threads, as the kernel needs them.
import Glibc
import CUmk

public enum HostClock {
    /// clock_gettime(2) of a host clock id; the guest's clock ids are the host's.
    public static func now(_ clock: Int32) throws(Errno) -> (seconds: Int64, nanoseconds: Int64) {
        var ts = timespec()
        _ = try retrying { clock_gettime(clockid_t(clock), &ts) }
        return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
    }

    public static func resolution(_ clock: Int32) throws(Errno) -> (seconds: Int64, nanoseconds: Int64) {
        var ts = timespec()
        _ = try retrying { clock_getres(clockid_t(clock), &ts) }
        return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
    }

    /// The CPU-time clock of a host process (a stub), as clock_getcpuclockid(3) builds it.
    public static func processCPUClock(pid: Int32) -> Int32 { (~pid << 3) | 2 }

    public static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Sleeps the calling thread until the monotonic clock reads `deadline` (ns), EINTR retried.
    public static func sleep(untilMonotonic deadline: Int64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        _ = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil)  // a signal ends it early: callers look again
    }
}

public enum HostRandom {
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var done = 0
        while done < buffer.count {
            let r = umk_syscall6(318, Int(bitPattern: buffer.baseAddress! + done), buffer.count - done, 0, 0, 0, 0)
            if r > 0 { done += r }
        }
    }
}

public enum HostCPU {
    /// AT_HWCAP and AT_HWCAP2 as the host kernel gives them to its own programs: the guest runs on this CPU.
    public static var hwcap: UInt64 { hostAuxv[16] ?? UInt64(umk_getauxval(16)) }
    public static var hwcap2: UInt64 { hostAuxv[26] ?? UInt64(umk_getauxval(26)) }
    public static var minSigStackSize: UInt64 { hostAuxv[51] ?? UInt64(umk_getauxval(51)) }

    /// The auxiliary vector the host kernel gave umk, read raw from /proc/self/auxv: glibc's getauxval
    /// answers its own adjusted AT_HWCAP, not the kernel's.
    private static let hostAuxv: [UInt64: UInt64] = {
        var out: [UInt64: UInt64] = [:]
        let fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return out }
        defer { close(fd) }
        var buf = [UInt64](repeating: 0, count: 128)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return out }
        for i in stride(from: 0, to: n / 8 - 1, by: 2) where buf[i] != 0 { out[buf[i]] = buf[i + 1] }
        return out
    }()

    public static var current: Int32 { umk_current_cpu() }

    /// Pins the calling thread (and the stubs it will start) to one host CPU: a ptrace round trip costs
    /// 11 us on one CPU and 66 us across two on these machines (DESIGN.md).
    public static func pinCurrentThread(to cpu: Int32) throws(Errno) { _ = try shim(umk_pin_to_cpu(cpu)) }

    public static var onlineCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// A plain dedicated host thread: an instance's kernel loop runs on one, the tracer of all its stubs.
public final class HostThread {
    private var thread: pthread_t = 0
    private let box: Box

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    public init(name: String, _ body: @escaping () -> Void) {
        box = Box(body)
        let arg = Unmanaged.passRetained(box).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, 8 << 20)
        let r = pthread_create(&thread, &attr, { p in
            let box = Unmanaged<Box>.fromOpaque(p!).takeRetainedValue()
            umk_set_thread_name("umk-kernel")
            box.body()
            return nil
        }, arg)
        pthread_attr_destroy(&attr)
        precondition(r == 0, "pthread_create failed: \(r)")
        
    }

    public func join() { pthread_join(thread, nil) }
}

/// Signals sent to umk itself that the guest should get instead (docker run's sig-proxy).
public enum SignalProxy {
    /// Before the kernel thread starts: keep the signals away from every other thread.
    public static func blockInThisThread() { umk_proxy_block() }
    /// On the kernel thread: catch them there.
    public static func install() { umk_proxy_install() }
    /// The signal numbers received since the last call.
    public static func take() -> [Int32] {
        let mask = umk_proxy_take()
        return (1...64).filter { mask & (UInt64(1) << UInt64($0 - 1)) != 0 }.map { Int32($0) }
    }
}

/// What the command line needs of its own process: environment, a file for --strace, messages and exit.
public enum HostProcess {
    public static func environmentValue(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Creates (or truncates) a file for writing, returning its fd.
    public static func createFile(_ path: String) throws(Errno) -> Int32 {
        try retrying { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    }

    public static func printError(_ line: String) {
        fputs(line + "\n", stderr)
    }

    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}

public enum HostLimits {
    /// vm.max_map_count: how many mappings the host lets one process (a stub) have. Read once; 65530 (the
    /// default) when it cannot be read.
    public static let maxMapCount: Int = {
        let fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 65530 }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return 65530 }
        let digits = buf[0..<n].prefix { $0 >= 0x30 && $0 <= 0x39 }
        return Int(String(decoding: digits, as: UTF8.self)) ?? 65530
    }()
}
