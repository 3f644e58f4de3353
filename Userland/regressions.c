/* regressions.c: guest inputs that once crashed umk or answered wrongly, one check each, named after the bug.
 * Every case must answer as Linux does (and umk must survive it). Usage: regressions [MODE]; with a mode it
 * runs that one crash case and dies as Linux would make it die.
 */
#include "check.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/wait.h>

#define FUTEX_WAKE 1
#define FUTEX_WAIT_PRIVATE 128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG; musl has no <linux/futex.h> */

static sigjmp_buf env;
static void on_segv(int sig) { siglongjmp(env, sig); }

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "fault-at-user-limit") == 0) {
        /* A fault just under the top of user space (umk's stub lives there) is SIGSEGV, not a kernel crash. */
        *(volatile char *)0x7ffffffff000UL = 1;
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "altstack-at-top") == 0) {
        /* An alternate signal stack whose end wraps around: the frame cannot be written, so SIGSEGV. */
        stack_t ss = {.ss_sp = (void *)(UINTPTR_MAX - 4095), .ss_size = 65536, .ss_flags = 0};
        sigaltstack(&ss, 0);
        struct sigaction sa = {.sa_handler = on_segv, .sa_flags = SA_ONSTACK};
        sigaction(SIGUSR1, &sa, 0);
        raise(SIGUSR1);
        return 0;
    }

    /* futex on an address above user space: EFAULT. */
    T(syscall(SYS_futex, (uint32_t *)0x7ffffffff000UL, FUTEX_WAKE, 1, 0, 0, 0));
    /* wait4(INT_MIN): ESRCH, not a negation overflow. */
    T(syscall(SYS_wait4, INT_MIN, 0, 0, 0));
    /* poll, ppoll, select and futex waits with a timeout of LONG_MAX seconds, on a ready fd or a changed word. */
    int p[2];
    if (pipe(p) != 0) return 1;
    T(write(p[1], "x", 1));
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    struct timespec forever = {.tv_sec = LONG_MAX, .tv_nsec = 0};
    T(syscall(SYS_ppoll, &pfd, 1, &forever, 0, 8));
    fd_set r;
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    struct timeval tv = {.tv_sec = LONG_MAX, .tv_usec = 0};
    T(select(p[0] + 1, &r, 0, 0, &tv));
    uint32_t word = 1;
    T(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &forever, 0, 0));
    /* lseek to INT64_MAX past the end of a procfs file: EINVAL, not an overflow. */
    int comm = open("/proc/self/comm", O_RDONLY);
    T(comm >= 0);
    T(lseek(comm, LLONG_MAX, SEEK_END));
    /* A file mapping at an offset near 2^63: EOVERFLOW or EINVAL, as Linux says. */
    int self = open("/proc/self/exe", O_RDONLY);
    void *m = mmap(0, 8192, PROT_READ, MAP_PRIVATE, self, (off_t)0x7fffffffffffe000LL);
    show("mmap at offset 2^63 - 8 KiB", m == MAP_FAILED ? -1 : 0);
    /* mlock family: Linux wraps PAGE_ALIGN(len + offset), so (1, -1) is empty (0); an end past 2^64 is EINVAL
     * (ENOMEM first without CAP_IPC_LOCK: over RLIMIT_MEMLOCK). Once arithmetic-overflow traps. */
    T(syscall(SYS_mlock, 1, -1L));
    T(syscall(SYS_mlock, 4096, -4096L));
    T(syscall(SYS_munlock, 1, -1L));
    T(syscall(SYS_munlock, 4096, -4096L));
    T(syscall(SYS_mlock2, 1, -1L, 0));
    T(syscall(SYS_mlock2, 4096, -4096L, 1));
    /* mremap with an old length beyond user space: EINVAL, not an underflow. */
    char *mp = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T(syscall(SYS_mremap, mp, 1L << 62, 4096, 0));
    T(syscall(SYS_mremap, mp, -1L, 4096, 0));
    T(syscall(SYS_mremap, mp, 4096, 1L << 62, 0));
    /* Lengths and offsets at the edges, answered as Linux answers them (once ENOMEM, ENOSYS-like guesses). */
    T(syscall(SYS_munmap, 4096, -1L));
    T(syscall(SYS_munmap, -4096L, 4096));
    T(syscall(SYS_madvise, 4096, -4096L, 4));
    T(syscall(SYS_madvise, 4096, -1L, 0));
    T(syscall(SYS_msync, 4096, -1L, 0));
    T(syscall(SYS_mremap, -4096L, 4096, 4096, 0));
    T(syscall(SYS_poll, 0, 1L << 32, 0));
    struct timespec now;
    T(syscall(SYS_clock_gettime, -1, &now));
    int zero = open("/dev/zero", O_RDONLY);
    char zb[16];
    T(pread(zero, zb, sizeof zb, LLONG_MAX));
    T(pread(zero, zb, sizeof zb, -1));
    char *half = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(half + 4096, 4096);
    T(syscall(SYS_getrandom, half, 8192, 0));
    /* clock_nanosleep(TIMER_ABSTIME) at tv_sec 2^63 / 10^9: forever (the total once wrapped negative and
     * the subtraction of the clock trapped). */
    pid_t sleeper = xfork();
    if (sleeper == 0) {
        struct timespec far = {9223372036L, 999999999};
        syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 1 /* TIMER_ABSTIME */, &far, 0);
        _exit(3);
    }
    sleep_ms(100);
    kill(sleeper, SIGKILL);
    int sst;
    waitpid(sleeper, &sst, 0);
    show_bool("absolute sleep to 2^63 ns still sleeping", WIFSIGNALED(sst));
    /* clone(CLONE_SETTLS) with a kernel address: EPERM (the host refused the register and killed the child). */
    long cr = syscall(SYS_clone, CLONE_SETTLS | SIGCHLD, 0, 0, 0, 0xffff800000000000UL);
    if (cr == 0) _exit(0);
    if (cr > 0) waitpid(cr, 0, 0);
    show("clone(CLONE_SETTLS, kernel tls)", cr > 0 ? 0 : cr);
    /* A fault handled by the guest: its SIGSEGV handler runs and jumps out. */
    struct sigaction sa = {.sa_handler = on_segv};
    sigaction(SIGSEGV, &sa, 0);
    int caught = sigsetjmp(env, 1);
    if (caught == 0) *(volatile int *)16 = 1;
    show_bool("SIGSEGV handler ran", caught == SIGSEGV);
    /* A read-only private page shared by fork, made writable later, is still copy-on-write. */
    char *ro = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ro[0] = 'p';
    mprotect(ro, 4096, PROT_READ);
    pid_t c = fork();
    if (c == 0) {
        mprotect(ro, 4096, PROT_READ | PROT_WRITE);
        ro[0] = 'c';
        _exit(ro[0] == 'c' ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    show_bool("child wrote its own copy", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    show_bool("parent still sees its byte", ro[0] == 'p');

    /* sched_getaffinity's len is an unsigned int whose len * 8 Linux computes in 32 bits; umk once multiplied
     * the whole 64-bit register and trapped on overflow. */
    unsigned long mask[16];
    T(syscall(SYS_sched_getaffinity, 0, -1L, mask));
    T(syscall(SYS_sched_getaffinity, 0, 0x20000000L, mask));
    T(syscall(SYS_sched_getaffinity, 0, 0x100000008L, mask) > 0 ? 0 : -1);
    T(syscall(SYS_sched_setaffinity, 0, -1L, mask));
    /* A 1 ns periodic timer whose signal stays blocked counts its overruns up to DELAYTIMER_MAX, never past. */
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &rt, NULL);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 1};
    timer_t tm;
    T(timer_create(CLOCK_MONOTONIC, &ev, &tm));
    struct itimerspec fast = {{0, 1}, {0, 1}};
    T(timer_settime(tm, 0, &fast, NULL));
    struct timespec nap = {0, 20000000};
    nanosleep(&nap, NULL);
    T(timer_delete(tm));
    return 0;
}
