/* locks.c: file locks (issue 8): flock(2), fcntl POSIX record locks and OFD locks, seen from the locking
 * process and from forked children, in a fresh directory under /tmp that it removes at the end.
 * Children print their own lines; the parent waits for each before printing more. Blocking calls are
 * synchronised through pipes: what is printed never depends on timing. */
#include "check.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#ifndef LOCK_MAND
#define LOCK_MAND 32
#define LOCK_READ 64
#endif

static char dir[] = "/tmp/umk-locks-XXXXXX";
static char path[300];

static int lk(int fd, int cmd, short type, short whence, off_t start, off_t len) {
    struct flock l = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &l);
}

static const char *tname(int t) { return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?"; }

/* F_GETLK (or F_OFD_GETLK) for [start, start+len): what blocks it, and whether its l_pid is `owner`. */
static void probe(const char *what, int fd, int cmd, short type, off_t start, off_t len, pid_t owner) {
    struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    if (fcntl(fd, cmd, &l) == -1) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    if (l.l_type == F_UNLCK)
        printf("%s: F_UNLCK start %ld len %ld\n", what, (long)l.l_start, (long)l.l_len);
    else
        printf("%s: %s start %ld len %ld whence %d pid %s\n", what, tname(l.l_type), (long)l.l_start,
               (long)l.l_len, l.l_whence, l.l_pid == owner ? "owner" : l.l_pid == -1 ? "-1" : "other");
}

static int reopen(int flags) { return open(path, flags); }

static void finish_child(void) {
    fflush(stdout);
    _exit(0);
}

static int wait_child(pid_t pid) {
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Whether something is ready to read on `fd` right now. */
static int ready(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static void flocks(void) {
    printf("-- flock\n");
    int a = reopen(O_RDWR), b = reopen(O_RDWR);
    T(flock(a, LOCK_SH));
    T(flock(b, LOCK_SH | LOCK_NB));
    T(flock(b, LOCK_EX | LOCK_NB));
    show_bool("EWOULDBLOCK is EAGAIN", EWOULDBLOCK == EAGAIN);
    T(flock(b, LOCK_UN));
    T(flock(a, LOCK_EX | LOCK_NB));  /* conversion */
    T(flock(a, LOCK_EX | LOCK_NB));  /* again: nothing changes */
    T(flock(b, LOCK_SH | LOCK_NB));
    int c = dup(a);
    T(close(a));
    T(flock(b, LOCK_SH | LOCK_NB));  /* the dup keeps the description, and its lock */
    T(close(c));
    T(flock(b, LOCK_SH | LOCK_NB));  /* the last fd went: so did the lock */

    /* A refused conversion loses the lock held before (Linux drops it first). */
    a = reopen(O_RDONLY);
    T(flock(a, LOCK_SH));
    T(flock(a, LOCK_EX | LOCK_NB));
    T(flock(b, LOCK_UN));
    c = reopen(O_RDONLY);
    T(flock(c, LOCK_EX | LOCK_NB));
    T(flock(c, LOCK_UN));
    T(close(c));

    /* fork shares the description: the child holds the same lock, and may drop it for both. */
    T(flock(a, LOCK_EX));
    pid_t pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDONLY);
        T(flock(a, LOCK_EX | LOCK_NB));
        T(flock(mine, LOCK_SH | LOCK_NB));
        finish_child();
    }
    wait_child(pid);
    T(flock(b, LOCK_SH | LOCK_NB));  /* the child's exit closed its fds, not the parent's */
    pid = xfork();
    if (pid == 0) {
        T(flock(a, LOCK_UN));
        finish_child();
    }
    wait_child(pid);
    T(flock(b, LOCK_SH | LOCK_NB));
    T(flock(b, LOCK_UN));

    /* A blocking flock waits until the holder lets go. */
    T(flock(a, LOCK_EX));
    int go[2], done[2];
    pipe(go);
    pipe(done);
    pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDONLY);
        write(go[1], "r", 1);
        int r = flock(mine, LOCK_SH);
        printf("child flock(LOCK_SH) after waiting: %s\n", r == 0 ? "ok" : errname(errno));
        fflush(stdout);
        write(done[1], "g", 1);
        finish_child();
    }
    char ch;
    read(go[0], &ch, 1);
    sleep_ms(30);
    show_bool("child still waits while the lock is held", !ready(done[0]));
    int r = flock(a, LOCK_UN);  /* printed once the child has printed: its line comes first either way */
    read(done[0], &ch, 1);
    show("flock(a, LOCK_UN)", r);
    wait_child(pid);
    close(go[0]), close(go[1]), close(done[0]), close(done[1]);

    /* Bad operations and descriptors. */
    T(flock(a, 0));
    T(flock(a, LOCK_SH | LOCK_EX));
    T(flock(a, LOCK_UN | LOCK_SH));
    T(flock(a, 16));
    T(flock(a, LOCK_NB));
    T(flock(a, LOCK_MAND | LOCK_READ));
    T(flock(-1, LOCK_SH));
    T(flock(999, LOCK_SH));
    T(flock(999, 0));
    int o = open(path, O_PATH);
    T(flock(o, LOCK_SH));
    T(flock(o, LOCK_UN));
    close(o);
    int p[2];
    pipe(p);
    T(flock(p[0], LOCK_EX | LOCK_NB));
    close(p[0]), close(p[1]);
    close(a), close(b);
}

