import UmkHost

// System.swift: the machine as the guest sees it (kernel/sys.c uname and sysinfo, drivers/char/random.c
// getrandom). CPUs and affinity are Scheduling.swift's.
extension SyscallTable {
    mutating func addSystemCalls() {
        add(63, [.out(.utsname)]) { k, t, a throws(LinuxErrno) in
            var b = ByteWriter(count: 65 * 6)
            let fields: [[UInt8]] = [Array("Linux".utf8), k.hostname, Array(Kernel.release.utf8),
                                     Array(Kernel.version.utf8), Array("x86_64".utf8), k.domainname]
            for (i, f) in fields.enumerated() { b.put(Array(f.prefix(64)), at: 65 * i) }
            try t.mm.writeBytes(a.address(0), b.bytes)
            return .value(0)
        }
        add(170, [.string, .int]) { k, t, a throws(LinuxErrno) in
            k.hostname = try k.readName(t, a)
            return .value(0)
        }
        add(171, [.string, .int]) { k, t, a throws(LinuxErrno) in
            k.domainname = try k.readName(t, a)
            return .value(0)
        }
        add(99, [.out(.sysinfo)]) { k, t, a throws(LinuxErrno) in
            var b = ByteWriter(count: 112)
            let now = HostClock.monotonicNanoseconds()
            b.put((now - k.bootNanoseconds) / 1_000_000_000, at: 0)
            k.sampleLoad(now: now, reader: t.process)
            for (i, load) in k.loadAverage.averages.enumerated() {
                b.put(load << (16 - LoadAverage.shift), at: 8 + 8 * i)  // SI_LOAD_SHIFT
            }
            b.put(UInt64(k.frames.totalFrames) * 4096, at: 32)
            b.put(UInt64(k.frames.freeFrames) * 4096, at: 40)
            b.put(UInt16(clamping: k.processCount), at: 80)
            b.put(UInt32(1), at: 104)
            try t.mm.writeBytes(a.address(0), b.bytes)
            return .value(0)
        }
        add(318, [.outBufferHex, .uint, .getrandomFlags]) { _, t, a throws(LinuxErrno) in
            let flags = a.uint(2)
            guard flags & ~7 == 0, flags & 6 != 6 else { throw .EINVAL }  // NONBLOCK|RANDOM|INSECURE
            let n = min(a.count(1), 33_554_431)
            if n == 0 { return .value(0) }
            // As Linux: the bytes up to the first bad page, EFAULT only when there are none.
            var filled = 0
            for b in try t.mm.hostBuffers(a.address(0), n, write: true, partial: true) {
                HostRandom.fill(UnsafeMutableRawBufferPointer(start: b.base, count: b.count))
                filled += b.count
            }
            return .value(filled)
        }
    }
}

extension Kernel {
    /// What uname reports: a current Linux, so libc and test suites take their modern paths.
    static let release = "6.12.0-umk"
    static let version = "#1 SMP PREEMPT_DYNAMIC umk"

    var processCount: Int { processes.count }

    /// sethostname/setdomainname: at most 64 bytes, root only.
    func readName(_ t: Task, _ a: SyscallArgs) throws(LinuxErrno) -> [UInt8] {
        guard t.process.credentials.euid == 0 else { throw .EPERM }
        let len = a.int(1)
        guard len >= 0, len <= 64 else { throw .EINVAL }
        return try t.mm.readBytes(a.address(0), Int(len))
    }
}
