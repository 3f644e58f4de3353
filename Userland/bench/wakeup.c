// Sleep overshoot: N nanosleep(1 ms) calls, how much longer than 1 ms each took on average, in us. With
// `spin`, a child computes without system calls beside the sleeper the whole time (run it on one CPU: the
// wake-up of a sleeper beside a spinner). Usage: wakeup N [spin]. Prints "overshoot_us X".
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200;
    if (n <= 0) n = 1;
    pid_t spinner = -1;
    if (argc > 2 && strcmp(argv[2], "spin") == 0) {
        spinner = fork();
        if (spinner == 0) {
            volatile unsigned long x = 0;
            for (;;) x++;
        }
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
    double total = 0;
    for (long i = 0; i < n; i++) {
        double t0 = now_ns();
        nanosleep(&ms, NULL);
        total += now_ns() - t0 - 1e6;
    }
    if (spinner > 0) {
        kill(spinner, SIGKILL);
        waitpid(spinner, NULL, 0);
    }
    printf("overshoot_us %.1f sleeps %ld\n", total / n / 1000, n);
    return 0;
}
