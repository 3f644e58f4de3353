/* timers.c: alarm, setitimer/getitimer, the POSIX timers, CPU-time accounting and RLIMIT_CPU, and a sleep
 * that a signal cuts short. Natively and under umk the output is the same: times are never printed, only
 * whether they lie where they must (at least what was asked; within generous bounds above).
 */
#include "check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

static volatile sig_atomic_t alarms, vtalarms, profs, xcpus, timer_hits;
static volatile int last_code, last_value, first_overrun = -1, first_getoverrun = -1;
static timer_t tm;

static void on_alarm(int s) { (void)s; alarms++; }
static void on_vtalrm(int s) { (void)s; vtalarms++; }
static void on_prof(int s) { (void)s; profs++; }
static void on_xcpu(int s) { (void)s; xcpus++; }
static void on_timer(int s, siginfo_t *si, void *c) {
    (void)s; (void)c;
    timer_hits++;
    last_code = si->si_code;
    last_value = si->si_value.sival_int;
    if (first_overrun < 0 && si->si_value.sival_int == 42 && timer_hits > 1) {
        first_overrun = si->si_overrun;
        first_getoverrun = timer_getoverrun(tm);
    }
}

static long long ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void handle(int sig, void (*f)(int)) {
    struct sigaction sa = {0};
    sa.sa_handler = f;
    sigaction(sig, &sa, NULL);
}

/* Spins (no system call in the loop body) until *flag becomes nonzero. */
static void spin_until(volatile sig_atomic_t *flag) {
    volatile unsigned long n = 0;
    while (!*flag) n++;
}

