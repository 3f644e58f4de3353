import UmkHost

// SysFS.swift: the guest's /sys, as far as programs look today: devices/system/cpu, where glibc's
// get_nprocs and sysconf(_SC_NPROCESSORS_*) count the CPUs. Mounted over the root's `sys` by the path walk,
// so that nothing of the host's own sysfs shows through (gVisor's sysfs is as small). Empty `fs`, `kernel`
// and `class` directories stand where programs expect them. FIXME: the rest is the filesystems issue's.
extension Kernel {
    func makeSysRoot() -> ProcInode {
        var next: UInt64 = 0x5_0000_0000
        func ino() -> UInt64 { next += 1; return next }
        func file(_ text: String) -> ProcInode { let i = ino(); return ProcInode(.file { Array(text.utf8) }, ino: i) }
        func dir(_ children: [(String, ProcInode)]) -> ProcInode { let i = ino(); return ProcInode(.directory { children }, ino: i) }
        let n = max(cpus.count, 1)
        let range = n == 1 ? "0\n" : "0-\(n - 1)\n"
        var cpu: [(String, ProcInode)] = [("online", file(range)), ("possible", file(range)), ("present", file(range)),
                                         ("offline", file("\n")), ("kernel_max", file("8191\n"))]
        for i in 0..<n { cpu.append(("cpu\(i)", dir([("online", file("1\n"))]))) }
        let system = dir([("cpu", dir(cpu))])
        return dir([("devices", dir([("system", system)])), ("fs", dir([])), ("kernel", dir([])), ("class", dir([]))])
    }

    /// /proc/cpuinfo: the host's block for each of the instance's CPUs, numbered as the guest sees them.
    func cpuinfo() -> [UInt8] {
        let n = max(cpus.count, 1)
        var out = ""
        for i in 0..<n {
            let host = cpus.isEmpty ? Int32(0) : cpus[i]
            let lines = hostCPUInfo[host] ?? hostCPUInfo.values.first ?? ["processor\t: 0"]
            for line in lines {
                let key = line.prefix { $0 != ":" }.filter { $0 != "\t" && $0 != " " }
                switch key {
                case "processor": out += "processor\t: \(i)\n"
                case "siblings", "cpucores": out += line.prefix { $0 != ":" } + ": \(n)\n"
                case "coreid", "apicid", "initialapicid": out += line.prefix { $0 != ":" } + ": \(i)\n"
                case "physicalid": out += line.prefix { $0 != ":" } + ": 0\n"
                default: out += line + "\n"
                }
            }
            out += "\n"
        }
        return Array(out.utf8)
    }
}
