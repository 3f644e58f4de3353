import CLinuxABI
import UmkHost

// SysVSem.swift: semget, semop, semtimedop and semctl (ipc/sem.c), in Linux's order of checks. The sets and
// their queues of waiting operations are IPC/SemaphoreSet.swift's. A waiting semop is completed by whoever
// makes it possible (or fails with EIDRM when its set goes); it runs again only when its timeout has passed
// (EAGAIN). A handled signal ends it with EINTR: semop is never restarted (signal(7)).

extension SyscallTable {
    mutating func addSemaphoreCalls() {
        add(64, [.hex, .int, .hex]) { k, t, a throws(LinuxErrno) in  // semget
            .value(Int(try k.sysSemget(t, key: a.int(0), count: a.int(1), flags: a.int(2))))
        }
        add(65, [.int, .pointer, .uint]) { k, t, a throws(LinuxErrno) in  // semop
            try k.sysSemtimedop(t, id: a.int(0), operations: a.address(1), count: a.uint(2), timeout: GuestAddress(0))
        }
        add(220, [.int, .pointer, .uint, .pointer]) { k, t, a throws(LinuxErrno) in  // semtimedop
            try k.sysSemtimedop(t, id: a.int(0), operations: a.address(1), count: a.uint(2), timeout: a.address(3))
        }
        add(66, [.int, .int, .int, .hex]) { k, t, a throws(LinuxErrno) in  // semctl
            .value(Int(try k.sysSemctl(t, id: a.int(0), number: a.int(1), cmd: a.int(2), argument: a[3])))
        }
    }
}

extension Kernel {
    func sysSemget(_ t: Task, key: Int32, count: Int32, flags: Int32) throws(LinuxErrno) -> Int32 {
        guard count >= 0, count <= SEM.MSL else { throw .EINVAL }
        return try ipc.semaphoreSets.get(key: key, flags: flags, t.process.credentials) { (s: SemaphoreSet) throws(LinuxErrno) in
            if Int(count) > s.count { throw .EINVAL }
        } make: { () throws(LinuxErrno) in
            try newSemaphoreSet(t, key: key, count: Int(count), flags: flags)
        }
    }

    /// The struct sembuf array of a semop.
    private func readOperations(_ t: Task, _ at: GuestAddress, _ n: Int) throws(LinuxErrno) -> [linux_sembuf] {
        let b = try t.mm.readBytes(at, n * MemoryLayout<linux_sembuf>.size)
        return (0..<n).map { i in
            let o = i * 6
            func half(_ k: Int) -> UInt16 { UInt16(b[o + k]) | UInt16(b[o + k + 1]) << 8 }
            return linux_sembuf(sem_num: half(0), sem_op: Int16(bitPattern: half(2)), sem_flg: Int16(bitPattern: half(4)))
        }
    }

    /// do_semtimedop.
    func sysSemtimedop(_ t: Task, id: Int32, operations: GuestAddress, count: UInt32, timeout: GuestAddress)
        throws(LinuxErrno) -> SyscallOutcome
    {
        let limit = timeout.isNull ? nil : try t.mm.read(timeout, as: linux_timespec.self)
        guard count >= 1, id >= 0 else { throw .EINVAL }
        guard count <= SEM.OPM else { throw .E2BIG }
        let ops = try readOperations(t, operations, Int(count))
        if let l = limit, l.tv_sec < 0 || l.tv_nsec < 0 || l.tv_nsec >= 1_000_000_000 { throw .EINVAL }
        let highest = ops.map { Int($0.sem_num) }.max() ?? 0
        let undos = ops.contains { $0.sem_flg & SEM.UNDO != 0 }
        let alters = ops.contains { $0.sem_op != 0 }
        let ns = ipc
        var undo: SemaphoreUndo? = nil
        if undos {
            let s = try ns.semaphoreSets.lookup(id)
            if highest < s.count { undo = try self.undo(for: t.process, s) }
        }
        let s = try ns.semaphoreSets.lookup(id)
        guard highest < s.count else { throw .EFBIG }
        guard s.perm.permits(alters ? 0o222 : 0o444, t.process.credentials) else { throw .EACCES }
        s.pending.removeAll { $0.task === t }
        // Running again: the timeout has passed (a waker would have completed the call).
        if let d = t.deadline, HostClock.monotonicNanoseconds() >= d { throw .EAGAIN }
        switch s.attempt(ops, pid: t.process.pid, undo: undo) {
        case .done:
            if alters { updatePending(s) }
            s.otime = IPCNamespace.now()
            return .value(0)
        case .failed(let e):
            throw e
        case .blocked(let op):
            if t.deadline == nil, let l = limit {
                let wait = nanoseconds(l.tv_sec, l.tv_nsec)
                if wait == 0 { throw .EAGAIN }
                t.deadline = deadline(after: wait)
            }
            s.pending.append(PendingSemop(task: t, operations: ops, undo: undo, alters: alters, blocking: op))
            return .block(s.queue)
        }
    }

