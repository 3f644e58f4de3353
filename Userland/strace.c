// strace.c: one of each system call whose arguments `umk run --strace` decodes, for StraceTests: run under
// `strace -f` natively and under `umk run --strace`, the two traces must agree once pids, addresses and the
// values that legitimately differ are normalised. Every value it passes is the same natively and under umk;
// the processes it starts synchronise through pipes, so that each one's own sequence of calls is fixed.
// `strace N` (argv[1]) is the child it execs: it exits with status N. `strace segv`, `strace term` and
// `strace pipe` die of SIGSEGV (a write to address 8), SIGTERM (sent to itself) and SIGPIPE (a write to a
// pipe without readers). `strace threads` starts a thread that reads a byte the main thread writes.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void onSignal(int sig) { (void)sig; }

/// Blocks until process `pid` waits in system call `nr`: its /proc/PID/syscall names the call (natively, where
/// a traced task also sleeps in ptrace stops); where that file is missing (umk), its state in /proc/PID/stat is
/// S, a sleep in a system call.
static void waitUntilBlockedIn(pid_t pid, int nr) {
    char path[64], buf[256];
    for (;;) {
        snprintf(path, sizeof path, "/proc/%d/syscall", pid);
        int fd = open(path, O_RDONLY);
        int bySyscall = fd >= 0;
        if (!bySyscall) {
            snprintf(path, sizeof path, "/proc/%d/stat", pid);
            fd = open(path, O_RDONLY);
        }
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        if (bySyscall && n > 0 && atoi(buf) == nr && buf[0] >= '0' && buf[0] <= '9') return;
        char *end = strrchr(buf, ')');
        if (!bySyscall && end && end[1] == ' ' && end[2] == 'S') return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static int ping[2];

static void *reader(void *arg) {
    char c;
    read(ping[0], &c, 1);
    return arg;
}

/// A thread (clone3, its own rseq and robust list) that reads what the main thread writes, and ends.
static int threads(void) {
    pthread_t t;
    pipe(ping);
    pthread_create(&t, NULL, reader, NULL);
    write(ping[1], "t", 1);
    pthread_join(t, NULL);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);  // no core file, and no " (core dumped)" natively
        if (strcmp(argv[1], "threads") == 0) return threads();
        if (strcmp(argv[1], "segv") == 0) *(volatile int *)8 = 1;
        if (strcmp(argv[1], "term") == 0) kill(getpid(), SIGTERM);
        if (strcmp(argv[1], "pipe") == 0) {
            int p[2];
            pipe(p);
            close(p[0]);
            write(p[1], "x", 1);
        }
        return atoi(argv[1]);
    }
    // Files.
    struct stat st;
    stat("/", &st);
    lstat("/nonexistent", &st);
    fstatat(AT_FDCWD, "/", &st, AT_SYMLINK_NOFOLLOW);
    char statxBuffer[256];
    syscall(SYS_statx, AT_FDCWD, "/etc/passwd", AT_SYMLINK_NOFOLLOW, 0x7ff, statxBuffer);
    stat((char *)1, &st);  // a bad address: shown as the address
    char cwd[256];
    syscall(SYS_getcwd, cwd, sizeof cwd);
    int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char dents[4096];
    syscall(SYS_getdents64, dir, dents, sizeof dents);
    lseek(dir, 0, SEEK_SET);
    close(dir);
    struct utsname u;
    uname(&u);

    // Signals.
    struct sigaction sa = {0}, old;
    sa.sa_handler = onSignal;
    sa.sa_flags = SA_RESTART;
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGUSR1, &sa, &old);
    sigaction(SIGUSR2, NULL, &old);
    sigset_t set, oldset;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &oldset);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    sigfillset(&set);
    sigprocmask(SIG_BLOCK, &set, &oldset);
    sigprocmask(SIG_SETMASK, &oldset, NULL);
    kill(getpid(), SIGUSR1);
    syscall(SYS_tgkill, getpid(), getpid(), SIGUSR1);
    stack_t ss = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    sigaltstack(&ss, NULL);

    // Time.
    struct timespec ts = {0, 1000};
    nanosleep(&ts, NULL);
    clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts);
    syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts);

    // I/O on pipes, epoll, sockets.
    struct iovec iov[2] = {{"hello ", 6}, {"world\n", 6}};
    writev(1, iov, 2);
    int fds[2];
    pipe(fds);
    struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLOUT, 0}};
    poll(p, 2, 0);
    poll(p, 1, 0);
    write(fds[1], "x\001\0027", 4);
    char c[8];
    struct iovec riov = {c, sizeof c};
    readv(fds[0], &riov, 1);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[0], F_GETFD);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_GETFL);
    fcntl(fds[0], F_DUPFD_CLOEXEC, 10);
    ioctl(fds[0], FIONREAD, &riov.iov_len);
    lseek(fds[0], 0, SEEK_CUR);
    dup2(fds[0], 20);
    close(20);
    close(10);
    close(fds[0]);
    close(fds[1]);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    pipe2(fds, O_CLOEXEC | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = fds[0]};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
    write(fds[1], "y", 1);
    epoll_wait(ep, &ev, 1, 0);
    close(ep);
    close(fds[0]);
    close(fds[1]);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct iovec miov = {"msg", 3};
    struct msghdr mh = {.msg_iov = &miov, .msg_iovlen = 1};
    sendmsg(sv[0], &mh, MSG_NOSIGNAL);
    char rb[8];
    struct iovec rio = {rb, sizeof rb};
    struct msghdr rh = {.msg_iov = &rio, .msg_iovlen = 1};
    recvmsg(sv[1], &rh, 0);
    sendto(sv[0], "to", 2, 0, NULL, 0);
    recvfrom(sv[1], rb, sizeof rb, MSG_DONTWAIT, NULL, NULL);
    int one = 1, type;
    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    socklen_t optlen = sizeof type;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &optlen);
    struct ucred cred;
    optlen = sizeof cred;
    getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &optlen);
    shutdown(sv[0], SHUT_WR);
    close(sv[0]);
    close(sv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/sock"};
    connect(s, (struct sockaddr *)&sun, sizeof sun);
    close(s);

    // Pointers and counts the program chose: a bad address shows as the address, a long array stops at 32.
    struct pollfd *many = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 64; i++) many[i] = (struct pollfd){-1, POLLIN, 0};
    poll(many, 64, 0);
    munmap(many, 4096);
    syscall(SYS_writev, 1, 8, 1 << 20);
    syscall(SYS_poll, 8, 1 << 30, 0);
    syscall(SYS_rt_sigaction, SIGUSR2, 8, 0, 8);

    // Timers, waiting for a signal, select, ids.
    struct itimerval it = {{0, 0}, {100, 0}}, oldIt;
    setitimer(ITIMER_REAL, &it, &oldIt);
    it.it_value.tv_sec = 0;
    setitimer(ITIMER_REAL, &it, NULL);
    getitimer(ITIMER_VIRTUAL, &oldIt);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its = {{0, 0}, {100, 0}}, oldIts;
    timerfd_settime(tfd, 0, &its, &oldIts);
    close(tfd);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    kill(getpid(), SIGUSR2);
    sigpending(&set);
    siginfo_t si;
    struct timespec zero = {0, 0};
    sigtimedwait(&usr2, &si, &zero);
    sigtimedwait(&usr2, &si, &zero);
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);
    // A POSIX timer's signal (SI_TIMER) ends a sigsuspend(); sigqueue's (SI_QUEUE) carries a value.
    // (Blocked until sigsuspend, so that it cannot come before the wait.)
    sigaction(SIGALRM, &sa, NULL);
    sigset_t alrm, none;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    timer_t timer;
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM, .sigev_value.sival_int = 42};
    timer_create(CLOCK_MONOTONIC, &sev, &timer);
    struct itimerspec soon = {{0, 0}, {0, 1000000}};
    timer_settime(timer, 0, &soon, NULL);
    sigsuspend(&none);
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    timer_delete(timer);
    sigqueue(getpid(), SIGALRM, (union sigval){.sival_int = 7});
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(1, &readable);
    struct timeval tv = {0, 0};
    select(2, NULL, &readable, NULL, &tv);
    uid_t r, e, saved;
    getresuid(&r, &e, &saved);
    gid_t groups[4];
    getgroups(0, NULL);

    // Limits, memory, prctl.
    struct rlimit rl = {1024, 4096};
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    prlimit(0, RLIMIT_STACK, NULL, &rl);
    prctl(PR_SET_NAME, "straced");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m, 4096, PROT_READ);
    madvise(m, 8192, MADV_DONTNEED);
    munmap(m, 8192);

    // A child that execs this program and exits 3.
    int status;
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "strace", "3", (char *)NULL);
        _exit(127);
    }
    wait4(pid, &status, 0, NULL);
    pid = fork();
    if (pid == 0) _exit(7);
    waitid(P_PID, pid, &si, WEXITED);
    waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
    (void)groups;

    // A child killed while it waits in pause(), once it says it is there.
    int ready[2];
    pipe(ready);
    pid = fork();
    if (pid == 0) {
        write(ready[1], "r", 1);
        pause();
        _exit(0);
    }
    read(ready[0], c, 1);
    waitUntilBlockedIn(pid, SYS_pause);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);

    // A read interrupted by a signal whose handler has SA_RESTART: it runs again.
    pid_t parent = getpid();
    pid = fork();
    if (pid == 0) {
        waitUntilBlockedIn(parent, SYS_read);
        kill(parent, SIGUSR1);
        write(ready[1], "z", 1);
        _exit(0);
    }
    read(ready[0], c, 1);
    wait4(-1, &status, 0, NULL);
    return 0;
}
