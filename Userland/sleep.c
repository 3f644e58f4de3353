/* sleep.c: blocked tasks do not block the others. Children sleep in nanosleep (100 ms and 400 ms), block in
 * read on a pipe, or spin on the CPU, while the parent blocks in wait4: they end in the order of their sleeps,
 * each sleep lasts at least what it asked, the reader stays blocked until the parent closes the pipe, and a
 * spinning child does not keep a sleeper from waking.
 *
 * Usage: sleep. The delays are far apart so that the order holds on a loaded machine.
 */
#include "check.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* A child that sleeps `ms` and exits 0 when the sleep lasted at least that long, 1 otherwise. */
static pid_t sleeper(long ms) {
    pid_t pid = xfork();
    if (pid == 0) {
        long long start = now_ns();
        struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
        if (nanosleep(&t, NULL) != 0) _exit(2);
        _exit(now_ns() - start >= ms * 1000000LL ? 0 : 1);
    }
    return pid;
}

static const char *name(pid_t pid, pid_t a, const char *an, pid_t b, const char *bn, pid_t c, const char *cn) {
    return pid == a ? an : pid == b ? bn : pid == c ? cn : pid == -1 ? errname(errno) : "another pid";
}

int main(void) {
    printf("-- two sleepers and a blocked reader\n");
    int block[2];
    pipe(block);
    pid_t reader = xfork();
    if (reader == 0) {
        close(block[1]);
        char c;
        while (read(block[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(block[0]);
    pid_t slow = sleeper(400); /* started first, ends last */
    pid_t fast = sleeper(100);
    int st;
    for (int i = 0; i < 2; i++) {
        pid_t r = waitpid(-1, &st, 0);
        printf("ended %s: %s, %s\n", i == 0 ? "first" : "second",
               name(r, fast, "the 100 ms sleeper", slow, "the 400 ms sleeper", reader, "the reader"),
               WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "slept long enough" : "status wrong");
    }
    show_bool("the reader is still blocked", waitpid(reader, &st, WNOHANG) == 0);
    close(block[1]);
    show_bool("the reader ends once the pipe is closed", waitpid(reader, &st, 0) == reader && WIFEXITED(st));

    printf("-- a sleeper beside a spinning child\n");
    pid_t spinner = xfork();
    if (spinner == 0) {
        long long end = now_ns() + 600 * 1000000LL;
        volatile unsigned long n = 0;
        while (now_ns() < end) n++;
        _exit(0);
    }
    fast = sleeper(100);
    pid_t r = waitpid(-1, &st, 0);
    printf("ended first: %s\n", name(r, fast, "the sleeper", spinner, "the spinner", -2, ""));
    r = waitpid(-1, &st, 0);
    printf("ended second: %s\n", name(r, fast, "the sleeper", spinner, "the spinner", -2, ""));

    printf("-- the parent's own sleep\n");
    long long start = now_ns();
    struct timespec t = {0, 50 * 1000000L}, rem = {9, 9};
    T(nanosleep(&t, &rem));
    show_bool("slept at least 50 ms", now_ns() - start >= 50 * 1000000LL);
    t.tv_nsec = 1000000000L;
    T(nanosleep(&t, NULL));
    t.tv_sec = -1;
    t.tv_nsec = 0;
    T(nanosleep(&t, NULL));
    T(nanosleep(BAD_PTR, NULL));
    t.tv_sec = 0;
    t.tv_nsec = 1000;
    T(clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL) == 0 ? 0 : -1);
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 20 * 1000000L;
    if (abs.tv_nsec >= 1000000000L) abs.tv_sec++, abs.tv_nsec -= 1000000000L;
    start = now_ns();
    T(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL) == 0 ? 0 : -1);
    show_bool("TIMER_ABSTIME slept until the deadline", now_ns() >= abs.tv_sec * 1000000000LL + abs.tv_nsec);
    T(wait(&st));
    return 0;
}
