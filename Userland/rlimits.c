/* rlimits.c: RLIMIT_AS and RLIMIT_DATA as mmap and brk meet them. Each limit is set in a child, so the
 * next case starts afresh. */
#include "check.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static long map(size_t size, int prot, int flags) {
    void *p = mmap(0, size, prot, flags | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    munmap(p, size);
    return 0;
}

static void limited(const char *what, int resource, rlim_t limit) {
    fflush(stdout);
    pid_t c = fork();
    if (c != 0) {
        waitpid(c, 0, 0);
        return;
    }
    struct rlimit r = {limit, limit};
    printf("%s\n", what);
    show_ok("  setrlimit", setrlimit(resource, &r));
    show_ok("  mmap 16 MiB private rw", map(16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE));
    show_ok("  mmap 128 MiB private rw", map(128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE));
    show_ok("  mmap 128 MiB private read-only", map(128 << 20, PROT_READ, MAP_PRIVATE));
    show_ok("  mmap 128 MiB shared rw", map(128 << 20, PROT_READ | PROT_WRITE, MAP_SHARED));
    show_ok("  mmap 128 MiB noreserve rw", map(128 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE));
    void *start = sbrk(0);
    show_ok("  sbrk 1 MiB", sbrk(1 << 20) == (void *)-1 ? -1 : 0);
    show_ok("  sbrk 128 MiB", sbrk(128 << 20) == (void *)-1 ? -1 : 0);
    brk(start);
    fflush(stdout);
    _exit(0);
}

int main(void) {
    limited("RLIMIT_AS 64 MiB", RLIMIT_AS, 64 << 20);
    limited("RLIMIT_DATA 64 MiB", RLIMIT_DATA, 64 << 20);
    limited("no limit", RLIMIT_AS, RLIM_INFINITY);
    return 0;
}
