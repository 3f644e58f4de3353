/* burn.c: `burn N` forks N children that each compute for a fixed number of iterations without a system
 * call, and waits for them. umk-only (SchedulingTests): with --cpus 2, two children take about as long as
 * one; with --cpus 1, twice as long.
 */
#include "check.h"
#include <sys/wait.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1;
    for (int i = 0; i < n; i++)
        if (xfork() == 0) {
            volatile unsigned long x = 0;
            for (unsigned long k = 0; k < 1200000000UL; k++) x += k;
            _exit(0);
        }
    int st, ok = 0;
    while (wait(&st) > 0) ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    printf("%d of %d done\n", ok, n);
    return 0;
}
