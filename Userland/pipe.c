/* pipe.c: pipes: pipe and pipe2 flags, reads and writes of 0 bytes, EOF when the last writer closes (in this
 * process or a child), EPIPE with SIGPIPE ignored and death by SIGPIPE when not, a writer blocked on a full
 * pipe when the reader goes away, EAGAIN on empty and full non-blocking ends, partial non-blocking writes,
 * F_GETPIPE_SZ and F_SETPIPE_SZ, atomic writes of PIPE_BUF bytes from two writers, a 1 MiB transfer between
 * processes with a checksum, a read that blocks until a child writes, and pipe ends dup2'd onto stdin and
 * stdout.
 *
 * Usage: pipe. Capacities are chosen so that a pipe counted in pages (Linux) and one counted in bytes agree.
 */
#include "check.h"
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static void reap(const char *what, pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        printf("%s: waitpid %s\n", what, errname(errno));
    } else if (WIFEXITED(st)) {
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
    } else if (WIFSIGNALED(st)) {
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    } else {
        printf("%s: status 0x%x\n", what, st);
    }
}

static void show_flags(const char *what, int fd) {
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    const char *mode = (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR";
    printf("%s: %s%s%s\n", what, mode, fl & O_NONBLOCK ? " O_NONBLOCK" : "", fdfl & FD_CLOEXEC ? " FD_CLOEXEC" : "");
}

/* Reads until EOF or an error; returns the byte count, or -1 with errno. */
static long drain(int fd) {
    char buf[8192];
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0) return total;
        if (n < 0) return total ? total : -1;
        total += n;
    }
}

static void creation(void) {
    printf("-- pipe, pipe2\n");
    int p[2];
    T(pipe(p));
    printf("fds: %d %d\n", p[0], p[1]);
    show_flags("read end", p[0]);
    show_flags("write end", p[1]);
    struct stat st;
    fstat(p[0], &st);
    show_bool("S_ISFIFO", S_ISFIFO(st.st_mode));
    T(lseek(p[0], 0, SEEK_CUR));
    T(write(p[0], "x", 1));
    char c;
    T(read(p[1], &c, 1));
    close(p[0]), close(p[1]);
    T(pipe2(p, O_CLOEXEC));
    show_flags("pipe2 O_CLOEXEC read end", p[0]);
    show_flags("pipe2 O_CLOEXEC write end", p[1]);
    close(p[0]), close(p[1]);
    T(pipe2(p, O_NONBLOCK));
    show_flags("pipe2 O_NONBLOCK read end", p[0]);
    show_flags("pipe2 O_NONBLOCK write end", p[1]);
    close(p[0]), close(p[1]);
    T(pipe2(p, O_NONBLOCK | O_CLOEXEC));
    show_flags("pipe2 O_NONBLOCK|O_CLOEXEC read end", p[0]);
    close(p[0]), close(p[1]);
    T(pipe2(p, O_APPEND));
    T(pipe2(p, 0x12340000));
    T(syscall(SYS_pipe, BAD_PTR));
    T(syscall(SYS_pipe2, BAD_PTR, 0));
}

static void basics(void) {
    printf("-- reads and writes\n");
    int p[2];
    pipe(p);
    char buf[64] = {0};
    T(read(p[0], buf, 0));
    T(write(p[1], buf, 0));
    T(write(p[1], "hello", 5));
    T(write(p[1], " world", 6));
    T(read(p[0], buf, 3));
    T(read(p[0], buf + 3, sizeof buf - 4)); /* returns what is there, does not wait for more */
    printf("read back: \"%s\"\n", buf);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    T(read(p[0], buf, sizeof buf)); /* empty, writer open */
    fcntl(p[0], F_SETFL, 0);
    close(p[1]);
    T(read(p[0], buf, sizeof buf)); /* empty, no writer: EOF */
    T(read(p[0], buf, sizeof buf));
    close(p[0]);

    /* EOF after the data the last writer left */
    pipe(p);
    write(p[1], "tail", 4);
    close(p[1]);
    memset(buf, 0, sizeof buf);
    T(read(p[0], buf, sizeof buf));
    printf("then: \"%s\"\n", buf);
    T(read(p[0], buf, sizeof buf));
    close(p[0]);

    /* A duplicated write end keeps the pipe open. */
    pipe(p);
    int w2 = dup(p[1]);
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    T(read(p[0], buf, sizeof buf));
    close(w2);
    T(read(p[0], buf, sizeof buf));
    close(p[0]);
}

