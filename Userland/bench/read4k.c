// 4 KiB read loop: read FILE from start to end in 4096-byte read() calls, PASSES times.
// Usage: read4k FILE [PASSES]   (default 4). Prints "read4k_ns X" (ns per read call).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: read4k FILE [PASSES]\n"); return 2; }
    long passes = argc > 2 ? atol(argv[2]) : 4;
    static char buf[4096];
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) { perror(argv[1]); return 1; }
    while (read(fd, buf, sizeof buf) > 0) {}  // warm up: one untimed pass (page cache)
    long reads = 0, bytes = 0;
    double t0 = now_ns();
    for (long p = 0; p < passes; p++) {
        if (lseek(fd, 0, SEEK_SET) != 0) { perror("lseek"); return 1; }
        for (;;) {
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0) { perror("read"); return 1; }
            reads++;
            if (r == 0) break;
            bytes += r;
        }
    }
    double t1 = now_ns();
    printf("read4k_ns %.1f reads %ld bytes %ld\n", (t1 - t0) / reads, reads, bytes);
    return 0;
}
