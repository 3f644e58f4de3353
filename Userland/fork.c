/* fork.c: processes: fork and copy-on-write, MAP_SHARED against MAP_PRIVATE after fork, a fork of a large
 * heap, pid relations, the fd table and open file descriptions after fork, vfork, wait status encodings,
 * wait4/waitpid/waitid selectors and options, orphans and a subreaper, PR_SET_PDEATHSIG, process groups and
 * sessions, kill with default actions, and SIGCHLD's default (ignore).
 *
 * Usage: fork FILE, where FILE is a readable regular file of at least 64 bytes (the tests pass the program's
 * own path). Pids are never printed, only relations between them. Children report through exit statuses,
 * pipes or shared memory, and the parent prints: stdout is flushed before every fork.
 */
#include "check.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

static int global = 1;

/* Prints how a wait status reads through the <sys/wait.h> macros. */
static void show_status(const char *what, int st) {
    printf("%s: WIFEXITED %d", what, WIFEXITED(st) ? 1 : 0);
    if (WIFEXITED(st)) printf(" WEXITSTATUS %d", WEXITSTATUS(st));
    printf(" WIFSIGNALED %d", WIFSIGNALED(st) ? 1 : 0);
    if (WIFSIGNALED(st)) printf(" WTERMSIG %d", WTERMSIG(st));
    printf(" WIFSTOPPED %d\n", WIFSTOPPED(st) ? 1 : 0);
}

/* Waits for `pid` and prints its status under `what`. */
static void reap(const char *what, pid_t pid) {
    int st = 0;
    pid_t r = waitpid(pid, &st, 0);
    if (r != pid) {
        printf("%s: waitpid %s\n", what, r == -1 ? errname(errno) : "returned another pid");
        return;
    }
    show_status(what, st);
}

/* A child that blocks reading `rfd` until every write end is closed, then exits with `code`. It closes every
 * other fd above 2, so that it holds no write end of another child's pipe. */
static pid_t blocked_child(int rfd, int wfd, int code) {
    pid_t pid = xfork();
    if (pid == 0) {
        (void)wfd;
        for (int fd = 3; fd < 64; fd++)
            if (fd != rfd) close(fd);
        char c;
        while (read(rfd, &c, 1) > 0) {
        }
        _exit(code);
    }
    return pid;
}

static void *shared_page(void) {
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        printf("mmap MAP_SHARED: %s\n", errname(errno));
        exit(1);
    }
    return p;
}

static void copy_on_write(void) {
    printf("-- copy on write: global, heap, stack\n");
    int *heap = malloc(sizeof *heap);
    volatile int stack = 1;
    *heap = 1;
    global = 1;
    int go[2], back[2];
    pipe(go);
    pipe(back);
    pid_t pid = xfork();
    if (pid == 0) {
        global = 2;
        *heap = 2;
        stack = 2;
        char c = 'w';
        write(back[1], &c, 1); /* the child has written */
        read(go[0], &c, 1);    /* the parent has written too */
        printf("child sees global %d heap %d stack %d\n", global, *heap, stack);
        fflush(stdout);
        _exit(0);
    }
    char c;
    read(back[0], &c, 1);
    printf("parent after the child's writes sees global %d heap %d stack %d\n", global, *heap, stack);
    global = 3;
    *heap = 3;
    stack = 3;
    fflush(stdout);
    write(go[1], &c, 1);
    reap("child", pid);
    printf("parent sees global %d heap %d stack %d\n", global, *heap, stack);
    close(go[0]), close(go[1]), close(back[0]), close(back[1]);
    free(heap);
}

