/* fuzz.c: a random system call fuzzer. Usage: fuzz [-v] [-n CALLS] [-i CHILD] SEED [CHILDREN]
 *
 * For each of CHILDREN (default 50) iterations it forks a child that makes CALLS (default 64) raw system calls,
 * numbers across 0..463 plus a few out of range, arguments drawn from interesting values: 0, -1, small ints,
 * INT_MIN/INT_MAX, 1<<62, page-aligned and misaligned pointers into read-write, read-only, PROT_NONE and
 * unmapped memory, kernel and non-canonical addresses, huge sizes and counts, valid and invalid fds. Everything
 * comes from a splitmix64 stream seeded by (SEED, child), so a seed (and `-i CHILD`, one child alone) replays.
 * At the end it prints `seed S: N calls done` (N: calls that returned) and exits 0.
 *
 * The call in flight: before each call the child writes it (child, index, number, arguments) to a page shared
 * with the parent, which reports it when the child stops making progress for 100 ms and is killed; with -v it
 * also writes `call SEED CHILD INDEX: NR A0 A1 A2 A3 A4 A5` (hex) on stderr first, so that whoever runs the
 * fuzzer (Tools/fuzz, FuzzTests) can name the call that was running when umk itself died or hung.
 *
 * Natively the fuzzer must not harm the host, even as root. The parent chdirs into a fresh temporary directory
 * (removed at the end) and each child sets limits (RLIMIT_FSIZE 1 MiB, RLIMIT_AS 256 MiB, RLIMIT_CORE 0),
 * makes itself a process group, and has fds 0-2 on /dev/null. Memory that calls read as paths holds no '/' or
 * '.' bytes, so every path names an entry of the temporary directory. Not called at all (deny-list):
 *   - calls that end or freeze the child or replace it: exit, exit_group, execve, execveat, vfork, clone3,
 *     pause, rt_sigsuspend;
 *   - calls that reach beyond the child on a real host: reboot, mount, umount2, pivot_root, swapon/off,
 *     sethostname, setdomainname, settimeofday, clock_settime, adjtimex, clock_adjtime, the module and kexec
 *     calls, acct, quotactl(_fd), iopl, ioperm, syslog, vhangup, sync, ptrace, perf_event_open, bpf,
 *     fanotify, keyrings, open_by_handle_at, io_uring, the new mount API, real-time scheduling,
 *     pidfd_send_signal, pidfd_getfd.
 * Rewritten so that they only touch the child: kill, tkill, tgkill, rt_(tg)sigqueueinfo, pidfd_open,
 * process_vm_readv/writev, kcmp, prlimit64, migrate_pages, move_pages, sched_setaffinity, setpriority,
 * ioprio_set (pid: the child's own); socket and socketpair (AF_UNIX only); fcntl F_SETOWN (the child) and
 * F_SETOWN_EX; ioctls that set an owner or inject input; setrlimit/prlimit of FSIZE, AS and CORE; arch_prctl
 * ARCH_SET_FS (the child's TLS); madvise HWPOISON/SOFT_OFFLINE; prctl PR_SET_DUMPABLE; clone (no CLONE_VM,
 * CLONE_THREAD, CLONE_PARENT, CLONE_SETTLS; its children _exit at once, fork's too); rt_sigreturn runs on a
 * stack in the arena, whose bytes contain no system call instruction, so a garbage frame cannot resume at one;
 * System V IPC and POSIX message queues, whose objects outlive the child: shmget, semget and msgget make
 * IPC_PRIVATE objects, which the child records in the shared page and the parent removes after it, and the
 * calls that take an id get one of the child's own or a negative one; mq_open and mq_unlink get a name made
 * from the child's pid, which the parent unlinks after it.
 * Any argument equal to the -v log fd is replaced by 3.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define LOGFD 1023
#define PAGE 4096UL
#define ARENA_PAGES 8
#define BASE 0x200000000UL /* fixed so that pointers replay; its bytes are neither '/' nor '.' */
#define ARENA ((uint8_t *)BASE)
#define RO_PAGE (BASE + ARENA_PAGES * PAGE)
#define UNMAPPED (BASE + (ARENA_PAGES + 1) * PAGE)
#define NONE_PAGE (BASE + (ARENA_PAGES + 2) * PAGE)
#define STALL_NS 100000000L

/* What the parent sees of the child: the call in flight and how many have returned. */
struct shared {
    volatile uint64_t started, done;
    volatile uint64_t child, index, nr, args[6];
    /* The System V IPC objects the child made (shm, sem, msg), for the parent to remove. */
    volatile int32_t ipc_ids[3][64];
    volatile uint32_t ipc_count[3];
};

