/* noreserve.c: reading memory nothing was promised for costs nothing. 512 MiB of MAP_NORESERVE memory (more
 * than umk's default --mem) and 512 MiB of read-only anonymous memory read as zero page by page; then some of
 * it is written, and reads back what was written while the rest still reads as zero. */
#include "check.h"
#include <stdint.h>
#include <sys/mman.h>

static void sweep(const char *what, volatile char *p, size_t size) {
    unsigned long sum = 0;
    for (size_t off = 0; off < size; off += 4096) sum += (unsigned char)p[off];
    printf("%s: sum %lu\n", what, sum);
}

int main(void) {
    const size_t size = 512UL << 20;
    char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    show_ok("mmap 512 MiB MAP_NORESERVE", p == MAP_FAILED ? -1 : 0);
    if (p == MAP_FAILED) return 1;
    sweep("read every page", p, size);
    for (size_t off = 0; off < size; off += 64 << 20) p[off + 5] = 7;
    sweep("read every page after 8 writes", p, size);
    printf("written bytes read back: %d %d\n", p[5], p[(size - (64 << 20)) + 5]);
    printf("neighbours still zero: %d %d\n", p[4], p[4096 + 5]);
    show_ok("munmap", munmap(p, size));

    char *r = mmap(0, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show_ok("mmap 512 MiB PROT_READ", r == MAP_FAILED ? -1 : 0);
    if (r == MAP_FAILED) return 1;
    sweep("read every read-only page", r, size);
    show_ok("mprotect 1 MiB of it writable", mprotect(r, 1 << 20, PROT_READ | PROT_WRITE));
    r[100] = 9;
    printf("written after mprotect: %d, next page %d\n", r[100], r[4096]);
    return 0;
}
