/* memhog.c: asks for more memory than a small instance has. `memhog MIB [populate|touch]` maps MIB MiB of
 * anonymous memory, with MAP_POPULATE or by writing every page, and prints how far it got. Not
 * differential: under `umk run --mem` smaller than MIB the guest must get ENOMEM or be killed, and umk must
 * survive.
 */
#include "check.h"
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: memhog MIB populate|touch\n");
        return 2;
    }
    size_t len = (size_t)atol(argv[1]) << 20;
    int populate = strcmp(argv[2], "populate") == 0;
    errno = 0;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
    printf("mmap: %s\n", p == MAP_FAILED ? errname(errno) : "ok");
    fflush(stdout);
    if (p == MAP_FAILED) return 0;
    for (size_t off = 0; off < len; off += 4096) p[off] = 1;
    printf("touched every page\n");
    return 0;
}