static struct shared *sh;
static uint64_t seed;
static int verbose, ncalls = 64;
static pid_t self;
static int fds[16], nfds;
static uint64_t template[ARENA_PAGES * PAGE / 8];

static uint64_t rng;
static uint64_t next(void) { /* splitmix64 */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t below(uint64_t n) { return next() % n; }

static long raw(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* rt_sigreturn with its frame in the arena: a garbage frame resumes at a garbage address (SIGSEGV). */
static long sigreturn_on(uint64_t sp) {
    long ret;
    __asm__ volatile("mov %%rsp, %%r12\n\tmov %1, %%rsp\n\tsyscall\n\tmov %%r12, %%rsp"
                     : "=a"(ret) : "r"(sp), "a"(15L) : "rcx", "r11", "r12", "memory");
    return ret;
}

/* A word is safe in memory that calls read: no '/' or '.' (paths stay in the directory), and no 0x0f or
 * 0xcd (no syscall, sysenter or int instruction if the arena is ever executed). */
static int safe_word(uint64_t w) {
    for (int i = 0; i < 8; i++) {
        uint8_t b = w >> (8 * i);
        if (b == '/' || b == '.' || b == 0x0f || b == 0xcd) return 0;
    }
    return 1;
}

static uint64_t pointer(void);
static uint64_t size(void);

static void make_template(void) {
    for (size_t i = 0; i < sizeof template / 8; i++) {
        uint64_t w;
        do {
            switch (below(8)) {
            case 0: w = below(64); break;
            case 1: w = size(); break;
            case 2: w = BASE + below(ARENA_PAGES * PAGE); break;
            case 3: w = pointer(); break;
            case 4: w = 0; break;
            default: /* letters with a NUL now and then: names and strings */
                w = 0;
                for (int b = 0; b < 8; b++) w |= (uint64_t)(below(9) == 0 ? 0 : 'a' + below(26)) << (8 * b);
            }
        } while (!safe_word(w));
        template[i] = w;
    }
}

static uint64_t pointer(void) {
    switch (below(12)) {
    case 0: return BASE + below(ARENA_PAGES) * PAGE;          /* page-aligned, read-write */
    case 1: case 2: return BASE + below(ARENA_PAGES * PAGE);  /* misaligned, read-write */
    case 3: return RO_PAGE - 1 - below(64);                   /* the end of read-write memory */
    case 4: return RO_PAGE + below(2) * below(PAGE);          /* read-only */
    case 5: return UNMAPPED + below(PAGE);                    /* unmapped */
    case 6: return NONE_PAGE;                                 /* PROT_NONE */
    case 7: return below(2) ? 0 : 1 + below(PAGE);            /* NULL, the first page */
    case 8: {
        static const uint64_t kernel[] = {0xffff800000000000UL, 0xffffffff81000000UL, 0xffffffffff600000UL,
                                          0xfffffffffffff000UL, 0x800000000000UL, 0x7ffffffff000UL,
                                          0x7fffffffffffUL, 0x8000000000000000UL, 0xffffffffffffffffUL};
        return kernel[below(sizeof kernel / 8)];
    }
    default: return BASE + below(ARENA_PAGES) * PAGE + below(16) * 8;
    }
}

static uint64_t size(void) {
    static const uint64_t sizes[] = {0, 1, 2, 7, 8, 16, 64, 100, 4095, 4096, 4097, 8192, 65536, 1 << 20,
                                     1UL << 30, 1UL << 31, 1UL << 32, 1UL << 40, 1UL << 47, 1UL << 62,
                                     1UL << 63, INT64_MAX, UINT64_MAX, UINT64_MAX - 4095, UINT64_MAX - 1,
                                     0x7ffffffff000UL, (uint64_t)INT32_MAX, (uint64_t)UINT32_MAX};
    return sizes[below(sizeof sizes / 8)];
}

static uint64_t integer(void) {
    static const uint64_t ints[] = {0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 31, 32, 63, 64, 65, 127, 128, 255, 256,
                                    (uint64_t)-1, (uint64_t)-2, (uint64_t)-100, (uint64_t)INT32_MIN,
                                    (uint64_t)(int64_t)INT32_MIN, INT32_MAX, UINT32_MAX, 1UL << 31,
                                    INT64_MIN, (uint64_t)INT64_MIN + 1};
    return ints[below(sizeof ints / 8)];
}

static uint64_t argument(void) {
    switch (below(10)) {
    case 0: case 1: case 2: return pointer();
    case 3: case 4: return nfds ? (uint64_t)fds[below(nfds)] : 3;
    case 5: return size();
    case 6: case 7: return integer();
    case 8: return 1UL << below(64);              /* one flag bit */
    default: return below(2) ? next() : next() & 0xffff;  /* random bits */
    }
}

static uint64_t number(void) {
    switch (below(40)) {
    case 0: return 464 + below(600);
    case 1: return 0x40000000 + below(548);       /* the x32 range */
    case 2: return (1UL << 32) + below(464);       /* Linux truncates to 32 bits; umk says ENOSYS */
    case 3: return below(2) ? UINT64_MAX : (uint64_t)INT64_MIN;
    default: return below(464);
    }
}

/* Linux takes the low 32 bits of the number (umk answers ENOSYS for the rest): the deny-list and the rewrites
 * look at those. */
static int denied(uint64_t nr) {
    nr = (uint32_t)nr;
    static const uint16_t deny[] = {
        34, 58, 59, 60, 130, 231, 322, 435,                          /* end, freeze or replace the child */
        101, 103, 142, 144, 153, 155, 159, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173,
        175, 176, 179, 227, 246, 248, 249, 250, 298, 300, 301, 304, 305, 313, 314, 320, 321, 424, 425,
        426, 427, 428, 429, 430, 431, 432, 433, 438, 442, 443,
    };
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
        if (nr == deny[i]) return 1;
    return 0;
}

static int guarded_limit(uint64_t r) { return r == RLIMIT_FSIZE || r == RLIMIT_AS || r == RLIMIT_CORE; }

/* Which System V IPC table a call uses (0 shm, 1 sem, 2 msg), -1 for others; shmdt takes an address. */
static int ipc_kind(uint64_t nr) {
    switch (nr) {
    case 29: case 30: case 31: return 0;
    case 64: case 65: case 66: case 220: return 1;
    case 68: case 69: case 70: case 71: return 2;
    default: return -1;
    }
}

/* An id for a call that takes one: the child's own (sometimes with garbage in the upper half, which the
 * kernel drops), or a negative one, never another process's object. */
static uint64_t ipc_id(int kind) {
    uint32_t n = sh->ipc_count[kind];
    if (n > 0 && below(4)) return (uint32_t)sh->ipc_ids[kind][below(n)] | (below(8) ? 0 : 1UL << 32);
    static const int64_t bad[] = {-1, INT32_MIN, -2};
    return (uint64_t)bad[below(3)];
}

/* The POSIX message queue name of a child (the kernel's form, without the leading '/'). */
static char mq_name[32];
static void make_mq_name(pid_t pid) { snprintf(mq_name, sizeof mq_name, "umk-fuzz-%d", (int)pid); }

/* The parent removes what the child made: its System V IPC objects and its message queue. */
static void remove_ipc(pid_t child) {
    for (uint32_t i = 0; i < sh->ipc_count[0] && i < 64; i++) syscall(SYS_shmctl, sh->ipc_ids[0][i], 0, 0);
    for (uint32_t i = 0; i < sh->ipc_count[1] && i < 64; i++) syscall(SYS_semctl, sh->ipc_ids[1][i], 0, 0, 0);
    for (uint32_t i = 0; i < sh->ipc_count[2] && i < 64; i++) syscall(SYS_msgctl, sh->ipc_ids[2][i], 0, 0);
    for (int k = 0; k < 3; k++) sh->ipc_count[k] = 0;
    make_mq_name(child);
    syscall(SYS_mq_unlink, mq_name);
}

/* Makes a call touch the child alone (see the header). */
static void sanitize(uint64_t nr, uint64_t *a) {
    nr = (uint32_t)nr;
    for (int i = 0; i < 6; i++)
        if (a[i] == LOGFD) a[i] = 3;
    switch (nr) {
    case 62: case 200: case 129: case 434: case 310: case 311: a[0] = self; break;  /* kill, tkill, ... */
    case 234: case 297: a[0] = a[1] = self; break;                                   /* tgkill */
    case 312: a[0] = a[1] = self; break;                                              /* kcmp */
    case 160: if (guarded_limit(a[0])) a[0] = RLIMIT_NICE; break;
    case 302: a[0] = 0; if (guarded_limit(a[1])) a[1] = RLIMIT_NICE; break;
    case 256: case 279: case 203: a[0] = 0; break;
    case 141: case 251: a[0] = nr == 141 ? 0 : 1; a[1] = 0; break;                  /* PRIO_PROCESS, 0 */
    case 41: case 53: a[0] = AF_UNIX; break;
    case 72:
        if (a[1] == F_SETOWN) a[2] = self;
        if (a[1] == 15) a[1] = 16;                                                   /* F_SETOWN_EX */
        break;
    case 16:
        if (a[1] == 0x8901 || a[1] == 0x8902 || a[1] == 0x5410 || a[1] == 0x5412) a[1] = 0x8903;
        break;
    case 158: if (a[0] == 0x1002) a[0] = 0x1003; break;                              /* ARCH_SET_FS */
    case 28: if (a[2] == 100 || a[2] == 101) a[2] = 0; break;
    case 157: if (a[0] == PR_SET_DUMPABLE) a[0] = PR_GET_DUMPABLE; break;
    case 56: a[0] &= ~(uint64_t)(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_PARENT | CLONE_SETTLS); a[1] = 0; break;
    case 436: if ((uint32_t)a[0] <= LOGFD && (uint32_t)a[1] >= LOGFD) a[1] = LOGFD - 1; break;  /* close_range */
    case 29: case 64: case 68: a[0] = 0; break;                                       /* IPC_PRIVATE */
    case 30: case 31: case 65: case 66: case 69: case 70: case 71: case 220: a[0] = ipc_id(ipc_kind(nr)); break;
    case 240: case 241: a[0] = (uint64_t)mq_name; break;
    }
}

static void hex(char **p, uint64_t v) {
    char buf[16];
    int n = 0;
    do { buf[n++] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    *(*p)++ = ' ';
    while (n) *(*p)++ = buf[--n];
}

static void log_call(uint64_t child, uint64_t index, uint64_t nr, const uint64_t *a) {
    sh->child = child;
    sh->index = index;
    sh->nr = nr;
    for (int i = 0; i < 6; i++) sh->args[i] = a[i];
    sh->started++;
    if (!verbose) return;
    char line[256], *p = line;
    memcpy(p, "call", 4), p += 4;
    hex(&p, seed), hex(&p, child), hex(&p, index);
    *p++ = ':';
    hex(&p, nr);
    for (int i = 0; i < 6; i++) hex(&p, a[i]);
    *p++ = '\n';
    raw(SYS_write, LOGFD, (long)line, p - line, 0, 0, 0);
}

static void setup_child(void) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_DUMPABLE, 0);
    struct rlimit core = {0, 0}, fsize = {1 << 20, 1 << 20}, as = {256 << 20, 256 << 20};
    setrlimit(RLIMIT_CORE, &core);
    setrlimit(RLIMIT_FSIZE, &fsize);
    setrlimit(RLIMIT_AS, &as);
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (verbose) dup2(2, LOGFD);
    for (int fd = 3; fd < 256; fd++) close(fd);
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    if (null > 2) close(null);
    int p[2];
    nfds = 0;
    if (pipe(p) == 0) fds[nfds++] = p[0], fds[nfds++] = p[1];
    int f = open("file", O_RDWR | O_CREAT, 0600);
    if (f < 0) f = open("/proc/self/exe", O_RDONLY);  /* under umk the root is read-only */
    if (f >= 0) fds[nfds++] = f;
    int d = open(".", O_RDONLY | O_DIRECTORY);
    if (d >= 0) fds[nfds++] = d;
    int z = open("/dev/zero", O_RDWR);
    if (z >= 0) fds[nfds++] = z;
    int e = (int)syscall(SYS_eventfd2, 0, 0);
    if (e >= 0) fds[nfds++] = e;
    int m = (int)syscall(SYS_memfd_create, "fuzz", 0);
    if (m >= 0) fds[nfds++] = m;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) fds[nfds++] = sv[0], fds[nfds++] = sv[1];
    fds[nfds++] = 1 << 20;  /* never open */

    void *rw = mmap(ARENA, (ARENA_PAGES + 1) * PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    void *none = mmap((void *)NONE_PAGE, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (rw != ARENA || none != (void *)NONE_PAGE) _exit(99);
    memcpy((void *)RO_PAGE, template, PAGE);
    mprotect((void *)RO_PAGE, PAGE, PROT_READ);
}

static void run_child(uint64_t child) {
    rng = seed * 0x2545f4914f6cdd1dULL + child;
    make_mq_name(self);
    make_template();
    setup_child();
    for (int k = 0; k < ncalls; k++) {
        uint64_t nr, a[6];
        do nr = number(); while (denied(nr));
        for (int i = 0; i < 6; i++) a[i] = argument();
        sanitize(nr, a);
        log_call(child, k, nr, a);
        memcpy(ARENA, template, sizeof template);  /* what the previous call wrote is gone */
        if (nr == 15)
            sigreturn_on((a[0] >= BASE && a[0] < RO_PAGE - 1024 ? a[0] : BASE) & ~7UL);
        else {
            long r = raw(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            uint32_t n = (uint32_t)nr;
            int kind = ipc_kind(n);
            if ((n == 29 || n == 64 || n == 68) && r >= 0 && sh->ipc_count[kind] < 64)
                sh->ipc_ids[kind][sh->ipc_count[kind]++] = (int32_t)r;
        }
        if (raw(SYS_getpid, 0, 0, 0, 0, 0, 0) != self) raw(SYS_exit, 0, 0, 0, 0, 0, 0);  /* fork, clone */
        sh->done++;
    }
    raw(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static char tmpdir[64];

static void remove_tree(const char *path) {
    chmod(path, 0700);  /* a child may have taken away read or search permission */
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd >= 0) {
        char buf[4096];
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                unsigned short reclen = *(unsigned short *)(buf + off + 16);
                const char *name = buf + off + 19;
                off += reclen;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
                char sub[4096];
                snprintf(sub, sizeof sub, "%s/%s", path, name);
                if (unlink(sub) != 0) remove_tree(sub);
            }
        }
        close(fd);
    }
    rmdir(path);
}

int main(int argc, char **argv) {
    int opt;
    long only = -1;
    while ((opt = getopt(argc, argv, "vn:i:")) != -1) {
        if (opt == 'v') verbose = 1;
        else if (opt == 'n') ncalls = atoi(optarg);
        else if (opt == 'i') only = atol(optarg);
        else return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: fuzz [-v] [-n CALLS] [-i CHILD] SEED [CHILDREN]\n");
        return 2;
    }
    seed = strtoull(argv[optind], 0, 0);
    long children = optind + 1 < argc ? atol(argv[optind + 1]) : 50;

    /* A fresh directory for whatever the children create; under umk the root is read-only and it fails. */
    snprintf(tmpdir, sizeof tmpdir, "/tmp/umk-fuzz-XXXXXX");
    int have_tmp = mkdtemp(tmpdir) != 0;
    if (have_tmp && chdir(tmpdir) != 0) return 1;
    prctl(PR_SET_CHILD_SUBREAPER, 1);  /* the children's children are reaped here */
    sh = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) return 1;

    uint64_t done = 0;
    long hung = 0, signaled = 0;
    for (long c = only >= 0 ? only : 0; c < (only >= 0 ? only + 1 : children); c++) {
        sh->started = sh->done = 0;
        fflush(stdout);
        fflush(stderr);
        self = fork();
        if (self == 0) {
            self = getpid();
            run_child(c);
        }
        if (self < 0) { perror("fork"); return 1; }
        uint64_t last = ~0ULL, since = now_ns();
        int status;
        for (;;) {
            pid_t r = waitpid(self, &status, WNOHANG);
            if (r == self) break;
            if (sh->started != last) last = sh->started, since = now_ns();
            if (now_ns() - since > STALL_NS) {
                if (verbose)
                    fprintf(stderr, "seed %llu child %ld: call %llu (nr %llu) still running after 100 ms: killed\n",
                            (unsigned long long)seed, c, (unsigned long long)sh->index, (unsigned long long)sh->nr);
                kill(self, SIGKILL);
                waitpid(self, &status, 0);
                hung++;
                break;
            }
            struct timespec t = {0, 1000000};
            nanosleep(&t, 0);
        }
        if (WIFSIGNALED(status)) signaled++;
        remove_ipc(self);
        done += sh->done;
        while (waitpid(-1, 0, WNOHANG) > 0) {
        }
    }
    while (waitpid(-1, 0, WNOHANG) > 0) {
    }
    if (have_tmp) {
        if (chdir("/") == 0) remove_tree(tmpdir);
    }
    if (verbose)
        fprintf(stderr, "seed %llu: %ld children, %ld killed by a signal, %ld stalled\n",
                (unsigned long long)seed, only >= 0 ? 1 : children, signaled, hung);
    printf("seed %llu: %llu calls done\n", (unsigned long long)seed, (unsigned long long)done);
    return 0;
}
