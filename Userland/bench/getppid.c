// getppid round trip: N raw getppid system calls, timed inside the guest.
// Usage: getppid [N]   (default 20000). Prints "getppid_ns N" (ns per call).
// syscall(SYS_getppid) is used so that no libc caching can hide the trap;
// clock_gettime goes through the vDSO natively, and is at most two calls anyway.
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    if (n <= 0) n = 1;
    long sink = 0;
    for (long i = 0; i < n / 20 + 1; i++) sink += syscall(SYS_getppid);  // warm up
    double t0 = now_ns();
    for (long i = 0; i < n; i++) sink += syscall(SYS_getppid);
    double t1 = now_ns();
    printf("getppid_ns %.1f calls %ld sink %ld\n", (t1 - t0) / n, n, sink & 1);
    return 0;
}
