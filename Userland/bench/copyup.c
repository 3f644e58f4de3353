// Copy-up: time the first write to FILE, a file of the (read-only) lower root: open(O_WRONLY), pwrite of one
// byte at offset 0, close, as `dd conv=notrunc bs=1 count=1` does. Under an overlay root this copies the
// whole file up. Then checks that the byte is there and the size unchanged.
// Usage: copyup FILE. Prints "copyup_ms X size N".
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: copyup FILE\n"); return 2; }
    struct stat before, after;
    if (stat(argv[1], &before) != 0) { perror(argv[1]); return 1; }
    double t0 = now_ns();
    int fd = open(argv[1], O_WRONLY);
    if (fd < 0) { perror(argv[1]); return 1; }
    if (pwrite(fd, "x", 1, 0) != 1) { perror("pwrite"); return 1; }
    if (close(fd) != 0) { perror("close"); return 1; }
    double t1 = now_ns();
    char c = 0;
    fd = open(argv[1], O_RDONLY);
    if (fd < 0 || pread(fd, &c, 1, 0) != 1 || fstat(fd, &after) != 0) { perror(argv[1]); return 1; }
    if (c != 'x' || after.st_size != before.st_size) {
        fprintf(stderr, "copyup: read back 0x%02x, size %lld (was %lld)\n", c, (long long)after.st_size,
                (long long)before.st_size);
        return 1;
    }
    printf("copyup_ms %.2f size %lld\n", (t1 - t0) / 1e6, (long long)after.st_size);
    return 0;
}
