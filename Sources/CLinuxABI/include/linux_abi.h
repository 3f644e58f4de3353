// linux_abi.h: the x86-64 Linux structures the guest hands the kernel or reads back from it, declared once with
// the kernel's names (a `linux_` prefix keeps them apart from the host's libc types), and the constants that go
// with them. Types and constants only: nothing here calls the host, so the guest kernel (UmkKernel) may import
// this module and no other C. Each struct is checked against its size on Linux x86-64; the unit tests check
// field offsets from Swift too (Tests/UmkKernelTests/LinuxABITests.swift).
//
// Padding the kernel leaves implicit is spelled out (`__pad*`) where the guest's bytes go back to it, as for
// struct flock, so a copy in and out keeps them.
#ifndef LINUX_ABI_H
#define LINUX_ABI_H

#include <stdint.h>
#include <stddef.h>

// struct timespec, struct __kernel_timespec (include/uapi/linux/time_types.h).
struct linux_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};
_Static_assert(sizeof(struct linux_timespec) == 16, "timespec");

// struct timeval, __kernel_old_timeval (include/uapi/linux/time_types.h).
struct linux_timeval {
    int64_t tv_sec;
    int64_t tv_usec;
};
_Static_assert(sizeof(struct linux_timeval) == 16, "timeval");

// struct itimerval (include/uapi/linux/time.h): getitimer, setitimer.
struct linux_itimerval {
    struct linux_timeval it_interval;
    struct linux_timeval it_value;
};
_Static_assert(sizeof(struct linux_itimerval) == 32, "itimerval");

// struct itimerspec (include/uapi/linux/time_types.h): timer_gettime, timer_settime, timerfd.
struct linux_itimerspec {
    struct linux_timespec it_interval;
    struct linux_timespec it_value;
};
_Static_assert(sizeof(struct linux_itimerspec) == 32, "itimerspec");

// struct tms (include/uapi/linux/times.h): times(2), in clock ticks (USER_HZ).
struct linux_tms {
    int64_t tms_utime;
    int64_t tms_stime;
    int64_t tms_cutime;
    int64_t tms_cstime;
};
_Static_assert(sizeof(struct linux_tms) == 32, "tms");

// struct rusage (include/uapi/linux/resource.h): getrusage, wait4.
struct linux_rusage {
    struct linux_timeval ru_utime;
    struct linux_timeval ru_stime;
    int64_t ru_maxrss;  // KiB
    int64_t ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt, ru_nswap, ru_inblock, ru_oublock, ru_msgsnd,
        ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw;
};
_Static_assert(sizeof(struct linux_rusage) == 144, "rusage");

// struct stat (arch/x86/include/uapi/asm/stat.h), what stat, fstat, lstat and newfstatat fill.
struct linux_stat {
    uint64_t st_dev;
    uint64_t st_ino;
    uint64_t st_nlink;
    uint32_t st_mode;
    uint32_t st_uid;
    uint32_t st_gid;
    uint32_t __pad0;
    uint64_t st_rdev;
    int64_t st_size;
    int64_t st_blksize;
    int64_t st_blocks;  // 512-byte blocks
    uint64_t st_atime;
    uint64_t st_atime_nsec;
    uint64_t st_mtime;
    uint64_t st_mtime_nsec;
    uint64_t st_ctime;
    uint64_t st_ctime_nsec;
    int64_t __reserved[3];
};
_Static_assert(sizeof(struct linux_stat) == 144, "stat");
_Static_assert(offsetof(struct linux_stat, st_rdev) == 40, "stat.st_rdev");
_Static_assert(offsetof(struct linux_stat, st_atime) == 72, "stat.st_atime");

// struct statx_timestamp and struct statx (include/uapi/linux/stat.h).
struct linux_statx_timestamp {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t __reserved;
};
_Static_assert(sizeof(struct linux_statx_timestamp) == 16, "statx_timestamp");

