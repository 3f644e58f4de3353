// fork + exec + wait: the child execs PROGRAM (no arguments), the parent waits and checks that it exited 0.
// Usage: forkexec N BUDGET_MS PROGRAM
// Later arguments are ignored: UML appends its own (root=98:0 console=tty0) to init's, hence to ours.
// Runs N iterations, or fewer once BUDGET_MS (0: no budget) have passed (at least one).
// Prints "forkexec_us X iters N" (us per iteration); exits 1 if PROGRAM fails (so /bin/false checks it).
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

static void fork_exec(char **argv) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        execv(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); exit(1); }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "forkexec: %s: status 0x%x, expected exit 0\n", argv[0], status);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: forkexec N BUDGET_MS PROGRAM\n"); return 2; }
    long n = atol(argv[1]);
    double budget = atof(argv[2]) * 1e6;
    if (n <= 0) n = 1;
    char *prog[] = {argv[3], NULL};
    fork_exec(prog);  // warm up
    long i = 0;
    double t0 = now_ns(), t1 = t0;
    while (i < n) {
        fork_exec(prog);
        i++;
        t1 = now_ns();
        if (budget > 0 && t1 - t0 > budget) break;
    }
    printf("forkexec_us %.1f iters %ld\n", (t1 - t0) / 1e3 / i, i);
    return 0;
}