static void records(void) {
    printf("-- POSIX record locks\n");
    int fd = reopen(O_RDWR);
    pid_t me = getpid();
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 10));  /* adjacent: merged into 10..29 */
    probe("own locks do not block", fd, F_GETLK, F_WRLCK, 0, 0, me);
    pid_t pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDWR);
        probe("merged", mine, F_GETLK, F_WRLCK, 0, 0, getppid());
        T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 1));  /* not inherited: the parent's lock blocks */
        T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 30, 5));
        finish_child();
    }
    wait_child(pid);
    T(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 15, 2));  /* split: 10..14 and 17..29 */
    T(lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 12, 1));  /* split again: 10..11 W, 12 R, 13..14 W */
    T(lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 50, -5)); /* 45..49 */
    T(lseek(fd, 60, SEEK_SET));
    T(lk(fd, F_SETLK, F_RDLCK, SEEK_CUR, 0, 2));   /* 60..61 */
    T(lk(fd, F_SETLK, F_RDLCK, SEEK_CUR, 2, 2));   /* 62..63: merged with 60..61 */
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_END, -10, 0)); /* 90 to any end */
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 1));  /* the last byte there is */
    pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDWR);
        pid_t parent = getppid();
        probe("first", mine, F_GETLK, F_WRLCK, 0, 0, parent);
        probe("hole", mine, F_GETLK, F_WRLCK, 15, 2, parent);
        probe("after hole", mine, F_GETLK, F_WRLCK, 16, 5, parent);
        probe("read beside read", mine, F_GETLK, F_RDLCK, 12, 1, parent);
        probe("write over read", mine, F_GETLK, F_WRLCK, 12, 1, parent);
        probe("read over write", mine, F_GETLK, F_RDLCK, 13, 1, parent);
        probe("negative length", mine, F_GETLK, F_WRLCK, 40, 10, parent);
        probe("SEEK_CUR", mine, F_GETLK, F_WRLCK, 55, 20, parent);
        probe("SEEK_END", mine, F_GETLK, F_RDLCK, 95, 1, parent);
        probe("far", mine, F_GETLK, F_RDLCK, LLONG_MAX - 5, 0, parent);
        probe("free", mine, F_GETLK, F_WRLCK, 30, 10, parent);
        T(lk(mine, F_SETLK, F_RDLCK, SEEK_SET, 12, 1));
        T(lk(mine, F_SETLK, F_WRLCK, SEEK_SET, 30, 15));
        T(lk(mine, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
        finish_child();
    }
    wait_child(pid);

    /* Closing any fd of the file drops all of the process's locks on it. */
    int other = reopen(O_RDONLY);
    T(close(other));
    pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDWR);
        probe("after closing another fd", mine, F_GETLK, F_WRLCK, 0, 0, getppid());
        finish_child();
    }
    wait_child(pid);

    /* A holder that exits or is killed lets go. */
    int go[2];
    pipe(go);
    pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDWR);
        lk(mine, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
        write(go[1], "l", 1);
        pause();
        _exit(0);
    }
    char ch;
    read(go[0], &ch, 1);
    T(lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    probe("killed holder's lock", fd, F_GETLK, F_WRLCK, 0, 0, pid);
    kill(pid, SIGKILL);
    printf("child: %d\n", wait_child(pid));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
    T(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
    close(go[0]), close(go[1]);
    close(fd);
}

/* POSIX locks stay across execve, but those on a file whose only fd was close-on-exec go with it. The child
 * locks through two fds, one of them O_CLOEXEC, and execs this program as `locks exec-holder FD`, which
 * reports on fd FD and waits to be killed. */
static void across_exec(void) {
    printf("-- execve\n");
    char other[320];
    snprintf(other, sizeof other, "%s.2", path);
    close(open(other, O_RDWR | O_CREAT, 0644));
    int go[2];
    pipe(go);
    pid_t pid = xfork();
    if (pid == 0) {
        int kept = reopen(O_RDWR), gone = open(other, O_RDWR | O_CLOEXEC);
        lk(kept, F_SETLK, F_WRLCK, SEEK_SET, 0, 5);
        lk(gone, F_SETLK, F_WRLCK, SEEK_SET, 0, 5);
        char fd[16];
        snprintf(fd, sizeof fd, "%d", go[1]);
        execl("/proc/self/exe", "locks", "exec-holder", fd, (char *)NULL);
        _exit(99);
    }
    char ch;
    read(go[0], &ch, 1);
    int fd = reopen(O_RDWR), fd2 = open(other, O_RDWR);
    probe("after execve", fd, F_GETLK, F_WRLCK, 0, 0, pid);
    probe("close-on-exec fd", fd2, F_GETLK, F_WRLCK, 0, 0, pid);
    kill(pid, SIGKILL);
    wait_child(pid);
    close(fd), close(fd2), close(go[0]), close(go[1]);
    unlink(other);
}

static int dummy_pipe = -1;
static void on_alarm(int sig) {
    (void)sig;
    write(dummy_pipe, "h", 1);
}

static void waits(void) {
    printf("-- F_SETLKW\n");
    int fd = reopen(O_RDWR);
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    int go[2], done[2];
    pipe(go);
    pipe(done);
    char ch;

    /* Waits until the holder unlocks. */
    pid_t pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDWR);
        write(go[1], "r", 1);
        int r = lk(mine, F_SETLKW, F_WRLCK, SEEK_SET, 5, 1);
        printf("child F_SETLKW: %s\n", r == 0 ? "ok" : errname(errno));
        fflush(stdout);
        write(done[1], "g", 1);
        finish_child();
    }
    read(go[0], &ch, 1);
    sleep_ms(30);
    show_bool("child still waits while the lock is held", !ready(done[0]));
    int r = lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 5, 1);
    read(done[0], &ch, 1);
    show("unlock", r);
    wait_child(pid);
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));

    /* A signal without SA_RESTART interrupts the wait: EINTR. With SA_RESTART it waits on. */
    for (int restart = 0; restart <= 1; restart++) {
        pid = xfork();
        if (pid == 0) {
            int mine = reopen(O_RDWR);
            dummy_pipe = go[1];
            struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0};
            sigaction(SIGALRM, &sa, NULL);
            struct itimerval it = {.it_value = {0, 20000}};
            setitimer(ITIMER_REAL, &it, NULL);
            int r = lk(mine, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
            printf("child F_SETLKW with %s: %s\n", restart ? "SA_RESTART" : "a handler", r == 0 ? "ok" : errname(errno));
            finish_child();
        }
        read(go[0], &ch, 1);  /* the handler ran */
        if (restart) {
            sleep_ms(20);
            int r = lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
            wait_child(pid);
            show("parent unlocked", r);
            continue;
        }
        wait_child(pid);
    }

    /* Two processes each waiting for the other's lock: one of them gets EDEADLK, then lets go. */
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDWR);
        lk(mine, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
        write(go[1], "l", 1);
        int r = lk(mine, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
        int e = errno;
        if (r == -1)
            lk(mine, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
        _exit(r == 0 ? 0 : e == EDEADLK ? 1 : 2);
    }
    read(go[0], &ch, 1);
    sleep_ms(30);
    r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1);
    int e = errno;
    lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0);
    int child = wait_child(pid);
    /* Which of the two it is depends on which waits first: only the count is printed. */
    printf("exactly one EDEADLK: %s\n", ((r == -1 && e == EDEADLK) + (child == 1)) == 1 ? "yes" : "no");

    /* A waiter whose holder is killed gets the lock. */
    pid_t holder = xfork();
    if (holder == 0) {
        int mine = reopen(O_RDWR);
        lk(mine, F_SETLK, F_WRLCK, SEEK_SET, 0, 0);
        write(go[1], "l", 1);
        pause();
        _exit(0);
    }
    read(go[0], &ch, 1);
    pid = xfork();
    if (pid == 0) {
        int mine = reopen(O_RDWR);
        write(go[1], "r", 1);
        int r2 = lk(mine, F_SETLKW, F_RDLCK, SEEK_SET, 3, 3);
        printf("waiter after the holder was killed: %s\n", r2 == 0 ? "ok" : errname(errno));
        finish_child();
    }
    read(go[0], &ch, 1);
    sleep_ms(30);
    kill(holder, SIGKILL);
    wait_child(holder);
    wait_child(pid);
    close(go[0]), close(go[1]), close(done[0]), close(done[1]);
    close(fd);
}