int main(void) {
    printf("-- alarm\n");
    handle(SIGALRM, on_alarm);
    T(alarm(0));
    T(alarm(5));
    T(alarm(3));  /* 5 less a moment: rounded to 5 */
    T(alarm(0));
    T(alarm(0));

    printf("-- setitimer ITIMER_REAL\n");
    struct itimerval it = {{0, 0}, {0, 50000}}, old;
    T(setitimer(ITIMER_REAL, &it, NULL));
    struct itimerval cur;
    T(getitimer(ITIMER_REAL, &cur));
    show_bool("armed: between 0 and 50 ms left", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 50000);
    long long start = ns(CLOCK_MONOTONIC);
    while (!alarms) pause();
    show_bool("SIGALRM after at least 50 ms", ns(CLOCK_MONOTONIC) - start >= 45000000LL);
    T(getitimer(ITIMER_REAL, &cur));
    show_bool("disarmed after firing", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
    alarms = 0;
    struct itimerval periodic = {{0, 10000}, {0, 10000}};
    T(setitimer(ITIMER_REAL, &periodic, NULL));
    while (alarms < 5) pause();
    T(setitimer(ITIMER_REAL, NULL, &old));  /* NULL disarms */
    show_bool("five periodic SIGALRMs, interval kept", old.it_interval.tv_usec == 10000);
    T(setitimer(3, &it, NULL));
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    T(setitimer(ITIMER_REAL, &bad, NULL));
    bad.it_value.tv_usec = -1;
    T(setitimer(ITIMER_REAL, &bad, NULL));
    T(getitimer(7, &cur));
    T(setitimer(ITIMER_REAL, BAD_PTR, NULL));

    printf("-- CPU-time itimers\n");
    handle(SIGVTALRM, on_vtalrm);
    handle(SIGPROF, on_prof);
    long long cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID);
    struct itimerval v = {{0, 0}, {0, 50000}};
    T(setitimer(ITIMER_VIRTUAL, &v, NULL));
    spin_until(&vtalarms);
    show_bool("SIGVTALRM after at least 50 ms of CPU", ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= 45000000LL);
    cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID);
    T(setitimer(ITIMER_PROF, &v, NULL));
    T(getitimer(ITIMER_PROF, &cur));
    show_bool("ITIMER_PROF armed", cur.it_value.tv_usec > 0);
    spin_until(&profs);
    show_bool("SIGPROF after at least 50 ms of CPU", ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= 45000000LL);

    printf("-- POSIX timers\n");
    struct sigaction sa = {0};
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGRTMIN;
    ev.sigev_value.sival_int = 42;
    T(timer_create(CLOCK_MONOTONIC, &ev, &tm));
    struct itimerspec spec = {{0, 0}, {0, 20000000}}, got;
    T(timer_settime(tm, 0, &spec, NULL));
    T(timer_gettime(tm, &got));
    show_bool("armed: between 0 and 20 ms left", got.it_value.tv_sec == 0 && got.it_value.tv_nsec > 0 && got.it_value.tv_nsec <= 20000000);
    start = ns(CLOCK_MONOTONIC);
    while (!timer_hits) pause();
    show_bool("fired after at least 20 ms", ns(CLOCK_MONOTONIC) - start >= 18000000LL);
    show_bool("si_code SI_TIMER", last_code == SI_TIMER);
    show("si_value", last_value);
    T(timer_gettime(tm, &got));
    show_bool("disarmed after firing", got.it_value.tv_sec == 0 && got.it_value.tv_nsec == 0);
    /* Overruns: a 1 ms periodic timer whose signal stays blocked for 50 ms is one signal, with the rest
     * counted in its si_overrun and timer_getoverrun. */
    sigset_t block, prev;
    sigemptyset(&block);
    sigaddset(&block, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &block, &prev);
    struct itimerspec fast = {{0, 1000000}, {0, 1000000}};
    T(timer_settime(tm, 0, &fast, NULL));
    struct timespec nap = {0, 50000000};
    while (nanosleep(&nap, &nap) != 0) {
    }
    sigprocmask(SIG_SETMASK, &prev, NULL);
    struct itimerspec stop = {{0, 0}, {0, 0}};
    T(timer_settime(tm, 0, &stop, &got));
    show_bool("settime returns the old interval", got.it_interval.tv_nsec == 1000000);
    show_bool("si_overrun counts the blocked expiries", first_overrun >= 10);
    show_bool("timer_getoverrun in the handler too", first_getoverrun == first_overrun);
    /* A re-armed timer's pending signal is dropped. */
    sigprocmask(SIG_BLOCK, &block, &prev);
    struct itimerspec once = {{0, 0}, {0, 1000000}};
    T(timer_settime(tm, 0, &once, NULL));
    nap.tv_nsec = 20000000;
    while (nanosleep(&nap, &nap) != 0) {
    }
    sigset_t pending;
    sigpending(&pending);
    show_bool("its signal is pending", sigismember(&pending, SIGRTMIN));
    T(timer_settime(tm, 0, &stop, NULL));
    timer_hits = 0;
    sigprocmask(SIG_SETMASK, &prev, NULL);
    show("signals after disarming", timer_hits);
    /* TIMER_ABSTIME on CLOCK_REALTIME. */
    timer_t rt;
    ev.sigev_value.sival_int = 7;
    T(timer_create(CLOCK_REALTIME, &ev, &rt));
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct itimerspec abs = {{0, 0}, {now.tv_sec, now.tv_nsec + 30000000}};
    if (abs.it_value.tv_nsec >= 1000000000) abs.it_value.tv_sec++, abs.it_value.tv_nsec -= 1000000000;
    timer_hits = 0;
    T(timer_settime(rt, TIMER_ABSTIME, &abs, NULL));
    while (!timer_hits) pause();
    clock_gettime(CLOCK_REALTIME, &now);
    show_bool("an absolute CLOCK_REALTIME timer fires at its time", now.tv_sec > abs.it_value.tv_sec ||
              (now.tv_sec == abs.it_value.tv_sec && now.tv_nsec >= abs.it_value.tv_nsec));
    show("si_value", last_value);
    /* A CPU-time timer. */
    timer_t cpu;
    ev.sigev_value.sival_int = 9;
    T(timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &cpu));
    timer_hits = 0;
    struct itimerspec thirty = {{0, 0}, {0, 30000000}};
    cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID);
    T(timer_settime(cpu, 0, &thirty, NULL));
    spin_until(&timer_hits);
    show_bool("a CLOCK_PROCESS_CPUTIME_ID timer fires after 30 ms of CPU", ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= 27000000LL);
    show("si_value", last_value);
    /* SIGEV_NONE: it runs, and can be read, but sends nothing. */
    struct sigevent none = {0};
    none.sigev_notify = SIGEV_NONE;
    timer_t quiet;
    T(timer_create(CLOCK_MONOTONIC, &none, &quiet));
    struct itimerspec second = {{0, 0}, {1, 0}};
    T(timer_settime(quiet, 0, &second, NULL));
    T(timer_gettime(quiet, &got));
    show_bool("SIGEV_NONE: armed, about a second left", got.it_value.tv_sec == 0 ? got.it_value.tv_nsec > 500000000 : got.it_value.tv_sec == 1);
    T(timer_delete(quiet));
    T(timer_delete(quiet));
    T(timer_delete(tm));
    T(timer_delete(rt));
    T(timer_delete(cpu));
    printf("-- timer errors\n");
    timer_t x;
    T(syscall(SYS_timer_create, 10, NULL, &x));
    T(syscall(SYS_timer_create, CLOCK_MONOTONIC_RAW, NULL, &x));
    struct sigevent odd = {0};
    odd.sigev_notify = 99;
    T(syscall(SYS_timer_create, CLOCK_MONOTONIC, &odd, &x));
    odd.sigev_notify = SIGEV_SIGNAL;
    odd.sigev_signo = 0;
    T(syscall(SYS_timer_create, CLOCK_MONOTONIC, &odd, &x));
    odd.sigev_signo = 65;
    T(syscall(SYS_timer_create, CLOCK_MONOTONIC, &odd, &x));
    int kid = -1;
    T(syscall(SYS_timer_create, CLOCK_MONOTONIC, NULL, &kid));
    struct itimerspec badspec = {{0, 0}, {0, 1000000000}};
    T(syscall(SYS_timer_settime, kid, 0, &badspec, NULL));
    T(syscall(SYS_timer_settime, kid, 0, NULL, NULL));
    T(syscall(SYS_timer_settime, 12345, 0, &spec, NULL));
    T(syscall(SYS_timer_gettime, 12345, &got));
    T(syscall(SYS_timer_getoverrun, 12345));
    T(syscall(SYS_timer_delete, kid));

    printf("-- a signal cuts a sleep short\n");
    alarms = 0;
    struct itimerval soon = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_REAL, &soon, NULL);
    struct timespec req = {1, 0}, rem = {0, 0};
    T(nanosleep(&req, &rem));
    show_bool("the remainder is most of the second", rem.tv_sec == 0 && rem.tv_nsec > 500000000);

    printf("-- CPU time as getrusage and times see it\n");
    struct rusage ru;
    T(getrusage(RUSAGE_SELF, &ru));
    show_bool("own user time at least 100 ms", ru.ru_utime.tv_sec > 0 || ru.ru_utime.tv_usec >= 100000);
    show_bool("maxrss is set", ru.ru_maxrss > 0);
    pid_t pid = xfork();
    if (pid == 0) {
        long long c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
        show_bool("a child starts with little CPU time", c0 < 50000000LL);
        volatile unsigned long n = 0;
        while (ns(CLOCK_PROCESS_CPUTIME_ID) - c0 < 60000000LL) n++;
        _exit(0);
    }
    int st;
    struct rusage child;
    T(wait4(pid, &st, 0, &child) == pid ? 0 : -1);
    show_bool("wait4's rusage has the child's 60 ms", child.ru_utime.tv_usec + child.ru_stime.tv_usec + 1000000 * (child.ru_utime.tv_sec + child.ru_stime.tv_sec) >= 55000);
    T(getrusage(RUSAGE_CHILDREN, &ru));
    show_bool("RUSAGE_CHILDREN has it too", ru.ru_utime.tv_usec + ru.ru_stime.tv_usec + 1000000 * (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) >= 55000);
    T(getrusage(7, &ru));

    printf("-- RLIMIT_CPU\n");
    pid = xfork();
    if (pid == 0) {
        handle(SIGXCPU, on_xcpu);
        struct rlimit r = {1, RLIM_INFINITY};
        setrlimit(RLIMIT_CPU, &r);
        spin_until(&xcpus);
        getrlimit(RLIMIT_CPU, &r);
        _exit(r.rlim_cur == 2 ? 5 : 6);  /* Linux raises the soft limit a second each time */
    }
    waitpid(pid, &st, 0);
    printf("past the soft limit: %s %d\n", WIFEXITED(st) ? "exited" : "killed by", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    pid = xfork();
    if (pid == 0) {
        struct rlimit r = {1, 1};
        setrlimit(RLIMIT_CPU, &r);
        volatile sig_atomic_t never = 0;
        spin_until(&never);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("at the hard limit: %s %d\n", WIFEXITED(st) ? "exited" : "killed by", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return 0;
}
