/* fifo.c: named pipes made with mkfifo (fs/pipe.c fifo_open): a lone non-blocking writer is ENXIO, a
 * non-blocking reader opens at once, blocking openers wait for each other (and two of them waiting at once
 * both go through), O_RDWR never waits, data and EOF as for a pipe, fstat shows the FIFO, an unlinked FIFO
 * keeps working for those who have it open, and a signal interrupts a waiting open (EINTR without
 * SA_RESTART). Works in a fresh directory under /tmp.
 */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void on_alarm(int sig) { (void)sig; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/umk-fifo.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) return 1;

    T(mkfifo("f", 0600));
    T(mkfifo("f", 0600));
    struct stat st;
    T(stat("f", &st));
    show_bool("S_ISFIFO", S_ISFIFO(st.st_mode));
    T(open("f", O_WRONLY | O_NONBLOCK));

    printf("-- a non-blocking reader, then a writer\n");
    int r = open("f", O_RDONLY | O_NONBLOCK);
    show_bool("reader opened", r >= 0);
    char buf[64];
    T(read(r, buf, sizeof buf));
    struct pollfd p = {r, POLLIN, 0};
    T(poll(&p, 1, 0));
    int w = open("f", O_WRONLY | O_NONBLOCK);
    show_bool("writer opened", w >= 0);
    T(fstat(w, &st));
    show_bool("fstat: S_ISFIFO", S_ISFIFO(st.st_mode));
    T(write(w, "abc", 3));
    T(read(r, buf, sizeof buf));
    T(close(w));
    T(read(r, buf, sizeof buf));
    p.revents = 0;
    T(poll(&p, 1, 0));
    printf("revents POLLHUP: %d\n", (p.revents & POLLHUP) != 0);
    T(close(r));

    printf("-- blocking opens meet\n");
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("f", O_WRONLY);  /* waits for the parent's reader */
        write(fd, "from child", 10);
        _exit(fd >= 0 ? 0 : 1);
    }
    r = open("f", O_RDONLY);
    show_bool("blocking reader opened", r >= 0);
    int n = 0, got;
    while ((got = read(r, buf + n, sizeof buf - 1 - n)) > 0) n += got;
    buf[n] = 0;
    printf("read \"%s\", then %d\n", buf, got);
    int status;
    waitpid(pid, &status, 0);
    printf("child: %d\n", WEXITSTATUS(status));
    close(r);

    printf("-- O_RDWR never waits\n");
    int rw = open("f", O_RDWR);
    show_bool("O_RDWR opened", rw >= 0);
    T(write(rw, "loop", 4));
    T(read(rw, buf, 4));
    T(unlink("f"));
    T(write(rw, "gone", 4));
    T(read(rw, buf, 4));
    T(fstat(rw, &st));
    printf("links: %ld\n", (long)st.st_nlink);
    close(rw);

    printf("-- a signal interrupts a waiting open\n");
    T(mkfifo("g", 0600));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    T(open("g", O_RDONLY));
    alarm(0);

    printf("-- a writer waits for a reader that comes later\n");
    pid = fork();
    if (pid == 0) {
        sleep_ms(100);
        int fd = open("g", O_RDONLY);
        n = read(fd, buf, sizeof buf);
        _exit(n == 5 ? 0 : 1);
    }
    w = open("g", O_WRONLY);
    show_bool("blocking writer opened", w >= 0);
    T(write(w, "hello", 5));
    waitpid(pid, &status, 0);
    printf("child: %d\n", WEXITSTATUS(status));
    close(w);
    signal(SIGPIPE, SIG_IGN);
    rw = open("g", O_RDWR);
    T(close(rw));

    T(unlink("g"));
    T(chdir("/"));
    T(rmdir(dir));
    return 0;
}
