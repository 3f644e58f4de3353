import CLinuxABI
import UmkHost

// IPCNamespace.swift: the System V IPC objects of one instance (ipc/util.c, ipc/namespace.c): shared memory
// segments, semaphore sets and message queues, each kind in its own table of ids, and what they share: keys,
// IPC_CREAT/IPC_EXCL, struct ipc_perm and its permission check (ipcperms), the owner check of IPC_SET and
// IPC_RMID. The instance is one IPC namespace: nothing here is global. The POSIX message queues of
// mq_open live here too, by name.
//
// Kernel memory: Linux keeps semaphores, undo arrays and messages in kernel memory, bounded only by the
// sysctl limits (32000 sets of 32000 semaphores), which would let a guest grow umk without bound. umk counts
// them against `kernelBudget` and answers ENOMEM past it, as Linux does when its allocation fails.

/// IPC_* (include/uapi/linux/ipc.h).
enum IPC {
    static let PRIVATE: Int32 = 0
    static let CREAT: Int32 = 0o1000, EXCL: Int32 = 0o2000, NOWAIT: Int32 = 0o4000
    static let RMID: Int32 = 0, SET: Int32 = 1, STAT: Int32 = 2, INFO: Int32 = 3
    /// IPCMNI: an id is seq * 32768 + index (ipc_mni_shift 15).
    static let maxIndex = 32768
    static let seqShift = 15
    static let seqMax = Int(Int32.max) >> 15
    /// idr_alloc_cyclic's smallest window (RADIX_TREE_MAP_SIZE).
    static let minCycle = 64
}

/// struct kern_ipc_perm's visible part (struct ipc64_perm).
struct IPCPermissions {
    var key: Int32
    var uid: UInt32, gid: UInt32, cuid: UInt32, cgid: UInt32
    /// The low nine bits are the access mode; shm keeps SHM_DEST and SHM_LOCKED above them.
    var mode: UInt32
    var seq: UInt16 = 0
    var id: Int32 = 0

    init(key: Int32, mode: Int32, creator c: Credentials) {
        self.key = key
        uid = c.euid; cuid = c.euid
        gid = c.egid; cgid = c.egid
        self.mode = UInt32(mode & 0o777)
    }

    var abi: linux_ipc64_perm {
        var p = linux_ipc64_perm()
        p.key = key
        p.uid = uid; p.gid = gid; p.cuid = cuid; p.cgid = cgid
        p.mode = mode
        p.seq = seq
        return p
    }

    /// ipcperms: whether `c` may access with the rwx bits of `flag` (its low nine bits, any of the three
    /// triads). The owner or creator uses the owner bits, a member of the owner's or creator's group the group
    /// bits; root (CAP_IPC_OWNER) passes.
    func permits(_ flag: Int32, _ c: Credentials) -> Bool {
        let requested = UInt32(truncatingIfNeeded: (flag >> 6) | (flag >> 3) | flag) & 7
        var granted = mode
        if c.euid == cuid || c.euid == uid {
            granted >>= 6
        } else if c.inGroup(cgid) || c.inGroup(gid) {
            granted >>= 3
        }
        return requested & ~granted & 7 == 0 || c.euid == 0
    }

    /// ipcctl_obtain_check's test for IPC_SET and IPC_RMID: the owner, the creator or root (CAP_SYS_ADMIN).
    func checkOwner(_ c: Credentials) throws(LinuxErrno) {
        guard c.euid == cuid || c.euid == uid || c.euid == 0 else { throw .EPERM }
    }

    /// ipc_update_perm (IPC_SET): the new owner and the access bits; an id of -1 is EINVAL.
    mutating func update(from p: linux_ipc64_perm) throws(LinuxErrno) {
        guard p.uid != UInt32.max, p.gid != UInt32.max else { throw .EINVAL }
        uid = p.uid
        gid = p.gid
        mode = (mode & ~0o777) | (p.mode & 0o777)
    }
}

extension Credentials {
    /// in_group_p: the filesystem gid or a supplementary group.
    func inGroup(_ g: UInt32) -> Bool { fsgid == g || groups.contains(g) }
}

/// One System V IPC object: a segment, a semaphore set or a message queue.
protocol IPCObject: AnyObject {
    var perm: IPCPermissions { get set }
}

/// The ids of one kind of object (struct ipc_ids): an index table with Linux's cyclic allocation and
/// sequence numbers, and the keys.
final class IPCIdTable<Object: IPCObject> {
    private(set) var objects: [Int: Object] = [:]
    private var keys: [Int32: Int] = [:]
    private var seq = 0
    private var lastIndex = -1
    private var nextIndex = 0

    var count: Int { objects.count }

    /// ipc_get_maxidx: the highest index in use, 0 when none (what the INFO commands return).
    var maxIndex: Int { objects.keys.max() ?? 0 }

    /// The objects in index order (for /proc/sysvipc).
    var ordered: [Object] { objects.keys.sorted().compactMap { objects[$0] } }

    func find(key: Int32) -> Object? { keys[key].flatMap { objects[$0] } }

    /// ipc_obtain_object_check: the object an id names; EINVAL for none, or for an old id whose index a newer
    /// object has taken.
    func lookup(_ id: Int32) throws(LinuxErrno) -> Object {
        guard id >= 0, let o = objects[Int(id) & (IPC.maxIndex - 1)], o.perm.id == id else { throw .EINVAL }
        return o
    }

