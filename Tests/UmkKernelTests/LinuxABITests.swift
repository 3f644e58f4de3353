import CLinuxABI
import XCTest
@testable import UmkKernel

/// The guest's structs as Swift sees them (CLinuxABI's linux_abi.h): sizes and field offsets against Linux's
/// x86-64 layouts (the header's _Static_asserts check the same from C), and the records built from them.
final class LinuxABITests: XCTestCase {
    func offset<T>(_ path: PartialKeyPath<T>) -> Int? { MemoryLayout<T>.offset(of: path) }

    func testTime() {
        XCTAssertEqual(MemoryLayout<linux_timespec>.size, 16)
        XCTAssertEqual(offset(\linux_timespec.tv_nsec), 8)
        XCTAssertEqual(MemoryLayout<linux_timeval>.size, 16)
        XCTAssertEqual(offset(\linux_timeval.tv_usec), 8)
        XCTAssertEqual(MemoryLayout<linux_itimerval>.size, 32)
        XCTAssertEqual(offset(\linux_itimerval.it_value), 16)
        XCTAssertEqual(MemoryLayout<linux_itimerspec>.size, 32)
        XCTAssertEqual(offset(\linux_itimerspec.it_value), 16)
        XCTAssertEqual(MemoryLayout<linux_tms>.size, 32)
        XCTAssertEqual(offset(\linux_tms.tms_cstime), 24)
        XCTAssertEqual(MemoryLayout<linux_rusage>.size, 144)
        XCTAssertEqual(offset(\linux_rusage.ru_stime), 16)
        XCTAssertEqual(offset(\linux_rusage.ru_maxrss), 32)
        XCTAssertEqual(offset(\linux_rusage.ru_nivcsw), 136)
    }

    func testStat() {
        XCTAssertEqual(MemoryLayout<linux_stat>.size, 144)
        XCTAssertEqual(offset(\linux_stat.st_nlink), 16)
        XCTAssertEqual(offset(\linux_stat.st_mode), 24)
        XCTAssertEqual(offset(\linux_stat.st_gid), 32)
        XCTAssertEqual(offset(\linux_stat.st_rdev), 40)
        XCTAssertEqual(offset(\linux_stat.st_size), 48)
        XCTAssertEqual(offset(\linux_stat.st_blocks), 64)
        XCTAssertEqual(offset(\linux_stat.st_atime), 72)
        XCTAssertEqual(offset(\linux_stat.st_ctime_nsec), 112)
    }

    func testStatx() {
        XCTAssertEqual(MemoryLayout<linux_statx>.size, 256)
        XCTAssertEqual(MemoryLayout<linux_statx_timestamp>.size, 16)
        XCTAssertEqual(offset(\linux_statx.stx_attributes), 8)
        XCTAssertEqual(offset(\linux_statx.stx_nlink), 16)
        XCTAssertEqual(offset(\linux_statx.stx_mode), 28)
        XCTAssertEqual(offset(\linux_statx.stx_ino), 32)
        XCTAssertEqual(offset(\linux_statx.stx_attributes_mask), 56)
        XCTAssertEqual(offset(\linux_statx.stx_atime), 64)
        XCTAssertEqual(offset(\linux_statx.stx_mtime), 112)
        XCTAssertEqual(offset(\linux_statx.stx_rdev_major), 128)
        XCTAssertEqual(offset(\linux_statx.stx_dev_minor), 140)
        XCTAssertEqual(offset(\linux_statx.stx_mnt_id), 144)
        XCTAssertEqual(FileStat.basicStats, 0x7ff)
    }

    func testStatfs() {
        XCTAssertEqual(MemoryLayout<linux_statfs>.size, 120)
        XCTAssertEqual(offset(\linux_statfs.f_blocks), 16)
        XCTAssertEqual(offset(\linux_statfs.f_ffree), 48)
        XCTAssertEqual(offset(\linux_statfs.f_fsid), 56)
        XCTAssertEqual(offset(\linux_statfs.f_namelen), 64)
        XCTAssertEqual(offset(\linux_statfs.f_frsize), 72)
        XCTAssertEqual(offset(\linux_statfs.f_flags), 80)
        XCTAssertEqual(LINUX_TMPFS_MAGIC, 0x0102_1994)
    }

    func testFlockIovecOpenHow() {
        XCTAssertEqual(MemoryLayout<linux_flock>.size, 32)
        XCTAssertEqual(offset(\linux_flock.l_whence), 2)
        XCTAssertEqual(offset(\linux_flock.l_start), 8)
        XCTAssertEqual(offset(\linux_flock.l_len), 16)
        XCTAssertEqual(offset(\linux_flock.l_pid), 24)
        XCTAssertEqual(FileLockType.read.rawValue, Int16(LINUX_F_RDLCK))
        XCTAssertEqual(FileLockType.write.rawValue, Int16(LINUX_F_WRLCK))
        XCTAssertEqual(FileLockType.unlock.rawValue, Int16(LINUX_F_UNLCK))
        XCTAssertEqual(MemoryLayout<linux_iovec>.size, 16)
        XCTAssertEqual(offset(\linux_iovec.iov_len), 8)
        XCTAssertEqual(MemoryLayout<linux_open_how>.size, Int(LINUX_OPEN_HOW_SIZE_VER0))
        XCTAssertEqual(offset(\linux_open_how.resolve), 16)
        XCTAssertEqual(PathWalk.Resolve.cached.rawValue, 0x20)
    }

