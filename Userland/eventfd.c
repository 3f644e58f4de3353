/* eventfd.c: eventfd and eventfd2 (fs/eventfd.c): the counter a write adds to and a read takes, EFD_SEMAPHORE,
 * EFD_NONBLOCK's EAGAIN on an empty counter and on a write that would overflow, the short-buffer and
 * ULLONG_MAX errors, poll's events at each state, a blocking read woken by a child's write, and fdinfo. */
#include "check.h"
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

static void show_poll(const char *what, int fd) {
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    int r = poll(&p, 1, 0);
    printf("%s: %d%s%s%s\n", what, r, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
           p.revents & POLLERR ? " ERR" : "");
}

static void show_read(const char *what, int fd) {
    uint64_t v = 0;
    errno = 0;
    ssize_t r = read(fd, &v, sizeof v);
    if (r == -1)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: %zd %llu\n", what, r, (unsigned long long)v);
}

static long write64(int fd, uint64_t v) { return write(fd, &v, sizeof v); }

int main(void) {
    T(syscall(SYS_eventfd2, 0, 0x7fff));
    T(syscall(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC | 4));
    int fd = eventfd(3, EFD_NONBLOCK);
    show_bool("fd", fd >= 0);
    show_poll("poll 3", fd);
    show_read("read", fd);
    show_read("read empty", fd);
    show_poll("poll 0", fd);
    T(write64(fd, 5));
    T(write64(fd, 7));
    show_read("read 12", fd);
    char small[4];
    T(read(fd, small, sizeof small));
    T(write(fd, small, sizeof small));
    T(write64(fd, UINT64_MAX));
    T(write64(fd, UINT64_MAX - 1));
    show_poll("poll full", fd);
    T(write64(fd, 1));
    T(write64(fd, 0));
    show_read("read max", fd);
    /* (A read into a bad buffer is left out: Linux takes the count before the copy faults.) */
    T(write(fd, (void *)BAD_PTR, 8));
    uint64_t big[2] = {9, 9};
    T(write(fd, big, sizeof big));
    T(write(fd, big, 9));
    T(write64(fd, 4));
    T(read(fd, big, sizeof big));
    printf("16-byte read: %llu\n", (unsigned long long)big[0]);
    close(fd);

    /* The legacy call takes no flags. */
    fd = syscall(SYS_eventfd, 2);
    show_bool("eventfd", fd >= 0);
    show_read("legacy read", fd);
    close(fd);

    fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    show_read("sem 1", fd);
    show_read("sem 2", fd);
    show_read("sem 3", fd);
    close(fd);

    /* fdinfo shows the count in hex. */
    fd = eventfd(0x1234, 0);
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    while (f && fgets(buf, sizeof buf, f))
        if (strncmp(buf, "eventfd-count:", 14) == 0 || strncmp(buf, "eventfd-semaphore:", 18) == 0) fputs(buf, stdout);
    if (f) fclose(f);
    char link[64] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    T(readlink(path, link, sizeof link - 1));
    printf("link: %s\n", link);
    show_read("drain", fd);

    /* A blocking read waits for a child's write. */
    pid_t pid = xfork();
    if (pid == 0) {
        sleep_ms(50);
        write64(fd, 42);
        _exit(0);
    }
    show_read("blocking read", fd);
    waitpid(pid, NULL, 0);

    /* A blocking write that would overflow waits for a child's read. */
    T(write64(fd, UINT64_MAX - 1));
    pid = xfork();
    if (pid == 0) {
        sleep_ms(50);
        uint64_t v;
        read(fd, &v, sizeof v);
        _exit(0);
    }
    T(write64(fd, 3));
    waitpid(pid, NULL, 0);
    show_read("after blocked write", fd);
    return 0;
}