static void eof_from_children(void) {
    printf("-- EOF when the last writer, in children, closes\n");
    int p[2];
    pipe(p);
    pid_t a = xfork();
    if (a == 0) {
        close(p[0]);
        sleep_ms(30);
        write(p[1], "from a\n", 7);
        _exit(0);
    }
    pid_t b = xfork();
    if (b == 0) {
        close(p[0]);
        sleep_ms(60);
        write(p[1], "from b\n", 7);
        _exit(0);
    }
    close(p[1]);
    char buf[64] = {0};
    long total = 0;
    ssize_t n;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - (size_t)total)) > 0) total += n;
    printf("read until EOF: %ld bytes: %s", total, buf);
    reap("a", a);
    reap("b", b);
    close(p[0]);

    /* A read blocks until a child writes. */
    pipe(p);
    pid_t w = xfork();
    if (w == 0) {
        close(p[0]);
        sleep_ms(100);
        write(p[1], "late", 4);
        sleep_ms(50);
        _exit(0);
    }
    close(p[1]);
    memset(buf, 0, sizeof buf);
    T(read(p[0], buf, sizeof buf));
    printf("blocking read got \"%s\"\n", buf);
    T(read(p[0], buf, sizeof buf));
    reap("writer", w);
    close(p[0]);
}

static void broken(void) {
    printf("-- EPIPE and SIGPIPE\n");
    int p[2];
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    T(write(p[1], "x", 1));
    T(write(p[1], "x", 0));
    signal(SIGPIPE, SIG_DFL);
    pid_t pid = xfork();
    if (pid == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    reap("writer with SIGPIPE default", pid);
    close(p[1]);

    /* A writer blocked on a full pipe, and then the reader goes away: `yes | head -c 10`. */
    pipe(p);
    pid = xfork();
    if (pid == 0) {
        close(p[0]);
        char buf[4096];
        memset(buf, 'y', sizeof buf);
        for (;;) write(p[1], buf, sizeof buf);
    }
    close(p[1]);
    char buf[10];
    long n = 0;
    while (n < 10) {
        ssize_t r = read(p[0], buf, 10 - (size_t)n);
        if (r <= 0) break;
        n += r;
    }
    printf("read %ld bytes\n", n);
    sleep_ms(50); /* let the writer fill the pipe and block */
    close(p[0]);
    reap("blocked writer after the reader closed", pid);

    /* The same with SIGPIPE ignored: the blocked writer gets EPIPE. */
    pipe(p);
    pid = xfork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        close(p[0]);
        char chunk[4096];
        memset(chunk, 'y', sizeof chunk);
        for (;;)
            if (write(p[1], chunk, sizeof chunk) < 0) _exit(errno == EPIPE ? 32 : 1);
    }
    close(p[1]);
    read(p[0], buf, 1);
    sleep_ms(50);
    close(p[0]);
    reap("blocked writer with SIGPIPE ignored (exit 32 = EPIPE)", pid);
}

