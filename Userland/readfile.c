/* readfile.c: prints the contents of each PATH argument (up to 4 KiB, newlines shown as \n) or the errno of
 * opening it. The confinement tests run it under `umk run --root DIR` to show which file a path reaches.
 */
#include "check.h"
#include <fcntl.h>

int main(int argc, char **argv) {
    char buf[4096];
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd == -1) {
            printf("%s: %s\n", argv[i], errname(errno));
            continue;
        }
        long n = read(fd, buf, sizeof buf);
        close(fd);
        if (n == -1) {
            printf("%s: read %s\n", argv[i], errname(errno));
            continue;
        }
        printf("%s: \"", argv[i]);
        for (long j = 0; j < n; j++) {
            if (buf[j] == '\n') printf("\\n");
            else putchar(buf[j]);
        }
        printf("\"\n");
    }
    return 0;
}
