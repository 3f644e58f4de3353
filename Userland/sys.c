/* sys.c: what libc start-up and simple programs ask of the kernel besides files and memory: uname, the
 * identity calls, clocks and sleeping, getrandom, sysinfo, limits, affinity, signal state, unknown syscalls.
 *
 * Usage: sys. The nodename and the release are not printed (umk reports its own), only their shape.
 */
#include "check.h"
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static long long monotonic(void) {
    struct timespec t;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    return ns(&t);
}

static void handler(int sig) { (void)sig; }

int main(void) {
    printf("-- uname\n");
    struct utsname u;
    T(uname(&u));
    printf("sysname: %s\n", u.sysname);
    printf("machine: %s\n", u.machine);
    printf("domainname: %s\n", u.domainname);
    int major = 0, minor = 0;
    show_bool("release is MAJOR.MINOR...", sscanf(u.release, "%d.%d", &major, &minor) == 2 && major >= 3);
    show_bool("nodename is not empty", u.nodename[0] != 0);

    printf("-- identity\n");
    printf("getuid: %d geteuid: %d getgid: %d getegid: %d\n", (int)getuid(), (int)geteuid(), (int)getgid(),
           (int)getegid());
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("getresuid: %d %d %d getresgid: %d %d %d\n", (int)r, (int)e, (int)s, (int)gr, (int)ge, (int)gs);
    show_bool("getuid matches the raw syscall", (long)getuid() == syscall(SYS_getuid));
    show_bool("getpid is positive", getpid() > 0);
    show_bool("gettid is getpid", syscall(SYS_gettid) == getpid());
    show_bool("set_tid_address answers the tid", syscall(SYS_set_tid_address, NULL) == getpid());

    printf("-- clocks\n");
    long long last = monotonic(), now;
    int ok = 1;
    for (int i = 0; i < 200; i++) {
        now = monotonic();
        if (now < last) ok = 0;
        last = now;
    }
    show_bool("CLOCK_MONOTONIC never goes back over 200 reads", ok);
    struct timespec ts, res;
    T(clock_gettime(CLOCK_REALTIME, &ts));
    time_t t = time(NULL);
    show_bool("CLOCK_REALTIME is after 2020", ts.tv_sec > 1577836800);
    show_bool("time() is within 2 s of CLOCK_REALTIME", llabs((long long)t - ts.tv_sec) <= 2);
    struct timeval tv;
    T(gettimeofday(&tv, NULL));
    show_bool("gettimeofday is within 2 s of CLOCK_REALTIME", llabs((long long)tv.tv_sec - ts.tv_sec) <= 2);
    show_bool("gettimeofday usec is below 1e6", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    T(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res));
    printf("clock_getres MONOTONIC: %ld s %ld ns\n", (long)res.tv_sec, res.tv_nsec);
    T(syscall(SYS_clock_getres, CLOCK_REALTIME, &res));
    printf("clock_getres REALTIME: %ld s %ld ns\n", (long)res.tv_sec, res.tv_nsec);
    T(syscall(SYS_clock_gettime, 1234, &ts));
    T(syscall(SYS_clock_getres, 1234, &res));
    T(syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts));
    show_bool("CLOCK_BOOTTIME is at least CLOCK_MONOTONIC", ns(&ts) >= last);

    printf("-- sleeping\n");
    struct timespec ten_ms = {0, 10 * 1000 * 1000}, rem = {7, 7};
    long long before = monotonic();
    T(syscall(SYS_nanosleep, &ten_ms, &rem));
    long long slept = monotonic() - before;
    show_bool("nanosleep 10 ms slept at least 10 ms", slept >= 10000000LL);
    show_bool("and less than 5 s", slept < 5000000000LL);
    before = monotonic();
    T(nanosleep(&ten_ms, NULL)); /* glibc uses clock_nanosleep */
    show_bool("libc nanosleep 10 ms slept at least 10 ms", monotonic() - before >= 10000000LL);
    struct timespec bad = {0, 1000000000};
    T(syscall(SYS_nanosleep, &bad, NULL));
    bad.tv_sec = -1;
    bad.tv_nsec = 0;
    T(syscall(SYS_nanosleep, &bad, NULL));
    struct timespec zero = {0, 0};
    T(syscall(SYS_nanosleep, &zero, NULL));

    printf("-- getrandom\n");
    unsigned char a[32], b[32];
    T(getrandom(a, sizeof a, 0));
    T(getrandom(b, sizeof b, GRND_NONBLOCK));
    show_bool("two draws differ", memcmp(a, b, sizeof a) != 0);
    T(getrandom(a, 0, 0));
    T(syscall(SYS_getrandom, a, sizeof a, 0x1000));

    printf("-- sysinfo, limits, affinity, cpu\n");
    struct sysinfo si;
    T(sysinfo(&si));
    show_bool("sysinfo totalram is not zero", si.totalram > 0 && si.mem_unit > 0);
    show_bool("sysinfo freeram is at most totalram", si.freeram <= si.totalram);
    struct rlimit rl;
    T(getrlimit(RLIMIT_STACK, &rl));
    show_bool("RLIMIT_STACK soft is at most hard", rl.rlim_cur <= rl.rlim_max);
    T(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl));
    show_bool("RLIMIT_NOFILE soft is at least 64", rl.rlim_cur >= 64);
    T(syscall(SYS_prlimit64, 0, 1000, NULL, &rl));
    T(syscall(SYS_getrlimit, 1000, &rl));
    cpu_set_t set;
    CPU_ZERO(&set);
    T(sched_getaffinity(0, sizeof set, &set));
    show_bool("at least one cpu in the affinity mask", CPU_COUNT(&set) >= 1);
    unsigned cpu = 9999, node = 9999;
    T(syscall(SYS_getcpu, &cpu, &node, NULL));
    show_bool("getcpu answers a cpu in the affinity mask", cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set));

    printf("-- arch_prctl\n");
    unsigned long fs = 0;
    T(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
    show_bool("ARCH_GET_FS is set by libc", fs != 0);
    T(syscall(SYS_arch_prctl, ARCH_SET_FS, fs));
    T(syscall(SYS_arch_prctl, 0x9999, &fs));

    printf("-- signal state\n");
    struct sigaction sa = {0}, old;
    sigset_t start;
    T(sigprocmask(SIG_SETMASK, NULL, &start));
    int blocked = 0, ignored = 0;
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || (sig > 31 && sig < SIGRTMIN)) continue;
        if (sigismember(&start, sig) == 1) blocked++;
        if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN) ignored++;
    }
    printf("signals blocked at start: %d, ignored at start: %d\n", blocked, ignored);
    T(sigaction(SIGUSR1, NULL, &old));
    show_bool("SIGUSR1 starts at SIG_DFL", old.sa_handler == SIG_DFL);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sa.sa_flags = SA_RESTART;
    T(sigaction(SIGUSR1, &sa, NULL));
    T(sigaction(SIGUSR1, NULL, &old));
    show_bool("the handler reads back", old.sa_handler == handler);
    show_bool("SA_RESTART reads back", (old.sa_flags & SA_RESTART) != 0);
    show_bool("the mask reads back", sigismember(&old.sa_mask, SIGUSR2) == 1);
    T(sigaction(SIGKILL, &sa, NULL));
    T(sigaction(SIGSTOP, &sa, NULL));
    T(sigaction(0, &sa, NULL));
    T(sigaction(65, &sa, NULL));
    sigset_t block, cur;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    T(sigprocmask(SIG_BLOCK, &block, NULL));
    T(sigprocmask(SIG_SETMASK, NULL, &cur));
    show_bool("SIGUSR2 is blocked", sigismember(&cur, SIGUSR2) == 1);
    show_bool("SIGUSR1 is not", sigismember(&cur, SIGUSR1) == 0);
    sigaddset(&block, SIGKILL);
    T(sigprocmask(SIG_BLOCK, &block, NULL));
    T(sigprocmask(SIG_SETMASK, NULL, &cur));
    show_bool("SIGKILL cannot be blocked", sigismember(&cur, SIGKILL) == 0);
    T(sigprocmask(12345, &block, NULL));
    T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &block, NULL, 4));

    printf("-- unknown syscalls\n");
    T(syscall(500));
    T(syscall(100000));
    T(syscall(-1L));
    return 0;
}
