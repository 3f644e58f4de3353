// Registers.swift: a guest thread's x86-64 user registers, laid out exactly as PTRACE_GETREGS fills them.
public struct Registers: Sendable {
    public var r15: UInt64 = 0, r14: UInt64 = 0, r13: UInt64 = 0, r12: UInt64 = 0, rbp: UInt64 = 0
    public var rbx: UInt64 = 0, r11: UInt64 = 0, r10: UInt64 = 0, r9: UInt64 = 0, r8: UInt64 = 0
    public var rax: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0, rsi: UInt64 = 0, rdi: UInt64 = 0
    public var origRax: UInt64 = 0, rip: UInt64 = 0, cs: UInt64 = 0, eflags: UInt64 = 0, rsp: UInt64 = 0
    public var ss: UInt64 = 0, fsBase: UInt64 = 0, gsBase: UInt64 = 0, ds: UInt64 = 0, es: UInt64 = 0
    public var fs: UInt64 = 0, gs: UInt64 = 0

    /// A user-mode register set: 64-bit code and stack segments, interrupts on.
    public init() {
        cs = 0x33
        ss = 0x2b
        eflags = 0x202
    }

    /// The six syscall arguments of the x86-64 ABI.
    @inlinable public var syscallArgs: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
        (rdi, rsi, rdx, r10, r8, r9)
    }
}
