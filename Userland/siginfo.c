/* siginfo.c: what a handler learns of a signal, and the queueing rules. kill gives the sender's pid and uid
 * (SI_USER), tgkill SI_TKILL, sigqueue SI_QUEUE and its value; real-time signals queue every instance in
 * order while standard ones merge; rt_sigtimedwait takes a blocked signal without its handler, times out
 * with EAGAIN, and wakes for one another process sends; rt_sigqueueinfo may not pose as the kernel to
 * another process.
 */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static volatile int codes[16], values[16], pids[16], n;
static void handler(int s, siginfo_t *si, void *c) {
    (void)s; (void)c;
    if (n < 16) { codes[n] = si->si_code; values[n] = si->si_value.sival_int; pids[n] = si->si_pid; n++; }
}

static volatile long chld_ticks;
static void on_chld(int s, siginfo_t *si, void *c) {
    (void)s; (void)c;
    chld_ticks = (long)si->si_utime + (long)si->si_stime;
}

static char altstack[65536];
static volatile int alt_was_on, alt_disabled;
static void on_alt(int s) {
    (void)s;
    char here;
    alt_was_on = &here >= altstack && &here < altstack + sizeof altstack;
    stack_t cur;
    sigaltstack(NULL, &cur);
    alt_disabled = cur.ss_flags == SS_DISABLE;
}

static const char *code_name(int c) {
    return c == SI_USER ? "SI_USER" : c == SI_TKILL ? "SI_TKILL" : c == SI_QUEUE ? "SI_QUEUE" : c == SI_KERNEL ? "SI_KERNEL" : "other";
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGRTMIN, &sa, NULL);

    printf("-- a signal from another process\n");
    pid_t parent = getpid();
    pid_t pid = xfork();
    if (pid == 0) {
        kill(parent, SIGUSR1);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    while (n < 1) pause();
    printf("kill: %s, from the child: %s\n", code_name(codes[0]), pids[0] == pid ? "yes" : "no");
    n = 0;
    syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1);
    printf("tgkill: %s, from itself: %s\n", code_name(codes[0]), pids[0] == getpid() ? "yes" : "no");

    printf("-- queueing\n");
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, &old);
    n = 0;
    for (int i = 1; i <= 3; i++) sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i});
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR1);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("delivered: %d\n", n);
    for (int i = 0; i < n; i++) printf("  %s value %d\n", code_name(codes[i]), codes[i] == SI_QUEUE ? values[i] : 0);

    printf("-- rt_sigtimedwait\n");
    sigprocmask(SIG_BLOCK, &set, &old);
    n = 0;
    sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 77});
    siginfo_t si;
    struct timespec zero = {0, 0}, short_wait = {0, 20000000};
    T(sigtimedwait(&set, &si, &zero));
    printf("took: %s value %d, the handler ran: %s\n", code_name(si.si_code), si.si_value.sival_int, n ? "yes" : "no");
    T(sigtimedwait(&set, &si, &zero));
    T(sigtimedwait(&set, &si, &short_wait));
    struct timespec bad = {0, 1000000000};
    T(sigtimedwait(&set, &si, &bad));
    pid = xfork();
    if (pid == 0) {
        struct timespec t = {0, 30000000};
        nanosleep(&t, NULL);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    memset(&si, 0, sizeof si);
    T(sigwaitinfo(&set, &si));
    printf("waited for: %s, from the child: %s\n", code_name(si.si_code), si.si_pid == pid ? "yes" : "no");
    waitpid(pid, &st, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);

    printf("-- rt_sigqueueinfo\n");
    siginfo_t forged;
    memset(&forged, 0, sizeof forged);
    forged.si_code = SI_KERNEL;
    pid = xfork();
    if (pid == 0) {
        for (;;) pause();
    }
    T(syscall(SYS_rt_sigqueueinfo, pid, SIGUSR1, &forged));
    forged.si_code = SI_QUEUE;
    forged.si_value.sival_int = 5;
    T(syscall(SYS_rt_sigqueueinfo, pid, SIGTERM, &forged));
    waitpid(pid, &st, 0);
    printf("the child: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? "killed by SIGTERM" : "other");
    n = 0;
    forged.si_code = SI_KERNEL;
    T(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &forged));
    printf("to itself: %s\n", n ? code_name(codes[0]) : "nothing");
    T(syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &forged));
    T(syscall(SYS_rt_sigqueueinfo, getpid(), 65, &forged));
    T(kill(999999, 0));
    T(kill(getpid(), 65));

    printf("-- SIGCHLD's CPU times\n");
    struct sigaction chld = {0};
    chld.sa_sigaction = on_chld;
    chld.sa_flags = SA_SIGINFO;
    sigaction(SIGCHLD, &chld, NULL);
    pid = xfork();
    if (pid == 0) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        do clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        while ((c1.tv_sec - c0.tv_sec) * 1000000000L + (c1.tv_nsec - c0.tv_nsec) < 150000000L);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("si_utime + si_stime at least 10 ticks: %s\n", chld_ticks >= 10 ? "yes" : "no");

    printf("-- the alternate stack\n");
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = SS_AUTODISARM};
    T(sigaltstack(&ss, NULL));
    struct sigaction on = {0};
    on.sa_handler = on_alt;
    on.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &on, NULL);
    raise(SIGUSR2);
    printf("SS_AUTODISARM: on the stack %s, disabled inside %s\n", alt_was_on ? "yes" : "no", alt_disabled ? "yes" : "no");
    stack_t now;
    T(sigaltstack(NULL, &now));
    printf("after the handler: %s\n", now.ss_sp == altstack && now.ss_size == sizeof altstack && now.ss_flags == SS_AUTODISARM ? "restored" : "other");
    pid = xfork();
    if (pid == 0) {
        static char tiny[4096];
        stack_t small = {.ss_sp = tiny, .ss_size = 2048, .ss_flags = 0};  /* too small for the XSAVE frame */
        sigaltstack(&small, NULL);
        raise(SIGUSR2);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("a frame that overflows the alternate stack: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "other");
    return 0;
}
