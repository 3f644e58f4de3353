// HostSystem.swift: the host's clocks, entropy, CPU facts and threads, as the kernel needs them.
import Glibc
import CUmk
import Synchronization

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

    /// A stub's CPU time so far, in ns, split into user and system time as Linux's cputime_adjust splits it:
    /// the precise total (CPUCLOCK_SCHED) in the proportion of the sampled user and user+system clocks.
    public static func stubTimes(pid: Int32) -> (user: Int64, system: Int64)? {
        func read(_ which: Int32) -> Int64? {
            var ts = timespec()
            guard clock_gettime(clockid_t((~pid << 3) | which), &ts) == 0 else { return nil }
            return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        }
        guard let total = read(2), let prof = read(0), let virt = read(1) else { return nil }
        let user = prof > 0 ? Int64((Double(total) * Double(min(virt, prof)) / Double(prof)).rounded()) : total
        return (user, total - user)
    }

    public static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// The CPU time of one host thread (a stub's, which clock_gettime may not read from another process):
    /// its sum_exec_runtime from /proc/TID/schedstat, in ns, and the user part of it in the proportion of
    /// the sampled utime and stime of /proc/TID/stat. nil if the thread is gone.
    public static func threadTimes(tid: Int32) -> (user: Int64, total: Int64)? {
        guard let sched = ProcFile.read("/proc/\(tid)/schedstat"),
              let first = sched.split(separator: UInt8(ascii: " ")).first,
              let total = Int64(String(decoding: first, as: UTF8.self)) else { return nil }
        // utime and stime are fields 14 and 15.
        guard let fields = ProcFile.statFields(of: tid), fields.count > 12,
              let ut = Double(String(decoding: fields[11], as: UTF8.self)),
              let st = Double(String(decoding: fields[12], as: UTF8.self)), ut + st > 0 else { return (total, total) }
        return (Int64((Double(total) * ut / (ut + st)).rounded()), total)
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

    /// The host CPUs `pid` may run on (0: the calling thread), in increasing order.
    public static func affinity(of pid: Int32 = 0) throws(Errno) -> [Int32] {
        var cpus = [Int32](repeating: 0, count: 1024)
        let n = try shim(umk_get_affinity(pid, &cpus, 1024))
        return Array(cpus.prefix(Int(n)))
    }

    /// Lets `pid` (0: the calling thread) run on `cpus` only.
    public static func setAffinity(of pid: Int32 = 0, to cpus: [Int32]) throws(Errno) {
        _ = try shim(umk_set_affinity(pid, cpus, Int32(cpus.count)))
    }

    public static var onlineCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// How many live instances of this process have their kernel thread on each CPU (the host's own
    /// bookkeeping, as its scheduler's run queues): a new instance takes the least used of its allowed CPUs,
    /// the one it runs on among equals, so that instances booted at once spread over the CPUs rather than
    /// all pinning to the CPU they were started from.
    private static let placements = Mutex<[Int32: Int]>([:])

    public static func claimLeastUsed(of allowed: [Int32], preferring current: Int32) -> Int32 {
        placements.withLock { counts in
            let best = allowed.min { a, b in
                let (ca, cb) = (counts[a, default: 0], counts[b, default: 0])
                return ca != cb ? ca < cb : (a == current && b != current)
            } ?? current
            counts[best, default: 0] += 1
            return best
        }
    }

    public static func releasePlacement(_ cpu: Int32) {
        placements.withLock { counts in
            if let n = counts[cpu] { counts[cpu] = n > 1 ? n - 1 : nil }
        }
    }
}

/// A plain dedicated host thread: an instance's kernel loop runs on one, the tracer of all its stubs.
public final class HostThread {
    private var thread: pthread_t = 0
    private let box: Box

    private final class Box {
        let name: String
        let body: () -> Void
        init(_ name: String, _ body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    public init(name: String, _ body: @escaping () -> Void) {
        box = Box(name, body)
        let arg = Unmanaged.passRetained(box).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, 8 << 20)
        let r = pthread_create(&thread, &attr, { p in
            let box = Unmanaged<Box>.fromOpaque(p!).takeRetainedValue()
            umk_set_thread_name(box.name)
            box.body()
            return nil
        }, arg)
        pthread_attr_destroy(&attr)
        precondition(r == 0, "pthread_create failed: \(r)")
        
    }

    public func join() { pthread_join(thread, nil) }

