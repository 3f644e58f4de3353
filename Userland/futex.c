/* futex.c: futex(2) and futex_waitv(2) (kernel/futex/) between processes that share MAP_SHARED memory: waits
 * and wakes with bitsets, requeue and cmp_requeue, wake_op's operations and comparisons, private versus
 * shared keys, PI futexes (lock, trylock, unlock, hand-over in arrival order, EDEADLK, EPERM, ESRCH, a dying
 * owner's hand-over, a deadlock between two processes), requeue-PI, futex_waitv, timeouts on both clocks,
 * signals (EINTR and restarts), the robust list walked at exit (hostile lists too), and pthread robust and
 * PI mutexes shared between processes whose owner dies (EOWNERDEAD, pthread_mutex_consistent).
 *
 * A waiter is a child process; the parent acts once the child sleeps in the kernel (its /proc stat says S,
 * after it said it was about to call), so counts and orders are deterministic. A child reports through its
 * exit status: 0 for a call that returned 0, 100 + errno for an error, 50 + n for a value n. */
#include "check.h"
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* musl has no <linux/futex.h>. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_FD 2
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    (((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff))
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE 128
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

struct waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

struct robust_head {
    void *next;
    long futex_offset;
    void *pending;
};

struct shared {
    uint32_t w[32];
    volatile int ready[16];
    volatile int handled;
    volatile int order[4], norder;
    pthread_mutex_t mutex;
};
static struct shared *sh;

static long fx(volatile uint32_t *uaddr, int op, uint32_t val, const void *timeout, volatile uint32_t *uaddr2,
               uint32_t val3) {
    return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}
#define N(n) ((const void *)(uintptr_t)(n))

static void show_fx(const char *what, long r) { show(what, r); }

/* The exit status of a child as the facts above say. */
static const char *status_text(int status) {
    static char buf[64];
    if (WIFSIGNALED(status)) snprintf(buf, sizeof buf, "signal %d", WTERMSIG(status));
    else if (WEXITSTATUS(status) == 0) snprintf(buf, sizeof buf, "0");
    else if (WEXITSTATUS(status) >= 100) snprintf(buf, sizeof buf, "%s", errname(WEXITSTATUS(status) - 100));
    else snprintf(buf, sizeof buf, "value %d", WEXITSTATUS(status) - 50);
    return buf;
}

static int code(long r) { return r == -1 ? 100 + errno : r == 0 ? 0 : 50 + (int)r; }

static char proc_state(pid_t pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return '?';
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Waits until child `pid` said it is about to block (ready[slot]) and sleeps in the kernel. */
static void wait_blocked(pid_t pid, int slot) {
    for (int i = 0; i < 20000; i++) {
        if (slot < 0 || sh->ready[slot]) {
            char s = proc_state(pid);
            if (s == 'S' || s == 'Z') return;
        }
        sleep_ms(1);
    }
    printf("child %d never blocked\n", slot);
}

static void reap(const char *what, pid_t pid) {
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        printf("%s: waitpid %s\n", what, errname(errno));
        return;
    }
    printf("%s: %s\n", what, status_text(status));
}

/* Whether child `pid` has ended within `ms` milliseconds (reaped if so). */
static int ended(pid_t pid, int ms, int *status) {
    for (int i = 0; i <= ms; i++) {
        if (waitpid(pid, status, WNOHANG) == pid) return 1;
        sleep_ms(1);
    }
    return 0;
}

/* A child that announces itself in ready[slot] and makes one futex call; its status says what it returned. */
static pid_t spawn_fx(int slot, volatile uint32_t *uaddr, int op, uint32_t val, const void *timeout,
                      volatile uint32_t *uaddr2, uint32_t val3) {
    sh->ready[slot] = 0;
    pid_t pid = xfork();
    if (pid == 0) {
        sh->ready[slot] = 1;
        _exit(code(fx(uaddr, op, val, timeout, uaddr2, val3)));
    }
    wait_blocked(pid, slot);
    return pid;
}

/* How many non-PI waiters sleep on `uaddr`: a requeue onto itself moves nothing and counts them. */
static long waiters(volatile uint32_t *uaddr) { return fx(uaddr, FUTEX_REQUEUE, 0, N(INT_MAX), uaddr, 0); }

static struct timespec in_ms(clockid_t clock, long ms) {
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static long elapsed_ms(const struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

static void errors(void) {
    printf("-- errors\n");
    volatile uint32_t *w = sh->w;
    w[0] = 1;
    struct timespec bad_ns = {0, 1000000000L}, neg = {-1, 0};
    show_fx("wait misaligned", fx((uint32_t *)((char *)w + 1), FUTEX_WAIT, 1, 0, 0, 0));
    show_fx("wait value differs", fx(w, FUTEX_WAIT, 2, 0, 0, 0));
    show_fx("wait_bitset bitset 0", fx(w, FUTEX_WAIT_BITSET, 1, 0, 0, 0));
    show_fx("wait_bitset bitset 0 misaligned", fx((uint32_t *)((char *)w + 2), FUTEX_WAIT_BITSET, 1, 0, 0, 0));
    show_fx("wait clock_realtime", fx(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 2, 0, 0, 0));
    show_fx("wake clock_realtime", fx(w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0));
    show_fx("lock_pi clock_realtime", fx(w, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0, 0, 0, 0));
    show_fx("wait timeout nsec 1e9", fx(w, FUTEX_WAIT, 2, &bad_ns, 0, 0));
    show_fx("wait timeout negative", fx(w, FUTEX_WAIT, 2, &neg, 0, 0));
    show_fx("wait timeout unreadable", fx(w, FUTEX_WAIT, 2, BAD_PTR, 0, 0));
    show_fx("wait timeout unreadable, bad op too", fx(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 2, BAD_PTR, 0, 0));
    show_fx("wake ignores its timeout", fx(w, FUTEX_WAKE, 1, BAD_PTR, 0, 0));
    show_fx("wait unmapped", fx(BAD_PTR + 3, FUTEX_WAIT, 0, 0, 0, 0));
    show_fx("wait unmapped aligned", fx((uint32_t *)4096, FUTEX_WAIT, 0, 0, 0, 0));
    show_fx("wait private unmapped", fx((uint32_t *)4096, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
    show_fx("wake unmapped", fx((uint32_t *)4096, FUTEX_WAKE, 1, 0, 0, 0));
    show_fx("wake private unmapped", fx((uint32_t *)4096, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0));
    show_fx("wake kernel address", fx((uint32_t *)0xffff800000000000UL, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0));
    show_fx("wake just below the top", fx((uint32_t *)0x7fffffffeffcUL, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0));
    show_fx("wake nobody", fx(w, FUTEX_WAKE, 1, 0, 0, 0));
    show_fx("wake_bitset bitset 0", fx(w, FUTEX_WAKE_BITSET, 1, 0, 0, 0));
    show_fx("futex_fd", fx(w, FUTEX_FD, 0, 0, 0, 0));
    show_fx("op 14", fx(w, 14, 0, 0, 0, 0));
    show_fx("op -1", fx(w, -1, 0, 0, 0, 0));
    show_fx("requeue negative wake", fx(w, FUTEX_REQUEUE, -1, N(1), w + 1, 0));
    show_fx("requeue negative requeue", fx(w, FUTEX_REQUEUE, 1, N(-1), w + 1, 0));
    show_fx("requeue misaligned target", fx(w, FUTEX_REQUEUE, 1, N(1), (uint32_t *)((char *)w + 5), 0));
    show_fx("cmp_requeue differs", fx(w, FUTEX_CMP_REQUEUE, 1, N(1), w + 1, 7));
    show_fx("cmp_requeue same", fx(w, FUTEX_CMP_REQUEUE, 1, N(1), w + 1, 1));
    show_fx("cmp_requeue unmapped", fx((uint32_t *)4096, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 1, N(1), w, 1));
    void *ro = mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    void *rop = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show_fx("wait read-only shared", fx(ro, FUTEX_WAIT, 1, 0, 0, 0));
    show_fx("wait read-only private", fx(rop, FUTEX_WAIT, 1, 0, 0, 0));
    show_fx("wait read-only private, private flag", fx(rop, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0));
    show_fx("wake_op read-only target", fx(w, FUTEX_WAKE_OP, 1, N(1), ro, FUTEX_OP(1, 1, 0, 0)));
    show_fx("lock_pi read-only", fx(ro, FUTEX_LOCK_PI, 0, 0, 0, 0));
    show_fx("lock_pi read-only private", fx(rop, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
    show_fx("unlock_pi read-only", fx(ro, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    munmap(ro, 4096);
    munmap(rop, 4096);
}

static void timeouts(void) {
    printf("-- timeouts\n");
    volatile uint32_t *w = sh->w + 1;
    *w = 5;
    struct timespec start, rel = {0, 30000000L}, zero = {0, 0}, past = {1, 0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    show_fx("wait relative 30ms", fx(w, FUTEX_WAIT, 5, &rel, 0, 0));
    show_bool("waited 30ms", elapsed_ms(&start) >= 30);
    show_fx("wait relative 0", fx(w, FUTEX_WAIT, 5, &zero, 0, 0));
    show_fx("wait relative 0, value differs", fx(w, FUTEX_WAIT, 6, &zero, 0, 0));
    struct timespec mono = in_ms(CLOCK_MONOTONIC, 30);
    clock_gettime(CLOCK_MONOTONIC, &start);
    show_fx("wait_bitset monotonic", fx(w, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 5, &mono, 0, ~0u));
    show_bool("waited 30ms", elapsed_ms(&start) >= 25);
    struct timespec real = in_ms(CLOCK_REALTIME, 30);
    clock_gettime(CLOCK_MONOTONIC, &start);
    show_fx("wait_bitset realtime", fx(w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 5, &real, 0, ~0u));
    show_bool("waited 30ms", elapsed_ms(&start) >= 25);
    show_fx("wait_bitset in the past", fx(w, FUTEX_WAIT_BITSET, 5, &past, 0, ~0u));
    show_fx("wait_bitset realtime in the past", fx(w, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 5, &past, 0, ~0u));
    show_fx("wait_bitset in the past, value differs", fx(w, FUTEX_WAIT_BITSET, 4, &past, 0, ~0u));
}

static void wake(void) {
    printf("-- wait and wake\n");
    volatile uint32_t *w = sh->w + 2;
    *w = 0;
    pid_t p[3];
    for (int i = 0; i < 3; i++) p[i] = spawn_fx(i, w, FUTEX_WAIT, 0, 0, 0, 0);
    show("waiters", waiters(w));
    show("wake 1", fx(w, FUTEX_WAKE, 1, 0, 0, 0));
    reap("first waiter", p[0]);
    show("waiters", waiters(w));
    show("wake 0 wakes one", fx(w, FUTEX_WAKE, 0, 0, 0, 0));
    reap("second waiter", p[1]);
    show("wake -1 wakes one", fx(w, FUTEX_WAKE, -1, 0, 0, 0));
    reap("third waiter", p[2]);
    show("waiters", waiters(w));

    /* Bitsets: waiters with masks 1, 2 and 3, woken by mask. */
    for (int i = 0; i < 3; i++) p[i] = spawn_fx(i, w, FUTEX_WAIT_BITSET, 0, 0, 0, i + 1);
    show("wake_bitset 2", fx(w, FUTEX_WAKE_BITSET, INT_MAX, 0, 0, 2));
    reap("mask 2", p[1]);
    reap("mask 3", p[2]);
    show("wake_bitset 4", fx(w, FUTEX_WAKE_BITSET, INT_MAX, 0, 0, 4));
    show("wake", fx(w, FUTEX_WAKE, INT_MAX, 0, 0, 0));
    reap("mask 1", p[0]);

    /* A private word in shared memory: the private key is per address space, so another process's
     * private wake does not reach it, while a shared wait and wake meet. */
    struct timespec rel = {0, 200000000L};
    pid_t c = spawn_fx(0, w, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, &rel, 0, 0);
    show("private wake from another process", fx(w, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, 0, 0, 0));
    show("shared wake of a private waiter", fx(w, FUTEX_WAKE, 1, 0, 0, 0));
    reap("private waiter", c);

    /* Private memory after fork is two words: a shared wake in the parent does not reach the child's. */
    static uint32_t priv = 0;
    c = spawn_fx(0, &priv, FUTEX_WAIT, 0, &rel, 0, 0);
    show("wake of the parent's copy", fx(&priv, FUTEX_WAKE, 1, 0, 0, 0));
    reap("waiter on its copy", c);

    /* A tmpfs file mapped twice at other addresses: the same word. */
    char name[64];
    snprintf(name, sizeof name, "/dev/shm/umk-futex-%d", (int)getpid());
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    unlink(name);
    if (fd < 0 || ftruncate(fd, 8192) != 0) {
        printf("shm file: %s\n", errname(errno));
        return;
    }
    uint32_t *m1 = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint32_t *m2 = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
    m1[1024 + 3] = 9;
    c = spawn_fx(0, m1 + 1024 + 3, FUTEX_WAIT, 9, 0, 0, 0);
    show("wake through another mapping", fx(m2 + 3, FUTEX_WAKE, 1, 0, 0, 0));
    reap("file waiter", c);
    munmap(m1, 8192);
    munmap(m2, 4096);
    close(fd);
}

/* Three waiters, the second and third SCHED_FIFO 10 and 20 when the system lets them: woken one at a time,
 * real-time ones come first, by priority. `pi`: they wait in FUTEX_LOCK_PI and get the lock in that order. */
static void priority_order(int pi) {
    volatile uint32_t *w = sh->w + 21;
    volatile int *rt = sh->ready + 8;
    *w = pi ? (uint32_t)getpid() : 0;
    pid_t p[3];
    for (int i = 0; i < 3; i++) {
        sh->ready[i] = 0;
        p[i] = xfork();
        if (p[i] == 0) {
            struct sched_param sp = {.sched_priority = 10 * i};
            rt[i] = i > 0 && sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
            sh->ready[i] = 1;
            if (pi) {
                long r = fx(w, FUTEX_LOCK_PI, 0, 0, 0, 0);
                sh->order[sh->norder++] = i;  /* under the lock */
                _exit(r == 0 && fx(w, FUTEX_UNLOCK_PI, 0, 0, 0, 0) == 0 ? 0 : 1);
            }
            _exit(code(fx(w, FUTEX_WAIT, 0, 0, 0, 0)));
        }
        wait_blocked(p[i], i);
    }
    /* Expected: real-time ones by falling priority, then the rest by arrival. */
    int expect[3], n = 0;
    for (int i = 2; i >= 1; i--)
        if (rt[i]) expect[n++] = i;
    for (int i = 0; i < 3; i++)
        if (!rt[i]) expect[n++] = i;
    int same = 1;
    sh->norder = 0;
    if (pi) {
        /* The lock passes down the line by itself: each child notes when it holds it. */
        fx(w, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
        for (int k = 0; k < 3; k++) {
            int status;
            waitpid(p[k], &status, 0);
            if (status != 0) same = 0;
        }
        for (int k = 0; k < 3; k++)
            if (sh->order[k] != expect[k]) same = 0;
    }
    for (int k = 0; k < 3 && !pi; k++) {
        fx(w, FUTEX_WAKE, 1, 0, 0, 0);
        int status;
        pid_t done = -1;
        for (int i = 0; i < 20000 && done <= 0; i++) {
            done = waitpid(-1, &status, WNOHANG);
            if (done <= 0) sleep_ms(1);
        }
        if (done != p[expect[k]] || status != 0) same = 0;
    }
    printf("%s in priority order: %s\n", pi ? "lock hand-over" : "wake", same ? "yes" : "no");
}

static void requeue(void) {
    printf("-- requeue\n");
    volatile uint32_t *a = sh->w + 3, *b = sh->w + 4;
    *a = 1;
    *b = 0;
    pid_t p[5];
    for (int i = 0; i < 5; i++) p[i] = spawn_fx(i, a, FUTEX_WAIT, 1, 0, 0, 0);
    show("cmp_requeue differs", fx(a, FUTEX_CMP_REQUEUE, 1, N(2), b, 2));
    show("cmp_requeue wake 1 requeue 2", fx(a, FUTEX_CMP_REQUEUE, 1, N(2), b, 1));
    reap("first", p[0]);
    show("waiters on a", waiters(a));
    show("waiters on b", waiters(b));
    show("requeue wake 0 requeue 0", fx(a, FUTEX_REQUEUE, 0, N(0), b, 0));
    show("requeue wake 0 requeue 1", fx(a, FUTEX_REQUEUE, 0, N(1), b, 0));
    show("waiters on a", waiters(a));
    show("waiters on b", waiters(b));
    show("wake a", fx(a, FUTEX_WAKE, INT_MAX, 0, 0, 0));
    reap("fifth", p[4]);
    /* Requeued in order behind nobody: b's queue is the second, third, fourth. */
    show("wake b 1", fx(b, FUTEX_WAKE, 1, 0, 0, 0));
    reap("second", p[1]);
    show("requeue b to a", fx(b, FUTEX_REQUEUE, 0, N(INT_MAX), a, 0));
    show("wake a 1", fx(a, FUTEX_WAKE, 1, 0, 0, 0));
    reap("third", p[2]);
    show("wake a", fx(a, FUTEX_WAKE, INT_MAX, 0, 0, 0));
    reap("fourth", p[3]);
}

static void wake_op(void) {
    printf("-- wake_op\n");
    volatile uint32_t *a = sh->w + 5, *b = sh->w + 6;
    *a = 0;
    *b = 0;
    pid_t pa = spawn_fx(0, a, FUTEX_WAIT, 0, 0, 0, 0);
    pid_t pb = spawn_fx(1, b, FUTEX_WAIT, 0, 0, 0, 0);
    show("add 1 if old == 0", fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(1, 1, 0, 0)));
    printf("b: %u\n", *b);
    reap("waiter on a", pa);
    reap("waiter on b", pb);
    pa = spawn_fx(0, a, FUTEX_WAIT, 0, 0, 0, 0);
    pb = spawn_fx(1, b, FUTEX_WAIT, 1, 0, 0, 0);
    show("add 1 if old == 0, false", fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(1, 1, 0, 0)));
    printf("b: %u\n", *b);
    reap("waiter on a", pa);
    show("wake b", fx(b, FUTEX_WAKE, 1, 0, 0, 0));
    reap("waiter on b", pb);

    /* Each operation and the shifted argument, with nobody to wake. */
    static const struct { const char *name; uint32_t start; int op, arg; } ops[] = {
        {"set 7", 3, 0, 7},           {"add 5", 3, 1, 5},         {"add -1", 3, 1, 0xfff},
        {"or 12", 3, 2, 12},          {"andn 1", 3, 3, 1},        {"xor 6", 3, 4, 6},
        {"set 1<<4", 3, 8, 4},        {"add 1<<31", 1, 9, 31},    {"or 1<<40 (mod 32)", 0, 10, 40},
        {"or 1<<-1 (mod 32)", 0, 10, 0xfff}, {"xor -2048", 0, 4, 0x800},
    };
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        *b = ops[i].start;
        long r = fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(ops[i].op, ops[i].arg, 0, 0));
        printf("%s: %s -> 0x%x\n", ops[i].name, r == -1 ? errname(errno) : "ok", *b);
    }
    *b = 3;
    show("op 5", fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(5, 1, 0, 0)));
    printf("b: %u\n", *b);
    show("op 7", fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(7, 1, 0, 0)));
    show("cmp 6 (the op is done)", fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(1, 1, 6, 0)));
    printf("b: %u\n", *b);
    show("cmp 15", fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(1, 1, 15, 0)));
    show("misaligned second", fx(a, FUTEX_WAKE_OP, 1, N(1), (uint32_t *)((char *)b + 1), FUTEX_OP(1, 1, 0, 0)));
    show("unmapped second, private", fx(a, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, N(1), (uint32_t *)4096,
                                        FUTEX_OP(1, 1, 0, 0)));
    show("unmapped second, bad op", fx(a, FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG, 1, N(1), (uint32_t *)4096,
                                       FUTEX_OP(6, 1, 0, 0)));

    /* Each comparison, signed, against an old value of -1 (the op sets it to -1 again): does b's waiter wake? */
    static const char *cmps[] = {"eq", "ne", "lt", "le", "gt", "ge"};
    static const int args[] = {-1, 0, 0xfff};
    for (int c = 0; c < 6; c++)
        for (int k = 0; k < 2; k++) {
            *b = 0xffffffffu;
            pb = spawn_fx(1, b, FUTEX_WAIT, 0xffffffffu, 0, 0, 0);
            long r = fx(a, FUTEX_WAKE_OP, 1, N(1), b, FUTEX_OP(0, 0xfff, c, args[k]));
            printf("cmp %s %d: %ld\n", cmps[c], args[k], r);
            if (r == 0) fx(b, FUTEX_WAKE, 1, 0, 0, 0);
            reap("waiter", pb);
        }
}

static void pi(void) {
    printf("-- pi\n");
    volatile uint32_t *l = sh->w + 7;
    uint32_t me = getpid();
    *l = 0;
    show("trylock free", fx(l, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
    show_bool("word is my tid", *l == me);
    show("lock own", fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0));
    show("trylock own", fx(l, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
    show("unlock", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    printf("word: 0x%x\n", *l);
    show("unlock free", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    show("lock free", fx(l, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
    show("unlock private", fx(l, FUTEX_UNLOCK_PI | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0));
    *l = me | FUTEX_OWNER_DIED | FUTEX_WAITERS;
    show("unlock with bits set", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    printf("word: 0x%x\n", *l);
    *l = FUTEX_OWNER_DIED;
    show("lock owner-died free", fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0));
    show_bool("word is owner-died | my tid", *l == (me | FUTEX_OWNER_DIED));
    *l = 0;

    /* A dead owner: ESRCH, and FUTEX_WAITERS stays set. */
    pid_t dead = xfork();
    if (dead == 0) _exit(0);
    waitpid(dead, 0, 0);
    *l = dead;
    show("lock, owner gone", fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0));
    show_bool("word is dead tid | waiters", *l == (dead | FUTEX_WAITERS));
    *l = dead;
    show("trylock, owner gone", fx(l, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
    *l = 0x3fffffff;
    show("lock, owner never was", fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0));
    show("unlock, not owner", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));

    /* Owned by the parent: a child's trylock is EAGAIN (FUTEX_WAITERS set), timed locks time out. */
    *l = me;
    pid_t c = xfork();
    if (c == 0) {
        int bad = 0;
        if (fx(l, FUTEX_TRYLOCK_PI, 0, 0, 0, 0) != -1 || errno != EAGAIN) bad |= 1;
        if (*l != (me | FUTEX_WAITERS)) bad |= 2;
        struct timespec real = in_ms(CLOCK_REALTIME, 30), mono = in_ms(CLOCK_MONOTONIC, 30);
        if (fx(l, FUTEX_LOCK_PI, 0, &real, 0, 0) != -1 || errno != ETIMEDOUT) bad |= 4;
        if (fx(l, FUTEX_LOCK_PI2, 0, &mono, 0, 0) != -1 || errno != ETIMEDOUT) bad |= 8;
        real = in_ms(CLOCK_REALTIME, 30);
        if (fx(l, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0, &real, 0, 0) != -1 || errno != ETIMEDOUT) bad |= 16;
        struct timespec past = {1, 0};
        if (fx(l, FUTEX_LOCK_PI2, 0, &past, 0, 0) != -1 || errno != ETIMEDOUT) bad |= 32;
        if (fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0) != -1 || errno != EPERM) bad |= 64;
        _exit(bad);
    }
    reap("child's trylock, timed locks and unlock", c);
    show("unlock with waiters bit, none waiting", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    printf("word: 0x%x\n", *l);

    /* Hand-over in arrival order: the parent holds it, two children block, each unlock passes it on. */
    *l = me;
    pid_t p[2];
    for (int i = 0; i < 2; i++) {
        sh->ready[i] = 0;
        p[i] = xfork();
        if (p[i] == 0) {
            sh->ready[i] = 1;
            if (fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0) != 0) _exit(100 + errno);
            if (*l != ((uint32_t)getpid() | FUTEX_WAITERS)) _exit(1);
            sleep_ms(20);
            _exit(fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0) == 0 ? 0 : 100 + errno);
        }
        wait_blocked(p[i], i);
    }
    show_bool("word is my tid | waiters", *l == (me | FUTEX_WAITERS));
    show("wake on a PI futex", fx(l, FUTEX_WAKE, 1, 0, 0, 0));
    show("requeue from a PI futex", fx(l, FUTEX_REQUEUE, 0, N(1), sh->w + 8, 0));
    show("wait on a PI futex", fx(l, FUTEX_WAIT, 0, 0, 0, 0));
    show("unlock", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    show_bool("word is the first child's tid | waiters", *l == ((uint32_t)p[0] | FUTEX_WAITERS));
    reap("first child", p[0]);
    reap("second child", p[1]);
    printf("word: 0x%x\n", *l);

    /* The owner dies holding it: the waiter gets it with FUTEX_OWNER_DIED. */
    *l = 0;
    sh->ready[2] = 0;
    pid_t owner = xfork();
    if (owner == 0) {
        if (fx(l, FUTEX_TRYLOCK_PI, 0, 0, 0, 0) != 0) _exit(100 + errno);
        sh->ready[2] = 1;
        while (sh->ready[3] != 2) sleep_ms(1);
        _exit(0);
    }
    while (!sh->ready[2]) sleep_ms(1);
    sh->ready[3] = 0;
    c = xfork();
    if (c == 0) {
        sh->ready[3] = 1;
        long r = fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0);
        if (r != 0) _exit(100 + errno);
        _exit(*l == ((uint32_t)getpid() | FUTEX_WAITERS | FUTEX_OWNER_DIED) ? 0 : 1);
    }
    wait_blocked(c, 3);
    sh->ready[3] = 2;
    reap("owner", owner);
    reap("waiter of a dead owner", c);

    /* Two processes each holding one lock and waiting for the other's: the second to wait is EDEADLK. */
    volatile uint32_t *l2 = sh->w + 9;
    *l = 0;
    *l2 = 0;
    sh->ready[4] = 0;
    c = xfork();
    if (c == 0) {
        fx(l2, FUTEX_LOCK_PI, 0, 0, 0, 0);
        sh->ready[4] = 1;
        while (sh->ready[4] != 2) sleep_ms(1);
        sh->ready[5] = 1;
        _exit(code(fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0)));
    }
    fx(l, FUTEX_LOCK_PI, 0, 0, 0, 0);
    while (!sh->ready[4]) sleep_ms(1);
    sh->ready[5] = 0;
    sh->ready[4] = 2;
    wait_blocked(c, 5);
    show("lock closing a cycle", fx(l2, FUTEX_LOCK_PI, 0, 0, 0, 0));
    show("unlock", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    reap("other side of the cycle", c);
}

static void requeue_pi(void) {
    printf("-- requeue_pi\n");
    volatile uint32_t *cv = sh->w + 10, *l = sh->w + 11;
    uint32_t me = getpid();
    *cv = 1;
    *l = me;
    show("wait_requeue_pi same word", fx(cv, FUTEX_WAIT_REQUEUE_PI, 1, 0, cv, 0));
    show("wait_requeue_pi differs", fx(cv, FUTEX_WAIT_REQUEUE_PI, 2, 0, l, 0));
    show("cmp_requeue_pi wake 2", fx(cv, FUTEX_CMP_REQUEUE_PI, 2, N(1), l, 1));
    show("cmp_requeue_pi same word", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(1), cv, 1));
    show("cmp_requeue_pi differs", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(1), l, 2));
    show("cmp_requeue_pi nobody", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(1), l, 1));
    struct timespec mono = in_ms(CLOCK_MONOTONIC, 30);
    show("wait_requeue_pi times out", fx(cv, FUTEX_WAIT_REQUEUE_PI, 1, &mono, l, 0));

    /* The lock is held: both waiters move onto it and get it in turn as it is unlocked. */
    pid_t p[3];
    for (int i = 0; i < 2; i++) {
        sh->ready[i] = 0;
        p[i] = xfork();
        if (p[i] == 0) {
            sh->ready[i] = 1;
            if (fx(cv, FUTEX_WAIT_REQUEUE_PI, 1, 0, l, 0) != 0) _exit(100 + errno);
            if ((*l & 0x3fffffff) != (uint32_t)getpid()) _exit(1);
            _exit(fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0) == 0 ? 0 : 100 + errno);
        }
        wait_blocked(p[i], i);
    }
    show("wake on the condition", fx(cv, FUTEX_WAKE, 1, 0, 0, 0));
    show("cmp_requeue (not PI)", fx(cv, FUTEX_CMP_REQUEUE, 1, N(1), l, 1));
    show("requeue to another PI word", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(1), sh->w + 12, 1));
    show("cmp_requeue_pi, lock held", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(INT_MAX), l, 1));
    show("waiters left on the condition", waiters(cv));
    show("unlock", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    reap("first", p[0]);
    reap("second", p[1]);
    printf("word: 0x%x\n", *l);

    /* The lock is free: the first waiter takes it at once, the second moves onto it. */
    *l = 0;
    for (int i = 0; i < 2; i++) {
        sh->ready[i] = 0;
        p[i] = xfork();
        if (p[i] == 0) {
            sh->ready[i] = 1;
            if (fx(cv, FUTEX_WAIT_REQUEUE_PI, 1, 0, l, 0) != 0) _exit(100 + errno);
            if ((*l & 0x3fffffff) != (uint32_t)getpid()) _exit(1);
            sleep_ms(20);
            _exit(fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0) == 0 ? 0 : 100 + errno);
        }
        wait_blocked(p[i], i);
    }
    show("cmp_requeue_pi, lock free", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(INT_MAX), l, 1));
    reap("first", p[0]);
    reap("second", p[1]);
    printf("word: 0x%x\n", *l);

    /* A plain waiter on the condition: CMP_REQUEUE_PI refuses it. */
    p[2] = spawn_fx(2, cv, FUTEX_WAIT, 1, 0, 0, 0);
    show("cmp_requeue_pi with a plain waiter", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(1), l, 1));
    fx(cv, FUTEX_WAKE, 1, 0, 0, 0);
    reap("plain waiter", p[2]);
}

