import CLinuxABI
import XCTest
@testable import UmkKernel

/// The pure parts of System V IPC (IPC/): ids and keys, the permission check, a semop's all-or-nothing
/// attempt, msgrcv's selection.
final class IPCObjectTests: XCTestCase {
    let root = Credentials(uid: 0, gid: 0)
    let user = Credentials(uid: 1000, gid: 1000)

    func queue(key: Int32 = IPC.PRIVATE, mode: Int32 = 0o600, by c: Credentials? = nil) -> MessageQueue {
        MessageQueue(perm: IPCPermissions(key: key, mode: mode, creator: c ?? user))
    }

    func testIdsCycleAndCarryASequence() throws {
        let table = IPCIdTable<MessageQueue>()
        let a = queue(), b = queue(key: 77)
        XCTAssertEqual(try table.add(a, limit: 10), 0)
        XCTAssertEqual(try table.add(b, limit: 10), 1)
        XCTAssertTrue(table.find(key: 77) === b)
        XCTAssertTrue(try table.lookup(1) === b)
        table.remove(a)
        XCTAssertThrowsError(try table.lookup(0))
        // The next index is past the last one, not the freed one, within a window of 64 while few are in use;
        // wrapping round bumps the sequence, so an old id does not name the new object.
        let c = queue()
        XCTAssertEqual(try table.add(c, limit: 10), 2)
        for _ in 3..<64 {
            let o = queue()
            _ = try table.add(o, limit: 100)
            table.remove(o)
        }
        let wrapped = queue()
        XCTAssertEqual(try table.add(wrapped, limit: 100), 1 << 15 | 0)
        XCTAssertTrue(try table.lookup(index: 0) === wrapped)
        XCTAssertThrowsError(try table.lookup(0))
        XCTAssertThrowsError(try table.add(queue(), limit: table.count)) { XCTAssertEqual($0 as? LinuxErrno, .ENOSPC) }
        table.makePrivate(b)
        XCTAssertNil(table.find(key: 77))
        XCTAssertTrue(try table.lookup(1) === b)
    }

    func testGet() throws {
        let table = IPCIdTable<MessageQueue>()
        var made = 0
        func get(_ key: Int32, _ flags: Int32, _ c: Credentials) throws -> Int32 {
            try table.get(key: key, flags: flags, c, check: { _ in }) { () throws(LinuxErrno) in
                made += 1
                return try table.add(self.queue(key: key, mode: flags, by: c), limit: 10)
            }
        }
        XCTAssertThrowsError(try get(5, 0, user)) { XCTAssertEqual($0 as? LinuxErrno, .ENOENT) }
        let id = try get(5, IPC.CREAT | 0o640, user)
        XCTAssertEqual(try get(5, 0, user), id)
        XCTAssertThrowsError(try get(5, IPC.CREAT | IPC.EXCL, user)) { XCTAssertEqual($0 as? LinuxErrno, .EEXIST) }
        XCTAssertThrowsError(try get(5, 0o600, Credentials(uid: 1001, gid: 1000))) { XCTAssertEqual($0 as? LinuxErrno, .EACCES) }
        XCTAssertEqual(try get(5, 0o040, Credentials(uid: 1001, gid: 1000)), id)
        XCTAssertEqual(try get(5, 0o777, root), id)
        XCTAssertNotEqual(try get(IPC.PRIVATE, 0, user), id)
        XCTAssertEqual(made, 2)
    }

