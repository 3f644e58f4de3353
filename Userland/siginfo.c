/* siginfo.c: what a handler learns of a signal, and the queueing rules. kill gives the sender's pid and uid
 * (SI_USER), tgkill SI_TKILL, sigqueue SI_QUEUE and its value; real-time signals queue every instance in
 * order while standard ones merge; rt_sigtimedwait takes a blocked signal without its handler, times out
 * with EAGAIN, and wakes for one another process sends; rt_sigqueueinfo may not pose as the kernel to
 * another process.
 */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

static volatile int codes[16], values[16], pids[16], n;
static void handler(int s, siginfo_t *si, void *c) {
    (void)s; (void)c;
    if (n < 16) { codes[n] = si->si_code; values[n] = si->si_value.sival_int; pids[n] = si->si_pid; n++; }
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
    return 0;
}
