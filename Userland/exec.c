/* exec.c: execve and execveat: of an ELF binary (this program again, in a helper mode), of `#!` scripts with
 * and without an interpreter argument, chains of scripts, every error case (ENOENT, EACCES, ENOEXEC, ENOTDIR,
 * E2BIG, ELOOP, EFAULT), NULL argv and envp, what the new image inherits (pid, fds without FD_CLOEXEC and
 * their offsets, ignored signals, the signal mask) and what it does not (FD_CLOEXEC fds, signal handlers),
 * vfork followed by exec, and setpgid on a child that has exec'd.
 *
 * Usage: exec DIR, where DIR is Userland/scripts/exec (absolute), which holds the scripts, the non-executable
 * file and the symlinks this program executes. It chdirs there and executes them by relative paths, so
 * nothing printed depends on where the package lives. Helper modes, chosen by the environment variable
 * EXEC_MODE, are what the new images run:
 *   show        prints argc, argv and the environment
 *   comm        prints PR_GET_NAME
 *   fds N...    prints for each fd N whether it is open, FD_CLOEXEC, and its offset
 *   sigs        prints the dispositions of a few signals, and which are blocked and pending
 *   exit N      exits with status N
 *   wait N      reads fd N to its end, then exits 0
 * With no EXEC_MODE and no argument it prints argc, argv[0] and the size of its environment (the new image of
 * an execve with a NULL argv or a NULL envp).
 */
#include "check.h"
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

static char self[PATH_MAX];