static void ofd(void) {
    printf("-- OFD locks\n");
    int a = reopen(O_RDWR), b = reopen(O_RDWR);
    T(lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
    T(lk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 10));
    T(lk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 10, 10));
    probe("OFD_GETLK", b, F_OFD_GETLK, F_WRLCK, 0, 0, getpid());
    probe("OFD_GETLK own", a, F_OFD_GETLK, F_WRLCK, 0, 0, getpid());
    probe("OFD_GETLK F_UNLCK: the caller's own", a, F_OFD_GETLK, F_UNLCK, 5, 0, getpid());
    probe("OFD_GETLK F_UNLCK: none", b, F_OFD_GETLK, F_UNLCK, 0, 5, getpid());
    probe("GETLK sees OFD", b, F_GETLK, F_WRLCK, 0, 0, getpid());
    T(lk(b, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));  /* a POSIX lock of the same process conflicts */
    T(lk(b, F_SETLK, F_WRLCK, SEEK_SET, 30, 1));
    probe("OFD_GETLK sees POSIX", a, F_OFD_GETLK, F_WRLCK, 25, 10, getpid());
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 1};
    T(fcntl(b, F_OFD_SETLK, &l));
    T(fcntl(b, F_OFD_GETLK, &l));
    l.l_pid = 0;
    l.l_type = 7;
    T(fcntl(b, F_OFD_GETLK, &l));
    pid_t pid = xfork();
    if (pid == 0) {
        T(lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 5));  /* the same description: the same owner */
        int mine = reopen(O_RDWR);
        T(lk(mine, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 1));
        finish_child();
    }
    wait_child(pid);
    int c = dup(a);
    T(close(a));
    probe("after closing one of two fds", b, F_OFD_GETLK, F_WRLCK, 0, 0, getpid());
    T(close(c));
    probe("after the last fd", b, F_OFD_GETLK, F_WRLCK, 0, 0, getpid());
    close(b);
}

