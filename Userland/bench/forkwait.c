// fork + exit + wait: the child _exits at once, the parent waits for it.
// Usage: forkwait N [BUDGET_MS] [HEAP_MIB]   (defaults 2000, 0 = no budget, 0; pass all three under UML,
// which appends its own arguments)
// Runs N iterations, or fewer once BUDGET_MS have passed (at least one). With HEAP_MIB, first mallocs and
// touches (memsets) that much heap, so every fork has to share it copy-on-write.
// Prints "fork_us X iters N heap_mib H" (us per iteration).
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

static int fork_wait(volatile char *probe) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) _exit(probe ? (*probe == 1 ? 42 : 1) : 42);
    int status;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); exit(1); }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 42) {
        fprintf(stderr, "forkwait: child status 0x%x, expected exit 42\n", status);
        exit(1);
    }
    return 0;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000;
    double budget = (argc > 2 ? atof(argv[2]) : 0) * 1e6;
    long heap_mib = argc > 3 ? atol(argv[3]) : 0;
    if (n <= 0) n = 1;
    char *heap = NULL;
    if (heap_mib > 0) {
        size_t size = (size_t)heap_mib << 20;
        heap = malloc(size);
        if (!heap) { perror("malloc"); return 1; }
        memset(heap, 1, size);
    }
    // warm up; the child checks that it sees the parent's heap (the middle page)
    fork_wait(heap ? heap + ((size_t)heap_mib << 19) : NULL);
    fork_wait(NULL);
    long i = 0;
    double t0 = now_ns(), t1 = t0;
    while (i < n) {
        fork_wait(NULL);
        i++;
        t1 = now_ns();
        if (budget > 0 && t1 - t0 > budget) break;
    }
    printf("fork_us %.1f iters %ld heap_mib %ld\n", (t1 - t0) / 1e3 / i, i, heap_mib);
    return 0;
}
