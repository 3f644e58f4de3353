/* overcommit.c: Linux's heuristic overcommit (vm.overcommit_memory 0), as a JVM or Go runtime meets it when it
 * reserves a large heap. Reservations that together promise more than RAM succeed, each on its own no larger
 * than RAM; one larger than RAM and swap is ENOMEM; touching some pages of each works, and so does fork with
 * them. Sizes come from /proc/meminfo, so the output is the same on any machine: natively and under umk.
 * Under `umk run --overcommit 2[:RATIO]` the same program shows strict accounting refusing the promises.
 */
#include "check.h"
#include <sys/mman.h>
#include <sys/wait.h>

static long meminfo(const char *field) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    long value = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') value = atol(line + n + 1);
    fclose(f);
    return value;
}

static char *reserve(const char *what, size_t len) {
    errno = 0;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("%s: %s\n", what, p == MAP_FAILED ? errname(errno) : "ok");
    return p == MAP_FAILED ? NULL : p;
}

int main(void) {
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = -1;
    if (f && fscanf(f, "%d", &mode) != 1) mode = -1;
    if (f) fclose(f);
    printf("overcommit_memory: %d\n", mode);
    long ram = meminfo("MemTotal"), swap = meminfo("SwapTotal");
    printf("meminfo: %s\n", ram > 0 && swap >= 0 && meminfo("Committed_AS") >= 0 && meminfo("CommitLimit") > 0 ? "ok" : "missing");
    if (ram <= 0 || swap < 0) return 1;
    size_t quarter = (size_t)(ram + swap) * 1024 / 4 & ~(size_t)4095;
    char *heaps[3] = {reserve("3/4 of RAM", 3 * quarter), reserve("3/4 of RAM again", 3 * quarter),
                      reserve("3/4 of RAM a third time", 3 * quarter)};
    char *huge = reserve("RAM and swap and 1 MiB more", 4 * quarter + (1 << 20) + (1 << 20));
    if (huge) munmap(huge, 4 * quarter + (2 << 20));
    int touched = 1;
    for (int i = 0; i < 3; i++)
        if (heaps[i]) {
            for (size_t off = 0; off < (4 << 20); off += 4096) heaps[i][off] = (char)i;
            touched &= heaps[i][4096] == (char)i;
        }
    printf("touched 4 MiB of each: %s\n", touched ? "ok" : "wrong");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            if (heaps[i]) heaps[i][8192] = 42;  /* copy-on-write in the child */
        _exit(heaps[0] && heaps[0][4096] == 0 ? 0 : 3);
    }
    int status = 0;
    if (pid < 0) printf("fork: %s\n", errname(errno));
    else if (waitpid(pid, &status, 0) == pid) printf("fork: ok, child exited %d\n", WEXITSTATUS(status));
    long committed = meminfo("Committed_AS");
    printf("Committed_AS counts the reservations: %s\n", heaps[0] == NULL || committed >= (long)(3 * quarter / 1024) ? "yes" : "no");
    return 0;
}