static void shared_and_private(void) {
    printf("-- MAP_SHARED and MAP_PRIVATE anonymous memory\n");
    char *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *private = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(shared, "parent");
    strcpy(private, "parent");
    /* The second page of each is never touched before the fork. */
    pid_t pid = xfork();
    if (pid == 0) {
        strcpy(shared, "child");
        strcpy(private, "child");
        strcpy(shared + 4096, "child page 2");
        strcpy(private + 4096, "child page 2");
        _exit(0);
    }
    reap("child", pid);
    printf("MAP_SHARED after the child wrote: \"%s\", untouched page: \"%s\"\n", shared, shared + 4096);
    printf("MAP_PRIVATE after the child wrote: \"%s\", untouched page: \"%s\"\n", private, private + 4096);
    /* And the other way: the parent writes, the child reads. */
    strcpy(shared, "parent again");
    pid = xfork();
    if (pid == 0) _exit(strcmp(shared, "parent again") == 0 ? 0 : 1);
    reap("child reading the parent's MAP_SHARED write (0 = seen)", pid);
    munmap(shared, 8192);
    munmap(private, 8192);
}

static void big_heap(void) {
    printf("-- fork of a 64 MiB heap\n");
    const size_t size = 64 << 20, page = 4096, written = 16 << 20;
    unsigned char *p = malloc(size);
    if (!p) {
        printf("malloc 64 MiB: ENOMEM\n");
        return;
    }
    for (size_t i = 0; i < size; i += page) p[i] = (unsigned char)(i / page);
    pid_t pid = xfork();
    if (pid == 0) {
        /* Writes one byte per page of the first 16 MiB, then checks every page. */
        for (size_t i = 0; i < written; i += page) p[i] = 0xAA;
        for (size_t i = 0; i < size; i += page)
            if (p[i] != (i < written ? 0xAA : (unsigned char)(i / page))) _exit(1);
        _exit(0);
    }
    reap("child writing 16 MiB of it and checking all (0 = saw its own writes)", pid);
    int ok = 1;
    for (size_t i = 0; i < size; i += page)
        if (p[i] != (unsigned char)(i / page)) ok = 0;
    show_bool("parent sees its own values in every page", ok);
    free(p);
}

static void pids(void) {
    printf("-- pids\n");
    pid_t parent = getpid();
    pid_t *seen = shared_page();
    pid_t pid = xfork();
    if (pid == 0) {
        seen[0] = getpid();
        seen[1] = getppid();
        _exit(0);
    }
    reap("child", pid);
    show_bool("fork returned the child's getpid()", seen[0] == pid);
    show_bool("child's getppid() == parent's getpid()", seen[1] == parent);
    show_bool("child's pid differs from the parent's", seen[0] != parent);
    show_bool("gettid == getpid", syscall(SYS_gettid) == getpid());
    munmap(seen, 4096);
}

