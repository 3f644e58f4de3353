// StubProcess.swift: one guest address space's host process, and the queue of host mapping changes that the
// kernel flushes into it before the guest runs again (arch/um os-Linux/skas/mem.c). Consecutive compatible
// entries merge, so mapping a run of frames costs one host mmap however many pages it has.
import Glibc
import CUmk

public final class StubProcess {
    public static let codeAddress = UInt64(UMK_STUB_CODE)
    /// First address the guest may not use: everything from here up belongs to the stub.
    public static let guestLimit = UInt64(UMK_STUB_CODE)
    public static let dataPages = Int(UMK_STUB_DATA_PAGES)

    public let pid: Int32
    private let data: UnsafeMutablePointer<umk_stub_data>
    private let maxOps = Int(UMK_STUB_MAX_OPS)
    private var count = 0
    public private(set) var flushes = 0

    public var hasPendingChanges: Bool { count > 0 }

    /// Spawns a stub and maps its data pages at UMK_STUB_DATA from `dataOffset` of the physical memory,
    /// `dataPages` frames the caller has set aside for it.
    public init(physicalMemory: PhysicalMemory, dataOffset: Int) throws(Errno) {
        pid = try Tracer.spawnStub(physicalMemory: physicalMemory)
        data = (physicalMemory.base + dataOffset).bindMemory(to: umk_stub_data.self, capacity: 1)
        var regs = Registers()
        regs.rax = 9  // mmap
        regs.rdi = UInt64(UMK_STUB_DATA)
        regs.rsi = UInt64(StubProcess.dataPages * 4096)
        regs.rdx = UInt64(PROT_READ | PROT_WRITE)
        regs.r10 = UInt64(MAP_SHARED | MAP_FIXED)
        regs.r8 = UInt64(UMK_STUB_PHYS_FD)
        regs.r9 = UInt64(dataOffset)
        do throws(Errno) {
            try Tracer.runStub(pid, entry: umk_stub_entry_syscall(), regs: regs)
            try Tracer.getRegisters(pid, &regs)
            if regs.rax != UInt64(UMK_STUB_DATA) { throw Errno(rawValue: Int32(truncatingIfNeeded: -Int64(bitPattern: regs.rax))) }
        } catch {
            Tracer.kill(pid: pid)
            throw error
        }
    }

    deinit { Tracer.kill(pid: pid) }

    /// Forgets queued changes (the address space they were for is gone).
    public func discardPendingChanges() { count = 0 }

    public func kill() { Tracer.kill(pid: pid) }

    /// Queues: map [address, address+length) to the physical-memory file at `offset` with `prot`.
    public func map(address: UInt64, length: UInt64, prot: Int32, offset: UInt64) throws(Errno) {
        let flags = UInt64(MAP_SHARED | MAP_FIXED)
        if count > 0 {
            let last = lastOp
            if last.pointee.nr == 9 && last.pointee.args.1 &+ last.pointee.args.0 == address
                && last.pointee.args.2 == UInt64(prot) && last.pointee.args.5 &+ last.pointee.args.1 == offset
            {
                last.pointee.args.1 += length
                return
            }
        }
        try push(9, address, length, UInt64(prot), flags, UInt64(UMK_STUB_PHYS_FD), offset)
    }

    /// Queues: unmap [address, address+length).
    public func unmap(address: UInt64, length: UInt64) throws(Errno) {
        if count > 0, lastOp.pointee.nr == 11, lastOp.pointee.args.0 &+ lastOp.pointee.args.1 == address {
            lastOp.pointee.args.1 += length
            return
        }
        try push(11, address, length, 0, 0, 0, 0)
    }

    /// Queues: change the protection of [address, address+length).
    public func protect(address: UInt64, length: UInt64, prot: Int32) throws(Errno) {
        if count > 0, lastOp.pointee.nr == 10, lastOp.pointee.args.0 &+ lastOp.pointee.args.1 == address,
            lastOp.pointee.args.2 == UInt64(prot)
        {
            lastOp.pointee.args.1 += length
            return
        }
        try push(10, address, length, UInt64(prot), 0, 0, 0)
    }

    /// Runs the queued changes in the stub. The stub's registers are left pointing into the stub: the
    /// caller must set the guest's registers before resuming it (the dispatcher always does).
    public func flush() throws(Errno) {
        guard count > 0 else { return }
        data.pointee.count = UInt64(count)
        count = 0
        flushes += 1
        try Tracer.runStub(pid, entry: umk_stub_entry_batch(), regs: Registers())
        if data.pointee.result < 0 { throw Errno(rawValue: Int32(-data.pointee.result)) }
    }

    private var ops: UnsafeMutablePointer<umk_stub_op> {
        UnsafeMutableRawPointer(data).advanced(by: 32).assumingMemoryBound(to: umk_stub_op.self)
    }
    private var lastOp: UnsafeMutablePointer<umk_stub_op> { ops + (count - 1) }

    private func push(_ nr: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, _ e: UInt64, _ f: UInt64)
        throws(Errno)
    {
        if count == maxOps { try flush() }
        ops[count] = umk_stub_op(nr: nr, args: (a, b, c, d, e, f))
        count += 1
    }
}

extension StubProcess {
    /// An FXSAVE image of a freshly reset FPU: x87 control word 0x37f, MXCSR 0x1f80, all registers zero.
    private static let cleanFloatingPoint: [UInt8] = {
        var image = [UInt8](repeating: 0, count: 512)
        image[0] = 0x7f
        image[1] = 0x03
        image[24] = 0x80
        image[25] = 0x1f
        return image
    }()

    /// Makes a stub whose guest is gone ready for another address space: every guest mapping removed and
    /// the FPU state cleared, so nothing of the old guest is left in it. Throws if the stub is unusable.
    public func reset() throws(Errno) {
        try unmap(address: 0x1000, length: StubProcess.guestLimit - 0x1000)
        try flush()
        try Tracer.setFloatingPoint(pid, StubProcess.cleanFloatingPoint)
    }
}