    /// ipc_obtain_object_idr: the object at an index (the *_STAT commands take an index, not an id).
    func lookup(index: Int32) throws(LinuxErrno) -> Object {
        guard index >= 0, let o = objects[Int(index) & (IPC.maxIndex - 1)] else { throw .EINVAL }
        return o
    }

    /// ipc_addid: gives `o` an index and an id; ENOSPC when `limit` objects exist already.
    func add(_ o: Object, limit: Int) throws(LinuxErrno) -> Int32 {
        guard objects.count < limit else { throw .ENOSPC }
        // idr_alloc_cyclic over [0, max(in_use * 3 / 2, 64)) capped at IPCMNI, from just past the last index.
        let window = min(max(objects.count * 3 / 2, IPC.minCycle), IPC.maxIndex)
        let free = stride(from: nextIndex, to: window, by: 1).first { objects[$0] == nil }
        guard let idx = free ?? (0..<window).first(where: { objects[$0] == nil }) else { throw .ENOSPC }
        nextIndex = idx + 1
        if idx <= lastIndex {
            seq += 1
            if seq >= IPC.seqMax { seq = 0 }
        }
        lastIndex = idx
        o.perm.seq = UInt16(truncatingIfNeeded: seq)
        o.perm.id = Int32(seq << IPC.seqShift + idx)
        objects[idx] = o
        if o.perm.key != IPC.PRIVATE { keys[o.perm.key] = idx }
        return o.perm.id
    }

    /// ipc_set_key_private: the object stays, but no key finds it any more.
    func makePrivate(_ o: Object) {
        if o.perm.key != IPC.PRIVATE, keys[o.perm.key] == Int(o.perm.id) & (IPC.maxIndex - 1) { keys[o.perm.key] = nil }
        o.perm.key = IPC.PRIVATE
    }

    /// ipc_rmid.
    func remove(_ o: Object) {
        let idx = Int(o.perm.id) & (IPC.maxIndex - 1)
        guard objects[idx] === o else { return }
        makePrivate(o)
        objects[idx] = nil
    }

    /// ipcget: IPC_PRIVATE makes a new object; a key finds its object (EEXIST with IPC_CREAT|IPC_EXCL, then
    /// `check`, then EACCES unless the flag's mode bits are granted) or, with IPC_CREAT, makes one (ENOENT
    /// without). Returns the id.
    func get(key: Int32, flags: Int32, _ c: Credentials, check: (Object) throws(LinuxErrno) -> Void,
             make: () throws(LinuxErrno) -> Int32) throws(LinuxErrno) -> Int32
    {
        if key == IPC.PRIVATE { return try make() }
        guard let o = find(key: key) else {
            guard flags & IPC.CREAT != 0 else { throw .ENOENT }
            return try make()
        }
        if flags & IPC.CREAT != 0 && flags & IPC.EXCL != 0 { throw .EEXIST }
        try check(o)
        guard o.perm.permits(flags, c) else { throw .EACCES }
        return o.perm.id
    }
}

final class IPCNamespace {
    let segments = IPCIdTable<ShmSegment>()
    let semaphoreSets = IPCIdTable<SemaphoreSet>()
    let messageQueues = IPCIdTable<MessageQueue>()
    /// shm_tot: pages of every segment.
    var shmPages = 0
    /// used_sems: semaphores in every set.
    var semaphoreCount = 0
    /// The SEM_UNDO adjustments of each process (by pid), per set id (struct sem_undo_list).
    var undoLists: [Int32: [Int32: SemaphoreUndo]] = [:]
    /// Messages handed straight to a waiting msgrcv (pipelined_send), by the receiving task's tid: the task
    /// copies it out when it runs again.
    var handedMessages: [Int32: Message] = [:]
    /// POSIX message queues by name (without its '/'); how many exist, named or still open; the
    /// RLIMIT_MSGQUEUE bytes of each real uid; the inode numbers fstat shows.
    var posixQueues: [[UInt8]: PosixQueue] = [:]
    var posixQueueCount = 0
    var posixQueueBytes: [UInt32: Int] = [:]
    var nextQueueIno: UInt64 = 1
    /// Messages (queued or handed) and their bytes, for MSG_INFO.
    var messageCount = 0
    var messageBytes = 0

    /// Kernel memory in use for semaphores, undo arrays and messages, and its bound (see the header).
    private(set) var kernelBytes = 0
    static let kernelBudget = 64 << 20

    func reserve(_ bytes: Int) throws(LinuxErrno) {
        guard bytes >= 0, bytes <= IPCNamespace.kernelBudget - kernelBytes else { throw .ENOMEM }
        kernelBytes += bytes
    }

    func release(_ bytes: Int) { kernelBytes -= bytes }

    /// The current time as the IPC structs record it (ktime_get_real_seconds).
    static func now() -> Int64 { Tmpfs.now().0 }
}

extension Kernel {
    /// What the IPC namespace must forget of a process that exits (exit_sem, and the task's pending message):
    /// its SEM_UNDO adjustments are applied.
    func exitIPC(_ p: Process) {
        let ns = ipc
        for t in p.tasks { if let m = ns.handedMessages.removeValue(forKey: t.tid) { ns.forget(m) } }
        applyUndo(p)
    }
}