    /// A thread no one joins: its resources go when it ends.
    public static func detached(name: String, _ body: @escaping () -> Void) {
        pthread_detach(HostThread(name: name, body).thread)
    }
}

/// Signals sent to umk itself that the guest should get instead (docker run's sig-proxy).
/// umk's own terminal: its mode is saved at start and put back however umk ends.
public enum HostTerminal {
    public static func saveMode() { _ = umk_terminal_save() }
    public static func restoreMode() { umk_terminal_restore() }
    /// stdin's terminal in raw mode (after saveMode, which puts it back at exit).
    public static func makeRaw() { _ = umk_terminal_make_raw() }
    /// The window size of the terminal at `fd`: rows and columns, or nil.
    public static func size(of fd: Int32) -> (rows: UInt16, columns: UInt16)? {
        let r = umk_terminal_size(fd)
        return r < 0 ? nil : (UInt16(truncatingIfNeeded: r >> 16), UInt16(truncatingIfNeeded: r))
    }
}

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
/// Host scheduling of stubs: the guest's nice values and policies, where the host lets an unprivileged
/// user follow them (only ever to a lower priority than umk's own).
public enum HostScheduling {
    /// The calling thread's nice value (umk's own: stubs never run above it).
    public static var ownNice: Int32 {
        errno = 0
        let n = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? n : 0
    }

    public static func setNice(of pid: Int32, to nice: Int32) throws(Errno) {
        guard setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), nice) == 0 else { throw Errno(rawValue: errno) }
    }

    /// SCHED_OTHER (0), SCHED_BATCH (3) or SCHED_IDLE (5), with priority 0.
    public static func setPolicy(of pid: Int32, to policy: Int32) throws(Errno) {
        var param = sched_param(sched_priority: 0)
        guard sched_setscheduler(pid, policy, &param) == 0 else { throw Errno(rawValue: errno) }
    }

    /// The host's /proc/cpuinfo, one block of lines per processor, by processor number.
    public static func cpuinfo() -> [Int32: [String]] {
        let fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count < 16 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        var blocks: [Int32: [String]] = [:]
        var current: (Int32, [String])? = nil
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let line = String(decoding: raw, as: UTF8.self)
            if line.isEmpty {
                if let (n, lines) = current { blocks[n] = lines }
                current = nil
            } else if line.hasPrefix("processor"), let colon = line.firstIndex(of: ":"),
                let n = Int32(line[line.index(after: colon)...].filter { $0 != " " && $0 != "\t" })
            {
                current = (n, [line])
            } else {
                current?.1.append(line)
            }
        }
        if let (n, lines) = current { blocks[n] = lines }
        return blocks
    }

    /// The host CPU `pid` last ran on (field 39 of /proc/PID/stat), or nil.
    public static func lastCPU(of pid: Int32) -> Int32? {
        guard let fields = ProcFile.statFields(of: pid), fields.count > 36 else { return nil }
        return Int32(String(decoding: fields[36], as: UTF8.self))
    }
}

/// Small files of the host's /proc, read whole in one call.
enum ProcFile {
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buf[0..<n]) : nil
    }

    /// /proc/ID/stat from field 3 (state) on: fields[0] is field 3. The command name before it may hold
    /// spaces and parentheses, so the fields start after the last ')'.
    static func statFields(of id: Int32) -> [ArraySlice<UInt8>]? {
        guard let stat = read("/proc/\(id)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        return stat[(close + 1)...].split(separator: UInt8(ascii: " "))
    }
}