struct linux_statx {
    uint32_t stx_mask;
    uint32_t stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink;
    uint32_t stx_uid;
    uint32_t stx_gid;
    uint16_t stx_mode;
    uint16_t __spare0[1];
    uint64_t stx_ino;
    uint64_t stx_size;
    uint64_t stx_blocks;
    uint64_t stx_attributes_mask;
    struct linux_statx_timestamp stx_atime;
    struct linux_statx_timestamp stx_btime;
    struct linux_statx_timestamp stx_ctime;
    struct linux_statx_timestamp stx_mtime;
    uint32_t stx_rdev_major;
    uint32_t stx_rdev_minor;
    uint32_t stx_dev_major;
    uint32_t stx_dev_minor;
    uint64_t stx_mnt_id;
    uint64_t __spare2[13];  // later fields (dio alignment, subvolume ...) umk leaves zero
};
_Static_assert(sizeof(struct linux_statx) == 256, "statx");
_Static_assert(offsetof(struct linux_statx, stx_atime) == 64, "statx.stx_atime");
_Static_assert(offsetof(struct linux_statx, stx_rdev_major) == 128, "statx.stx_rdev_major");
_Static_assert(offsetof(struct linux_statx, stx_mnt_id) == 144, "statx.stx_mnt_id");

// statx's stx_mask bits.
#define LINUX_STATX_TYPE 0x1U
#define LINUX_STATX_MODE 0x2U
#define LINUX_STATX_NLINK 0x4U
#define LINUX_STATX_UID 0x8U
#define LINUX_STATX_GID 0x10U
#define LINUX_STATX_ATIME 0x20U
#define LINUX_STATX_MTIME 0x40U
#define LINUX_STATX_CTIME 0x80U
#define LINUX_STATX_INO 0x100U
#define LINUX_STATX_SIZE 0x200U
#define LINUX_STATX_BLOCKS 0x400U
#define LINUX_STATX_BASIC_STATS 0x7ffU
#define LINUX_STATX_BTIME 0x800U
#define LINUX_STATX_MNT_ID 0x1000U
#define LINUX_STATX__RESERVED 0x80000000U  // statx refuses a mask with it (EINVAL)

// struct statfs (arch/x86: the generic struct statfs with 64-bit words), what statfs and fstatfs fill.
struct linux_statfs {
    int64_t f_type;
    int64_t f_bsize;
    uint64_t f_blocks;
    uint64_t f_bfree;
    uint64_t f_bavail;
    uint64_t f_files;
    uint64_t f_ffree;
    int32_t f_fsid[2];
    int64_t f_namelen;
    int64_t f_frsize;
    int64_t f_flags;
    int64_t f_spare[4];
};
_Static_assert(sizeof(struct linux_statfs) == 120, "statfs");
_Static_assert(offsetof(struct linux_statfs, f_fsid) == 56, "statfs.f_fsid");
_Static_assert(offsetof(struct linux_statfs, f_flags) == 80, "statfs.f_flags");

// statfs f_type magics (include/uapi/linux/magic.h).
#define LINUX_TMPFS_MAGIC 0x01021994
#define LINUX_OVERLAYFS_SUPER_MAGIC 0x794c7630
#define LINUX_PIPEFS_MAGIC 0x50495045
#define LINUX_ANON_INODE_FS_MAGIC 0x09041934
// statfs f_flags (include/linux/statfs.h).
#define LINUX_ST_RDONLY 0x0001
#define LINUX_ST_VALID 0x0020
#define LINUX_ST_RELATIME 0x0400

// The variable-length records below leave out their trailing name (`char d_name[]`, `char name[]`): Swift
// does not treat a struct with a flexible array member as BitwiseCopyable, so it could not be copied as a
// value. The name's offset is a constant instead.

// struct linux_dirent64 (include/linux/dirent.h), one getdents64 record: this header, then d_name's bytes
// from offset LINUX_DIRENT64_NAME_OFFSET (19, inside the header's tail padding), its NUL, zero padding to
// d_reclen, a multiple of 8.
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    // char d_name[];
};
#define LINUX_DIRENT64_NAME_OFFSET 19
_Static_assert(offsetof(struct linux_dirent64, d_type) + 1 == LINUX_DIRENT64_NAME_OFFSET, "dirent64.d_name");
_Static_assert(sizeof(struct linux_dirent64) == 24, "dirent64");

