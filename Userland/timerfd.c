/* timerfd.c: timerfd_create, timerfd_settime, timerfd_gettime (fs/timerfd.c): the clocks and flags accepted,
 * one-shot and periodic timers read as expiration counts (>= 1, never exact), EAGAIN before the first, a
 * blocking read, TFD_TIMER_ABSTIME on CLOCK_MONOTONIC and CLOCK_REALTIME (also in the past), gettime's bounds,
 * disarming, and the errors. Times are printed only as bounds. */
#include "check.h"
#include <poll.h>
#include <stdint.h>
#include <sys/timerfd.h>

static long long ns_of(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static void show_read(const char *what, int fd, int at_least, int at_most) {
    uint64_t v = 0;
    errno = 0;
    ssize_t r = read(fd, &v, sizeof v);
    if (r == -1)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: %zd %s\n", what, r, (long long)v >= at_least && (long long)v <= at_most ? "in range" : "OUT OF RANGE");
}

static void show_get(const char *what, int fd, long long lo, long long hi, long long interval) {
    struct itimerspec cur;
    errno = 0;
    if (timerfd_gettime(fd, &cur) == -1) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    long long v = ns_of(cur.it_value);
    printf("%s: value %s, interval %s\n", what, v >= lo && v <= hi ? "in range" : "OUT OF RANGE",
           ns_of(cur.it_interval) == interval ? "same" : "differs");
}

int main(void) {
    T(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
    T(timerfd_create(CLOCK_MONOTONIC_RAW, 0));
    T(timerfd_create(-1, 0));
    T(timerfd_create(CLOCK_MONOTONIC, 0x1234));
    int alarm = timerfd_create(CLOCK_REALTIME_ALARM, 0);
    show_bool("alarm clock allowed", alarm >= 0 || errno == EPERM);
    if (alarm >= 0) close(alarm);
    int b = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    show_bool("boottime", b >= 0);
    close(b);

    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    show_get("disarmed", fd, 0, 0, 0);
    show_read("read disarmed", fd, 1, 1);
    char small[4];
    T(read(fd, small, sizeof small));
    T(write(fd, small, sizeof small));
    struct itimerspec its = {{0, 0}, {0, 50000000}}, old;
    T(timerfd_settime(fd, 0, &its, NULL));
    show_get("armed 50 ms", fd, 1, 50000000, 0);
    show_read("before expiry", fd, 1, 1);
    struct pollfd p = {fd, POLLIN, 0};
    T(poll(&p, 1, 1000));
    show_read("one-shot", fd, 1, 1);
    show_read("after one-shot", fd, 1, 1);
    show_get("expired", fd, 0, 0, 0);

    /* Periodic: 10 ms, read after ~55 ms: at least 4. */
    struct itimerspec per = {{0, 10000000}, {0, 10000000}};
    T(timerfd_settime(fd, 0, &per, NULL));
    sleep_ms(55);
    show_read("periodic", fd, 4, 100);
    show_get("periodic gettime", fd, 1, 10000000, 10000000);
    T(timerfd_settime(fd, 0, &(struct itimerspec){{0, 0}, {0, 0}}, &old));
    show_bool("old interval", ns_of(old.it_interval) == 10000000);
    show_bool("old value bounded", ns_of(old.it_value) > 0 && ns_of(old.it_value) <= 10000000);
    show_get("disarmed again", fd, 0, 0, 0);
    sleep_ms(20);
    show_read("no ticks after disarm", fd, 1, 1);

    /* Absolute on MONOTONIC, 30 ms ahead; then one in the past fires at once. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec abs = {{0, 0}, now};
    abs.it_value.tv_nsec += 30000000;
    if (abs.it_value.tv_nsec >= 1000000000) { abs.it_value.tv_sec++; abs.it_value.tv_nsec -= 1000000000; }
    T(timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL));
    show_get("absolute", fd, 1, 30000000, 0);
    T(poll(&p, 1, 1000));
    show_read("absolute fired", fd, 1, 1);
    abs.it_value = now;
    abs.it_value.tv_sec -= 1;
    abs.it_interval.tv_nsec = 100000000;
    T(timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL));
    show_read("past, periodic 100 ms", fd, 10, 12);

    /* Realtime absolute, with CANCEL_ON_SET (accepted). */
    int rt = timerfd_create(CLOCK_REALTIME, 0);
    clock_gettime(CLOCK_REALTIME, &now);
    struct itimerspec rabs = {{0, 0}, now};
    rabs.it_value.tv_nsec += 20000000;
    if (rabs.it_value.tv_nsec >= 1000000000) { rabs.it_value.tv_sec++; rabs.it_value.tv_nsec -= 1000000000; }
    T(timerfd_settime(rt, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &rabs, NULL));
    show_read("realtime blocking read", rt, 1, 1);
    close(rt);

    /* Errors. */
    T(timerfd_settime(fd, 4, &its, NULL));
    T(timerfd_settime(fd, 0, &(struct itimerspec){{0, 0}, {0, 1000000000}}, NULL));
    T(timerfd_settime(fd, 0, &(struct itimerspec){{-1, 0}, {0, 1}}, NULL));
    T(timerfd_settime(fd, 0, BAD_PTR, NULL));
    T(timerfd_settime(fd, 0, &its, BAD_PTR));
    T(timerfd_settime(1000, 0, &its, NULL));
    T(timerfd_settime(0, 0, &its, NULL));
    T(timerfd_gettime(fd, BAD_PTR));
    T(timerfd_gettime(0, &old));
    T(timerfd_settime(fd, 0, &(struct itimerspec){{0, 0}, {0x7fffffffffffffffLL, 0}}, NULL));
    show_get("far future", fd, 1000000000, 0x7fffffffffffffffLL, 0);
    char link[64] = "", path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    T(readlink(path, link, sizeof link - 1));
    printf("link: %s\n", link);
    close(fd);
    return 0;
}
