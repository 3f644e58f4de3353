// Threads: futex ping-pong between two threads, thread create + join, and two CPU-bound threads against one.
// Usage: threads futex N | threads create N | threads cpus
// Prints "futex_us X" (one round trip: a wake each way), "create_us X" (create + join), or "speedup X"
// (2 x time of one / time of two).
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static _Atomic int turn;  // 0: the main thread's, 1: the partner's
static long rounds;

static void futex_wait(_Atomic int *w, int v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, 0, 0, 0); }
static void futex_wake(_Atomic int *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0); }

static void *partner(void *arg) {
    for (long i = 0; i < rounds; i++) {
        while (atomic_load(&turn) != 1) futex_wait(&turn, 0);
        atomic_store(&turn, 0);
        futex_wake(&turn);
    }
    return arg;
}

static void *nothing(void *arg) { return arg; }

static void *burn(void *arg) {
    volatile unsigned long x = 0;
    for (unsigned long k = 0; k < 300000000UL; k++) x += k;
    return arg;
}

static double burn_threads(int n) {
    pthread_t t[2];
    double t0 = now();
    for (int i = 0; i < n; i++) pthread_create(&t[i], 0, burn, 0);
    for (int i = 0; i < n; i++) pthread_join(t[i], 0);
    return now() - t0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "cpus") == 0) {
        double one = burn_threads(1), two = burn_threads(2);
        printf("speedup %.2f one %.3f two %.3f\n", 2 * one / two, one, two);
        return 0;
    }
    long n = argc > 2 ? atol(argv[2]) : 10000;
    if (n <= 0) n = 1;
    if (argc > 1 && strcmp(argv[1], "create") == 0) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, 0, nothing, 0) != 0) return 1;
            pthread_join(t, 0);
        }
        printf("create_us %.2f\n", (now() - t0) / n * 1e6);
        return 0;
    }
    rounds = n;
    pthread_t t;
    pthread_create(&t, 0, partner, 0);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        atomic_store(&turn, 1);
        futex_wake(&turn);
        while (atomic_load(&turn) != 0) futex_wait(&turn, 1);
    }
    double t1 = now();
    pthread_join(t, 0);
    printf("futex_us %.2f\n", (t1 - t0) / n * 1e6);
    return 0;
}
