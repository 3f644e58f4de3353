// Pipe throughput: a forked child writes MIB MiB into a pipe in 1 MiB write() calls; the parent reads it in
// 1 MiB read() calls (each returns what the pipe holds) until EOF, checks every byte count and a pattern
// byte per read, and waits for the child, which must exit 0.
// Usage: pipebw [MIB]   (default 256). The first MiB is not timed (warm up).
// Prints "pipe_mibs X mib N" (MiB per second).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long mib = argc > 1 ? atol(argv[1]) : 256;
    if (mib < 2) mib = 2;
    unsigned char *buf = malloc(CHUNK);
    if (!buf) { perror("malloc"); return 1; }
    for (int i = 0; i < CHUNK; i++) buf[i] = i % 251;
    int fds[2];
    if (pipe(fds) != 0) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        close(fds[0]);
        for (long m = 0; m < mib; m++) {
            for (size_t done = 0; done < CHUNK;) {
                ssize_t w = write(fds[1], buf + done, CHUNK - done);
                if (w <= 0) { perror("pipebw: write"); _exit(1); }
                done += w;
            }
        }
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    memset(buf, 0, CHUNK);
    long long total = 0, goal = (long long)mib * CHUNK;
    double t0 = 0;
    for (;;) {
        ssize_t r = read(fds[0], buf, CHUNK);
        if (r < 0) { perror("pipebw: read"); return 1; }
        if (r == 0) break;
        if (buf[0] != (total % CHUNK) % 251 || buf[r - 1] != ((total + r - 1) % CHUNK) % 251) {
            fprintf(stderr, "pipebw: wrong data at offset %lld\n", total);
            return 1;
        }
        long long before = total;
        total += r;
        if (before < CHUNK && total >= CHUNK) t0 = now_ns();  // the first MiB is the warm up
    }
    double t1 = now_ns();
    int status;
    if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 1; }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "pipebw: writer status 0x%x\n", status);
        return 1;
    }
    if (total != goal) { fprintf(stderr, "pipebw: read %lld bytes, expected %lld\n", total, goal); return 1; }
    printf("pipe_mibs %.1f mib %ld\n", (total - CHUNK) / 1048576.0 / ((t1 - t0) / 1e9), mib);
    return 0;
}
