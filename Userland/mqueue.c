/* mqueue.c: POSIX message queues: priorities, full and empty queues, timeouts, blocking senders and receivers
 * across fork, mq_notify, mq_getsetattr, poll, the descriptor's read and fstat, mq_unlink, errors.
 *
 * Natively the queues live in the host's IPC namespace: their names carry the pid and every one is unlinked.
 */
#include "check.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

static char name[64], other[64];
static char *report;
#define NOTE(...) snprintf(report + strlen(report), 4096 - strlen(report), __VA_ARGS__)

static void wait_report(const char *what, pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st))
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
    else
        printf("%s: signal %d\n", what, WTERMSIG(st));
    printf("%s", report);
    report[0] = 0;
}

static void receive(mqd_t q, size_t size) {
    char buf[256] = {0};
    unsigned prio = 99;
    errno = 0;
    ssize_t n = mq_receive(q, buf, size, &prio);
    if (n == -1)
        printf("mq_receive: %s\n", errname(errno));
    else
        printf("mq_receive: %zd bytes, prio %u, %s\n", n, prio, buf);
}

/* An absolute CLOCK_REALTIME time `ms` from now (negative: in the past). */
static struct timespec in_ms(long ms) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    long long ns = t.tv_nsec + ms * 1000000LL;
    t.tv_sec += ns / 1000000000LL;
    ns %= 1000000000LL;
    if (ns < 0) ns += 1000000000LL, t.tv_sec--;
    t.tv_nsec = ns;
    return t;
}

static volatile sig_atomic_t got_signo, got_code, got_value, got_pid_ok;
static void on_signal(int sig, siginfo_t *si, void *ctx) {
    (void)ctx;
    got_signo = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
    got_pid_ok = si->si_pid == getpid();
}
static void on_alarm(int sig) { (void)sig; }

