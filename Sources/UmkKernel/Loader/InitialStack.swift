import UmkHost

// InitialStack.swift: the stack a new program starts on, laid out as Linux lays it (fs/exec.c, fs/binfmt_elf.c
// create_elf_tables): from the top, an 8-byte gap, the exec filename, the environment strings, the argument
// strings, the platform string, 16 random bytes; then, 16-byte aligned, argc, argv[], NULL, envp[], NULL
// and the auxiliary vector.
struct AuxiliaryVector {
    var phdr: UInt64
    var phnum: UInt64
    var base: UInt64
    var entry: UInt64
    var credentials: Credentials

    static let AT_NULL: UInt64 = 0, AT_PHDR: UInt64 = 3, AT_PHENT: UInt64 = 4, AT_PHNUM: UInt64 = 5
    static let AT_PAGESZ: UInt64 = 6, AT_BASE: UInt64 = 7, AT_FLAGS: UInt64 = 8, AT_ENTRY: UInt64 = 9
    static let AT_UID: UInt64 = 11, AT_EUID: UInt64 = 12, AT_GID: UInt64 = 13, AT_EGID: UInt64 = 14
    static let AT_PLATFORM: UInt64 = 15, AT_HWCAP: UInt64 = 16, AT_CLKTCK: UInt64 = 17, AT_SECURE: UInt64 = 23
    static let AT_RANDOM: UInt64 = 25, AT_HWCAP2: UInt64 = 26, AT_RSEQ_FEATURE_SIZE: UInt64 = 27
    static let AT_RSEQ_ALIGN: UInt64 = 28, AT_EXECFN: UInt64 = 31, AT_MINSIGSTKSZ: UInt64 = 51

    /// The entries in create_elf_tables' order; string and random addresses filled in by the caller.
    func entries(random: UInt64, execfn: UInt64, platform: UInt64) -> [(UInt64, UInt64)] {
        [
            (Self.AT_MINSIGSTKSZ, HostCPU.minSigStackSize),
            (Self.AT_HWCAP, HostCPU.hwcap),
            (Self.AT_PAGESZ, 4096),
            (Self.AT_CLKTCK, 100),
            (Self.AT_PHDR, phdr),
            (Self.AT_PHENT, 56),
            (Self.AT_PHNUM, phnum),
            (Self.AT_BASE, base),
            (Self.AT_FLAGS, 0),
            (Self.AT_ENTRY, entry),
            (Self.AT_UID, UInt64(credentials.uid)),
            (Self.AT_EUID, UInt64(credentials.euid)),
            (Self.AT_GID, UInt64(credentials.gid)),
            (Self.AT_EGID, UInt64(credentials.egid)),
            (Self.AT_SECURE, credentials.euid != credentials.uid || credentials.egid != credentials.gid ? 1 : 0),
            (Self.AT_RANDOM, random),
            (Self.AT_HWCAP2, HostCPU.hwcap2),
            (Self.AT_EXECFN, execfn),
            (Self.AT_PLATFORM, platform),
            (Self.AT_RSEQ_FEATURE_SIZE, 28),
            (Self.AT_RSEQ_ALIGN, 32),
            (Self.AT_NULL, 0),
        ]
    }
}

enum InitialStack {
    /// Extra stack mapped below the arguments at exec, as Linux's stack_expand (128 KiB).
    static let headroom: UInt64 = 128 << 10

    /// Maps the stack VMA, writes the layout, and returns the initial stack pointer.
    static func build(in mm: AddressSpace, argv: [[UInt8]], envp: [[UInt8]], execfn: [UInt8], aux: AuxiliaryVector,
                      executable: Bool) throws(LinuxErrno) -> UInt64
    {
        var stringBytes = execfn.count + 1
        for s in argv + envp {
            guard s.count < Kernel.maxArgumentString else { throw .E2BIG }
            stringBytes += s.count + 1
        }
        // ARG_MAX: a quarter of the stack limit, as Linux allows.
        guard UInt64(stringBytes + 8 * (argv.count + envp.count + 2)) <= max(mm.stackLimit / 4, 128 << 10) else {
            throw .E2BIG
        }
        let top = AddressSpace.stackTop
        let tableBytes = 8 * (argv.count + envp.count + 3) + 16 * 24
        let needed = UInt64(stringBytes + tableBytes + 64 + 32)
        let size = ((needed + 4095) & ~4095) + headroom
        var prot: Protection = [.read, .write]
        if executable { prot.insert(.exec) }
        try mm.map(VMA(start: top - size, end: top, prot: prot, growsDown: true, name: "[stack]"))

        var p = top - 8
        func pushString(_ s: [UInt8]) throws(LinuxErrno) -> UInt64 {
            p -= UInt64(s.count + 1)
            try mm.writeBytes(GuestAddress(p), s + [0])
            return p
        }
        let execfnAddress = try pushString(execfn)
        var envAddresses = [UInt64](repeating: 0, count: envp.count)
        for i in envp.indices.reversed() { envAddresses[i] = try pushString(envp[i]) }
        var argAddresses = [UInt64](repeating: 0, count: argv.count)
        for i in argv.indices.reversed() { argAddresses[i] = try pushString(argv[i]) }
        // The strings lie in order, argv then envp, up to the exec filename.
        let environmentStart = envAddresses.first ?? execfnAddress
        mm.argumentStrings = (argAddresses.first ?? environmentStart)..<environmentStart
        mm.environmentStrings = environmentStart..<execfnAddress
        p &= ~15
        let platform = try pushString(Array("x86_64".utf8))
        var random = [UInt8](repeating: 0, count: 16)
        random.withUnsafeMutableBytes { HostRandom.fill($0) }
        p -= 16
        let randomAddress = p
        try mm.writeBytes(GuestAddress(p), random)

        let auxv = aux.entries(random: randomAddress, execfn: execfnAddress, platform: platform)
        var table: [UInt64] = [UInt64(argv.count)]
        table += argAddresses + [0] + envAddresses + [0]
        for (k, v) in auxv { table += [k, v] }
        mm.auxiliaryVector = auxv.flatMap { [$0.0, $0.1] }.withUnsafeBytes { Array($0) }
        let sp = (p - UInt64(table.count * 8)) & ~15
        let bytes = table.withUnsafeBytes { Array($0) }
        try mm.writeBytes(GuestAddress(sp), bytes)
        mm.stackStart = sp
        return sp
    }
}