static void fd_sharing(const char *file) {
    printf("-- fds after fork\n");
    int fd = open(file, O_RDONLY);
    show("open FILE", fd);
    char expected[64], got[64];
    pread(fd, expected, sizeof expected, 0);
    pid_t pid = xfork();
    if (pid == 0) {
        char buf[10];
        if (read(fd, buf, 10) != 10) _exit(1);
        fcntl(fd, F_SETFL, O_NONBLOCK);       /* file status flags are shared */
        fcntl(fd, F_SETFD, FD_CLOEXEC);       /* fd flags are not */
        int other = open(file, O_RDONLY);     /* the parent's table is not the child's */
        _exit(other == fd + 1 ? 0 : 2);
    }
    reap("child reading 10 bytes", pid);
    T(lseek(fd, 0, SEEK_CUR));
    ssize_t n = read(fd, got, 4);
    show_bool("parent's next read continues after the child's bytes", n == 4 && memcmp(got, expected + 10, 4) == 0);
    T(lseek(fd, 0, SEEK_CUR));
    show_bool("O_NONBLOCK set by the child is seen by the parent", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    show_bool("FD_CLOEXEC set by the child is not", (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    T(fcntl(fd + 1, F_GETFD)); /* the fd the child opened is not in the parent */

    /* The child closing its copy leaves the parent's open. */
    pid = xfork();
    if (pid == 0) _exit(close(fd) == 0 ? 0 : 1);
    reap("child closing the fd", pid);
    T(lseek(fd, 0, SEEK_CUR));
    /* A seek in the child moves the parent's offset too. */
    pid = xfork();
    if (pid == 0) _exit(lseek(fd, 42, SEEK_SET) == 42 ? 0 : 1);
    reap("child seeking to 42", pid);
    T(lseek(fd, 0, SEEK_CUR));
    close(fd);
}

static void vfork_semantics(void) {
    printf("-- vfork\n");
    volatile int *flag = shared_page();
    *flag = 0;
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0) {
        /* The parent is suspended: even after a sleep, the flag is set before it runs again. */
        sleep_ms(50);
        *flag = 1;
        _exit(7);
    }
    show_bool("vfork returned a pid", pid > 0);
    show_bool("parent resumed after the child's _exit (flag set)", *flag == 1);
    reap("vfork child", pid);
    munmap((void *)flag, 4096);
}

static void statuses(void) {
    printf("-- wait status encodings\n");
    static const int codes[] = {0, 3, 255, 256 + 5};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        pid_t pid = xfork();
        if (pid == 0) exit(codes[i]);
        char what[32];
        snprintf(what, sizeof what, "exit(%d)", codes[i]);
        reap(what, pid);
    }
    pid_t pid = xfork();
    if (pid == 0) syscall(SYS_exit_group, 9);
    reap("exit_group(9)", pid);
    static const int sigs[] = {SIGKILL, SIGTERM, SIGINT, SIGUSR1, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        pid = xfork();
        if (pid == 0) {
            kill(getpid(), sigs[i]);
            _exit(100);
        }
        char what[48];
        snprintf(what, sizeof what, "kill(self, %d)", sigs[i]);
        reap(what, pid);
    }
    pid = xfork();
    if (pid == 0) {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        *(volatile int *)0 = 1;
        _exit(100);
    }
    reap("null write", pid);
    /* Killed by the parent while blocked in read. */
    int p[2];
    pipe(p);
    pid = blocked_child(p[0], p[1], 0);
    T(kill(pid, SIGTERM));
    reap("blocked child killed with SIGTERM", pid);
    pid = blocked_child(p[0], p[1], 0);
    T(kill(pid, SIGKILL));
    reap("blocked child killed with SIGKILL", pid);
    close(p[0]), close(p[1]);
}

static void waiting(void) {
    printf("-- waitpid, wait4, waitid\n");
    int p[2], st = 0;
    pipe(p);
    pid_t pid = blocked_child(p[0], p[1], 6);
    T(waitpid(pid, &st, WNOHANG));
    T(waitpid(-1, &st, WNOHANG));
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_pid = 12345;
    T(waitid(P_PID, pid, &info, WEXITED | WNOHANG));
    show_bool("waitid WNOHANG on a running child zeroes si_pid", info.si_pid == 0);
    T(kill(pid, 0));
    close(p[1]); /* the child reads EOF and exits 6 */
    memset(&info, 0, sizeof info);
    T(waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
    printf("waitid WNOWAIT: si_signo %d si_code %s si_status %d si_pid is the child: %s\n", info.si_signo,
           info.si_code == CLD_EXITED ? "CLD_EXITED" : "other", info.si_status, info.si_pid == pid ? "yes" : "no");
    T(kill(pid, 0)); /* a zombie still exists */
    memset(&info, 0, sizeof info);
    T(waitid(P_ALL, 0, &info, WEXITED | WNOWAIT));
    show_bool("waitid P_ALL WNOWAIT sees it again", info.si_pid == pid);
    memset(&info, 0, sizeof info);
    T(waitid(P_PID, pid, &info, WEXITED));
    printf("waitid: si_code %s si_status %d\n", info.si_code == CLD_EXITED ? "CLD_EXITED" : "other",
           info.si_status);
    T(waitid(P_PID, pid, &info, WEXITED));
    T(kill(pid, 0)); /* reaped: gone */
    close(p[0]);

    /* waitid for a killed child */
    pid = xfork();
    if (pid == 0) {
        kill(getpid(), SIGTERM);
        _exit(100);
    }
    memset(&info, 0, sizeof info);
    T(waitid(P_PID, pid, &info, WEXITED));
    printf("waitid of a killed child: si_code %s si_status %d\n",
           info.si_code == CLD_KILLED ? "CLD_KILLED" : info.si_code == CLD_DUMPED ? "CLD_DUMPED" : "other",
           info.si_status);

    /* wait4 with rusage */
    pid = xfork();
    if (pid == 0) _exit(11);
    struct rusage ru;
    memset(&ru, 0xff, sizeof ru);
    show_bool("wait4 with rusage returns the pid", wait4(pid, &st, 0, &ru) == pid);
    show_status("wait4", st);
    show_bool("rusage times are sane", ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec >= 0
              && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec >= 0 && ru.ru_stime.tv_usec < 1000000);
    pid = xfork();
    if (pid == 0) _exit(12);
    show_bool("wait4 with a NULL status", wait4(pid, NULL, 0, NULL) == pid);

    /* errors */
    T(wait(&st));
    T(waitpid(-1, &st, WNOHANG));
    T(waitpid(getpid(), &st, 0));
    T(waitpid(0x3fffffff, &st, 0));
    T(waitpid(-1, &st, 0x40000));
    T(waitid(P_ALL, 0, &info, 0));
    T(waitid(P_ALL, 0, &info, WEXITED));
    T(waitid(7, 0, &info, WEXITED));
    pid = xfork();
    if (pid == 0) _exit(0);
    T(waitpid(pid, BAD_PTR, 0));
    show_bool("after EFAULT the child is reaped anyway", waitpid(pid, &st, WNOHANG) == -1 && errno == ECHILD);
}

static void selectors(void) {
    printf("-- waitpid selectors: pid, any, process group\n");
    int st, ga[2], gb[2];
    pipe(ga);
    pipe(gb);
    pid_t a = blocked_child(ga[0], ga[1], 1);
    pid_t b = blocked_child(gb[0], gb[1], 2);
    close(ga[0]), close(gb[0]);
    close(gb[1]); /* b exits */
    show_bool("waitpid(b) returns b", waitpid(b, &st, 0) == b);
    show_status("b", st);
    close(ga[1]); /* a exits */
    show_bool("waitpid(-1) returns a", waitpid(-1, &st, 0) == a);
    show_status("a", st);

    /* c leads its own group; d joins it; e stays in ours. */
    int gc[2];
    pipe(gc);
    pid_t c = xfork();
    if (c == 0) {
        setpgid(0, 0);
        close(gc[1]);
        char ch;
        while (read(gc[0], &ch, 1) > 0) {
        }
        _exit(3);
    }
    setpgid(c, c); /* both sides, as shells do: whichever runs first */
    pid_t d = xfork();
    if (d == 0) {
        setpgid(0, c);
        close(gc[1]);
        char ch;
        while (read(gc[0], &ch, 1) > 0) {
        }
        _exit(4);
    }
    setpgid(d, c);
    int ge[2];
    pipe(ge);
    pid_t e = blocked_child(ge[0], ge[1], 5);
    close(ge[0]);
    close(gc[0]);
    show_bool("getpgid(c) == c", getpgid(c) == c);
    show_bool("getpgid(d) == c", getpgid(d) == c);
    show_bool("getpgid(e) == ours", getpgid(e) == getpgrp());
    T(waitpid(-c, &st, WNOHANG));
    T(kill(-c, 0));
    close(gc[1]); /* c and d exit */
    int codes = 0;
    for (int i = 0; i < 2; i++) {
        pid_t r = waitpid(-c, &st, 0);
        if ((r == c || r == d) && WIFEXITED(st)) codes += WEXITSTATUS(st);
    }
    printf("waitpid(-c) twice reaped c and d: %s\n", codes == 7 ? "yes" : "no");
    T(waitpid(-c, &st, 0));
    T(kill(-c, 0));
    T(waitpid(0, &st, WNOHANG)); /* e, in our group, still runs */
    close(ge[1]);
    show_bool("waitpid(0) returns e", waitpid(0, &st, 0) == e);
    show_status("e", st);

    /* kill to a group */
    int gk[2];
    pipe(gk);
    pid_t k1 = xfork();
    if (k1 == 0) {
        setpgid(0, 0);
        close(gk[1]);
        char ch;
        read(gk[0], &ch, 1);
        _exit(0);
    }
    setpgid(k1, k1);
    pid_t k2 = xfork();
    if (k2 == 0) {
        setpgid(0, k1);
        close(gk[1]);
        char ch;
        read(gk[0], &ch, 1);
        _exit(0);
    }
    setpgid(k2, k1);
    close(gk[0]);
    T(kill(-k1, SIGKILL));
    reap("group member 1 after kill(-pgid, SIGKILL)", k1);
    reap("group member 2", k2);
    close(gk[1]);
}

static void sessions(void) {
    printf("-- process groups and sessions\n");
    pid_t parent_sid = getsid(0), parent_pgrp = getpgrp();
    show_bool("getpgid(0) == getpgrp()", getpgid(0) == parent_pgrp);
    show_bool("getsid(getpid()) == getsid(0)", getsid(getpid()) == parent_sid);
    T(getsid(0x3fffffff));
    T(getpgid(0x3fffffff));
    T(setpgid(0, -1));
    T(setpgid(0x3fffffff, 0));
    int *r = shared_page();
    int go[2], back[2];
    pipe(go);
    pipe(back);
    pid_t pid = xfork();
    if (pid == 0) {
        r[0] = getpgrp() == parent_pgrp;
        r[1] = getsid(0) == parent_sid;
        r[2] = setsid() == getpid();
        r[3] = getsid(0) == getpid();
        r[4] = getpgrp() == getpid();
        errno = 0;
        r[5] = setsid() == -1 ? errno : 0;
        errno = 0;
        r[6] = setpgid(0, parent_pgrp) == -1 ? errno : 0;
        r[7] = getsid(getppid()) == parent_sid;
        char c = 'x';
        write(back[1], &c, 1);
        read(go[0], &c, 1);
        _exit(0);
    }
    char c;
    read(back[0], &c, 1);
    show_bool("child starts in the parent's group", r[0]);
    show_bool("child starts in the parent's session", r[1]);
    show_bool("child's setsid() returns its pid", r[2]);
    show_bool("then getsid(0) == its pid", r[3]);
    show_bool("then getpgrp() == its pid", r[4]);
    printf("child's second setsid(): %s\n", errname(r[5]));
    printf("child's setpgid into the parent's group from another session: %s\n", errname(r[6]));
    show_bool("child sees the parent's session unchanged", r[7]);
    show_bool("parent sees getsid(child) == child", getsid(pid) == pid);
    T(setpgid(pid, pid)); /* the child is in another session now */
    write(go[1], &c, 1);
    reap("session leader child", pid);

    /* A group leader cannot setsid. */
    pid = xfork();
    if (pid == 0) {
        setpgid(0, 0);
        errno = 0;
        _exit(setsid() == -1 ? (errno == EPERM ? 0 : 1) : 2);
    }
    reap("group leader's setsid (0 = EPERM)", pid);
    /* setpgid after the child exec'd is EACCES: in exec.c. */
    close(go[0]), close(go[1]), close(back[0]), close(back[1]);
    munmap(r, 4096);
}

static void orphans(void) {
    printf("-- orphans, subreaper, PR_SET_PDEATHSIG\n");
    pid_t me = getpid();
    T(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    int v = -1;
    T(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
    printf("PR_GET_CHILD_SUBREAPER: %d\n", v);
    pid_t *r = shared_page();
    int seen[2];
    pipe(seen);
    pid_t middle = xfork();
    if (middle == 0) {
        pid_t mid = getpid();
        pid_t grandchild = xfork();
        if (grandchild == 0) {
            r[0] = getppid() == mid;
            char c = 's';
            write(seen[1], &c, 1); /* the middle process exits only after this */
            /* wait up to 10 s for the parent to die */
            for (int i = 0; i < 10000 && getppid() == mid; i++) sleep_ms(1);
            r[1] = getppid() != mid;
            r[2] = getppid() == me;
            _exit(0);
        }
        r[3] = grandchild;
        char c;
        read(seen[0], &c, 1);
        _exit(8);
    }
    close(seen[0]), close(seen[1]);
    reap("middle", middle);
    pid_t g = waitpid(-1, NULL, 0);
    show_bool("the orphan was reaped by the subreaper", g == r[3]);
    show_bool("orphan's getppid() was the middle process", r[0]);
    show_bool("orphan's getppid() changed away from the dead parent", r[1]);
    show_bool("orphan's new getppid() is the subreaper", r[2]);

    /* PR_SET_PDEATHSIG: the grandchild dies of SIGTERM when its parent exits. */
    int block[2], ready[2];
    pipe(block);
    pipe(ready);
    middle = xfork();
    if (middle == 0) {
        pid_t grandchild = xfork();
        if (grandchild == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
            int s = -1;
            prctl(PR_GET_PDEATHSIG, &s, 0, 0, 0);
            r[4] = s;
            close(block[1]);
            char c = 'r';
            write(ready[1], &c, 1);
            read(block[0], &c, 1);
            _exit(0);
        }
        r[3] = grandchild;
        char c;
        read(ready[0], &c, 1);
        _exit(0);
    }
    close(block[0]);
    reap("middle", middle);
    close(block[1]);
    printf("PR_GET_PDEATHSIG in the grandchild: %d\n", r[4]);
    reap("grandchild with PR_SET_PDEATHSIG SIGTERM after its parent exited", r[3]);
    close(ready[0]), close(ready[1]);
    /* The flag is not inherited by children. */
    pid_t pid = xfork();
    if (pid == 0) {
        int s = -1;
        prctl(PR_GET_CHILD_SUBREAPER, &s, 0, 0, 0);
        _exit(s);
    }
    reap("PR_GET_CHILD_SUBREAPER in a child", pid);
    munmap(r, 4096);
}

static void names(void) {
    printf("-- PR_SET_NAME\n");
    char name[32] = {0};
    T(prctl(PR_SET_NAME, "fork-test-name-that-is-long", 0, 0, 0));
    T(prctl(PR_GET_NAME, name, 0, 0, 0));
    printf("PR_GET_NAME: \"%s\"\n", name);
    int p[2];
    pipe(p);
    pid_t pid = xfork();
    if (pid == 0) {
        char n[32] = {0};
        prctl(PR_GET_NAME, n, 0, 0, 0);
        write(p[1], n, 16);
        _exit(0);
    }
    reap("child", pid);
    memset(name, 0, sizeof name);
    read(p[0], name, 16);
    printf("child's PR_GET_NAME: \"%s\"\n", name);
    close(p[0]), close(p[1]);
}

static void kills(void) {
    printf("-- kill and SIGCHLD\n");
    pid_t pid = xfork();
    if (pid == 0) _exit(0);
    reap("child", pid);
    T(kill(pid, 0));
    T(kill(pid, SIGTERM));
    T(kill(getpid(), 0));
    T(kill(getpid(), 65));
    T(kill(0x3fffffff, 0));

    /* SIGCHLD's default is to ignore: the parent goes on, and nothing stays pending. */
    sigset_t pending;
    pid = xfork();
    if (pid == 0) _exit(0);
    siginfo_t info;
    waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
    struct timespec t = {0, 10000000};
    T(nanosleep(&t, NULL));
    sigpending(&pending);
    show_bool("SIGCHLD pending after a child exit (unblocked, default)", sigismember(&pending, SIGCHLD));
    reap("child", pid);
    /* Blocked, it stays pending. */
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    pid = xfork();
    if (pid == 0) _exit(0);
    reap("child", pid);
    sigpending(&pending);
    show_bool("SIGCHLD pending after a child exit (blocked)", sigismember(&pending, SIGCHLD));
    sigprocmask(SIG_SETMASK, &old, NULL);
    sigpending(&pending);
    show_bool("SIGCHLD pending after unblocking it", sigismember(&pending, SIGCHLD));
    printf("parent still running: yes\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fork FILE\n");
        return 2;
    }
    copy_on_write();
    shared_and_private();
    big_heap();
    pids();
    fd_sharing(argv[1]);
    vfork_semantics();
    statuses();
    waiting();
    selectors();
    sessions();
    orphans();
    names();
    kills();
    int st;
    T_OK(wait(&st));
    printf("done\n");
    return 0;
}