static void nonblocking(void) {
    printf("-- non-blocking ends, capacity\n");
    int p[2];
    pipe2(p, O_NONBLOCK);
    T(fcntl(p[0], F_GETPIPE_SZ));
    T(fcntl(p[1], F_GETPIPE_SZ));
    char buf[4096];
    T(read(p[0], buf, sizeof buf));
    static char big[200000];
    memset(big, 'z', sizeof big);
    T(write(p[1], big, 100000)); /* partial: what fits */
    T(write(p[1], big, 1));
    T(write(p[1], big, 100000));
    T(read(p[0], big, 4096));
    T(write(p[1], big, 5000)); /* a page is free */
    T(write(p[1], big, 1));
    long total = 0;
    ssize_t n;
    while ((n = read(p[0], big, sizeof big)) > 0) total += n;
    printf("drained %ld bytes, then %s\n", total, errname(errno));
    /* Fill with small writes: how many bytes fit. */
    total = 0;
    while ((n = write(p[1], big, 512)) > 0) total += n;
    printf("512-byte writes until %s: %ld bytes\n", errname(errno), total);
    close(p[0]), close(p[1]);

    printf("-- F_SETPIPE_SZ\n");
    pipe2(p, O_NONBLOCK);
    T(fcntl(p[1], F_SETPIPE_SZ, 4096));
    T(fcntl(p[0], F_GETPIPE_SZ));
    T(write(p[1], big, 10000));
    T(fcntl(p[1], F_SETPIPE_SZ, 100000)); /* rounded up to a power of two pages */
    T(fcntl(p[1], F_GETPIPE_SZ));
    T(write(p[1], big, 200000));
    T(fcntl(p[1], F_SETPIPE_SZ, 8192)); /* holds 131072 bytes */
    drain(p[0]);
    T(fcntl(p[1], F_SETPIPE_SZ, 0)); /* the minimum: a page */
    T(fcntl(p[1], F_GETPIPE_SZ));
    T(fcntl(p[1], F_SETPIPE_SZ, 65536));
    T(fcntl(p[1], F_SETPIPE_SZ, -1));
    T(fcntl(p[1], F_SETPIPE_SZ, (1L << 31) + 1));
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    T(fcntl(dir, F_GETPIPE_SZ));
    T(fcntl(dir, F_SETPIPE_SZ, 4096));
    close(dir);
    close(p[0]), close(p[1]);
    /* O_NONBLOCK set later with F_SETFL works the same. */
    pipe(p);
    T(fcntl(p[1], F_SETFL, O_NONBLOCK));
    total = 0;
    while ((n = write(p[1], big, 4096)) > 0) total += n;
    printf("4096-byte writes after F_SETFL O_NONBLOCK until %s: %ld bytes\n", errname(errno), total);
    close(p[0]), close(p[1]);
}

/* Two writers, each writing 64 records of PIPE_BUF bytes: record k of writer w is the letter w, its number,
 * and filler. Records must arrive whole and each writer's in order. */
static void atomic_writes(void) {
    printf("-- atomic writes of PIPE_BUF bytes\n");
    printf("PIPE_BUF: %d\n", PIPE_BUF);
    enum { RECORDS = 64, SIZE = PIPE_BUF };
    int p[2];
    pipe(p);
    pid_t w[2];
    for (int i = 0; i < 2; i++) {
        w[i] = xfork();
        if (w[i] == 0) {
            close(p[0]);
            char rec[SIZE];
            for (int k = 0; k < RECORDS; k++) {
                memset(rec, 'A' + i, sizeof rec);
                snprintf(rec, 16, "%c%06d", 'A' + i, k);
                rec[7] = 'A' + i;
                if (write(p[1], rec, sizeof rec) != (ssize_t)sizeof rec) _exit(1);
            }
            _exit(0);
        }
    }
    close(p[1]);
    static char all[2 * RECORDS * SIZE + 1];
    size_t total = 0;
    ssize_t n;
    /* Odd-sized reads: records are whole in the stream, not in each read. */
    while (total < sizeof all && (n = read(p[0], all + total, total % 2 ? 1000 : 3000)) > 0) total += (size_t)n;
    printf("bytes: %zu\n", total);
    int whole = 1, ordered = 1, next[2] = {0, 0}, count[2] = {0, 0};
    for (size_t r = 0; r + SIZE <= total; r += SIZE) {
        char *rec = all + r;
        int who = rec[0] - 'A';
        if (who < 0 || who > 1) {
            whole = 0;
            continue;
        }
        for (size_t i = 7; i < SIZE; i++)
            if (rec[i] != rec[0]) whole = 0;
        if (atoi(rec + 1) != next[who]) ordered = 0;
        next[who]++;
        count[who]++;
    }
    printf("records from A: %d, from B: %d\n", count[0], count[1]);
    show_bool("every record whole", whole);
    show_bool("each writer's records in order", ordered);
    reap("writer A", w[0]);
    reap("writer B", w[1]);
    close(p[0]);
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void transfer(void) {
    printf("-- 1 MiB between processes\n");
    enum { SIZE = 1 << 20 };
    int p[2];
    pipe(p);
    pid_t pid = xfork();
    if (pid == 0) {
        close(p[0]);
        static unsigned char data[SIZE];
        uint32_t x = 1;
        for (size_t i = 0; i < SIZE; i++) {
            x = x * 1103515245u + 12345u;
            data[i] = (unsigned char)(x >> 16);
        }
        size_t off = 0;
        while (off < SIZE) {
            size_t chunk = SIZE - off < 7777 ? SIZE - off : 7777;
            ssize_t n = write(p[1], data + off, chunk);
            if (n <= 0) _exit(1);
            off += (size_t)n;
        }
        _exit(0);
    }
    close(p[1]);
    static unsigned char buf[65536 + 123];
    uint32_t h = 2166136261u;
    long total = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        h = fnv(h, buf, (size_t)n);
        total += n;
    }
    printf("received %ld bytes, FNV-1a 0x%08x\n", total, h);
    reap("sender", pid);
    close(p[0]);
}

