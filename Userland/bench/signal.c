// Signal round trip: N times raise(SIGUSR1) (tgkill), its handler, rt_sigreturn; timed inside the guest.
// Usage: signal [N]   (default 20000). Prints "signal_ns N" (ns per round trip).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile long handled;
static void handler(int s) { (void)s; handled++; }

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 20000;
    if (n <= 0) n = 1;
    signal(SIGUSR1, handler);
    for (long i = 0; i < n / 20 + 1; i++) raise(SIGUSR1);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) raise(SIGUSR1);
    double t1 = now_ns();
    printf("signal_ns %.1f handled %ld\n", (t1 - t0) / n, handled);
    return handled == n + n / 20 + 1 ? 0 : 1;
}
