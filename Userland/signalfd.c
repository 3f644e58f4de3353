/* signalfd.c: signals read from a signalfd instead of handled: the record's fields for kill, sigqueue and a
 * child's exit, poll readiness, O_NONBLOCK's EAGAIN, a buffer too small for one record, a new mask on the same
 * fd, and a forked child reading its own signals (not the parent's) from the inherited fd.
 */
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

static void record(int fd) {
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof si);
    if (n != sizeof si) {
        printf("read: %zd %s\n", n, errname(errno));
        return;
    }
    if ((int)si.ssi_signo >= SIGRTMIN) printf("SIGRTMIN+%d ", (int)si.ssi_signo - SIGRTMIN);
    else printf("signo %u ", si.ssi_signo);
    printf("code %d from me %d int %d status %d\n", si.ssi_code, si.ssi_pid == (unsigned)getpid(),
           si.ssi_int, si.ssi_status);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("signalfd: %s\n", fd >= 0 ? "ok" : errname(errno));
    struct pollfd p = {fd, POLLIN, 0};
    printf("poll, nothing pending: %d\n", poll(&p, 1, 0));
    record(fd);
    kill(getpid(), SIGUSR1);
    int ready = poll(&p, 1, 0);
    printf("poll, SIGUSR1 pending: %d revents %d\n", ready, p.revents);
    char small[16];
    printf("small buffer: %s\n", read(fd, small, sizeof small) < 0 ? errname(errno) : "read");
    record(fd);
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), SIGRTMIN, v);
    sigqueue(getpid(), SIGRTMIN, v);
    record(fd);
    record(fd);
    printf("bad size: %s\n", signalfd(-1, &set, 4) < 0 ? errname(errno) : "ok");
    printf("not a signalfd: %s\n", signalfd(0, &set, 0) < 0 ? errname(errno) : "ok");

    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("new mask, same fd: %d\n", signalfd(fd, &set, 0) == fd);
    pid_t pid = fork();
    if (pid == 0) {
        struct pollfd cp = {fd, POLLIN, 0};
        printf("child: parent's signal not visible: %d\n", poll(&cp, 1, 0));
        kill(getpid(), SIGUSR1);
        record(fd);
        _exit(7);
    }
    kill(getpid(), SIGUSR1);
    int st;
    waitpid(pid, &st, 0);  /* SIGCHLD stays pending: it is blocked */
    while (poll(&p, 1, 5000) == 1) {
        struct signalfd_siginfo si;
        if (read(fd, &si, sizeof si) != sizeof si) break;
        printf("parent: signo %u code %d status %d\n", si.ssi_signo, si.ssi_code, si.ssi_status);
        if (si.ssi_signo == SIGCHLD) break;
    }
    printf("child exited %d\n", WEXITSTATUS(st));
    return 0;
}
