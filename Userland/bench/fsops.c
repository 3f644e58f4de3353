// Metadata loop on one directory: create (open O_CREAT|O_EXCL, close), stat and unlink N files in a fresh
// subdirectory of DIR, after an untimed warm-up round of 100 files.
// Usage: fsops DIR [N]   (default 1000). Prints "fsops_us X files N" (us per file: create + stat + unlink).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int round_of(const char *dir, long n) {
    char path[4096];
    struct stat st;
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%ld", dir, i);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0) { perror(path); return -1; }
        close(fd);
    }
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%ld", dir, i);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0) { perror(path); return -1; }
    }
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%ld", dir, i);
        if (unlink(path) != 0) { perror(path); return -1; }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: fsops DIR [N]\n"); return 2; }
    long n = argc > 2 ? atol(argv[2]) : 1000;
    if (n < 1) n = 1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/fsops.%d", argv[1], (int)getpid());
    if (mkdir(dir, 0755) != 0) { perror(dir); return 1; }
    if (round_of(dir, 100) != 0) return 1;
    double t0 = now_ns();
    if (round_of(dir, n) != 0) return 1;
    double t1 = now_ns();
    if (rmdir(dir) != 0) { perror(dir); return 1; }
    printf("fsops_us %.2f files %ld\n", (t1 - t0) / 1e3 / n, n);
    return 0;
}
