import XCTest
@testable import UmkKernel

/// The lock table alone (VFS/FileLocks.swift): POSIX ranges split and merged per owner, conflicts between
/// owners, flock conversions, release, the lock cap, and ranges at the ends of the offset space.
final class FileLocksTests: XCTestCase {
    let key = FileKey(devMajor: 0, devMinor: 1, ino: 42)
    let a = FileLockOwner.table(ObjectIdentifier(NSObject()))
    let b = FileLockOwner.file(ObjectIdentifier(NSObject()))

    func lock(_ owner: FileLockOwner, _ type: FileLockType, _ start: Int64, _ end: Int64) -> FileLock {
        FileLock(owner: owner, pid: 1, type: type, start: start, end: end)
    }

    func ranges(_ locks: FileLocks) -> [String] {
        (locks.files[key]?.records ?? []).map { "\($0.type == .read ? "R" : "W")\($0.start)-\($0.end)" }
    }

    func testSplitAndMerge() throws {
        var woken = 0
        let locks = FileLocks { _ in woken += 1 }
        XCTAssertNil(try locks.set(key, lock(a, .write, 10, 19), waiter: nil))
        XCTAssertNil(try locks.set(key, lock(a, .write, 20, 29), waiter: nil))
        XCTAssertEqual(ranges(locks), ["W10-29"])
        XCTAssertNil(try locks.set(key, lock(a, .unlock, 15, 16), waiter: nil))
        XCTAssertEqual(ranges(locks), ["W10-14", "W17-29"])
        XCTAssertNil(try locks.set(key, lock(a, .read, 12, 12), waiter: nil))
        XCTAssertEqual(ranges(locks), ["W10-11", "R12-12", "W13-14", "W17-29"])
        XCTAssertNil(try locks.set(key, lock(a, .write, 0, 40), waiter: nil))
        XCTAssertEqual(ranges(locks), ["W0-40"])
        XCTAssertEqual(locks.count, 1)
        XCTAssertGreaterThan(woken, 0)
        XCTAssertNil(try locks.set(key, lock(a, .unlock, 0, .max), waiter: nil))
        XCTAssertTrue(locks.files.isEmpty)
        XCTAssertEqual(locks.count, 0)
    }

    func testConflictsBetweenOwners() throws {
        let locks = FileLocks { _ in }
        XCTAssertNil(try locks.set(key, lock(a, .read, 0, 9), waiter: nil))
        XCTAssertNil(try locks.set(key, lock(b, .read, 5, 14), waiter: nil))
        XCTAssertThrowsError(try locks.set(key, lock(b, .write, 9, 9), waiter: nil)) { XCTAssertEqual($0 as? LinuxErrno, .EAGAIN) }
        XCTAssertEqual(locks.test(key, lock(b, .write, 0, .max))?.owner, a)
        XCTAssertNil(locks.test(key, lock(b, .read, 0, .max)))
        XCTAssertEqual(locks.test(key, lock(b, .unlock, 0, .max))?.owner, b)  // F_OFD_GETLK's F_UNLCK: its own
        locks.release(key, owner: a)
        XCTAssertNil(locks.test(key, lock(b, .write, 0, .max)))
        XCTAssertEqual(locks.count, 1)
    }

    func testFlockConversionDropsTheOldLockFirst() throws {
        let locks = FileLocks { _ in }
        XCTAssertNil(try locks.flock(key, owner: a, type: .read, wait: false))
        XCTAssertNil(try locks.flock(key, owner: b, type: .read, wait: false))
        XCTAssertThrowsError(try locks.flock(key, owner: a, type: .write, wait: false))
        XCTAssertEqual(locks.count, 1)
        XCTAssertNotNil(try locks.flock(key, owner: a, type: .write, wait: true))  // the queue to wait on
        XCTAssertNil(try locks.flock(key, owner: b, type: .unlock, wait: false))
        XCTAssertNil(try locks.flock(key, owner: a, type: .write, wait: false))
    }

    func testCapIsENOLCK() throws {
        let locks = FileLocks(limit: 4) { _ in }
        for i in 0..<4 { XCTAssertNil(try locks.set(key, lock(a, .write, Int64(3 * i), Int64(3 * i)), waiter: nil)) }
        XCTAssertThrowsError(try locks.set(key, lock(a, .write, 100, 100), waiter: nil)) { XCTAssertEqual($0 as? LinuxErrno, .ENOLCK) }
        XCTAssertThrowsError(try locks.flock(key, owner: b, type: .read, wait: false)) { XCTAssertEqual($0 as? LinuxErrno, .ENOLCK) }
        XCTAssertNil(try locks.set(key, lock(a, .write, 1, 2), waiter: nil))  // joins 0 and 3: one fewer
        XCTAssertEqual(locks.count, 3)
        XCTAssertNil(try locks.set(key, lock(a, .write, 0, 8), waiter: nil))
        XCTAssertEqual(ranges(locks), ["W0-9"])
    }

    func testEndsOfTheOffsetSpace() throws {
        let locks = FileLocks { _ in }
        XCTAssertNil(try locks.set(key, lock(a, .write, 0, .max), waiter: nil))
        XCTAssertNil(try locks.set(key, lock(a, .read, .max, .max), waiter: nil))
        XCTAssertEqual(ranges(locks), ["W0-9223372036854775806", "R9223372036854775807-9223372036854775807"])
        XCTAssertNil(try locks.set(key, lock(a, .unlock, 0, 0), waiter: nil))
        XCTAssertNil(try locks.set(key, lock(a, .write, .max, .max), waiter: nil))
        XCTAssertEqual(ranges(locks), ["W1-9223372036854775807"])
    }
}
