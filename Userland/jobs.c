/* jobs.c: job control without a terminal. A child is stopped by SIGSTOP and SIGTSTP and continued by
 * SIGCONT: while stopped it does not run, whether it was computing or sleeping; the parent sees each change
 * through waitpid (WUNTRACED, WCONTINUED), waitid (WSTOPPED, WCONTINUED, WNOWAIT) and SIGCHLD's si_code;
 * SIGCONT discards a pending stop signal, and a stop signal a pending SIGCONT; SIGKILL ends a stopped child.
 * Each child has a process group of its own, in the parent's session, so that its group is not orphaned
 * (SIGTSTP would be discarded in one): under umk the program is process 1, natively it is not.
 */
#include "check.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static volatile int chld_code, chld_status, chld_pid;
static void on_chld(int s, siginfo_t *si, void *c) {
    (void)s; (void)c;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_pid = si->si_pid;
}

static volatile unsigned long *counter;

static void nap(long ms) {
    struct timespec t = {0, ms * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static const char *code_name(int c) {
    return c == CLD_STOPPED ? "CLD_STOPPED" : c == CLD_CONTINUED ? "CLD_CONTINUED" : c == CLD_EXITED ? "CLD_EXITED"
         : c == CLD_KILLED ? "CLD_KILLED" : "other";
}

/* fork, with the child in a process group of its own (set on both sides, as shells do). */
static pid_t job(void) {
    pid_t pid = xfork();
    if (pid == 0) setpgid(0, 0);
    else setpgid(pid, pid);
    return pid;
}

static void status(const char *what, pid_t pid, int options) {
    int st = 0;
    pid_t r = waitpid(pid, &st, options);
    if (r == 0) printf("%s: nothing to report\n", what);
    else if (r != pid) printf("%s: %s\n", what, errname(errno));
    else if (WIFSTOPPED(st)) printf("%s: stopped by %d\n", what, WSTOPSIG(st));
    else if (WIFCONTINUED(st)) printf("%s: continued\n", what);
    else if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else printf("%s: killed by %d\n", what, WTERMSIG(st));
}

int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    printf("-- a computing child, stopped and continued\n");
    pid_t pid = job();
    if (pid == 0) {
        for (;;) (*counter)++;
    }
    nap(30);
    kill(pid, SIGSTOP);
    status("after SIGSTOP", pid, WUNTRACED);
    // Linux reads the stop signal for si_status when the child notifies its parent; a parent whose waitpid
    // already took the stop (it clears the code) on another CPU gets 0: both mean this stop.
    printf("SIGCHLD: %s, status %s, from the child: %s\n", code_name(chld_code),
           chld_status == SIGSTOP || chld_status == 0 ? "SIGSTOP's (or 0)" : "other", chld_pid == pid ? "yes" : "no");
    status("again", pid, WUNTRACED | WNOHANG);
    unsigned long before = *counter;
    nap(50);
    show_bool("a stopped child does not run", *counter == before);
    kill(pid, SIGCONT);
    status("after SIGCONT", pid, WCONTINUED);
    nap(30);
    show_bool("a continued child runs again", *counter != before);
    kill(pid, SIGTSTP);
    status("after SIGTSTP", pid, WUNTRACED);
    kill(pid, SIGKILL);
    status("a stopped child after SIGKILL", pid, 0);

    printf("-- a sleeping child\n");
    pid = job();
    if (pid == 0) {
        nap(100);
        nap(100);  /* still running when the parent asks for WCONTINUED */
        _exit(3);
    }
    nap(20);
    kill(pid, SIGSTOP);
    status("stopped in its sleep", pid, WUNTRACED);
    nap(200);
    status("still stopped after its sleep ran out", pid, WNOHANG);
    kill(pid, SIGCONT);
    status("continued", pid, WCONTINUED);
    status("then", pid, 0);

    printf("-- waitid\n");
    pid = job();
    if (pid == 0) {
        for (;;) pause();
    }
    kill(pid, SIGSTOP);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    T(waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT));
    printf("waitid WNOWAIT: %s, status %d\n", code_name(si.si_code), si.si_status);
    memset(&si, 0, sizeof si);
    T(waitid(P_PID, pid, &si, WSTOPPED));
    printf("waitid: %s, status %d, pid matches: %s\n", code_name(si.si_code), si.si_status, si.si_pid == pid ? "yes" : "no");
    memset(&si, 0, sizeof si);
    T(waitid(P_PID, pid, &si, WSTOPPED | WNOHANG));
    printf("waitid again: pid %s\n", si.si_pid == 0 ? "0" : "set");
    kill(pid, SIGCONT);
    memset(&si, 0, sizeof si);
    T(waitid(P_PID, pid, &si, WCONTINUED));
    printf("waitid: %s, status %d\n", code_name(si.si_code), si.si_status);
    kill(pid, SIGTERM);
    memset(&si, 0, sizeof si);
    T(waitid(P_PID, pid, &si, WEXITED));
    printf("waitid: %s, status %d\n", code_name(si.si_code), si.si_status);

    printf("-- SIGCONT and the stop signals cancel each other\n");
    pid = job();
    if (pid == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTSTP);
        sigprocmask(SIG_BLOCK, &set, NULL);
        kill(getpid(), SIGTSTP);  /* pending */
        kill(getpid(), SIGCONT);  /* discards it */
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        _exit(4);
    }
    status("the child", pid, WUNTRACED);
    pid = job();
    if (pid == 0) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCONT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        kill(getpid(), SIGCONT);  /* pending, blocked */
        signal(SIGCONT, SIG_IGN);
        raise(SIGSTOP);           /* discards it; the parent continues us */
        _exit(5);
    }
    status("stopped itself", pid, WUNTRACED);
    kill(pid, SIGCONT);
    status("continued by its parent", pid, 0);

    printf("-- SA_NOCLDSTOP\n");
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    chld_code = 0;
    pid = job();
    if (pid == 0) {
        for (;;) pause();
    }
    kill(pid, SIGSTOP);
    status("stopped", pid, WUNTRACED);
    printf("SIGCHLD for the stop: %s\n", chld_code == 0 ? "none" : code_name(chld_code));
    kill(pid, SIGKILL);
    status("killed", pid, 0);
    return 0;
}
