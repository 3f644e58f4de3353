/* fsize.c: RLIMIT_FSIZE (mm/filemap.c generic_write_check_limits, fs/attr.c inode_newsize_ok): a write that
 * would cross the limit is cut short at it, one that starts at or past it fails with EFBIG and raises
 * SIGXFSZ (which kills by default), and so does truncating past it. Works in a fresh directory under /tmp.
 */
#include "check.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>

static volatile int signals;
static void on_xfsz(int sig) { (void)sig; signals++; }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/umk-fsize.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) return 1;
    signal(SIGXFSZ, on_xfsz);
    struct rlimit r = {10000, RLIM_INFINITY};
    T(setrlimit(RLIMIT_FSIZE, &r));
    char buf[100];
    memset(buf, 'x', sizeof buf);
    int fd = open("f", O_RDWR | O_CREAT, 0644);
    T(lseek(fd, 9990, SEEK_SET));
    T(write(fd, buf, 20));
    T(write(fd, buf, 20));
    printf("signals: %d\n", signals);
    T(pwrite(fd, buf, 50, 9980));
    T(pwrite(fd, buf, 50, 10000));
    struct iovec iov[2] = {{buf, 30}, {buf, 30}};
    T(pwritev(fd, iov, 2, 9970));
    T(ftruncate(fd, 20000));
    T(ftruncate(fd, 10000));
    T(truncate("f", 10001));
    T(truncate("f", 5000));
    printf("signals: %d\n", signals);
    int ap = open("f", O_WRONLY | O_APPEND);
    T(ftruncate(fd, 9999));
    T(write(ap, buf, 10));
    T(write(ap, buf, 10));
    close(ap);
    T(write(1, "", 0));
    printf("signals: %d\n", signals);
    close(fd);

    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_DFL);
        int g = open("g", O_WRONLY | O_CREAT, 0644);
        lseek(g, 10000, SEEK_SET);
        write(g, buf, 1);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    unlink("f");
    unlink("g");
    T(chdir("/"));
    T(rmdir(dir));
    return 0;
}
