/* oom.c: the OOM killer takes the largest process, not the one that happened to fault. A hog touches
 * HOG MiB and waits; then a smaller process touches up to SMALL MiB. Run under `umk run --mem 256M` with
 * a hog of 160 and a small one of 120: the instance runs out while the small one touches, and the hog is
 * killed. Usage: oom HOG_MIB SMALL_MIB */
#include "check.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

static void touch(size_t mib) {
    char *p = mmap(0, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) _exit(2);
    for (size_t off = 0; off < mib << 20; off += 4096) p[off] = 1;
}

static void report(const char *who, int status) {
    if (WIFSIGNALED(status)) printf("%s: killed by signal %d\n", who, WTERMSIG(status));
    else printf("%s: exited %d\n", who, WEXITSTATUS(status));
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int ready[2];
    if (pipe(ready) != 0) return 2;
    pid_t hog = fork();
    if (hog == 0) {
        touch((size_t)atoi(argv[1]));
        (void)!write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1) return 2;
    pid_t small = fork();
    if (small == 0) {
        touch((size_t)atoi(argv[2]));
        _exit(0);
    }
    int status;
    waitpid(small, &status, 0);
    report("small", status);
    kill(hog, SIGTERM);
    waitpid(hog, &status, 0);
    report("hog", status);
    return 0;
}
