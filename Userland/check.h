/* check.h: printing helpers shared by the Userland test programs.
 *
 * Every program prints what it observes, one fact per line, so that its output natively and under umk can be
 * compared byte for byte. Nothing printed may depend on addresses, pids, times or the build: results are
 * printed as values only when the value is deterministic, otherwise as "ok" or as the errno's name (never
 * strerror, whose text differs between glibc and musl). Builds with `cc -static` (glibc) and `musl-gcc -static`.
 */
#ifndef UMK_CHECK_H
#define UMK_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>

/* The name of an errno value, for the ones a Linux syscall can answer. */
static inline const char *errname(int e) {
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case EDOM: return "EDOM";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ENOLCK: return "ENOLCK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENOMSG: return "ENOMSG";
    case EIDRM: return "EIDRM";
    case ENODATA: return "ENODATA";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOTSOCK: return "ENOTSOCK";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTOTYPE: return "EPROTOTYPE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EISCONN: return "EISCONN";
    case ENOTCONN: return "ENOTCONN";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case EOWNERDEAD: return "EOWNERDEAD";
    case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno%d", e);
        return buf;
    }
    }
}

/* `what: VALUE`, or `what: ENAME` when r is -1. For results that are deterministic (sizes, fd numbers). */
static inline void show(const char *what, long r) {
    if (r == -1)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* `what: ok`, or `what: ENAME` when r is -1. For results whose value is not deterministic. */
static inline void show_ok(const char *what, long r) {
    if (r == -1)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: ok\n", what);
}

/* `what: yes` or `what: no`. */
static inline void show_bool(const char *what, int cond) { printf("%s: %s\n", what, cond ? "yes" : "no"); }

/* T(expr): evaluates a call that returns -1 and sets errno on failure, and prints it under its own text. */
#define T(expr) do { errno = 0; long t_r_ = (long)(expr); show(#expr, t_r_); } while (0)
/* T_OK(expr): the same, printing "ok" for any success. */
#define T_OK(expr) do { errno = 0; long t_r_ = (long)(expr); show_ok(#expr, t_r_); } while (0)

/* A pointer no program ever has mapped: the first page is never mappable by default (vm.mmap_min_addr). */
#define BAD_PTR ((void *)1)

/* fork, with stdio flushed first so that nothing buffered is printed twice; a failure ends the program. */
static inline pid_t xfork(void) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == -1) {
        printf("fork: %s\n", errname(errno));
        exit(1);
    }
    return pid;
}

/* Sleeps `ms` milliseconds, through interruptions. */
static inline void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {
    }
}

#endif