    /// ksys_semctl. `argument` is union semun: a value (SETVAL) or a pointer.
    func sysSemctl(_ t: Task, id: Int32, number: Int32, cmd: Int32, argument: UInt64) throws(LinuxErrno) -> Int32 {
        guard id >= 0 else { throw .EINVAL }
        let ns = ipc
        let c = t.process.credentials
        let buffer = GuestAddress(argument)
        switch cmd {
        case IPC.INFO, SEM.INFO:
            var info = linux_seminfo()
            info.semmni = Int32(SEM.MNI)
            info.semmns = Int32(SEM.MNS)
            info.semmsl = Int32(SEM.MSL)
            info.semopm = Int32(SEM.OPM)
            info.semvmx = SEM.VMX
            info.semmnu = Int32(SEM.MNU)
            info.semmap = Int32(SEM.MAP)
            info.semume = Int32(SEM.UME)
            if cmd == SEM.INFO {
                info.semusz = Int32(ns.semaphoreSets.count)
                info.semaem = Int32(ns.semaphoreCount)
            } else {
                info.semusz = Int32(SEM.USZ)
                info.semaem = SEM.AEM
            }
            try t.mm.write(buffer, info)
            return Int32(ns.semaphoreSets.maxIndex)
        case IPC.STAT, SEM.STAT, SEM.STAT_ANY:
            let s = cmd == IPC.STAT ? try ns.semaphoreSets.lookup(id) : try ns.semaphoreSets.lookup(index: id)
            if cmd != SEM.STAT_ANY && !s.perm.permits(0o444, c) { throw .EACCES }
            var ds = linux_semid64_ds()
            ds.sem_perm = s.perm.abi
            ds.sem_otime = s.otime
            ds.sem_ctime = s.ctime
            ds.sem_nsems = UInt64(s.count)
            try t.mm.write(buffer, ds)
            return cmd == IPC.STAT ? 0 : s.perm.id
        case SEM.GETALL, SEM.SETALL:
            let s = try ns.semaphoreSets.lookup(id)
            guard s.perm.permits(cmd == SEM.SETALL ? 0o222 : 0o444, c) else { throw .EACCES }
            if cmd == SEM.GETALL {
                try t.mm.writeBytes(buffer, s.values.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] })
                return 0
            }
            let b = try t.mm.readBytes(buffer, s.count * 2)
            let values = (0..<s.count).map { Int32(UInt16(b[2 * $0]) | UInt16(b[2 * $0 + 1]) << 8) }
            if values.contains(where: { $0 > SEM.VMX }) { throw .ERANGE }
            s.values = values
            for i in 0..<s.count { s.pids[i] = t.process.pid }
            clearUndo(s, 0..<s.count)
            s.ctime = IPCNamespace.now()
            updatePending(s)
            return 0
        case SEM.GETVAL, SEM.GETPID, SEM.GETNCNT, SEM.GETZCNT:
            let s = try ns.semaphoreSets.lookup(id)
            guard s.perm.permits(0o444, c) else { throw .EACCES }
            guard number >= 0, Int(number) < s.count else { throw .EINVAL }
            let n = Int(number)
            switch cmd {
            case SEM.GETVAL: return s.values[n]
            case SEM.GETPID: return s.pids[n]
            default: return Int32(s.waiters(on: n, forZero: cmd == SEM.GETZCNT))
            }
        case SEM.SETVAL:
            let value = Int32(truncatingIfNeeded: argument)
            guard value >= 0, value <= SEM.VMX else { throw .ERANGE }
            let s = try ns.semaphoreSets.lookup(id)
            guard number >= 0, Int(number) < s.count else { throw .EINVAL }
            guard s.perm.permits(0o222, c) else { throw .EACCES }
            let n = Int(number)
            clearUndo(s, n..<(n + 1))
            s.values[n] = value
            s.pids[n] = t.process.pid
            s.ctime = IPCNamespace.now()
            updatePending(s)
            return 0
        case IPC.SET:
            let ds = try t.mm.read(buffer, as: linux_semid64_ds.self)
            let s = try ns.semaphoreSets.lookup(id)
            try s.perm.checkOwner(c)
            try s.perm.update(from: ds.sem_perm)
            s.ctime = IPCNamespace.now()
            return 0
        case IPC.RMID:
            let s = try ns.semaphoreSets.lookup(id)
            try s.perm.checkOwner(c)
            removeSemaphoreSet(s)
            return 0
        default:
            throw .EINVAL
        }
    }
}