static void waitv(void) {
    printf("-- futex_waitv\n");
    volatile uint32_t *w = sh->w + 13;
    w[0] = 1;
    w[1] = 2;
    w[2] = 3;
    struct waitv v[129];
    for (int i = 0; i < 129; i++)
        v[i] = (struct waitv){.val = (uint64_t)(i % 3) + 1, .uaddr = (uintptr_t)(w + i % 3), .flags = FUTEX2_SIZE_U32};
    struct timespec past = {1, 0}, bad = {0, -1};
    show("no flags allowed", syscall(SYS_futex_waitv, v, 3, 1, 0, 0));
    show("none", syscall(SYS_futex_waitv, v, 0, 0, 0, 0));
    show("129", syscall(SYS_futex_waitv, v, 129, 0, 0, 0));
    show("null", syscall(SYS_futex_waitv, 0, 3, 0, 0, 0));
    show("bad clock", syscall(SYS_futex_waitv, v, 3, 0, &past, CLOCK_BOOTTIME));
    show("bad timeout", syscall(SYS_futex_waitv, v, 3, 0, &bad, CLOCK_MONOTONIC));
    show("unreadable timeout", syscall(SYS_futex_waitv, v, 3, 0, BAD_PTR, CLOCK_MONOTONIC));
    show("unreadable array", syscall(SYS_futex_waitv, BAD_PTR, 3, 0, 0, 0));
    show("past, monotonic", syscall(SYS_futex_waitv, v, 3, 0, &past, CLOCK_MONOTONIC));
    show("past, realtime", syscall(SYS_futex_waitv, v, 3, 0, &past, CLOCK_REALTIME));
    struct timespec start, mono = in_ms(CLOCK_MONOTONIC, 30);
    clock_gettime(CLOCK_MONOTONIC, &start);
    show("128, monotonic 30ms", syscall(SYS_futex_waitv, v, 128, 0, &mono, CLOCK_MONOTONIC));
    show_bool("waited 30ms", elapsed_ms(&start) >= 25);
    struct timespec real = in_ms(CLOCK_REALTIME, 30);
    show("realtime 30ms", syscall(SYS_futex_waitv, v, 2, 0, &real, CLOCK_REALTIME));
    v[1].val = 7;
    show("second differs", syscall(SYS_futex_waitv, v, 3, 0, &past, CLOCK_MONOTONIC));
    v[1].val = 2;
    v[2].flags = 0;
    show("no size", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[2].flags = 3;
    show("size u64", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[2].flags = FUTEX2_SIZE_U32 | 0x100;
    show("unknown flag", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[2].flags = FUTEX2_SIZE_U32;
    v[2].reserved = 1;
    show("reserved", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[2].reserved = 0;
    v[2].val = 1ULL << 32;
    show("value too wide", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[2].val = 3;
    v[2].uaddr += 1;
    show("misaligned", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[2].uaddr = 4096;
    show("unmapped", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[2].flags |= FUTEX2_PRIVATE;
    show("unmapped, private", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[1].val = 9;
    show("unmapped after a mismatch", syscall(SYS_futex_waitv, v, 3, 0, 0, 0));
    v[1].val = 2;
    v[2].uaddr = (uintptr_t)(w + 2);
    v[2].flags = FUTEX2_SIZE_U32;

    /* FUTEX2_NUMA: the word is followed by its node, -1 (none: set to the caller's node) or a node. */
    volatile uint32_t *nw = sh->w + 18;  /* 8-byte aligned */
    nw[0] = 4;
    nw[1] = 0xffffffff;
    struct waitv nv = {.val = 4, .uaddr = (uintptr_t)nw, .flags = FUTEX2_SIZE_U32 | 0x04};
    show("numa", syscall(SYS_futex_waitv, &nv, 1, 0, &past, CLOCK_MONOTONIC));
    show_bool("node set", nw[1] != 0xffffffff);
    nw[1] = 0x10000;
    show("numa, no such node", syscall(SYS_futex_waitv, &nv, 1, 0, &past, CLOCK_MONOTONIC));
    nw[1] = 0xffffffff;
    nv.uaddr += 4;
    show("numa, misaligned", syscall(SYS_futex_waitv, &nv, 1, 0, &past, CLOCK_MONOTONIC));
    nv.uaddr -= 4;
    nv.flags = FUTEX2_SIZE_U32 | 0x08;
    show("mpol", syscall(SYS_futex_waitv, &nv, 1, 0, &past, CLOCK_MONOTONIC));
    show_bool("node left", nw[1] == 0xffffffff);

    /* A child waits on three words; a wake of the third returns its index. */
    for (int k = 2; k >= 0; k--) {
        sh->ready[0] = 0;
        pid_t c = xfork();
        if (c == 0) {
            sh->ready[0] = 1;
            long r = syscall(SYS_futex_waitv, v, 3, 0, 0, 0);
            _exit(r < 0 ? 100 + errno : 50 + (int)r);
        }
        wait_blocked(c, 0);
        printf("wake word %d: %ld\n", k, fx(w + k, FUTEX_WAKE, 1, 0, 0, 0));
        reap("waitv", c);
    }
    /* The same word twice: one wake of two reaches both entries, the last index is returned. */
    v[1].uaddr = v[0].uaddr;
    v[1].val = v[0].val;
    sh->ready[0] = 0;
    pid_t c = xfork();
    if (c == 0) {
        sh->ready[0] = 1;
        long r = syscall(SYS_futex_waitv, v, 3, 0, 0, 0);
        _exit(r < 0 ? 100 + errno : 50 + (int)r);
    }
    wait_blocked(c, 0);
    show("wake 2 of a word listed twice", fx(w, FUTEX_WAKE, 2, 0, 0, 0));
    reap("waitv", c);
    /* Requeued: a waitv entry follows its word. */
    sh->ready[0] = 0;
    c = xfork();
    if (c == 0) {
        sh->ready[0] = 1;
        long r = syscall(SYS_futex_waitv, v + 1, 2, 0, 0, 0);
        _exit(r < 0 ? 100 + errno : 50 + (int)r);
    }
    wait_blocked(c, 0);
    show("requeue", fx(w, FUTEX_REQUEUE, 0, N(1), sh->w + 20, 0));
    show("wake the old word", fx(w, FUTEX_WAKE, 1, 0, 0, 0));
    show("wake the new word", fx(sh->w + 20, FUTEX_WAKE, 1, 0, 0, 0));
    reap("waitv", c);
}

static void on_usr1(int sig) {
    (void)sig;
    sh->handled++;
}

/* A child blocks in a call, gets SIGUSR1 (handler with or without SA_RESTART); if the call restarts, the parent
 * finishes it with `finish` after the child blocks again. */
static void interrupted(const char *what, int restart_flag, int kind, volatile uint32_t *w) {
    sh->handled = 0;
    sh->ready[0] = 0;
    pid_t c = xfork();
    if (c == 0) {
        struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = restart_flag};
        sigaction(SIGUSR1, &sa, 0);
        struct timespec rel = {10, 0};
        struct waitv v = {.val = 0, .uaddr = (uintptr_t)w, .flags = FUTEX2_SIZE_U32};
        sh->ready[0] = 1;
        long r;
        switch (kind) {
        case 0: r = fx(w, FUTEX_WAIT, 0, 0, 0, 0); break;
        case 1: r = fx(w, FUTEX_WAIT, 0, &rel, 0, 0); break;
        case 2: r = fx(w, FUTEX_LOCK_PI, 0, 0, 0, 0); break;
        default: r = syscall(SYS_futex_waitv, &v, 1, 0, 0, 0); break;
        }
        _exit(code(r));
    }
    wait_blocked(c, 0);
    kill(c, SIGUSR1);
    int status;
    if (!ended(c, 100, &status)) {
        while (sh->handled == 0) sleep_ms(1);
        wait_blocked(c, -1);
        if (kind == 2) fx(w, FUTEX_UNLOCK_PI, 0, 0, 0, 0);
        else fx(w, FUTEX_WAKE, 1, 0, 0, 0);
        waitpid(c, &status, 0);
        printf("%s: restarted, then %s\n", what, status_text(status));
    } else {
        printf("%s: %s, handled %d\n", what, status_text(status), sh->handled);
    }
}

static void signals(void) {
    printf("-- signals\n");
    volatile uint32_t *w = sh->w + 16;
    *w = 0;
    interrupted("wait", 0, 0, w);
    interrupted("wait, SA_RESTART", SA_RESTART, 0, w);
    interrupted("timed wait, SA_RESTART", SA_RESTART, 1, w);
    interrupted("waitv", 0, 3, w);
    interrupted("waitv, SA_RESTART", SA_RESTART, 3, w);
    *w = getpid();
    interrupted("lock_pi", 0, 2, w);
    printf("word: %s\n", *w == 0 ? "0" : "not 0");

    /* WAIT_REQUEUE_PI: a signal before the requeue restarts the call, one after it ends it with EAGAIN. */
    volatile uint32_t *cv = sh->w + 17, *l = sh->w + 30;
    for (int requeued = 0; requeued < 2; requeued++) {
        *cv = 1;
        *l = requeued ? (uint32_t)getpid() : 0;
        sh->handled = 0;
        sh->ready[0] = 0;
        pid_t c = xfork();
        if (c == 0) {
            struct sigaction sa = {.sa_handler = on_usr1};
            sigaction(SIGUSR1, &sa, 0);
            sh->ready[0] = 1;
            long r = fx(cv, FUTEX_WAIT_REQUEUE_PI, 1, 0, l, 0);
            if (r == 0 && (*l & 0x3fffffff) != (uint32_t)getpid()) _exit(1);
            _exit(code(r));
        }
        wait_blocked(c, 0);
        if (requeued) show("requeued", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(1), l, 1));
        kill(c, SIGUSR1);
        while (sh->handled == 0) sleep_ms(1);
        int status;
        if (!requeued) {
            wait_blocked(c, -1);
            show("requeue after the restart", fx(cv, FUTEX_CMP_REQUEUE_PI, 1, N(1), l, 1));
        }
        waitpid(c, &status, 0);
        printf("wait_requeue_pi, signal %s the requeue: %s\n", requeued ? "after" : "before", status_text(status));
        if (requeued) show("unlock", fx(l, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    }
}

/* A child that registers a robust list of its own (`head`) and dies. */
static int die_with_list(struct robust_head *head) {
    pid_t c = xfork();
    if (c == 0) {
        if (syscall(SYS_set_robust_list, head, sizeof *head) != 0) _exit(1);
        _exit(0);
    }
    int status;
    waitpid(c, &status, 0);
    return c;
}

struct lock {
    void *next;
    uint32_t word;
};

/* A robust word, its TID part named when it is the child's own. */
static const char *word_text(uint32_t w, pid_t child) {
    static char buf[2][64];
    static int k;
    char *b = buf[k++ & 1];
    if ((w & 0x3fffffff) == (uint32_t)child) snprintf(b, 64, "0x%x|tid", w & ~0x3fffffffu);
    else snprintf(b, 64, "0x%x", w);
    return b;
}

static void robust_list(void) {
    printf("-- robust list\n");
    struct lock *locks = (struct lock *)(sh->w + 22);  /* two entries in shared memory */
    static struct robust_head head;
    long off = (char *)&locks[0].word - (char *)&locks[0];
    struct robust_head *h = &head;

    /* Words to fill in once the child's pid is known: the child writes its own tid into them. */
    pid_t c = xfork();
    if (c == 0) {
        uint32_t me = getpid();
        locks[0].word = me;
        locks[1].word = me | FUTEX_WAITERS;
        locks[0].next = &locks[1];
        locks[1].next = h;
        *h = (struct robust_head){.next = &locks[0], .futex_offset = off, .pending = 0};
        syscall(SYS_set_robust_list, h, sizeof *h);
        _exit(0);
    }
    waitpid(c, 0, 0);
    printf("entry 0: %s, entry 1: %s\n", word_text(locks[0].word, c), word_text(locks[1].word, c));

    /* A cycle that never comes back to the head: the walk stops after its limit. */
    c = xfork();
    if (c == 0) {
        uint32_t me = getpid();
        locks[0].word = me;
        locks[1].word = me;
        locks[0].next = &locks[1];
        locks[1].next = (char *)&locks[0] + 1;  /* bit 0: PI */
        *h = (struct robust_head){.next = &locks[0], .futex_offset = off, .pending = &locks[1]};
        syscall(SYS_set_robust_list, h, sizeof *h);
        _exit(0);
    }
    waitpid(c, 0, 0);
    printf("cycle: entry 0: %s, entry 1: %s\n", word_text(locks[0].word, c), word_text(locks[1].word, c));

    /* A bad pointer in the list: the entries before it are handled. */
    c = xfork();
    if (c == 0) {
        uint32_t me = getpid();
        locks[0].word = me;
        locks[1].word = me;
        locks[0].next = BAD_PTR;
        *h = (struct robust_head){.next = &locks[0], .futex_offset = off, .pending = &locks[1]};
        syscall(SYS_set_robust_list, h, sizeof *h);
        _exit(0);
    }
    waitpid(c, 0, 0);
    printf("bad next: entry 0: %s, entry 1: %s\n", word_text(locks[0].word, c), word_text(locks[1].word, c));

    /* Misaligned futex_offset: the walk stops at once. */
    c = xfork();
    if (c == 0) {
        uint32_t me = getpid();
        locks[0].word = me;
        locks[1].word = me;
        locks[0].next = &locks[1];
        locks[1].next = h;
        *h = (struct robust_head){.next = &locks[0], .futex_offset = off + 1, .pending = 0};
        syscall(SYS_set_robust_list, h, sizeof *h);
        _exit(0);
    }
    waitpid(c, 0, 0);
    printf("misaligned offset: entry 0: %s, entry 1: %s\n", word_text(locks[0].word, c), word_text(locks[1].word, c));

    /* An unreadable head, a head in the kernel's half: nothing happens, the child just exits. */
    show("unreadable head", die_with_list(BAD_PTR) > 0);
    show("kernel head", die_with_list((struct robust_head *)0xffff800000000000UL) > 0);
    show("set_robust_list bad size", syscall(SYS_set_robust_list, h, 23));

    /* A waiter on a word the dying owner holds with FUTEX_WAITERS is woken; the word says the owner died. */
    locks[0].word = 0;
    sh->ready[1] = 0;
    pid_t waiter = -1;
    c = xfork();
    if (c == 0) {
        uint32_t me = getpid();
        locks[0].word = me | FUTEX_WAITERS;
        locks[0].next = h;
        *h = (struct robust_head){.next = &locks[0], .futex_offset = off, .pending = 0};
        syscall(SYS_set_robust_list, h, sizeof *h);
        sh->ready[1] = 1;
        while (sh->ready[1] != 2) sleep_ms(1);
        _exit(0);
    }
    while (sh->ready[1] != 1) sleep_ms(1);
    waiter = spawn_fx(2, &locks[0].word, FUTEX_WAIT, locks[0].word, 0, 0, 0);
    sh->ready[1] = 2;
    waitpid(c, 0, 0);
    reap("waiter of the dead owner", waiter);
    printf("word: 0x%x\n", locks[0].word);

    /* list_op_pending on a free word: one waiter is woken, nothing is marked. */
    locks[1].word = 0;
    waiter = spawn_fx(2, &locks[1].word, FUTEX_WAIT, 0, 0, 0, 0);
    *h = (struct robust_head){.next = h, .futex_offset = off, .pending = &locks[1]};
    die_with_list(h);
    reap("waiter of a pending op", waiter);
    printf("word: 0x%x\n", locks[1].word);
}

static void *mutex_owner_dies(int pi, int wait_first) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (pi) {
        int r = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
        printf("setprotocol: %s\n", errname(r));
    }
    printf("init: %s\n", errname(pthread_mutex_init(&sh->mutex, &a)));
    sh->ready[6] = 0;
    pid_t c = xfork();
    if (c == 0) {
        pthread_mutex_lock(&sh->mutex);
        sh->ready[6] = 1;
        while (sh->ready[6] != 2) sleep_ms(1);
        _exit(0);  /* holding it */
    }
    while (sh->ready[6] != 1) sleep_ms(1);
    if (wait_first) {
        /* This process blocks in lock; the owner dies meanwhile. */
        pid_t killer = xfork();
        if (killer == 0) {
            for (int i = 0; i < 20000 && proc_state(getppid()) != 'S'; i++) sleep_ms(1);
            sleep_ms(20);
            sh->ready[6] = 2;
            _exit(0);
        }
        printf("lock: %s\n", errname(pthread_mutex_lock(&sh->mutex)));
        waitpid(killer, 0, 0);
    } else {
        sh->ready[6] = 2;
        waitpid(c, 0, 0);
        printf("trylock: %s\n", errname(pthread_mutex_trylock(&sh->mutex)));
    }
    waitpid(c, 0, 0);
    printf("consistent: %s\n", errname(pthread_mutex_consistent(&sh->mutex)));
    printf("unlock: %s\n", errname(pthread_mutex_unlock(&sh->mutex)));
    printf("lock again: %s\n", errname(pthread_mutex_lock(&sh->mutex)));
    printf("unlock: %s\n", errname(pthread_mutex_unlock(&sh->mutex)));
    pthread_mutex_destroy(&sh->mutex);
    return 0;
}

static void pthread_mutexes(void) {
    printf("-- robust mutex, owner dead before lock\n");
    mutex_owner_dies(0, 0);
    printf("-- robust mutex, owner dies while we wait\n");
    mutex_owner_dies(0, 1);
    printf("-- robust PI mutex, owner dead before lock\n");
    mutex_owner_dies(1, 0);
    printf("-- robust PI mutex, owner dies while we wait\n");
    mutex_owner_dies(1, 1);

    printf("-- PI mutex between processes\n");
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&sh->mutex, &a);
    printf("lock: %s\n", errname(pthread_mutex_lock(&sh->mutex)));
    sh->ready[7] = 0;
    pid_t c = xfork();
    if (c == 0) {
        struct timespec t = in_ms(CLOCK_REALTIME, 30);
        int r = pthread_mutex_timedlock(&sh->mutex, &t);
        if (r != ETIMEDOUT) _exit(100 + r);
        sh->ready[7] = 1;
        r = pthread_mutex_lock(&sh->mutex);
        if (r != 0) _exit(100 + r);
        r = pthread_mutex_unlock(&sh->mutex);
        _exit(r == 0 ? 0 : 100 + r);
    }
    wait_blocked(c, 7);
    printf("unlock: %s\n", errname(pthread_mutex_unlock(&sh->mutex)));
    reap("child", c);
    printf("lock: %s\n", errname(pthread_mutex_lock(&sh->mutex)));
    printf("unlock: %s\n", errname(pthread_mutex_unlock(&sh->mutex)));
}

int main(void) {
    alarm(120);
    sh = mmap(0, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) return 1;
    setvbuf(stdout, 0, _IOLBF, 0);
    errors();
    timeouts();
    wake();
    priority_order(0);
    priority_order(1);
    requeue();
    wake_op();
    pi();
    requeue_pi();
    waitv();
    signals();
    robust_list();
    pthread_mutexes();
    return 0;
}