// struct flock (include/uapi/asm-generic/fcntl.h) for fcntl's lock commands. Linux copies it in whole,
// changes fields and copies it all back, so the padding the guest wrote goes back as it was.
struct linux_flock {
    int16_t l_type;
    int16_t l_whence;
    uint32_t __pad0;
    int64_t l_start;
    int64_t l_len;
    int32_t l_pid;
    uint32_t __pad1;
};
_Static_assert(sizeof(struct linux_flock) == 32, "flock");
_Static_assert(offsetof(struct linux_flock, l_start) == 8, "flock.l_start");
_Static_assert(offsetof(struct linux_flock, l_pid) == 24, "flock.l_pid");

// struct flock's l_type values.
#define LINUX_F_RDLCK 0
#define LINUX_F_WRLCK 1
#define LINUX_F_UNLCK 2

// struct iovec (include/uapi/linux/uio.h) for readv, writev, vmsplice and the like.
struct linux_iovec {
    uint64_t iov_base;
    uint64_t iov_len;  // size_t; a length above SSIZE_MAX is EINVAL
};
_Static_assert(sizeof(struct linux_iovec) == 16, "iovec");

// struct open_how (include/uapi/linux/openat2.h), openat2's extensible argument: OPEN_HOW_SIZE_VER0 bytes;
// a bigger one passes when the bytes after these are zero.
struct linux_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
_Static_assert(sizeof(struct linux_open_how) == 24, "open_how");
#define LINUX_OPEN_HOW_SIZE_VER0 24

// open_how's resolve bits.
#define LINUX_RESOLVE_NO_XDEV 0x01
#define LINUX_RESOLVE_NO_MAGICLINKS 0x02
#define LINUX_RESOLVE_NO_SYMLINKS 0x04
#define LINUX_RESOLVE_BENEATH 0x08
#define LINUX_RESOLVE_IN_ROOT 0x10
#define LINUX_RESOLVE_CACHED 0x20

// struct inotify_event (include/uapi/linux/inotify.h): this header, then `len` bytes of name (NUL and zero
// padding included).
struct linux_inotify_event {
    int32_t wd;
    uint32_t mask;
    uint32_t cookie;
    uint32_t len;
    // char name[];
};
_Static_assert(sizeof(struct linux_inotify_event) == 16, "inotify_event");

// struct futex_waitv (include/uapi/linux/futex.h): one entry of futex_waitv's array.
struct linux_futex_waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t __reserved;
};
_Static_assert(sizeof(struct linux_futex_waitv) == 24, "futex_waitv");

// struct robust_list_head (include/uapi/linux/futex.h): what set_robust_list registers. `next` of the list and
// of each entry points at the next entry (bit 0: a PI futex), the list ends where it points back at the head;
// the futex word of an entry is at entry + futex_offset.
struct linux_robust_list_head {
    uint64_t next;
    int64_t futex_offset;
    uint64_t list_op_pending;
};
_Static_assert(sizeof(struct linux_robust_list_head) == 24, "robust_list_head");

// System V IPC (include/uapi/linux/ipc.h, shm.h, sem.h, msg.h; asm-generic/ipcbuf.h, shmbuf.h, msgbuf.h and
// arch/x86/include/uapi/asm/sembuf.h for x86-64). x86-64 takes no IPC_64 flag in cmd: these are the only
// layouts. glibc's struct ipc_perm declares mode as a short followed by padding; the kernel's is 32 bits.
struct linux_ipc64_perm {
    int32_t key;
    uint32_t uid;
    uint32_t gid;
    uint32_t cuid;
    uint32_t cgid;
    uint32_t mode;
    uint16_t seq;
    uint16_t __pad2;
    uint64_t __unused1;
    uint64_t __unused2;
};
_Static_assert(sizeof(struct linux_ipc64_perm) == 48, "ipc64_perm");
_Static_assert(offsetof(struct linux_ipc64_perm, seq) == 24, "ipc64_perm.seq");