    /// The records with a name after a fixed header: the header's bytes, the name, zeros.
    func testDirent64AndInotifyEvent() {
        XCTAssertEqual(MemoryLayout<linux_dirent64>.size, 24)
        XCTAssertEqual(offset(\linux_dirent64.d_reclen), 16)
        XCTAssertEqual(offset(\linux_dirent64.d_type), 18)
        let r = DirectoryEntry(ino: 0x0102, fileType: S.IFDIR, name: "abcde").record(next: 7)
        XCTAssertEqual(r.count, 32)  // 19 + 5 + NUL, rounded up to 8
        XCTAssertEqual(Array(r[0..<8]), [2, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(r[8], 7)
        XCTAssertEqual(Array(r[16..<19]), [32, 0, 4])  // d_reclen, DT_DIR
        XCTAssertEqual(Array(r[19...]), Array("abcde".utf8) + [UInt8](repeating: 0, count: 8))

        XCTAssertEqual(MemoryLayout<linux_inotify_event>.size, 16)
        XCTAssertEqual(offset(\linux_inotify_event.len), 12)
        let e = InotifyEvent(wd: 3, mask: 0x100, cookie: 9, name: Array("f".utf8)).bytes
        XCTAssertEqual(e.count, 32)
        XCTAssertEqual(Array(e[0..<16]), [3, 0, 0, 0, 0, 1, 0, 0, 9, 0, 0, 0, 16, 0, 0, 0])
        XCTAssertEqual(Array(e[16...]), [UInt8(ascii: "f")] + [UInt8](repeating: 0, count: 15))
    }

    func testFutexStructs() {
        XCTAssertEqual(MemoryLayout<linux_futex_waitv>.size, 24)
        XCTAssertEqual(offset(\linux_futex_waitv.uaddr), 8)
        XCTAssertEqual(offset(\linux_futex_waitv.flags), 16)
        XCTAssertEqual(MemoryLayout<linux_robust_list_head>.size, 24)
        XCTAssertEqual(offset(\linux_robust_list_head.futex_offset), 8)
        XCTAssertEqual(offset(\linux_robust_list_head.list_op_pending), 16)
    }

    /// System V IPC (x86-64 takes only the IPC_64 layouts) and mq_attr.
    func testIPC() {
        XCTAssertEqual(MemoryLayout<linux_ipc64_perm>.size, 48)
        XCTAssertEqual(offset(\linux_ipc64_perm.mode), 20)
        XCTAssertEqual(offset(\linux_ipc64_perm.seq), 24)
        XCTAssertEqual(MemoryLayout<linux_shmid64_ds>.size, 112)
        XCTAssertEqual(offset(\linux_shmid64_ds.shm_segsz), 48)
        XCTAssertEqual(offset(\linux_shmid64_ds.shm_cpid), 80)
        XCTAssertEqual(offset(\linux_shmid64_ds.shm_nattch), 88)
        XCTAssertEqual(MemoryLayout<linux_shminfo64>.size, 72)
        XCTAssertEqual(MemoryLayout<linux_shm_info>.size, 48)
        XCTAssertEqual(offset(\linux_shm_info.shm_tot), 8)
        XCTAssertEqual(MemoryLayout<linux_semid64_ds>.size, 104)
        XCTAssertEqual(offset(\linux_semid64_ds.sem_ctime), 64)
        XCTAssertEqual(offset(\linux_semid64_ds.sem_nsems), 80)
        XCTAssertEqual(MemoryLayout<linux_sembuf>.size, 6)
        XCTAssertEqual(MemoryLayout<linux_sembuf>.stride, 6)
        XCTAssertEqual(MemoryLayout<linux_seminfo>.size, 40)
        XCTAssertEqual(MemoryLayout<linux_msqid64_ds>.size, 120)
        XCTAssertEqual(offset(\linux_msqid64_ds.msg_cbytes), 72)
        XCTAssertEqual(offset(\linux_msqid64_ds.msg_lspid), 96)
        XCTAssertEqual(MemoryLayout<linux_msginfo>.size, 32)
        XCTAssertEqual(offset(\linux_msginfo.msgseg), 28)
        XCTAssertEqual(MemoryLayout<linux_mq_attr>.size, 64)
        XCTAssertEqual(offset(\linux_mq_attr.mq_curmsgs), 24)
    }
}
