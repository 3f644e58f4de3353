// StubProcess.swift: one guest address space's host process, and the queue of host mapping changes that the
// kernel flushes into it before the guest runs again (arch/um os-Linux/skas/mem.c). Consecutive compatible
// entries merge, so mapping a run of frames costs one host mmap however many pages it has.
//
// The stub's leader thread runs only the stub's own code (mapping batches, thread creation), always from its
// idle loop, so it is there for a flush whatever the guest threads are doing; each guest thread runs on a
// host thread of its own, which cannot run the leader's calls (its stacked seccomp filter).
import Glibc
import CUmk

public final class StubProcess {
    /// First address the guest may not use: everything from here up belongs to the stub.
    public static let guestLimit = UInt64(UMK_STUB_CODE)

    public let pid: Int32
    /// umk's own writable mapping of the stub's control memfd; the stub maps it read-only, and it is not
    /// part of guest memory, so neither the guest nor a frame it once owned can ever alias it.
    private let control: UnsafeMutableRawPointer
    private let data: UnsafeMutablePointer<umk_stub_data>
    private let maxOps = Int(UMK_STUB_MAX_OPS)
    private var count = 0
    private var alive = true
    public private(set) var flushes = 0
    /// The host error of the first batch that failed. The stub was killed then: every host mapping it had is
    /// gone, and it takes no more changes.
    public private(set) var failure: Errno?

    public var hasPendingChanges: Bool { count > 0 }

    /// Spawns a stub, with its control pages and seccomp filter in place, stopped and ready for batches.
    public init(physicalMemory: PhysicalMemory) throws(Errno) {
        var page: UnsafeMutableRawPointer? = nil
        let fd = try shim(umk_stub_control_create(&page))
        defer { close(fd) }  // the stub has its own mapping once it runs; so has umk
        control = page!
        data = (control + 4096).bindMemory(to: umk_stub_data.self, capacity: 1)
        do {
            pid = try Tracer.spawnStub(physicalMemory: physicalMemory, control: fd)
            StubRegistry.add(pid)
        } catch {
            munmap(control, Int(UMK_STUB_CONTROL_SIZE))
            throw error
        }
    }

    deinit {
        kill()
        munmap(control, Int(UMK_STUB_CONTROL_SIZE))
    }

    /// Forgets queued changes (the address space they were for is gone).
    public func discardPendingChanges() { count = 0 }

    /// The host threads that run guest threads (the leader, `pid`, runs only the stub's own code).
    public private(set) var threads: Set<Int32> = []

    /// Kills and reaps the stub and its threads, once: a pid already reaped may belong to another host
    /// process by now.
    public func kill() {
        guard alive else { return }
        alive = false
        count = 0
        StubRegistry.remove(pid)
        Tracer.kill(pid: pid, threads: threads)
        threads.removeAll()
    }

    /// The kernel's wait already reaped this stub's leader (it was killed by a signal): nothing left to kill.
    public func reaped() {
        StubRegistry.remove(pid)
        alive = false
        count = 0
        threads.removeAll()
        if failure == nil { failure = Errno(rawValue: ESRCH) }
    }

    /// A new host thread for a guest thread, stopped and ready for its registers.
    public func spawnThread() throws(Errno) -> Int32 {
        if let failure { throw failure }
        do {
            let tid = try Tracer.spawnThread(leader: pid)
            threads.insert(tid)
            return tid
        } catch {
            // The leader is in an unknown state (or the host is out of threads, EAGAIN): only the
            // latter leaves the stub usable.
            if error.rawValue != EAGAIN { fail(error) }
            throw error
        }
    }

    /// Ends the host thread `tid` (stopped) and reaps it.
    public func endThread(_ tid: Int32) {
        guard alive, threads.remove(tid) != nil else { return }
        Tracer.endThread(tid)
    }

    /// The kernel's wait reaped thread `tid` (killed by a signal). A thread dies only with its whole stub
    /// short of a bug, so the stub is unusable from here.
    public func threadReaped(_ tid: Int32) {
        threads.remove(tid)
        if failure == nil { failure = Errno(rawValue: ESRCH) }
    }

    /// Queues: map [address, address+length) to the physical-memory file at `offset` with `prot`.
    public func map(address: UInt64, length: UInt64, prot: Int32, offset: UInt64) {
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
        push(9, address, length, UInt64(prot), flags, UInt64(UMK_STUB_PHYS_FD), offset)
    }

    /// Queues: unmap [address, address+length).
    public func unmap(address: UInt64, length: UInt64) {
        if count > 0, lastOp.pointee.nr == 11, lastOp.pointee.args.0 &+ lastOp.pointee.args.1 == address {
            lastOp.pointee.args.1 += length
            return
        }
        push(11, address, length, 0, 0, 0, 0)
    }

    /// Queues: change the protection of [address, address+length).
    public func protect(address: UInt64, length: UInt64, prot: Int32) {
        if count > 0, lastOp.pointee.nr == 10, lastOp.pointee.args.0 &+ lastOp.pointee.args.1 == address,
            lastOp.pointee.args.2 == UInt64(prot)
        {
            lastOp.pointee.args.1 += length
            return
        }
        push(10, address, length, UInt64(prot), 0, 0, 0)
    }

    /// Runs the queued changes in the stub. The stub's registers are left pointing into the stub: the
    /// caller must set the guest's registers before resuming it (the dispatcher always does). A failure is
    /// final: the stub is killed before this returns, so no host mapping outlives what the kernel believes.
    public func flush() throws(Errno) {
        if let failure { throw failure }
        guard count > 0 else { return }
        data.pointee.count = UInt64(count)
        count = 0
        flushes += 1
        var regs = Registers()
        do throws(Errno) {
            if try Tracer.runStub(pid, entry: umk_stub_entry_batch(), regs: regs) { return }
            try Tracer.getRegisters(pid, &regs)
        } catch {
            fail(error)
            throw error
        }
        let result = Int64(bitPattern: regs.rax)
        let e = Errno(rawValue: result < 0 && result >= -4095 ? Int32(-result) : EIO)
        fail(e)
        throw e
    }

    private func fail(_ error: Errno) {
        failure = error
        kill()
    }

    private var ops: UnsafeMutablePointer<umk_stub_op> {
        UnsafeMutableRawPointer(data).advanced(by: 32).assumingMemoryBound(to: umk_stub_op.self)
    }
    private var lastOp: UnsafeMutablePointer<umk_stub_op> { ops + (count - 1) }

    private func push(_ nr: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, _ e: UInt64, _ f: UInt64) {
        guard failure == nil else { return }
        if count == maxOps { try? flush() }
        guard failure == nil else { return }
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

    /// Makes a stub whose guest is gone ready for another address space: every guest mapping removed, and
    /// of its threads only `keeping` left, with its FPU state cleared, so nothing of the old guest is left
    /// in it. Throws if the stub is unusable.
    public func reset(keeping: Int32?) throws(Errno) {
        unmap(address: 0, length: StubProcess.guestLimit)
        try flush()
        for tid in threads where tid != keeping { endThread(tid) }
        if let keeping { try Tracer.setFloatingPoint(keeping, StubProcess.cleanFloatingPoint) }
    }
}
