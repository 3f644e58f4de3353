/* inotify.c: inotify(7) in a fresh directory under /tmp: the events that making, writing, reading, renaming and
 * removing names send to a watch on the directory and on files in it (masks, names, the cookie of a move pair),
 * the add_watch mask rules (IN_MASK_ADD, IN_ONESHOT, IN_ONLYDIR, IN_MASK_CREATE, IN_DONT_FOLLOW) and their errors,
 * IN_IGNORED after rm_watch and after the watched file goes, record layout (names padded to 16 bytes), EINVAL
 * for a small buffer, EAGAIN, FIONREAD, poll, IN_Q_OVERFLOW, and a blocking read woken by a child's change.
 */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif

static char buf[65536] __attribute__((aligned(8)));

static const char *masks(uint32_t m) {
    static char out[256];
    static const struct { uint32_t bit; const char *name; } all[] = {
        {IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"}, {IN_CLOSE_WRITE, "CLOSE_WRITE"},
        {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"},
        {IN_MOVED_TO, "MOVED_TO"}, {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
        {IN_MOVE_SELF, "MOVE_SELF"}, {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"}, {IN_IGNORED, "IGNORED"},
        {IN_ISDIR, "ISDIR"},
    };
    out[0] = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (m & all[i].bit) {
            if (out[0]) strcat(out, "|");
            strcat(out, all[i].name);
            m &= ~all[i].bit;
        }
    if (m) sprintf(out + strlen(out), "|0x%x", m);
    return out;
}

/* Reads and prints every queued event; a move pair's cookies are compared, not printed. */
static void drain(int fd, const char *label) {
    static uint32_t fromCookie;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
        printf("%s: read %s\n", label, errname(errno));
        return;
    }
    for (char *p = buf; p < buf + n;) {
        struct inotify_event *e = (struct inotify_event *)p;
        printf("%s: wd=%d %s len=%u", label, e->wd, masks(e->mask), e->len);
        if (e->len) printf(" name=%s", e->name);
        if (e->mask & IN_MOVED_FROM) fromCookie = e->cookie, printf(" cookie=%s", e->cookie ? "set" : "0");
        else if (e->mask & IN_MOVED_TO) printf(" cookie=%s", e->cookie == fromCookie ? "matches" : "differs");
        else if (e->cookie) printf(" cookie=%u", e->cookie);
        printf("\n");
        p += sizeof *e + e->len;
    }
}

static void touch(const char *p) { close(open(p, O_CREAT | O_WRONLY, 0644)); }
static void put(const char *p, const char *s) {
    int fd = open(p, O_WRONLY | O_APPEND);
    if (write(fd, s, strlen(s)) < 0) printf("write %s\n", errname(errno));
    close(fd);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/umk-inotify.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) return 1;

    printf("init1 bad flags: %s\n", inotify_init1(0x1) < 0 ? errname(errno) : "ok");
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    printf("init1: %s nonblock=%d cloexec=%d\n", in >= 0 ? "ok" : errname(errno),
           !!(fcntl(in, F_GETFL) & O_NONBLOCK), fcntl(in, F_GETFD) & FD_CLOEXEC);
    drain(in, "empty");
    int wd = inotify_add_watch(in, ".", IN_ALL_EVENTS);
    printf("watch .: %d, again: %d, by path: %d\n", wd, inotify_add_watch(in, ".", IN_ALL_EVENTS),
           inotify_add_watch(in, dir, IN_ALL_EVENTS));
    struct pollfd pfd = {in, POLLIN, 0};
    printf("poll empty: %d\n", poll(&pfd, 1, 0));

    /* A new file: made, opened, written, closed. */
    int fd = open("a", O_CREAT | O_WRONLY, 0644);
    int ready = poll(&pfd, 1, 0);
    printf("poll: %d revents=%s\n", ready, pfd.revents == POLLIN ? "POLLIN" : "other");
    if (write(fd, "hello", 5) != 5 || write(fd, "more", 4) != 4) printf("write failed\n");  // merged
    close(fd);
    int pending = -1;
    ioctl(in, FIONREAD, &pending);
    printf("FIONREAD: %d\n", pending);
    drain(in, "create");
    chmod("a", 0600);
    utimensat(AT_FDCWD, "a", NULL, 0);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {5, 0}};
    utimensat(AT_FDCWD, "a", ts, 0);
    chown("a", -1, -1);
    chown("a", getuid(), -1);
    truncate("a", 2);
    drain(in, "attrs");
    fd = open("a", O_RDONLY);
    if (read(fd, buf, 1) != 1 || read(fd, buf, 100) != 1 || read(fd, buf, 100) != 0) printf("read failed\n");
    close(fd);
    fd = open("a", O_RDWR | O_TRUNC);
    close(fd);
    drain(in, "read");

    /* Names made, moved and removed. */
    mkdir("sub", 0755);
    if (symlink("a", "sym") != 0 || mknod("fifo", S_IFIFO | 0644, 0) != 0) printf("make failed\n");
    rename("a", "b");
    rename("sub", "sub2");
    drain(in, "names");
    int wdb = inotify_add_watch(in, "b", IN_ALL_EVENTS);
    printf("watch b: %d\n", wdb);
    link("b", "c");
    unlink("c");
    drain(in, "link");
    unlink("b");
    drain(in, "unlink");
    int wds = inotify_add_watch(in, "sub2", IN_ALL_EVENTS);
    touch("sub2/x");
    rename("sub2/x", "y");
    drain(in, "across");
    rename("sub2", "sub3");
    unlink("y");
    rmdir("sub3");
    printf("watch sub2: %d\n", wds);
    drain(in, "rmdir");
    touch("t");
    touch("u");
    int wdt = inotify_add_watch(in, "t", IN_ALL_EVENTS);
    rename("u", "t");  // replaces t
    drain(in, "replace");
    printf("rm_watch gone: %s\n", inotify_rm_watch(in, wdt) < 0 ? errname(errno) : "ok");
    fd = open(".", O_RDONLY | O_DIRECTORY);
    while (syscall(SYS_getdents64, fd, buf, sizeof buf) > 0) {}  // two IN_ACCESS, merged
    close(fd);
    drain(in, "opendir");

    /* Record layout: names padded with NULs to a multiple of 16. */
    touch("n");
    touch("fifteen_chars_x");
    touch("sixteen_chars_xx");
    drain(in, "padding");
    touch("z");
    printf("read 16: %s\n", read(in, buf, 16) < 0 ? errname(errno) : "ok");
    printf("read 31: %s\n", read(in, buf, 31) < 0 ? errname(errno) : "ok");
    ssize_t got = read(in, buf, 64);
    printf("read 64: %zd (of the CREATE and the OPEN: %s)\n", got, got == 64 ? "both" : "not both");
    drain(in, "rest");
    memset(buf, 0xff, 32);
    touch("p");
    got = read(in, buf, 32);
    printf("padding bytes: %s\n", got == 32 && buf[17] == 0 && buf[31] == 0 ? "zero" : "not zero");
    drain(in, "rest");

    /* add_watch's rules and errors. */
    printf("mask 0: %s\n", inotify_add_watch(in, ".", 0) < 0 ? errname(errno) : "ok");
    printf("mask bad bit: %s\n", inotify_add_watch(in, ".", IN_ACCESS | 0x10000) < 0 ? errname(errno) : "ok");
    printf("bad fd: %s\n", inotify_add_watch(999, ".", IN_ACCESS) < 0 ? errname(errno) : "ok");
    printf("not inotify: %s\n", inotify_add_watch(1, ".", IN_ACCESS) < 0 ? errname(errno) : "ok");
    printf("add+create: %s\n", inotify_add_watch(in, ".", IN_ACCESS | IN_MASK_ADD | IN_MASK_CREATE) < 0 ? errname(errno) : "ok");
    printf("onlydir on file: %s\n", inotify_add_watch(in, "n", IN_ACCESS | IN_ONLYDIR) < 0 ? errname(errno) : "ok");
    printf("onlydir on dir: %d\n", inotify_add_watch(in, ".", IN_ALL_EVENTS | IN_ONLYDIR));
    printf("missing: %s\n", inotify_add_watch(in, "nothing", IN_ACCESS) < 0 ? errname(errno) : "ok");
    printf("mask_create existing: %s\n", inotify_add_watch(in, ".", IN_ACCESS | IN_MASK_CREATE) < 0 ? errname(errno) : "ok");
    printf("bad path pointer: %s\n", inotify_add_watch(in, (const char *)8, IN_ACCESS) < 0 ? errname(errno) : "ok");
    printf("rm_watch bad wd: %s\n", inotify_rm_watch(in, 12345) < 0 ? errname(errno) : "ok");
    printf("rm_watch not inotify: %s\n", inotify_rm_watch(1, 1) < 0 ? errname(errno) : "ok");
    printf("rm_watch bad fd: %s\n", inotify_rm_watch(999, 1) < 0 ? errname(errno) : "ok");
    printf("lseek: %ld\n", (long)lseek(in, 0, SEEK_CUR));
    printf("write: %s\n", write(in, "x", 1) < 0 ? errname(errno) : "ok");
    touch("q");
    void *volatile bad = (void *)8;
    printf("read bad buffer: %s\n", read(in, bad, 4096) < 0 ? errname(errno) : "ok");
    while (read(in, buf, sizeof buf) > 0) {}  // Linux loses the event it failed to copy; umk keeps it

    /* Masks: replace, IN_MASK_ADD, IN_ONESHOT, IN_DONT_FOLLOW, IN_MASK_CREATE on a new file. */
    printf("rm_watch .: %s\n", inotify_rm_watch(in, wd) < 0 ? errname(errno) : "ok");
    drain(in, "rm_watch");
    int wn = inotify_add_watch(in, "n", IN_MODIFY | IN_MASK_CREATE);
    printf("watch n: %s\n", wn > wd ? "new wd" : "old wd");
    put("n", "x");
    chmod("n", 0640);
    printf("replace: %s\n", inotify_add_watch(in, "n", IN_ATTRIB) == wn ? "same wd" : "other wd");
    put("n", "x");
    chmod("n", 0600);
    printf("mask_add: %s\n", inotify_add_watch(in, "n", IN_MODIFY | IN_MASK_ADD) == wn ? "same wd" : "other wd");
    put("n", "x");
    chmod("n", 0640);
    drain(in, "masks");
    printf("oneshot: %s\n", inotify_add_watch(in, "n", IN_ATTRIB | IN_ONESHOT) == wn ? "same wd" : "other wd");
    chmod("n", 0600);
    chmod("n", 0640);
    drain(in, "oneshot");
    touch("a");
    int wsym = inotify_add_watch(in, "sym", IN_ATTRIB | IN_DONT_FOLLOW);
    int wtarget = inotify_add_watch(in, "sym", IN_ATTRIB);
    printf("dont_follow: %s\n", wsym != wtarget ? "own wd" : "same wd");
    fd = open("sym", O_RDONLY | O_NOFOLLOW | O_PATH);
    close(fd);
    chmod("a", 0600);
    drain(in, "dont_follow");

    /* Overflow: past max_queued_events, one IN_Q_OVERFLOW. */
    int big = inotify_init1(IN_NONBLOCK);
    inotify_add_watch(big, ".", IN_MODIFY);
    int fa = open("a", O_WRONLY), fb = open("n", O_WRONLY);
    for (int i = 0; i < 16500; i++)
        if (write(i % 2 ? fb : fa, "x", 1) != 1) break;
    close(fa);
    close(fb);
    long events = 0, overflows = 0, lastwd = 0;
    for (;;) {
        ssize_t r = read(big, buf, sizeof buf);
        if (r <= 0) break;
        for (char *p = buf; p < buf + r;) {
            struct inotify_event *e = (struct inotify_event *)p;
            events++;
            if (e->mask & IN_Q_OVERFLOW) overflows++, lastwd = e->wd;
            p += sizeof *e + e->len;
        }
    }
    printf("overflow: %ld events, %ld overflow with wd %ld\n", events, overflows, lastwd);
    close(big);

    /* A blocking read, woken by a child's change. */
    int blocking = inotify_init();
    inotify_add_watch(blocking, ".", IN_CREATE);
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        touch("from-child");
        _exit(0);
    }
    got = read(blocking, buf, sizeof buf);
    struct inotify_event *e = (struct inotify_event *)buf;
    printf("blocking read: %zd %s %s\n", got, masks(e->mask), e->name);
    waitpid(child, NULL, 0);
    close(blocking);

    /* The watched directory itself goes. */
    int top = inotify_init1(IN_NONBLOCK);
    unlink("a"), unlink("n"), unlink("sym"), unlink("fifo"), unlink("t"), unlink("p"), unlink("q"), unlink("z");
    unlink("fifteen_chars_x"), unlink("sixteen_chars_xx"), unlink("from-child");
    printf("watch top: %d\n", inotify_add_watch(top, dir, IN_DELETE_SELF | IN_MOVE_SELF));
    if (chdir("/tmp") != 0 || rmdir(dir) != 0) printf("rmdir %s\n", errname(errno));
    drain(top, "top");
    close(top);
    close(in);
    printf("done\n");
    return 0;
}