    func testPermissionsAndOwner() throws {
        var p = IPCPermissions(key: 0, mode: 0o640, creator: user)
        XCTAssertTrue(p.permits(0o600, user))
        XCTAssertFalse(p.permits(0o020, Credentials(uid: 2000, gid: 1000)))
        XCTAssertTrue(p.permits(0o004 << 3, Credentials(uid: 2000, gid: 1000)))
        XCTAssertFalse(p.permits(0o444, Credentials(uid: 2000, gid: 2000)))
        XCTAssertThrowsError(try p.checkOwner(Credentials(uid: 2000, gid: 1000)))
        var change = linux_ipc64_perm()
        change.uid = 3000
        change.gid = 3000
        change.mode = 0o7777
        try p.update(from: change)
        XCTAssertEqual(p.mode, 0o777)
        XCTAssertNoThrow(try p.checkOwner(user))  // still the creator
        change.uid = UInt32.max
        XCTAssertThrowsError(try p.update(from: change)) { XCTAssertEqual($0 as? LinuxErrno, .EINVAL) }
    }

    func testSemopIsAllOrNothing() {
        let s = SemaphoreSet(perm: IPCPermissions(key: 0, mode: 0o600, creator: user), count: 3)
        s.values = [1, 0, 32767]
        func op(_ n: UInt16, _ d: Int16, _ f: Int16 = 0) -> linux_sembuf { linux_sembuf(sem_num: n, sem_op: d, sem_flg: f) }
        guard case .blocked(let b) = s.attempt([op(0, -1), op(1, -1)], pid: 9, undo: nil) else { return XCTFail() }
        XCTAssertEqual(b.sem_num, 1)
        XCTAssertEqual(s.values, [1, 0, 32767])
        guard case .failed(.EAGAIN) = s.attempt([op(0, -1), op(1, -1, Int16(IPC.NOWAIT))], pid: 9, undo: nil) else { return XCTFail() }
        guard case .failed(.ERANGE) = s.attempt([op(2, 1)], pid: 9, undo: nil) else { return XCTFail() }
        let undo = SemaphoreUndo(count: 3)
        let r = s.attempt([op(0, -1, SEM.UNDO), op(1, 2, SEM.UNDO), op(1, -1)], pid: 9, undo: undo)
        guard case .done = r else { return XCTFail("\(r)") }
        XCTAssertEqual(s.values, [0, 1, 32767])
        XCTAssertEqual(undo.adjustments, [1, -2, 0])
        XCTAssertEqual(s.pids, [9, 9, 0])
        guard case .blocked = s.attempt([op(1, 0)], pid: 9, undo: nil) else { return XCTFail() }
        undo.adjustments[0] = -SEM.AEM - 1  // the adjustment may not pass -32768
        guard case .failed(.ERANGE) = s.attempt([op(0, 1, SEM.UNDO)], pid: 9, undo: undo) else { return XCTFail() }
        XCTAssertEqual(s.values[0], 0)
    }

    func testMessageSelection() {
        let q = queue()
        for t: Int64 in [3, 1, 2, 1] { q.messages.append(Message(type: t, text: [UInt8(t)])) }
        XCTAssertEqual(q.find(MessageSelector(type: 0, flags: 0)), 0)
        XCTAssertEqual(q.find(MessageSelector(type: 2, flags: 0)), 2)
        XCTAssertEqual(q.find(MessageSelector(type: 1, flags: MSGQ.EXCEPT)), 0)
        XCTAssertEqual(q.find(MessageSelector(type: -3, flags: 0)), 1)  // the first of the lowest type
        XCTAssertEqual(q.find(MessageSelector(type: -2, flags: 0)), 1)
        XCTAssertEqual(q.find(MessageSelector(type: Int64.min, flags: 0)), 1)
        XCTAssertNil(q.find(MessageSelector(type: 4, flags: 0)))
        XCTAssertEqual(q.find(MessageSelector(type: 3, flags: MSGQ.COPY)), 3)
        XCTAssertNil(q.find(MessageSelector(type: 4, flags: MSGQ.COPY)))
        XCTAssertNil(q.find(MessageSelector(type: -1, flags: MSGQ.COPY)))
        q.maxBytes = 4
        XCTAssertFalse(q.fits(0))  // no more messages than msg_qbytes
        q.maxBytes = 10
        q.bytes = 4
        XCTAssertTrue(q.fits(6))
        XCTAssertFalse(q.fits(7))
    }
}