public enum HostProcess {
    public static func environmentValue(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// umk's own working directory (getcwd), or nil when it cannot be named.
    public static func currentDirectory() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return nil }
        return String(cString: buf)
    }

    /// Creates (or truncates) a file for writing, returning its fd.
    public static func createFile(_ path: String) throws(Errno) -> Int32 {
        try retrying { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    }

    public static func printError(_ line: String) {
        _ = Array((line + "\n").utf8).withUnsafeBytes { umk_write_all(2, $0.baseAddress, $0.count) }
    }

    /// umk's environment, as KEY=VALUE strings (for umk started again, detached).
    public static var environment: [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            out.append(String(cString: entry))
            p += 1
        }
        return out
    }

    public static var id: Int32 { getpid() }

    /// A process's resident memory that is its own, in bytes: anonymous and file pages (RssAnon + RssFile),
    /// not shared memory (RssShmem: for umk and its stubs, guest memory in the memory file).
    public static func privateResidentBytes(of pid: String = "self") -> Int {
        let text = readSmallFile("/proc/\(pid)/status")
        var total = 0
        for line in text.split(separator: "\n") where line.hasPrefix("RssAnon:") || line.hasPrefix("RssFile:") {
            total += (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
        }
        return total
    }

    /// The pids of umk's child processes (its stubs), from every thread's /proc children list.
    public static func childPIDs() -> [String] {
        guard let d = opendir("/proc/self/task") else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let tid = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard tid.first?.isNumber == true else { continue }
            out += readSmallFile("/proc/self/task/\(tid)/children").split { $0 == " " || $0 == "\n" }.map(String.init)
        }
        return out
    }

    private static func readSmallFile(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 16384)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
    }

    public static func exit(_ status: Int32) -> Never {
        umk_terminal_restore()
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

/// umk's own attack surface (issue 6): once booted, the kernel thread may make only the host system calls
/// the kernel needs. Anything else is refused with a line on stderr (and ENOSYS), so that a bug in the
/// kernel cannot become an arbitrary host call. The stubs it clones inherit the filter under their own.
public enum KernelFilter {
    /// By family; each number is x86-64's.
    static let allowed: [Int32] = [
        // the loop's own calls first: the filter tries the numbers in order
        101, 61, 247,  // ptrace wait4 waitid
        // memory (the Swift runtime's allocator, the physical-memory file, stub control pages)
        9, 10, 11, 12, 25, 28,  // mmap mprotect munmap brk mremap madvise
        319, 77, 285,  // memfd_create ftruncate fallocate (punching freed frames)
        // host files (hostfs over O_PATH handles, the console, --strace)
        0, 1, 17, 18, 19, 20, 295, 296,  // read write pread64 pwrite64 readv writev preadv pwritev
        40,  // sendfile: copy-up from a host file into the physical-memory file
        3, 8, 72, 32, 33, 292,  // close lseek fcntl dup dup2 dup3
        257, 262, 332, 267, 217, 89,  // openat newfstatat statx readlinkat getdents64 readlink
        4, 5, 6, 138, 137, 21, 269, 439, 16,  // stat fstat lstat fstatfs statfs access faccessat faccessat2 ioctl
        7, 271, 23, 270,  // poll ppoll select pselect6
        // processes: stubs (clone in vfork style, then what the child does before its exec) and ptrace
        56, 435, 58, 62, 200, 234,  // clone clone3 vfork kill tkill tgkill
        322, 59, 436, 112, 157, 60, 231,  // execveat execve close_range setsid prctl exit exit_group
        317, 34,  // seccomp pause: the stub's own start, under this filter
        // signals and the timer interrupt
        13, 14, 15, 131, 127, 128,  // rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack rt_sigpending rt_sigtimedwait
        222, 223, 224, 226,  // timer_create timer_settime timer_gettime timer_delete
        // time, threads, identity, entropy
        228, 229, 230, 35, 96, 201,  // clock_gettime clock_getres clock_nanosleep nanosleep gettimeofday time
        202, 186, 39, 110, 24, 203, 204, 309,  // futex gettid getpid getppid sched_yield setaffinity getaffinity getcpu
        140, 141, 144,  // getpriority setpriority sched_setscheduler: the guest's nice and policy on its stubs
        318, 98, 99, 63, 102, 104, 107, 108, 273, 334,  // getrandom getrusage sysinfo uname getuid... rseq
        302, 97,  // prlimit64 getrlimit
        191, 192, 193, 194, 195, 196,  // getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr (hostfs)
        -1,  // a syscall-entry stop the kernel cancelled (orig_rax = -1): the stubs' idle pause, no call made
    ]

    /// The calls that change host files, allowed only when the instance has a writable bind mount.
    static let hostWrites: [Int32] = [
        258, 263, 316, 265, 266,  // mkdirat unlinkat renameat2 linkat symlinkat
        268, 260, 280, 76, 74, 75,  // fchmodat fchownat utimensat truncate fsync fdatasync
        188, 197,  // setxattr removexattr
    ]

    /// What the gdb stub's connection needs beyond read, poll and close: send with MSG_NOSIGNAL (sendto).
    static let debugger: [Int32] = [44]

    /// Installs the filter on the calling thread. `logOnly` records refusals in the host's audit log
    /// instead (UMK_SECCOMP=log), to find what the list lacks. `hostWrites` lets the kernel change host files
    /// (writable binds); `debugger`, talk to gdb (--gdb). Throws if the host refuses seccomp.
    public static func install(logOnly: Bool = false, hostWrites: Bool = false, debugger: Bool = false) throws(Errno) {
        let list = Array(allowed.dropLast()) + (hostWrites ? KernelFilter.hostWrites : [])
            + (debugger ? KernelFilter.debugger : []) + [-1]
        _ = try shim(list.withUnsafeBufferPointer { umk_self_filter_install($0.baseAddress, Int32($0.count), logOnly ? 1 : 0) })
    }
}

extension HostCPU {
    /// The size of the XSAVE image of every user state component the host enables (CPUID leaf 0xD,
    /// subleaf 0, EBX): what NT_X86_XSTATE transfers and a signal frame holds. 512 without XSAVE.
    public static let extendedStateSize: Int = {
        var r: [UInt32] = [0, 0, 0, 0]
        umk_cpuid(1, 0, &r)
        guard r[2] & (1 << 27) != 0 else { return 512 }  // OSXSAVE
        umk_cpuid(0xd, 0, &r)
        return max(Int(r[1]), 576)
    }()

    /// The user state components the CPU supports (CPUID 0xD.0 EDX:EAX), 3 (x87, SSE) without XSAVE.
    public static let extendedStateFeatures: UInt64 = {
        guard extendedStateSize > 512 else { return 3 }
        var r: [UInt32] = [0, 0, 0, 0]
        umk_cpuid(0xd, 0, &r)
        return UInt64(r[0]) | UInt64(r[3]) << 32
    }()

}

/// Debugging umk itself with host tools.
public enum HostDebug {
    /// `break umk_debug_syscall` in gdb stops here (UMK_BREAK_SYSCALL); `finish` then `step` enters the handler.
    @inline(never)
    public static func syscallBreakpoint(_ nr: Int) { umk_debug_syscall(nr) }
}
