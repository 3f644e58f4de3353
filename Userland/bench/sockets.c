// UNIX sockets and epoll: a socketpair ping-pong between two processes, 1 MiB stream throughput, and
// epoll_wait over 100 pipes of which one is ready.
// Usage: sockets pingpong N | sockets stream MIB | sockets epoll N
// Prints "pingpong_us X" (one round trip of a 1-byte message each way), "stream_mibs X" (the reader checks
// the byte count), or "epoll_us X" (one epoll_wait that returns the ready pipe, plus the read and write that
// keep it ready).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "pingpong";
    long n = argc > 2 ? atol(argv[2]) : 10000;
    if (n <= 0) n = 1;
    if (strcmp(mode, "epoll") == 0) {
        int ep = epoll_create1(0), fds[100][2];
        for (int i = 0; i < 100; i++) {
            if (pipe(fds[i]) != 0) return 1;
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, fds[i][0], &ev);
        }
        char c = 'x';
        if (write(fds[57][1], &c, 1) != 1) return 1;
        double t0 = now();
        for (long i = 0; i < n; i++) {
            struct epoll_event out[8];
            if (epoll_wait(ep, out, 8, -1) != 1 || out[0].data.u32 != 57) return 1;
            if (read(fds[57][0], &c, 1) != 1 || write(fds[57][1], &c, 1) != 1) return 1;
        }
        printf("epoll_us %.2f\n", (now() - t0) / n * 1e6);
        return 0;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    if (strcmp(mode, "stream") == 0) {
        static char buf[1 << 20];
        pid_t child = fork();
        if (child == 0) {
            close(sv[0]);
            memset(buf, 'u', sizeof buf);
            for (long i = 0; i < n; i++)
                for (size_t off = 0; off < sizeof buf;) {
                    ssize_t w = write(sv[1], buf + off, sizeof buf - off);
                    if (w <= 0) _exit(1);
                    off += (size_t)w;
                }
            _exit(0);
        }
        close(sv[1]);
        long long total = 0;
        double t0 = now();
        for (ssize_t r; (r = read(sv[0], buf, sizeof buf)) > 0;) total += r;
        double t = now() - t0;
        int status;
        waitpid(child, &status, 0);
        if (total != (long long)n << 20 || status != 0) return 1;
        printf("stream_mibs %.0f\n", n / t);
        return 0;
    }
    pid_t child = fork();
    char c = 0;
    if (child == 0) {
        for (long i = 0; i < n; i++)
            if (read(sv[1], &c, 1) != 1 || write(sv[1], &c, 1) != 1) _exit(1);
        _exit(0);
    }
    double t0 = now();
    for (long i = 0; i < n; i++)
        if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1) return 1;
    double t = now() - t0;
    waitpid(child, 0, 0);
    printf("pingpong_us %.2f\n", t / n * 1e6);
    return 0;
}
