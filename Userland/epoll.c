/* epoll.c: epoll (fs/eventpoll.c) on pipes, eventfds, timerfds and other epoll instances: level- versus
 * edge-triggered reports across partial reads, EPOLLONESHOT and its re-arming by EPOLL_CTL_MOD, a reader's
 * EPOLLHUP when the writer goes, an entry leaving the set with its file's last fd (and staying through a dup),
 * nesting, epoll_ctl's and epoll_wait's errors, timeouts, pwait's mask, and a forked child waking a blocked
 * epoll_wait. Only counts, events and data are printed. */
#include "check.h"
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <fcntl.h>

static const char *evname(uint32_t e) {
    static char buf[128];
    buf[0] = 0;
    if (e & EPOLLIN) strcat(buf, "IN ");
    if (e & EPOLLOUT) strcat(buf, "OUT ");
    if (e & EPOLLERR) strcat(buf, "ERR ");
    if (e & EPOLLHUP) strcat(buf, "HUP ");
    if (e & EPOLLRDHUP) strcat(buf, "RDHUP ");
    if (e & EPOLLPRI) strcat(buf, "PRI ");
    if (buf[0]) buf[strlen(buf) - 1] = 0;
    return buf;
}

/* epoll_wait with `ms`, printing the count and each event's events and data. */
static void wait_show(const char *what, int ep, int max, int ms) {
    struct epoll_event ev[16];
    errno = 0;
    int n = epoll_wait(ep, ev, max, ms);
    if (n == -1) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    printf("%s: %d", what, n);
    for (int i = 0; i < n; i++) printf(" [%s %llu]", evname(ev[i].events), (unsigned long long)ev[i].data.u64);
    printf("\n");
}