// struct shmid64_ds: shmctl's IPC_STAT, SHM_STAT and IPC_SET (which reads only shm_perm's uid, gid, mode).
struct linux_shmid64_ds {
    struct linux_ipc64_perm shm_perm;
    uint64_t shm_segsz;
    int64_t shm_atime;
    int64_t shm_dtime;
    int64_t shm_ctime;
    int32_t shm_cpid;
    int32_t shm_lpid;
    uint64_t shm_nattch;
    uint64_t __unused4;
    uint64_t __unused5;
};
_Static_assert(sizeof(struct linux_shmid64_ds) == 112, "shmid64_ds");
_Static_assert(offsetof(struct linux_shmid64_ds, shm_cpid) == 80, "shmid64_ds.shm_cpid");

// struct shminfo64: shmctl's IPC_INFO.
struct linux_shminfo64 {
    uint64_t shmmax;
    uint64_t shmmin;
    uint64_t shmmni;
    uint64_t shmseg;
    uint64_t shmall;
    uint64_t __unused1, __unused2, __unused3, __unused4;
};
_Static_assert(sizeof(struct linux_shminfo64) == 72, "shminfo64");

// struct shm_info: shmctl's SHM_INFO (pages, not bytes).
struct linux_shm_info {
    int32_t used_ids;
    uint32_t __pad0;
    uint64_t shm_tot;
    uint64_t shm_rss;
    uint64_t shm_swp;
    uint64_t swap_attempts;
    uint64_t swap_successes;
};
_Static_assert(sizeof(struct linux_shm_info) == 48, "shm_info");

// struct semid64_ds (x86-64): semctl's IPC_STAT, SEM_STAT and IPC_SET.
struct linux_semid64_ds {
    struct linux_ipc64_perm sem_perm;
    int64_t sem_otime;
    uint64_t __unused1;
    int64_t sem_ctime;
    uint64_t __unused2;
    uint64_t sem_nsems;
    uint64_t __unused3;
    uint64_t __unused4;
};
_Static_assert(sizeof(struct linux_semid64_ds) == 104, "semid64_ds");
_Static_assert(offsetof(struct linux_semid64_ds, sem_nsems) == 80, "semid64_ds.sem_nsems");

// struct sembuf: one operation of semop and semtimedop.
struct linux_sembuf {
    uint16_t sem_num;
    int16_t sem_op;
    int16_t sem_flg;
};
_Static_assert(sizeof(struct linux_sembuf) == 6, "sembuf");

// struct seminfo: semctl's IPC_INFO and SEM_INFO.
struct linux_seminfo {
    int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};
_Static_assert(sizeof(struct linux_seminfo) == 40, "seminfo");

// struct msqid64_ds: msgctl's IPC_STAT, MSG_STAT and IPC_SET (which also reads msg_qbytes).
struct linux_msqid64_ds {
    struct linux_ipc64_perm msg_perm;
    int64_t msg_stime;
    int64_t msg_rtime;
    int64_t msg_ctime;
    uint64_t msg_cbytes;
    uint64_t msg_qnum;
    uint64_t msg_qbytes;
    int32_t msg_lspid;
    int32_t msg_lrpid;
    uint64_t __unused4;
    uint64_t __unused5;
};
_Static_assert(sizeof(struct linux_msqid64_ds) == 120, "msqid64_ds");
_Static_assert(offsetof(struct linux_msqid64_ds, msg_qbytes) == 88, "msqid64_ds.msg_qbytes");

// struct msginfo: msgctl's IPC_INFO and MSG_INFO.
struct linux_msginfo {
    int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    uint16_t msgseg;
    uint16_t __pad0;
};
_Static_assert(sizeof(struct linux_msginfo) == 32, "msginfo");

// struct mq_attr (include/uapi/linux/mqueue.h): mq_open's attributes and mq_getsetattr.
struct linux_mq_attr {
    int64_t mq_flags;
    int64_t mq_maxmsg;
    int64_t mq_msgsize;
    int64_t mq_curmsgs;
    int64_t __reserved[4];
};
_Static_assert(sizeof(struct linux_mq_attr) == 64, "mq_attr");

#endif
