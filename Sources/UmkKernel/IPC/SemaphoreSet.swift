import CLinuxABI
import UmkHost

// SemaphoreSet.swift: System V semaphore sets (ipc/sem.c). A semop that cannot go on waits in its set's
// queue of pending operations, in arrival order; whoever changes the set then completes the pending
// operations that can now go through, on behalf of their tasks, as Linux's update_queue does (so that a
// woken waiter never loses its turn to a later caller), and wakes them with their answer. A pending operation
// whose task no longer waits on the set (a signal or its timeout woke it) is dropped when next seen.
//
// SEM_UNDO: each process (by pid) keeps an adjustment per semaphore of each set it used with SEM_UNDO;
// they are applied, clamped to 0...SEMVMX, when the process exits (exit_sem). SETVAL and SETALL clear them.
// FIXME: CLONE_SYSVSEM between processes that are not threads of one process is not modelled (threads share
// their process's list, fork starts an empty one, as on Linux).

/// The semaphore limits, Linux's defaults (kernel.sem: SEMMSL SEMMNS SEMOPM SEMMNI), and semctl's commands.
enum SEM {
    static let MSL = 32000, MNS = 32000 * 32000, OPM = 500, MNI = 32000
    static let VMX: Int32 = 32767, AEM: Int32 = 32767
    static let MNU = 32000 * 32000, MAP = 32000 * 32000, UME = 500, USZ = 20
    static let UNDO: Int16 = 0x1000
    static let GETPID: Int32 = 11, GETVAL: Int32 = 12, GETALL: Int32 = 13, GETNCNT: Int32 = 14, GETZCNT: Int32 = 15
    static let SETVAL: Int32 = 16, SETALL: Int32 = 17, STAT: Int32 = 18, INFO: Int32 = 19, STAT_ANY: Int32 = 20
    /// Kernel memory a set takes per semaphore (counted against the namespace's budget), and per set.
    static let bytesPerSemaphore = 16, bytesPerSet = 256
}

/// A process's adjustments for one set (struct sem_undo).
final class SemaphoreUndo {
    var adjustments: [Int32]
    init(count: Int) { adjustments = [Int32](repeating: 0, count: count) }
}

/// A semop waiting in its set (struct sem_queue).
final class PendingSemop {
    let task: Task
    let operations: [linux_sembuf]
    let pid: Int32
    let undo: SemaphoreUndo?
    let alters: Bool
    /// The operation it waits on (q->blocking), for GETNCNT and GETZCNT.
    var blocking: linux_sembuf

    init(task: Task, operations: [linux_sembuf], undo: SemaphoreUndo?, alters: Bool, blocking: linux_sembuf) {
        self.task = task
        self.operations = operations
        pid = task.process.pid
        self.undo = undo
        self.alters = alters
        self.blocking = blocking
    }
}

final class SemaphoreSet: IPCObject {
    var perm: IPCPermissions
    var values: [Int32]
    var pids: [Int32]
    var otime: Int64 = 0
    var ctime: Int64
    var pending: [PendingSemop] = []
    /// Where its pending operations' tasks sleep.
    let queue = WaitQueue()

    init(perm: IPCPermissions, count: Int) {
        self.perm = perm
        values = [Int32](repeating: 0, count: count)
        pids = [Int32](repeating: 0, count: count)
        ctime = IPCNamespace.now()
    }

    var count: Int { values.count }
    var kernelBytes: Int { SEM.bytesPerSet + count * SEM.bytesPerSemaphore }

    /// The outcome of trying a semop.
    enum Attempt {
        case done
        /// It must wait, on this operation.
        case blocked(linux_sembuf)
        case failed(LinuxErrno)
    }

    /// perform_atomic_semop: all of `ops` or none, in order (an operation sees the ones before it). A result
    /// above SEMVMX, or an undo adjustment beyond SEMAEM, is ERANGE; an operation that would wait is EAGAIN
    /// if its own sem_flg has IPC_NOWAIT. Every sem_num must be below `count` (the caller checked).
    func attempt(_ ops: [linux_sembuf], pid: Int32, undo: SemaphoreUndo?) -> Attempt {
        var newValues = values
        var newUndo = undo?.adjustments
        for op in ops {
            let n = Int(op.sem_num), delta = Int32(op.sem_op)
            let value = newValues[n]
            let result = value + delta
            if delta == 0 && value != 0 || result < 0 {
                return Int32(op.sem_flg) & IPC.NOWAIT != 0 ? .failed(.EAGAIN) : .blocked(op)
            }
            if result > SEM.VMX { return .failed(.ERANGE) }
            if op.sem_flg & SEM.UNDO != 0 {
                let adjusted = (newUndo?[n] ?? 0) - delta
                if adjusted < -SEM.AEM - 1 || adjusted > SEM.AEM { return .failed(.ERANGE) }
                newUndo?[n] = adjusted
            }
            newValues[n] = result
        }
        values = newValues
        if let newUndo { undo?.adjustments = newUndo }
        for op in ops { pids[Int(op.sem_num)] = pid }
        return .done
    }

