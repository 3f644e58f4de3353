// File throughput: write MIB MiB into a new file in DIR in BS-byte write() calls, then read it back from the
// start in BS-byte read() calls (checking the pattern), then unlink it. No fsync: page cache or tmpfs speed.
// Usage: filebw DIR BS MIB. Prints "write_mibs W read_mibs R".
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: filebw DIR BS MIB\n"); return 2; }
    long bs = atol(argv[2]), mib = atol(argv[3]);
    if (bs < 16 || bs > (64L << 20) || mib < 1 || ((mib << 20) % bs)) { fprintf(stderr, "filebw: bad sizes\n"); return 2; }
    long chunks = (mib << 20) / bs;
    char path[4096];
    snprintf(path, sizeof path, "%s/filebw.%d", argv[1], (int)getpid());
    char *buf = malloc(bs), *in = malloc(bs);
    if (!buf || !in) { perror("malloc"); return 1; }
    for (long i = 0; i < bs; i++) buf[i] = (char)(i * 7 + 1);
    int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0644);
    if (fd < 0) { perror(path); return 1; }
    double t0 = now_ns();
    for (long c = 0; c < chunks; c++) {
        memcpy(buf, &c, sizeof c);  // each chunk is distinct
        if (write(fd, buf, bs) != bs) { perror("write"); unlink(path); return 1; }
    }
    double t1 = now_ns();
    if (lseek(fd, 0, SEEK_SET) != 0) { perror("lseek"); unlink(path); return 1; }
    double t2 = now_ns();
    for (long c = 0; c < chunks; c++) {
        if (read(fd, in, bs) != bs) { perror("read"); unlink(path); return 1; }
        long got;
        memcpy(&got, in, sizeof got);
        if (got != c || in[bs - 1] != buf[bs - 1]) { fprintf(stderr, "filebw: bad data in chunk %ld\n", c); unlink(path); return 1; }
    }
    double t3 = now_ns();
    close(fd);
    if (unlink(path) != 0) { perror(path); return 1; }
    printf("write_mibs %.1f read_mibs %.1f\n", mib / ((t1 - t0) / 1e9), mib / ((t3 - t2) / 1e9));
    return 0;
}