static void print_quoted(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\x%02x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* The helper modes, run in the new image. */
static int helper(const char *mode, int argc, char **argv) {
    if (strcmp(mode, "show") == 0) {
        size_t total = 0;
        for (int i = 0; i < argc; i++) total += strlen(argv[i]) + 1;
        printf("  new image: argc %d, argv bytes %zu\n", argc, total);
        if (argc <= 8) {
            for (int i = 0; i < argc; i++) {
                printf("  argv[%d] = ", i);
                if (strlen(argv[i]) > 64)
                    printf("(%zu bytes)", strlen(argv[i]));
                else
                    print_quoted(argv[i]);
                putchar('\n');
            }
        }
        printf("  argv[argc] is NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
        for (char **e = environ; *e; e++) {
            if (strncmp(*e, "EXEC_PID=", 9) == 0) continue; /* a pid: compared below */
            printf("  env ");
            print_quoted(*e);
            putchar('\n');
        }
        const char *pid = getenv("EXEC_PID");
        if (pid) printf("  same pid as before the exec: %s\n", atol(pid) == (long)getpid() ? "yes" : "no");
        return 0;
    }
    if (strcmp(mode, "comm") == 0) {
        char name[32] = {0};
        prctl(PR_GET_NAME, name, 0, 0, 0);
        printf("  new image: PR_GET_NAME \"%s\"\n", name);
        return 0;
    }
    if (strcmp(mode, "fds") == 0) {
        for (int i = 1; i < argc; i++) {
            int fd = atoi(argv[i]);
            int flags = fcntl(fd, F_GETFD);
            if (flags == -1) {
                printf("  new image: fd %d: %s\n", fd, errname(errno));
                continue;
            }
            printf("  new image: fd %d: open%s", fd, flags & FD_CLOEXEC ? " FD_CLOEXEC" : "");
            if (fd > 2) printf(", offset %ld", (long)lseek(fd, 0, SEEK_CUR)); /* 0-2 differ: pipes, console */
            printf("\n");
        }
        return 0;
    }
    if (strcmp(mode, "sigs") == 0) {
        static const struct { int sig; const char *name; } sigs[] = {
            {SIGINT, "SIGINT"}, {SIGQUIT, "SIGQUIT"}, {SIGTERM, "SIGTERM"}, {SIGUSR1, "SIGUSR1"},
            {SIGUSR2, "SIGUSR2"}, {SIGCHLD, "SIGCHLD"}, {SIGPIPE, "SIGPIPE"}, {SIGHUP, "SIGHUP"},
        };
        sigset_t blocked, pending;
        sigprocmask(SIG_BLOCK, NULL, &blocked);
        sigpending(&pending);
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
            struct sigaction sa;
            sigaction(sigs[i].sig, NULL, &sa);
            const char *d = sa.sa_handler == SIG_DFL ? "SIG_DFL" : sa.sa_handler == SIG_IGN ? "SIG_IGN" : "handler";
            printf("  new image: %s %s%s%s\n", sigs[i].name, d,
                   sigismember(&blocked, sigs[i].sig) ? " blocked" : "",
                   sigismember(&pending, sigs[i].sig) ? " pending" : "");
        }
        return 0;
    }
    if (strcmp(mode, "exit") == 0) return argc > 1 ? atoi(argv[1]) : 0;
    if (strcmp(mode, "wait") == 0) {
        int fd = argc > 1 ? atoi(argv[1]) : 0;
        char c;
        while (read(fd, &c, 1) > 0) {
        }
        return 0;
    }
    fprintf(stderr, "exec: unknown EXEC_MODE %s\n", mode);
    return 2;
}

static void show_status(int st) {
    if (WIFEXITED(st))
        printf("  status: exit %d\n", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("  status: signal %d\n", WTERMSIG(st));
    else
        printf("  status: other 0x%x\n", st);
}

static void reap(pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        printf("  waitpid: %s\n", errname(errno));
        return;
    }
    show_status(st);
}

/* Runs execve(path, argv, envp) in a child; the child prints the errno of a failed exec and exits 127. */
static void run(const char *what, const char *path, char *const argv[], char *const envp[]) {
    printf("%s\n", what);
    pid_t pid = xfork();
    if (pid == 0) {
        execve(path, argv, envp);
        printf("  execve: %s\n", errname(errno));
        fflush(stdout);
        _exit(127);
    }
    reap(pid);
}

/* The same with execveat(dirfd, path, argv, envp, flags). */
static void run_at(const char *what, int dirfd, const char *path, char *const argv[], char *const envp[],
                   int flags) {
    printf("%s\n", what);
    pid_t pid = xfork();
    if (pid == 0) {
        syscall(SYS_execveat, dirfd, path, argv, envp, flags);
        printf("  execveat: %s\n", errname(errno));
        fflush(stdout);
        _exit(127);
    }
    reap(pid);
}

/* execve in this process, which must fail: prints the errno. */
static void fails(const char *what, const void *path, const void *argv, const void *envp) {
    fflush(stdout);
    errno = 0;
    long r = syscall(SYS_execve, path, argv, envp);
    printf("%s: %s\n", what, r == -1 ? errname(errno) : "returned");
}

static void on_signal(int sig) { (void)sig; }

int main(int argc, char **argv) {
    const char *mode = getenv("EXEC_MODE");
    if (mode) return helper(mode, argc, argv);
    if (argc < 2) {
        printf("  new image without a mode: argc %d, argv[0] ", argc);
        if (argc > 0)
            print_quoted(argv[0]);
        else
            printf("(none)");
        int n = 0;
        for (char **e = environ; e && *e; e++) n++;
        printf(", %d environment strings\n", n);
        return 0;
    }
    if (!realpath(argv[0], self)) {
        printf("realpath of argv[0]: %s\n", errname(errno));
        return 1;
    }
    if (chdir(argv[1]) != 0) {
        printf("chdir %s: %s\n", argv[1], errname(errno));
        return 1;
    }
    /* E2BIG depends on the stack limit: a quarter of it (at most 6 MiB) for argv and envp together. */
    struct rlimit stack;
    getrlimit(RLIMIT_STACK, &stack);
    stack.rlim_cur = 8 << 20;
    T_OK(setrlimit(RLIMIT_STACK, &stack));

    char pidenv[32];
    snprintf(pidenv, sizeof pidenv, "EXEC_PID=%ld", (long)getpid());

    printf("-- execve of an ELF binary\n");
    {
        char *av[] = {"first", "two words", "", "tab\there", "-x", NULL};
        char *ev[] = {"EXEC_MODE=show", "A=1", "EMPTY=", "=weird", "noequals", NULL};
        run("argv and envp reach the new image", self, av, ev);
        char *av2[] = {"show", NULL};
        char *ev2[] = {"EXEC_MODE=show", NULL};
        run("no environment but the mode", self, av2, ev2);
        char *ev3[] = {"EXEC_MODE=comm", NULL};
        run("the name of the new image", self, av2, ev3);
    }
    {
        /* The pid stays: the child passes its own pid in the environment. */
        printf("the pid after exec\n");
        pid_t pid = xfork();
        if (pid == 0) {
            snprintf(pidenv, sizeof pidenv, "EXEC_PID=%ld", (long)getpid());
            char *av[] = {"pid", NULL};
            char *ev[] = {"EXEC_MODE=show", pidenv, NULL};
            execve(self, av, ev);
            _exit(127);
        }
        reap(pid);
    }
    {
        char *av[] = {"exit", "42", NULL};
        char *ev[] = {"EXEC_MODE=exit", NULL};
        run("the new image's exit status", self, av, ev);
    }

    printf("-- NULL argv and envp\n");
    {
        char *ev[] = {"EXEC_MODE=show", NULL};
        run("argv NULL", self, NULL, ev);
        char *empty[] = {NULL};
        run("argv empty", self, empty, ev);
        char *av[] = {"nothing", NULL};
        run("envp NULL", self, av, NULL);
        run("envp empty", self, av, empty);
    }

    printf("-- #! scripts\n");
    {
        char *av[] = {"echo-script", "a", "b c", NULL};
        char *ev[] = {NULL};
        run("#!/bin/echo", "./echo-script", av, ev);
        run("#!/bin/echo through a symlink", "./echo-link", av, ev);
        char *av2[] = {"ignored-argv0", "one", "two", NULL};
        run("#!/usr/bin/printf with an interpreter argument", "./printf-script", av2, ev);
        run("#! with blanks around the interpreter and its argument", "./spaces-script", av2, ev);
        char *av3[] = {"x", NULL};
        run("a script by a relative path without ./", "echo-script", av3, ev);
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/echo-script", argv[1]);
        printf("a script by its absolute path\n");
        pid_t pid = xfork();
        if (pid == 0) {
            /* The interpreter sees the absolute path: print only its last component. */
            int p[2];
            pipe(p);
            pid_t inner = fork();
            if (inner == 0) {
                dup2(p[1], 1);
                execve(path, av3, ev);
                _exit(127);
            }
            close(p[1]);
            char buf[PATH_MAX + 64] = {0};
            ssize_t n = 0, r;
            while ((r = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) n += r;
            printf("  the interpreter got the path as given: %s\n",
                   strncmp(buf, path, strlen(path)) == 0 ? "yes" : "no");
            fflush(stdout);
            int st;
            waitpid(inner, &st, 0);
            _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128);
        }
        reap(pid);
    }
    printf("-- chains of #! scripts\n");
    for (int n = 1; n <= 7; n++) {
        char name[16], what[32];
        snprintf(name, sizeof name, "./chain%d", n);
        snprintf(what, sizeof what, "chain of %d", n);
        char *av[] = {name, "arg", NULL};
        char *ev[] = {NULL};
        run(what, name, av, ev);
    }

    printf("-- errors\n");
    {
        char *av[] = {"x", NULL};
        char *ev[] = {NULL};
        fails("empty path", "", av, ev);
        fails("missing file", "./missing", av, ev);
        fails("missing directory", "./missing/x", av, ev);
        fails("a path through a regular file", "./noexec.txt/x", av, ev);
        fails("a file without execute permission", "./noexec.txt", av, ev);
        fails("a directory", ".", av, ev);
        fails("a directory by absolute path", "/usr", av, ev);
        fails("text without #!", "./garbage", av, ev);
        fails("an empty file", "./empty", av, ev);
        fails("an ELF magic number with garbage", "./bad-elf", av, ev);
        fails("#! with a missing interpreter", "./bad-interp", av, ev);
        fails("#! with a non-executable interpreter", "./noexec-interp", av, ev);
        fails("#! with no interpreter", "./empty-interp", av, ev);
        fails("#! with only blanks", "./blank-interp", av, ev);
        fails("#! with a directory as interpreter", "./dir-interp", av, ev);
        fails("#! naming itself", "./self-loop", av, ev);
        fails("a symlink loop", "./loop", av, ev);
        fails("a bad path pointer", BAD_PTR, av, ev);
        fails("a bad argv pointer", self, BAD_PTR, ev);
        char *badarg[] = {"x", BAD_PTR, NULL};
        fails("a bad argv string", self, badarg, ev);
        fails("a bad envp pointer", self, av, BAD_PTR);
        char *badenv[] = {"A=1", BAD_PTR, NULL};
        fails("a bad envp string", self, av, badenv);
        printf("still the same process after failed execs: yes\n");
    }

    printf("-- E2BIG\n");
    {
        char *ev[] = {"EXEC_MODE=show", NULL};
        /* One string: at most 32 pages (131072 bytes) with its NUL. */
        char *big = malloc((1 << 17) + 1);
        memset(big, 'a', 1 << 17);
        big[1 << 17] = 0;
        char *av[] = {"one", big, NULL};
        fails("one argument of 131072 bytes and its NUL", self, av, ev);
        char *evbig[] = {"EXEC_MODE=show", big, NULL};
        fails("one environment string of 131072 bytes and its NUL", self, av + 1, evbig);
        big[(1 << 17) - 1] = 0;
        run("one argument of 131071 bytes and its NUL", self, av, ev);
        /* Many: 3 MiB in 30 strings of 100 KiB is over 2 MiB; 1.5 MiB in 15 is not. */
        big[100 * 1024] = 0;
        char *many[32];
        many[0] = "many";
        for (int i = 1; i <= 30; i++) many[i] = big;
        many[31] = NULL;
        fails("30 arguments of 100 KiB", self, many, ev);
        many[16] = NULL;
        run("15 arguments of 100 KiB", self, many, ev);
        /* Many small strings: 100000 empty arguments. */
        char **empties = malloc(100002 * sizeof *empties);
        empties[0] = "empties";
        for (int i = 1; i <= 100000; i++) empties[i] = "";
        empties[100001] = NULL;
        run("100000 empty arguments", self, empties, ev);
        /* 300000 pointers alone are 2.3 MiB. */
        char **lots = malloc(300002 * sizeof *lots);
        lots[0] = "lots";
        for (int i = 1; i <= 300000; i++) lots[i] = "";
        lots[300001] = NULL;
        fails("300000 empty arguments", self, lots, ev);
        free(lots);
        free(empties);
        free(big);
    }

    printf("-- close-on-exec\n");
    {
        int plain = open("noexec.txt", O_RDONLY);
        int cloexec = open("noexec.txt", O_RDONLY | O_CLOEXEC);
        int dupped = fcntl(plain, F_DUPFD_CLOEXEC, 20);
        int dupped2 = dup2(cloexec, 21); /* dup2 clears FD_CLOEXEC on the new fd */
        int p[2];
        pipe2(p, O_CLOEXEC);
        int q[2];
        pipe(q);
        fcntl(q[0], F_SETFD, FD_CLOEXEC);
        lseek(plain, 5, SEEK_SET);
        lseek(cloexec, 7, SEEK_SET);
        printf("fds: plain %d, O_CLOEXEC %d, F_DUPFD_CLOEXEC %d, dup2 of O_CLOEXEC %d, pipe2 O_CLOEXEC %d %d, "
               "pipe %d (F_SETFD FD_CLOEXEC) %d\n", plain, cloexec, dupped, dupped2, p[0], p[1], q[0], q[1]);
        char a[8][8];
        char *av[12] = {"fds", "0", "1", "2"};
        int fds[] = {plain, cloexec, dupped, dupped2, p[0], p[1], q[0], q[1]};
        for (int i = 0; i < 8; i++) {
            snprintf(a[i], sizeof a[i], "%d", fds[i]);
            av[4 + i] = a[i];
        }
        av[11] = NULL; /* q[1] is left out: 4 + 7 */
        char *ev[] = {"EXEC_MODE=fds", NULL};
        run("the fds in the new image", self, av, ev);
        for (int i = 0; i < 8; i++) close(fds[i]);

        /* The parent learns that the child exec'd when the O_CLOEXEC write end closes. */
        printf("setpgid on a child that has exec'd\n");
        int execd[2], block[2];
        pipe2(execd, O_CLOEXEC);
        pipe(block);
        pid_t pid = xfork();
        if (pid == 0) {
            close(block[1]);
            char fd[8];
            snprintf(fd, sizeof fd, "%d", block[0]);
            char *wav[] = {"wait", fd, NULL};
            char *wev[] = {"EXEC_MODE=wait", NULL};
            execve(self, wav, wev);
            _exit(127);
        }
        close(execd[1]);
        close(block[0]);
        char c;
        show("  read of the O_CLOEXEC pipe (EOF at the exec)", read(execd[0], &c, 1));
        errno = 0;
        show("  setpgid(child, child)", setpgid(pid, pid));
        close(block[1]);
        reap(pid);
        close(execd[0]);
    }

    printf("-- signal dispositions across exec\n");
    {
        pid_t pid = xfork();
        if (pid == 0) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_signal;
            sigaction(SIGTERM, &sa, NULL);
            sa.sa_flags = SA_RESTART;
            sigaction(SIGQUIT, &sa, NULL);
            signal(SIGINT, SIG_IGN);
            signal(SIGCHLD, SIG_IGN);
            signal(SIGPIPE, SIG_IGN);
            signal(SIGHUP, on_signal);
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, SIGUSR2);
            sigaddset(&set, SIGHUP);
            sigprocmask(SIG_BLOCK, &set, NULL);
            kill(getpid(), SIGUSR2); /* blocked: stays pending across the exec */
            char *av[] = {"sigs", NULL};
            char *ev[] = {"EXEC_MODE=sigs", NULL};
            execve(self, av, ev);
            _exit(127);
        }
        reap(pid);
    }

    printf("-- vfork and exec\n");
    {
        fflush(stdout);
        char *av[] = {"exit", "5", NULL};
        char *ev[] = {"EXEC_MODE=exit", NULL};
        pid_t pid = vfork();
        if (pid == 0) {
            execve(self, av, ev);
            _exit(127);
        }
        printf("vfork then execve\n");
        reap(pid);
        pid = vfork();
        if (pid == 0) {
            execve("./missing", av, ev);
            _exit(errno);
        }
        printf("vfork then a failing execve, the child exits with its errno (ENOENT is %d)\n", ENOENT);
        reap(pid);
    }

    printf("-- execveat\n");
    {
        char *ev[] = {"EXEC_MODE=show", NULL};
        char *noev[] = {NULL};
        char *av[] = {"at", "x", NULL};
        int dir = open(".", O_RDONLY | O_DIRECTORY);
        run_at("execveat(dir, \"echo-script\", 0)", dir, "echo-script", av, noev, 0);
        run_at("execveat(AT_FDCWD, \"echo-script\", 0)", AT_FDCWD, "echo-script", av, noev, 0);
        int fd = open(self, O_RDONLY | O_CLOEXEC);
        run_at("execveat(fd of the binary, \"\", AT_EMPTY_PATH)", fd, "", av, ev, AT_EMPTY_PATH);
        close(fd);
        fd = open(self, O_PATH | O_CLOEXEC);
        run_at("execveat(O_PATH fd of the binary, \"\", AT_EMPTY_PATH)", fd, "", av, ev, AT_EMPTY_PATH);
        close(fd);
        fd = open("echo-script", O_RDONLY);
        printf("echo-script is open as fd %d\n", fd);
        run_at("execveat(fd of a script, \"\", AT_EMPTY_PATH): the interpreter gets /dev/fd/N", fd, "", av, noev,
               AT_EMPTY_PATH);
        close(fd);
        fd = open("echo-script", O_RDONLY | O_CLOEXEC);
        run_at("execveat(O_CLOEXEC fd of a script, \"\", AT_EMPTY_PATH)", fd, "", av, noev, AT_EMPTY_PATH);
        run_at("execveat(fd, \"\", 0)", fd, "", av, noev, 0);
        close(fd);
        run_at("execveat(AT_FDCWD, \"echo-link\", AT_SYMLINK_NOFOLLOW)", AT_FDCWD, "echo-link", av, noev,
               AT_SYMLINK_NOFOLLOW);
        run_at("execveat(AT_FDCWD, \"echo-script\", 0x1)", AT_FDCWD, "echo-script", av, noev, 1);
        run_at("execveat(999, \"echo-script\", 0)", 999, "echo-script", av, noev, 0);
        run_at("execveat(dir, \"noexec.txt/x\", 0)", dir, "noexec.txt/x", av, noev, 0);
        close(dir);
    }
    printf("done\n");
    return 0;
}