static int add(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event e = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event e = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static void level_and_edge(void) {
    int p[2];
    pipe(p);
    int lt = epoll_create1(0), et = epoll_create1(EPOLL_CLOEXEC);
    T(add(lt, p[0], EPOLLIN, 1));
    T(add(et, p[0], EPOLLIN | EPOLLET, 2));
    wait_show("lt empty", lt, 8, 0);
    wait_show("et empty", et, 8, 0);
    write(p[1], "abcd", 4);
    wait_show("lt written", lt, 8, 0);
    wait_show("et written", et, 8, 0);
    char c[2];
    read(p[0], c, 2);
    wait_show("lt partial read", lt, 8, 0);
    wait_show("et partial read", et, 8, 0);
    write(p[1], "e", 1);
    wait_show("et written again", et, 8, 0);
    wait_show("et again", et, 8, 0);
    read(p[0], c, 2);
    read(p[0], c, 1);
    wait_show("lt drained", lt, 8, 0);
    wait_show("et drained", et, 8, 0);
    /* The write end: writable, level and edge; a reader's read does not re-arm an EPOLLIN edge entry. */
    T(add(et, p[1], EPOLLOUT | EPOLLET, 3));
    wait_show("et write end", et, 8, 0);
    wait_show("et write end again", et, 8, 0);
    write(p[1], "f", 1);
    wait_show("et after write", et, 8, 0);
    read(p[0], c, 1);
    wait_show("et after read", et, 8, 0);
    close(lt);
    close(et);
    close(p[0]);
    close(p[1]);
}

static void oneshot(void) {
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    T(add(ep, p[0], EPOLLIN | EPOLLONESHOT, 7));
    write(p[1], "x", 1);
    wait_show("oneshot", ep, 8, 0);
    wait_show("oneshot disabled", ep, 8, 0);
    write(p[1], "y", 1);
    wait_show("oneshot still disabled", ep, 8, 0);
    T(mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 8));
    wait_show("oneshot re-armed", ep, 8, 0);
    wait_show("oneshot disabled again", ep, 8, 0);
    T(add(ep, p[0], EPOLLIN, 9));
    T(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    T(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    T(mod(ep, p[0], EPOLLIN, 1));
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void hangup(void) {
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    T(add(ep, p[0], EPOLLIN | EPOLLRDHUP, 1));
    T(add(ep, p[1], EPOLLOUT, 2));
    wait_show("both ends", ep, 8, 0);
    write(p[1], "z", 1);
    close(p[1]);
    wait_show("writer closed", ep, 8, 0);
    char c;
    read(p[0], &c, 1);
    wait_show("drained after close", ep, 8, 0);
    close(ep);
    close(p[0]);
    /* The reader goes: the writer sees ERR. */
    pipe(p);
    ep = epoll_create1(0);
    T(add(ep, p[1], EPOLLOUT, 3));
    close(p[0]);
    wait_show("reader closed", ep, 8, 0);
    close(ep);
    close(p[1]);
}

static void closing(void) {
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    write(p[1], "x", 1);
    T(add(ep, p[0], EPOLLIN, 1));
    int d = dup(p[0]);
    close(p[0]);
    wait_show("closed, dup kept", ep, 8, 0);
    T(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    T(add(ep, d, EPOLLIN, 2));
    wait_show("dup added", ep, 8, 0);
    close(d);
    wait_show("last fd closed", ep, 8, 0);
    close(ep);
    close(p[1]);
}

static void nesting(void) {
    int p[2];
    pipe(p);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    T(add(inner, p[0], EPOLLIN, 1));
    T(add(outer, inner, EPOLLIN, 2));
    wait_show("outer idle", outer, 8, 0);
    write(p[1], "x", 1);
    wait_show("outer ready", outer, 8, 0);
    struct pollfd pf = {outer, POLLIN, 0};
    T(poll(&pf, 1, 0));
    printf("poll revents: %s\n", evname(pf.revents));
    wait_show("inner ready", inner, 8, 0);
    T(add(inner, outer, EPOLLIN, 3));
    T(add(inner, inner, EPOLLIN, 3));
    /* A chain of instances, one inside the next: too deep at some point (EP_MAX_NESTS). */
    int chain[8];
    chain[0] = inner;
    for (int i = 1; i < 8; i++) {
        chain[i] = epoll_create1(0);
        printf("chain %d: ", i);
        T(add(chain[i], chain[i - 1], EPOLLIN, i));
    }
    /* Readiness reaches the top of the deepest chain allowed (the pipe has a byte in it). */
    wait_show("chain top", chain[4], 8, 0);
    for (int i = 1; i < 8; i++) close(chain[i]);
    char c;
    read(p[0], &c, 1);
    wait_show("outer drained", outer, 8, 0);
    /* EPOLLEXCLUSIVE: only with some events, never for an epoll file, never with MOD. */
    int q[2];
    pipe(q);
    T(add(outer, q[0], EPOLLIN | EPOLLEXCLUSIVE, 4));
    T(mod(outer, q[0], EPOLLIN, 4));
    T(mod(outer, q[0], EPOLLIN | EPOLLEXCLUSIVE, 4));
    T(add(outer, q[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 5));
    int other = epoll_create1(0);
    T(add(other, inner, EPOLLIN | EPOLLEXCLUSIVE, 6));
    close(other);
    close(q[0]);
    close(q[1]);
    close(inner);
    close(outer);
    close(p[0]);
    close(p[1]);
}

static void errors(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    T(epoll_create(0));
    T(epoll_create(-1));
    T(epoll_create1(1));
    T(add(ep, 0 + 1000, EPOLLIN, 0));
    T(add(1000, p[0], EPOLLIN, 0));
    T(add(p[0], p[1], EPOLLIN, 0));
    T(epoll_ctl(ep, 99, p[0], &(struct epoll_event){0}));
    T(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], BAD_PTR));
    T(epoll_ctl(ep, 99, p[0], BAD_PTR));
    T(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], BAD_PTR));
    int f = open("/proc/self/exe", O_RDONLY);
    T(add(ep, f, EPOLLIN, 0));
    close(f);
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    T(add(ep, dir, EPOLLIN, 0));
    close(dir);
    struct epoll_event ev[2];
    T(epoll_wait(ep, ev, 0, 0));
    T(epoll_wait(ep, ev, -1, 0));
    T(epoll_wait(ep, ev, 0x7fffffff, 0));
    T(epoll_wait(ep, ev, 0x7fffffff / 12 + 1, 0));
    T(epoll_wait(p[0], ev, 1, 0));
    T(epoll_wait(1000, ev, 1, 0));
    T(epoll_wait(ep, NULL, 1, 0));
    T(epoll_wait(ep, (void *)0xffffffffffff0000, 1, 0));
    T(add(ep, p[1], EPOLLOUT, 5));
    T(epoll_wait(ep, NULL, 1, 0));
    T(epoll_wait(ep, BAD_PTR, 1, 0));
    wait_show("after EFAULT", ep, 8, 0);
    T(epoll_wait(ep, ev, 1, 0));
    sigset_t set;
    sigemptyset(&set);
    T(syscall(SYS_epoll_pwait, ep, ev, 1, 0, &set, 4));
    T(syscall(SYS_epoll_pwait, ep, ev, 1, 0, &set, 8));
    struct timespec bad = {0, 1000000000};
    T(syscall(SYS_epoll_pwait2, ep, ev, 1, &bad, NULL, 8));
    T(syscall(SYS_epoll_pwait2, ep, ev, 1, BAD_PTR, NULL, 8));
    struct timespec zero = {0, 0};
    T(syscall(SYS_epoll_pwait2, ep, ev, 1, &zero, NULL, 8));
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void timeouts(void) {
    int ep = epoll_create1(0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    wait_show("timeout 50 ms", ep, 8, 50);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    show_bool("waited 50 ms", ms >= 49);
    struct timespec ts = {0, 30000000};
    T(syscall(SYS_epoll_pwait2, ep, NULL, 1, &ts, NULL, 8));
    close(ep);
}

/* Many instances sharing one nested instance and one pipe: a wake costs the number of entries. */
static void lattice(void) {
    int p[2];
    pipe(p);
    int shared = epoll_create1(0), mids[64], top = epoll_create1(0);
    add(shared, p[0], EPOLLIN | EPOLLET, 1);
    for (int i = 0; i < 64; i++) {
        mids[i] = epoll_create1(0);
        add(mids[i], shared, EPOLLIN, 2);
        add(mids[i], p[0], EPOLLIN | EPOLLET, 3);
        add(top, mids[i], EPOLLIN | EPOLLET, 100 + i);
    }
    for (int i = 0; i < 1000; i++) write(p[1], "x", 1);
    struct epoll_event ev[64];
    T(epoll_wait(top, ev, 64, 0));
    T(epoll_wait(top, ev, 64, 0));
    for (int i = 0; i < 64; i++) close(mids[i]);
    close(shared);
    close(top);
    close(p[0]);
    close(p[1]);
}

static void child_wakes(void) {
    int p[2];
    pipe(p);
    int ep = epoll_create1(0);
    add(ep, p[0], EPOLLIN, 11);
    pid_t pid = xfork();
    if (pid == 0) {
        sleep_ms(50);
        write(p[1], "w", 1);
        _exit(0);
    }
    wait_show("woken by child", ep, 8, -1);
    waitpid(pid, NULL, 0);
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void other_files(void) {
    int ep = epoll_create1(0);
    int efd = eventfd(0, EFD_NONBLOCK);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    T(add(ep, efd, EPOLLIN | EPOLLET, 21));
    T(add(ep, tfd, EPOLLIN, 22));
    wait_show("idle", ep, 8, 0);
    uint64_t one = 1;
    write(efd, &one, 8);
    wait_show("eventfd written", ep, 8, 0);
    wait_show("eventfd edge gone", ep, 8, 0);
    write(efd, &one, 8);
    wait_show("eventfd written again", ep, 8, 0);
    uint64_t v;
    read(efd, &v, 8);
    struct itimerspec its = {{0, 0}, {0, 20000000}};
    timerfd_settime(tfd, 0, &its, NULL);
    wait_show("timerfd fired", ep, 8, 1000);
    read(tfd, &v, 8);
    printf("timerfd count: %llu\n", (unsigned long long)v);
    wait_show("timerfd read", ep, 8, 0);
    /* A signal interrupts a wait: EINTR (never restarted). */
    close(efd);
    close(tfd);
    close(ep);
}

static void on_alarm(int s) { (void)s; }

static void interrupted(void) {
    int ep = epoll_create1(0);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct epoll_event ev;
    T(epoll_wait(ep, &ev, 1, 2000));
    /* pwait's mask blocks it: the wait runs to its timeout, the handler after. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    setitimer(ITIMER_REAL, &it, NULL);
    T(epoll_pwait(ep, &ev, 1, 100, &block));
    close(ep);
}

int main(void) {
    level_and_edge();
    oneshot();
    hangup();
    closing();
    nesting();
    errors();
    timeouts();
    lattice();
    child_wakes();
    other_files();
    interrupted();
    return 0;
}