    /// count_semcnt: the tasks waiting for semaphore `n` to grow (GETNCNT) or to be zero (GETZCNT).
    func waiters(on n: Int, forZero: Bool) -> Int {
        pending.count { p in
            queue.waiters.contains { $0 === p.task } && Int(p.blocking.sem_num) == n
                && (forZero ? p.blocking.sem_op == 0 : p.blocking.sem_op < 0)
        }
    }
}

extension Kernel {
    /// update_queue: completes the pending operations that can go through now, oldest first, until none can.
    func updatePending(_ s: SemaphoreSet) {
        var changed = true
        while changed {
            changed = false
            var i = 0
            while i < s.pending.count {
                let p = s.pending[i]
                guard p.task.isAlive, s.queue.waiters.contains(where: { $0 === p.task }) else {
                    s.pending.remove(at: i)
                    continue
                }
                switch s.attempt(p.operations, pid: p.pid, undo: p.undo) {
                case .blocked(let op):
                    p.blocking = op
                    i += 1
                    continue
                case .done:
                    s.otime = IPCNamespace.now()
                    complete(p.task, 0)
                    changed = p.alters
                case .failed(let e):
                    complete(p.task, -Int(e.rawValue))
                }
                s.pending.remove(at: i)
                if changed { break }
            }
        }
    }

    /// Ends a waiting task's system call with `value` (its waker decided it).
    func complete(_ t: Task, _ value: Int) {
        t.deadline = nil
        t.completion = value
        makeRunnable(t)
    }

    /// semget's newary.
    func newSemaphoreSet(_ t: Task, key: Int32, count: Int, flags: Int32) throws(LinuxErrno) -> Int32 {
        let ns = ipc
        guard count > 0 else { throw .EINVAL }
        guard ns.semaphoreCount + count <= SEM.MNS else { throw .ENOSPC }
        let s = SemaphoreSet(perm: IPCPermissions(key: key, mode: flags, creator: t.process.credentials), count: count)
        try ns.reserve(s.kernelBytes)
        do {
            let id = try ns.semaphoreSets.add(s, limit: SEM.MNI)
            ns.semaphoreCount += count
            return id
        } catch {
            ns.release(s.kernelBytes)
            throw error
        }
    }

    /// freeary: the set goes, its undo adjustments with it, and its waiters fail with EIDRM.
    func removeSemaphoreSet(_ s: SemaphoreSet) {
        let ns = ipc
        let id = s.perm.id
        for (pid, var list) in ns.undoLists {
            guard let u = list.removeValue(forKey: id) else { continue }
            ns.release(u.adjustments.count * 2)
            ns.undoLists[pid] = list.isEmpty ? nil : list
        }
        for p in s.pending where s.queue.waiters.contains(where: { $0 === p.task }) {
            complete(p.task, -Int(LinuxErrno.EIDRM.rawValue))
        }
        s.pending.removeAll()
        ns.semaphoreSets.remove(s)
        ns.semaphoreCount -= s.count
        ns.release(s.kernelBytes)
    }

    /// find_alloc_undo: the caller's process's adjustments for set `s`, made on first use.
    func undo(for p: Process, _ s: SemaphoreSet) throws(LinuxErrno) -> SemaphoreUndo {
        let ns = ipc
        if let u = ns.undoLists[p.pid]?[s.perm.id] { return u }
        try ns.reserve(s.count * 2)
        let u = SemaphoreUndo(count: s.count)
        ns.undoLists[p.pid, default: [:]][s.perm.id] = u
        return u
    }

    /// SETVAL and SETALL: no process's adjustment for these semaphores survives.
    func clearUndo(_ s: SemaphoreSet, _ which: Range<Int>) {
        let id = s.perm.id
        for list in ipc.undoLists.values {
            guard let u = list[id] else { continue }
            for i in which where i < u.adjustments.count { u.adjustments[i] = 0 }
        }
    }

    /// exit_sem: applies and forgets the adjustments of an exiting process.
    func applyUndo(_ p: Process) {
        let ns = ipc
        guard let list = ns.undoLists.removeValue(forKey: p.pid) else { return }
        for (id, u) in list.sorted(by: { $0.key < $1.key }) {
            ns.release(u.adjustments.count * 2)
            guard let s = try? ns.semaphoreSets.lookup(id) else { continue }
            for (i, adj) in u.adjustments.enumerated() where adj != 0 && i < s.count {
                s.values[i] = min(max(s.values[i] + adj, 0), SEM.VMX)
                s.pids[i] = p.pid
            }
            s.otime = IPCNamespace.now()
            updatePending(s)
        }
    }
}
