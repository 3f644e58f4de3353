// Two CPU-bound processes against one: the same fixed computation in 1 child, then in 2 at once; prints
// "speedup X" (2 x time of one / time of two: 2.0 when the two run in parallel, 1.0 when they share a CPU).
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double burn(int children) {
    double t0 = now();
    for (int i = 0; i < children; i++)
        if (fork() == 0) {
            volatile unsigned long x = 0;
            for (unsigned long k = 0; k < 300000000UL; k++) x += k;
            _exit(0);
        }
    while (wait(NULL) > 0) {
    }
    return now() - t0;
}

int main(void) {
    double one = burn(1), two = burn(2);
    printf("speedup %.2f one %.3f two %.3f\n", 2 * one / two, one, two);
    return 0;
}