static void redirections(void) {
    printf("-- pipe ends dup2'd onto stdout and stdin\n");
    int p[2];
    pipe(p);
    pid_t pid = xfork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]), close(p[1]);
        printf("written to stdout\n");
        fflush(stdout);
        _exit(0);
    }
    close(p[1]);
    char buf[128] = {0};
    long n = 0;
    ssize_t r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) n += r;
    printf("the parent read from the pipe: %s", buf);
    reap("child", pid);
    close(p[0]);

    /* A child reading its stdin from a pipe the parent writes. */
    int q[2], back[2];
    pipe(q);
    pipe(back);
    pid = xfork();
    if (pid == 0) {
        dup2(q[0], 0);
        dup2(back[1], 1);
        close(q[0]), close(q[1]), close(back[0]), close(back[1]);
        char line[64];
        int lines = 0;
        while (fgets(line, sizeof line, stdin)) {
            lines++;
            printf("child got: %s", line);
        }
        printf("child saw EOF after %d lines\n", lines);
        fflush(stdout);
        _exit(0);
    }
    close(q[0]), close(back[1]);
    write(q[1], "one\ntwo\n", 8);
    close(q[1]);
    n = 0;
    memset(buf, 0, sizeof buf);
    while ((r = read(back[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) n += r;
    printf("%s", buf);
    reap("child", pid);
    close(back[0]);

    /* A pipeline of two children, `producer | consumer`, as a shell builds it. */
    pipe(p);
    int out[2];
    pipe(out);
    pid_t producer = xfork();
    if (producer == 0) {
        dup2(p[1], 1);
        close(p[0]), close(p[1]), close(out[0]), close(out[1]);
        for (int i = 1; i <= 1000; i++) printf("%d\n", i);
        fflush(stdout);
        _exit(0);
    }
    pid_t consumer = xfork();
    if (consumer == 0) {
        dup2(p[0], 0);
        dup2(out[1], 1);
        close(p[0]), close(p[1]), close(out[0]), close(out[1]);
        long sum = 0, v, count = 0;
        while (scanf("%ld", &v) == 1) sum += v, count++;
        printf("consumer: %ld numbers, sum %ld\n", count, sum);
        fflush(stdout);
        _exit(0);
    }
    close(p[0]), close(p[1]), close(out[1]);
    n = 0;
    memset(buf, 0, sizeof buf);
    while ((r = read(out[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) n += r;
    printf("%s", buf);
    reap("producer", producer);
    reap("consumer", consumer);
    close(out[0]);
}

int main(void) {
    creation();
    basics();
    eof_from_children();
    broken();
    nonblocking();
    atomic_writes();
    transfer();
    redirections();
    printf("open fds at the end:");
    for (int fd = 0; fd < 64; fd++)
        if (fcntl(fd, F_GETFD) != -1) printf(" %d", fd);
    printf("\n");
    return 0;
}