static void errors(void) {
    printf("-- errors\n");
    int fd = reopen(O_RDWR), ro = reopen(O_RDONLY), wo = reopen(O_WRONLY), o = open(path, O_PATH);
    T(lk(fd, F_SETLK, 5, SEEK_SET, 0, 1));
    T(lk(fd, F_SETLK, -1, SEEK_SET, 0, 1));
    T(lk(fd, F_SETLK, F_WRLCK, 3, 0, 1));
    T(lk(fd, F_SETLK, F_WRLCK, -1, 0, 1));
    T(lk(fd, F_SETLK, 5, 3, 0, 1));
    T(lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1));
    T(lk(fd, F_GETLK, 9, SEEK_SET, 0, 1));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 2));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MIN, 2));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_END, LLONG_MAX, 1));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_END, LLONG_MIN, 1));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, -6));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, LLONG_MIN));
    T(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, LLONG_MAX));
    T(lk(fd, F_SETLK, 5, SEEK_SET, 1, LLONG_MAX));
    T(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 5, -5));
    T(lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    T(lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
    T(lk(ro, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
    T(lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 1));
    T(lk(ro, F_GETLK, F_WRLCK, SEEK_SET, 0, 1));
    T(lk(ro, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    T(lk(o, F_GETLK, F_WRLCK, SEEK_SET, 0, 1));
    T(lk(o, F_SETLK, F_UNLCK, SEEK_SET, 0, 1));
    T(lk(-1, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
    T(lk(999, F_GETLK, F_WRLCK, SEEK_SET, 0, 1));
    T(fcntl(fd, F_SETLK, BAD_PTR));
    T(fcntl(fd, F_GETLK, BAD_PTR));
    T(fcntl(fd, F_OFD_SETLKW, BAD_PTR));
    T(fcntl(999, F_SETLK, BAD_PTR));
    T(fcntl(fd, F_GETLEASE));
    T(fcntl(fd, F_SETLEASE, 7));
    T(fcntl(ro, F_SETLEASE, F_UNLCK));
    /* F_GETLK leaves whence and start as written when nothing is in the way. */
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_END, .l_start = -3, .l_len = 2};
    T(fcntl(fd, F_GETLK, &l));
    printf("l_type %s l_whence %d l_start %ld l_len %ld\n", tname(l.l_type), l.l_whence, (long)l.l_start, (long)l.l_len);
    close(fd), close(ro), close(wo), close(o);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "exec-holder") == 0) {
        write(atoi(argv[2]), "x", 1);
        for (;;) pause();
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", errname(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/file", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    char block[100] = {0};
    write(fd, block, sizeof block);
    close(fd);
    flocks();
    records();
    waits();
    ofd();
    across_exec();
    errors();
    unlink(path);
    rmdir(dir);
    return 0;
}