static void alarm_soon(int restart) {
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, 0);
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    report = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    snprintf(name, sizeof name, "/umk-mq-%d", (int)getpid());
    snprintf(other, sizeof other, "/umk-mq-%d-other", (int)getpid());
    umask(022);

    struct mq_attr attr = {0};
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = 64;
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0666, &attr);
    show_ok("mq_open create", q);
    struct mq_attr got;
    T(mq_getattr(q, &got));
    printf("flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_flags, got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);
    int fdflags = fcntl(q, F_GETFD);
    printf("cloexec %s\n", fdflags & FD_CLOEXEC ? "yes" : "no");
    struct stat st;
    T(fstat(q, &st));
    printf("regular %s mode %o\n", S_ISREG(st.st_mode) ? "yes" : "no", st.st_mode & 07777);

    /* Priorities: highest first, arrival order within one. */
    T(mq_send(q, "a", 2, 1));
    T(mq_send(q, "b", 2, 5));
    T(mq_send(q, "c", 2, 1));
    T(mq_send(q, "d", 2, 5));
    T(mq_getattr(q, &got));
    printf("curmsgs %ld\n", got.mq_curmsgs);
    char status[128] = {0};
    T(read(q, status, sizeof status - 1));
    printf("read: %s", status);
    T(read(q, status, sizeof status - 1));
    struct pollfd pfd = {q, POLLIN | POLLOUT, 0};
    T(poll(&pfd, 1, 0));
    printf("revents %#x\n", pfd.revents);
    /* Full: EAGAIN without waiting, ETIMEDOUT with a timeout that has passed. */
    struct mq_attr nb = {0}, old;
    nb.mq_flags = O_NONBLOCK;
    T(mq_setattr(q, &nb, &old));
    printf("old flags %ld\n", old.mq_flags);
    T(mq_send(q, "e", 2, 0));
    T(mq_getattr(q, &got));
    printf("flags nonblock %s\n", got.mq_flags & O_NONBLOCK ? "yes" : "no");
    nb.mq_flags = 0;
    T(mq_setattr(q, &nb, 0));
    struct timespec past = in_ms(-1000), soon = in_ms(50);
    T(mq_timedsend(q, "e", 2, 0, &past));
    T(mq_timedsend(q, "e", 2, 0, &soon));
    receive(q, 64);
    receive(q, 64);
    receive(q, 64);
    receive(q, 64);
    pfd.revents = 0;
    T(poll(&pfd, 1, 0));
    printf("revents %#x\n", pfd.revents);
    soon = in_ms(50);
    struct timespec recv_past = in_ms(-1000);
    char buf[64];
    T(mq_timedreceive(q, buf, 64, 0, &recv_past));
    T(mq_timedreceive(q, buf, 64, 0, &soon));
    T(mq_send(q, "late", 5, 2));
    T(mq_timedreceive(q, buf, 64, 0, &past));  /* a message is there: the timeout does not matter */

    /* Sizes, priorities, timeouts, descriptors. */
    char big[65] = {0};
    T(mq_send(q, big, 65, 0));
    T(mq_receive(q, buf, 63, 0));
    T(mq_send(q, "x", 2, 32768));
    struct timespec bad = {0, 1000000000};
    T(mq_timedsend(q, "x", 2, 0, &bad));
    T(mq_timedreceive(q, buf, 64, 0, &bad));
    T(mq_send(0, "x", 2, 0));
    T(mq_send(99, "x", 2, 0));
    T(mq_send(q, BAD_PTR, 2, 0));
    T(mq_getattr(99, &got));
    nb.mq_flags = O_APPEND;
    T(mq_setattr(q, &nb, 0));
    mqd_t ro = mq_open(name, O_RDONLY);
    show_ok("mq_open read-only", ro);
    T(mq_send(ro, "x", 2, 0));
    mqd_t wo = mq_open(name, O_WRONLY);
    T(mq_receive(wo, buf, 64, 0));
    T(mq_close(ro));
    T(mq_close(wo));

    /* Opening. */
    T(mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, 0));
    T(mq_open(other, O_RDWR));
    T(syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, 0));
    T(syscall(SYS_mq_open, "..", O_RDWR | O_CREAT, 0600, 0));
    T(syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, 0));
    T(syscall(SYS_mq_open, BAD_PTR, O_RDWR | O_CREAT, 0600, 0));
    char longname[300];
    memset(longname, 'n', sizeof longname);
    longname[299] = 0;
    T(syscall(SYS_mq_open, longname, O_RDWR | O_CREAT, 0600, 0));
    struct mq_attr zero = {0};
    T(mq_open(other, O_RDWR | O_CREAT, 0600, &zero));
    T(mq_open(other, O_RDWR | O_CREAT, 0600, BAD_PTR));
    mqd_t dflt = mq_open(other, O_RDWR | O_CREAT, 0600, 0);
    T(mq_getattr(dflt, &got));
    printf("default maxmsg %ld msgsize %ld\n", got.mq_maxmsg, got.mq_msgsize);
    T(mq_close(dflt));
    T(mq_unlink(other));
    T(mq_unlink(other));

    /* Blocking across fork: a receiver waits for a message, a sender for room. */
    pid_t c = fork();
    if (c == 0) {
        char b[64] = {0};
        unsigned prio = 0;
        ssize_t n = mq_receive(q, b, 64, &prio);
        NOTE("child received %zd prio %u %s\n", n, prio, b);
        _exit(0);
    }
    sleep_ms(200);
    T(mq_send(q, "hello", 6, 3));
    wait_report("receiver", c);
    for (int i = 0; i < 4; i++) mq_send(q, "fill", 5, 0);
    c = fork();
    if (c == 0) {
        int r = mq_send(q, "waited", 7, 9);
        NOTE("child mq_send: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    sleep_ms(200);
    receive(q, 64);
    wait_report("sender", c);
    receive(q, 64);
    while (mq_timedreceive(q, buf, 64, 0, &past) >= 0) {
    }

    /* Signals: EINTR, or a restart with SA_RESTART (the timeout is absolute). */
    c = fork();
    if (c == 0) {
        alarm_soon(0);
        int r = mq_receive(q, buf, 64, 0);
        NOTE("no SA_RESTART: %s\n", r == 0 ? "0" : errname(errno));
        alarm_soon(1);
        struct timespec t = in_ms(300);
        r = mq_timedreceive(q, buf, 64, 0, &t);
        NOTE("SA_RESTART: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    wait_report("signals", c);

    /* mq_notify: a signal when a message arrives in an empty queue, once. */
    struct sigaction sa = {0};
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 42;
    mqd_t again = mq_open(name, O_RDONLY);
    T(mq_notify(q, &ev));
    T(mq_notify(q, &ev));
    memset(status, 0, sizeof status);
    T(read(again, status, sizeof status - 1));
    printf("notify registered: %s\n", strstr(status, "NOTIFY:0     SIGNO:10") ? "yes" : "no");
    c = fork();
    if (c == 0) {
        int r = mq_notify(q, &ev);
        NOTE("child mq_notify: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    wait_report("other process", c);
    T(mq_send(q, "n", 2, 0));
    printf("signal %d code %d (SI_MESGQ %d) value %d pid %s\n", (int)got_signo, (int)got_code, SI_MESGQ, (int)got_value,
           got_pid_ok ? "self" : "other");
    got_signo = 0;
    receive(q, 64);
    T(mq_send(q, "n", 2, 0));
    printf("again: signal %d\n", (int)got_signo);
    receive(q, 64);
    /* Closing any descriptor of the queue drops the process's registration (mqueue_flush_file). */
    T(mq_notify(q, &ev));
    T(mq_close(again));
    c = fork();
    if (c == 0) {
        int r = mq_notify(q, &ev);
        NOTE("child mq_notify: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    wait_report("after close", c);
    T(mq_send(q, "n", 2, 0));
    printf("child gone: signal %d\n", (int)got_signo);
    receive(q, 64);
    /* A message while a receiver waits notifies no one. */
    T(mq_notify(q, &ev));
    c = fork();
    if (c == 0) {
        char b[64];
        mq_receive(q, b, 64, 0);
        _exit(0);
    }
    sleep_ms(200);
    T(mq_send(q, "r", 2, 0));
    wait_report("waiting receiver", c);
    printf("with a receiver: signal %d\n", (int)got_signo);
    T(mq_notify(q, 0));
    T(mq_send(q, "n", 2, 0));
    printf("unregistered: signal %d\n", (int)got_signo);
    receive(q, 64);
    ev.sigev_notify = 99;
    T(mq_notify(q, &ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 65;
    T(mq_notify(q, &ev));
    ev.sigev_notify = SIGEV_NONE;
    T(mq_notify(99, &ev));
    T(mq_notify(q, &ev));
    T(mq_send(q, "n", 2, 0));
    T(mq_notify(q, &ev));
    receive(q, 64);
    T(syscall(SYS_mq_notify, q, BAD_PTR));

    /* Unlinked: the name goes, the queue stays while open. */
    T(mq_unlink(name));
    T(mq_open(name, O_RDWR));
    T(mq_send(q, "still", 6, 0));
    receive(q, 64);
    T(mq_unlink(name));
    T(mq_close(q));
    T(mq_close(q));
    return 0;
}
