/* fds.c: the file descriptor table: dup, dup2, dup3, fcntl, close, and ioctl on files and the console.
 *
 * Usage: fds FILE, where FILE is a readable regular file (the tests pass the fixture's hello.txt). The
 * tests run it with stdin, stdout and stderr on pipes, which are not terminals.
 */
#include "check.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

static void show_fd_flags(const char *what, int fd) {
    errno = 0;
    long r = fcntl(fd, F_GETFD);
    if (r == -1)
        printf("%s: F_GETFD %s\n", what, errname(errno));
    else
        printf("%s: F_GETFD %s\n", what, r & FD_CLOEXEC ? "FD_CLOEXEC" : "0");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fds FILE\n");
        return 2;
    }
    printf("open fds at start:");
    for (int fd = 0; fd < 64; fd++)
        if (fcntl(fd, F_GETFD) != -1) printf(" %d", fd);
    printf("\n");

    printf("-- dup, dup2, dup3\n");
    int fd = open(argv[1], O_RDONLY);
    show("open FILE", fd);
    T(dup(fd));
    T(dup(fd));
    T(close(4));
    T(dup(fd)); /* the lowest free number */
    T(dup(999));
    T(dup2(fd, 10));
    T(dup2(fd, 10)); /* onto an open fd: closed and replaced */
    T(dup2(fd, fd));
    T(dup2(999, 11));
    T(dup2(fd, -1));
    T(dup2(fd, 1 << 20));
    T(syscall(SYS_dup3, fd, 12, O_CLOEXEC));
    show_fd_flags("dup3 O_CLOEXEC", 12);
    T(syscall(SYS_dup3, fd, 13, 0));
    show_fd_flags("dup3 0", 13);
    T(syscall(SYS_dup3, fd, fd, 0));
    T(syscall(SYS_dup3, fd, 14, O_RDWR));
    T(syscall(SYS_dup3, 999, 14, 0));
    /* Duplicates share the offset. */
    char c;
    lseek(fd, 7, SEEK_SET);
    T(lseek(10, 0, SEEK_CUR));
    T(read(13, &c, 1) == 1 ? c : -1);
    T(lseek(fd, 0, SEEK_CUR));

    printf("-- fcntl\n");
    show_fd_flags("open without O_CLOEXEC", fd);
    T(fcntl(fd, F_SETFD, FD_CLOEXEC));
    show_fd_flags("after F_SETFD FD_CLOEXEC", fd);
    show_fd_flags("its dup 10 is unaffected", 10);
    T(fcntl(fd, F_SETFD, 0));
    show_fd_flags("after F_SETFD 0", fd);
    int cfd = open(argv[1], O_RDONLY | O_CLOEXEC);
    show_fd_flags("open with O_CLOEXEC", cfd);
    printf("F_GETFL of an O_RDONLY file: 0%lo\n", (long)fcntl(fd, F_GETFL));
    T(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK | O_RDWR));
    printf("F_GETFL after F_SETFL O_APPEND|O_NONBLOCK|O_RDWR: 0%lo\n", (long)fcntl(fd, F_GETFL));
    printf("F_GETFL of its dup 10 (shared): 0%lo\n", (long)fcntl(10, F_GETFL));
    T(fcntl(fd, F_SETFL, 0));
    printf("F_GETFL after F_SETFL 0: 0%lo\n", (long)fcntl(fd, F_GETFL));
    T(fcntl(fd, F_DUPFD, 20));
    show_fd_flags("F_DUPFD 20", 20);
    T(fcntl(fd, F_DUPFD, 20));
    T(fcntl(fd, F_DUPFD_CLOEXEC, 30));
    show_fd_flags("F_DUPFD_CLOEXEC 30", 30);
    T(fcntl(fd, F_DUPFD, -1));
    T(fcntl(fd, F_DUPFD, 1 << 20));
    T(fcntl(999, F_GETFD));
    T(fcntl(999, F_GETFL));
    T(fcntl(fd, 12345));
    printf("F_GETFL of stdin: 0%lo\n", (long)fcntl(0, F_GETFL) & O_ACCMODE);
    printf("F_GETFL of stdout: 0%lo\n", (long)fcntl(1, F_GETFL) & O_ACCMODE);

    printf("-- ioctl\n");
    struct termios t;
    struct winsize ws;
    T(ioctl(fd, TCGETS, &t));
    T(ioctl(fd, TIOCGWINSZ, &ws));
    T(ioctl(0, TCGETS, &t));
    T(ioctl(1, TCGETS, &t));
    T(ioctl(2, TIOCGWINSZ, &ws));
    T(ioctl(999, TCGETS, &t));
    show_bool("isatty(0)", isatty(0));
    show_bool("isatty(1)", isatty(1));

    printf("-- close\n");
    T(close(10));
    T(close(10));
    T(close(-1));
    T(close(999));
    printf("open fds at end:");
    for (int i = 0; i < 64; i++)
        if (fcntl(i, F_GETFD) != -1) printf(" %d", i);
    printf("\n");
    return 0;
}
