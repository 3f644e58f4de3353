// Shell loop: time `/bin/sh -c 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo $i'` from
// fork to wait, inside the guest (so a peer's boot is not counted). The script is built in because UML's
// kernel command line, which carries our arguments, splits on spaces.
// Usage: shloop [RUNS] [COUNT]   (defaults 5, 200; pass both under UML, which appends its own arguments).
// One untimed warm-up run, then RUNS timed ones.
// The shell's output passes through (it prints COUNT); it must exit 0 every time.
// Prints "shloop_ms X runs N" (the median run, in ms).
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    long count = argc > 2 ? atol(argv[2]) : 200;
    if (runs < 1) runs = 1;
    if (runs > 100) runs = 100;
    char script[200];
    snprintf(script, sizeof script,
             "i=0; while [ $i -lt %ld ]; do /bin/true; i=$((i+1)); done; echo $i", count);
    char *sh[] = {"/bin/sh", "-c", script, NULL};
    double ms[100];
    for (int r = -1; r < runs; r++) {
        fflush(stdout);
        double t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            execv(sh[0], sh);
            perror(sh[0]);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 1; }
        double t = (now_ns() - t0) / 1e6;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "shloop: /bin/sh: status 0x%x, expected exit 0\n", status);
            return 1;
        }
        if (r >= 0) ms[r] = t;
    }
    qsort(ms, runs, sizeof ms[0], cmp);
    printf("shloop_ms %.2f runs %d\n", runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2, runs);
    return 0;
}
