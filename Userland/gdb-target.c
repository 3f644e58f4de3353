/* gdb-target: what GdbTests debug under `umk run --gdb` (built there with -g -O0, static and dynamic).
 * No argument: calls helper and other, prints, exits 3. "threads": two threads call worker_step three times
 * each, then it prints the counter and exits 0. "segv": a write to address 8. "abort": abort().
 * "usr1": raises SIGUSR1 at a handler, which prints. "exec": execs itself with no argument. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long some_global = 0x1234;
double fp_value = 2.5;
volatile int counter = 0;

__attribute__((noinline)) int helper(int x) { return x * 2; }

__attribute__((noinline)) int other(int x) {
    some_global += x;
    return (int)some_global;
}

__attribute__((noinline)) void worker_step(int id) { counter += id; }

static void on_usr1(int sig) { printf("handled %d\n", sig); }

static void *worker(void *arg) {
    for (int i = 0; i < 3; i++) worker_step((int)(long)arg);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "threads") == 0) {
        pthread_t t[2];
        for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
        printf("counter %d\n", counter);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "segv") == 0) *(volatile int *)8 = 1;
    if (argc > 1 && strcmp(argv[1], "abort") == 0) abort();
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        char *again[] = {argv[0], NULL};
        execv(argv[0], again);
        return 9;
    }
    if (argc > 1 && strcmp(argv[1], "usr1") == 0) {
        signal(SIGUSR1, on_usr1);
        raise(SIGUSR1);
        return 0;
    }
    char buf[64];
    int r = helper(argc);
    snprintf(buf, sizeof buf, "value %d\n", r);
    fputs(buf, stdout);
    r = other(r);
    printf("other %d %g\n", r, fp_value * 2);
    return 3;
}
