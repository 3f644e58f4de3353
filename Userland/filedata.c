/* filedata.c: the file-data system calls (issue 8): memfd_create and its seals, O_TMPFILE and linkat of an
 * unnamed file, fallocate and posix_fallocate, sendfile, copy_file_range, splice, tee and vmsplice, with the
 * errors Linux gives for bad fds, offsets, lengths, flags and pointers. The tmpfs-specific parts (st_blocks,
 * holes) work in a fresh directory under /dev/shm, which is tmpfs natively and under umk; the O_TMPFILE
 * parts also in one under /tmp (ext4 or tmpfs natively, the overlay under umk).
 */
#include "check.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#define MFD_ALLOW_SEALING 2U
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 8U
#define MFD_EXEC 0x10U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 1
#define F_SEAL_SHRINK 2
#define F_SEAL_GROW 4
#define F_SEAL_WRITE 8
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 16
#endif
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 1
#endif
#define FL_PUNCH 2
#define FL_COLLAPSE 8
#define FL_ZERO 16
#define FL_INSERT 32
#define FL_UNSHARE 64

static long memfd(const char *name, unsigned flags) { return syscall(SYS_memfd_create, name, flags); }
static long falloc(int fd, int mode, long off, long len) { return syscall(SYS_fallocate, fd, mode, off, len); }
static long cfr(int in, long *oin, int out, long *oout, size_t n, unsigned flags) {
    return syscall(SYS_copy_file_range, in, oin, out, oout, n, flags);
}
static long sfile(int out, int in, long *off, size_t n) { return syscall(SYS_sendfile, out, in, off, n); }
static long spl(int in, long *oin, int out, long *oout, size_t n, unsigned flags) {
    return syscall(SYS_splice, in, oin, out, oout, n, flags);
}

static void stat_line(const char *what, int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    printf("%s: size %ld blocks %ld nlink %ld\n", what, (long)st.st_size, (long)st.st_blocks, (long)st.st_nlink);
}

/* What the fd holds from `off`, up to 32 bytes, printed with holes as '.'. */
static void contents(const char *what, int fd, long off, int n) {
    char buf[64];
    long r = pread(fd, buf, n, off);
    if (r < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    for (long i = 0; i < r; i++)
        if (buf[i] == 0) buf[i] = '.';
    printf("%s: [%.*s]\n", what, (int)r, buf);
}

static void link_name(const char *what, int fd) {
    char p[64], buf[256];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    long n = readlink(p, buf, sizeof buf - 1);
    if (n < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    buf[n] = 0;
    printf("%s: %s\n", what, buf);
}

static void memfds(void) {
    char longname[300];
    memset(longname, 'a', sizeof longname);
    longname[249] = 0;
    T_OK(memfd(longname, 0));
    longname[249] = 'a';
    longname[250] = 0;
    T(memfd(longname, 0));
    T(memfd("x", 0x100));
    /* MFD_HUGETLB depends on the host's huge pages: not compared. */
    T(memfd("x", MFD_EXEC | MFD_NOEXEC_SEAL));
    T(memfd(BAD_PTR, 0));
    int fd = memfd("data", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    show_bool("memfd", fd >= 0);
    link_name("memfd link", fd);
    show("memfd F_GETFD", fcntl(fd, F_GETFD));
    show("memfd F_GETFL", fcntl(fd, F_GETFL) & ~O_LARGEFILE);
    stat_line("memfd new", fd);
    T(write(fd, "hello world", 11));
    stat_line("memfd written", fd);
    T(fcntl(fd, F_GET_SEALS));
    T(ftruncate(fd, 8192));
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
    T(ftruncate(fd, 4096));
    T(ftruncate(fd, 16384));
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    T(ftruncate(fd, 20000));
    T(ftruncate(fd, 16384));
    T(pwrite(fd, "x", 1, 16384));
    T(pwrite(fd, "x", 1, 16383));
    T(falloc(fd, 0, 16000, 1000));
    T(falloc(fd, 0, 0, 100));
    /* A writable shared mapping stops F_SEAL_WRITE (EBUSY) until it goes. */
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show_bool("memfd shared map", m != MAP_FAILED);
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    T(munmap(m, 4096));
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    show_bool("memfd private map", p != MAP_FAILED);
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    T(fcntl(fd, F_GET_SEALS));
    T(write(fd, "x", 1));
    T(pwrite(fd, "x", 1, 0));
    T(falloc(fd, 0, 0, 100));
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show_ok("sealed shared writable map", m == MAP_FAILED ? -1 : 0);
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    show_ok("sealed shared read map", m == MAP_FAILED ? -1 : 0);
    if (m != MAP_FAILED) {
        T(mprotect(m, 4096, PROT_READ | PROT_WRITE));
        munmap(m, 4096);
    }
    p[0] = 'H';  /* a private copy may still be written */
    contents("memfd after private write", fd, 0, 11);
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
    T(fcntl(fd, F_ADD_SEALS, 0x100));
    close(fd);

    /* Seals need MFD_ALLOW_SEALING; other files answer EINVAL. */
    fd = memfd("plain", 0);
    T(fcntl(fd, F_GET_SEALS));
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
    show("plain F_GETFD", fcntl(fd, F_GETFD));
    close(fd);
    int pipefd[2];
    pipe(pipefd);
    T(fcntl(pipefd[0], F_GET_SEALS));
    T(fcntl(pipefd[1], F_ADD_SEALS, F_SEAL_WRITE));
    close(pipefd[0]);
    close(pipefd[1]);

    /* F_SEAL_FUTURE_WRITE: existing writable mappings stay, new writes and mappings are refused. */
    fd = memfd("future", MFD_ALLOW_SEALING);
    T(ftruncate(fd, 4096));
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    T(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    m[0] = 'F';
    contents("future write through old map", fd, 0, 1);
    T(write(fd, "x", 1));
    char *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    show_ok("future sealed writable map", m2 == MAP_FAILED ? -1 : 0);
    munmap(m, 4096);
    close(fd);

    /* MAP_SHARED of a memfd: a forked child's stores are seen by the parent. */
    fd = memfd("shared", 0);
    T(ftruncate(fd, 8192));
    m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    pid_t pid = xfork();
    if (pid == 0) {
        memcpy(m + 4096, "from child", 10);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("parent sees: %.10s\n", m + 4096);
    contents("read sees", fd, 4096, 10);
    munmap(m, 8192);
    close(fd);
}

static void tmpfiles(const char *dir) {
    char path[128];
    printf("-- O_TMPFILE in %s\n", dir[1] == 't' ? "/tmp" : "/dev/shm");
    int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
    show_bool("tmpfile", fd >= 0);
    stat_line("tmpfile", fd);
    T(write(fd, "tmp data", 8));
    T(open(dir, O_TMPFILE | O_RDONLY, 0600));
    T(open("/proc", O_TMPFILE | O_RDWR, 0600));
    snprintf(path, sizeof path, "%s/nope", dir);
    T(open(path, O_TMPFILE | O_RDWR, 0600));
    snprintf(path, sizeof path, "%s/named", dir);
    T(linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH));
    stat_line("linked", fd);
    T(linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH));
    int r = open(path, O_RDONLY);
    contents("named holds", r, 0, 8);
    close(r);
    T(unlink(path));
    close(fd);

    fd = open(dir, O_TMPFILE | O_WRONLY, 0644);
    char p2[64];
    snprintf(p2, sizeof p2, "/proc/self/fd/%d", fd);
    snprintf(path, sizeof path, "%s/via-proc", dir);
    T(linkat(AT_FDCWD, p2, AT_FDCWD, path, AT_SYMLINK_FOLLOW));
    struct stat st;
    T(stat(path, &st));
    printf("via-proc mode %o\n", st.st_mode & 07777);
    T(unlink(path));
    close(fd);

    fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
    show_bool("tmpfile excl", fd >= 0);
    snprintf(path, sizeof path, "%s/excl", dir);
    T(linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH));
    snprintf(p2, sizeof p2, "/proc/self/fd/%d", fd);
    T(linkat(AT_FDCWD, p2, AT_FDCWD, path, AT_SYMLINK_FOLLOW));
    close(fd);
}

static void fallocates(void) {
    int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
    T(falloc(fd, 0, 0, 8192));
    stat_line("alloc 8192", fd);
    T(falloc(fd, FALLOC_FL_KEEP_SIZE, 8192, 8192));
    stat_line("keep size", fd);
    T(falloc(fd, 0, 100, 1));
    stat_line("inside", fd);
    T(pwrite(fd, "abcdefghijklmnopqrstuvwxyz", 26, 4090));
    T(falloc(fd, FL_PUNCH | FALLOC_FL_KEEP_SIZE, 4096, 4096));
    stat_line("punched", fd);
    contents("punched data", fd, 4090, 26);
    T(falloc(fd, FL_PUNCH, 0, 4096));
    T(falloc(fd, FL_PUNCH | FALLOC_FL_KEEP_SIZE, 4092, 2));
    contents("partial punch", fd, 4090, 6);
    T(falloc(fd, FL_ZERO, 4091, 1));
    contents("zero range", fd, 4090, 6);
    T(falloc(fd, FL_ZERO, 20000, 100));
    stat_line("zero range grows", fd);
    T(falloc(fd, FL_COLLAPSE, 0, 4096));
    T(falloc(fd, FL_INSERT, 0, 4096));
    T(falloc(fd, FL_UNSHARE, 0, 4096));
    T(falloc(fd, 0x100, 0, 4096));
    T(falloc(fd, 0, -1, 10));
    T(falloc(fd, 0, 0, 0));
    T(falloc(fd, 0, 0, -5));
    T(falloc(fd, 0, 0x7fffffffffffff00L, 0x1000));
    T(falloc(fd, 0, 1L << 62, 1L << 62));
    T(falloc(fd, 0, 1L << 40, 4096));
    T(falloc(fd, FL_PUNCH | FALLOC_FL_KEEP_SIZE, 1L << 62, 1L << 62));
    T(falloc(fd, FL_PUNCH | FALLOC_FL_KEEP_SIZE, 0, 0x7fffffffffffffffL));
    stat_line("punched all", fd);
    T(falloc(-1, 0, 0, 1));
    T(falloc(100, 0, 0, 1));
    int ro = open("f", O_RDONLY);
    T(falloc(ro, 0, 0, 1));
    close(ro);
    int ap = open("f", O_WRONLY | O_APPEND);
    T(falloc(ap, 0, 0, 1));
    T(falloc(ap, FL_PUNCH | FALLOC_FL_KEEP_SIZE, 0, 1));
    close(ap);
    int pipefd[2];
    pipe(pipefd);
    T(falloc(pipefd[1], 0, 0, 1));
    close(pipefd[0]);
    close(pipefd[1]);
    int d = open(".", O_RDONLY | O_DIRECTORY);
    T(falloc(d, 0, 0, 1));
    close(d);
    int op = open("f", O_PATH);
    T(falloc(op, 0, 0, 1));
    close(op);
    int dn = open("/dev/null", O_WRONLY);
    T(falloc(dn, 0, 0, 1));
    close(dn);
    close(fd);
    fd = open("g", O_RDWR | O_CREAT | O_TRUNC, 0644);
    T(posix_fallocate(fd, 0, 10000) == 0 ? 0 : -1);
    stat_line("posix_fallocate", fd);
    errno = posix_fallocate(fd, -1, 1);
    printf("posix_fallocate negative: %s\n", errname(errno));
    close(fd);
    unlink("f");
    unlink("g");
}

static void sendfiles(void) {
    int in = open("src", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(in, "0123456789abcdefghij", 20);
    int out = open("dst", O_RDWR | O_CREAT | O_TRUNC, 0644);
    long off = 5;
    T(sfile(out, in, &off, 4));
    printf("offset now %ld, file offset %ld\n", off, (long)lseek(in, 0, SEEK_CUR));
    lseek(in, 2, SEEK_SET);
    T(sfile(out, in, NULL, 3));
    printf("file offset %ld\n", (long)lseek(in, 0, SEEK_CUR));
    contents("dst", out, 0, 20);
    off = 18;
    T(sfile(out, in, &off, 100));
    printf("offset now %ld\n", off);
    off = 100;
    T(sfile(out, in, &off, 10));
    off = -1;
    T(sfile(out, in, &off, 10));
    T(sfile(out, in, BAD_PTR, 10));
    T(sfile(out, in, NULL, 0));
    T(sfile(out, -1, NULL, 1));
    T(sfile(-1, in, NULL, 1));
    int ro = open("src", O_RDONLY);
    T(sfile(ro, in, NULL, 1));
    int wo = open("src", O_WRONLY);
    T(sfile(out, wo, NULL, 1));
    close(wo);
    int ap = open("dst", O_WRONLY | O_APPEND);
    T(sfile(ap, ro, NULL, 1));
    close(ap);
    int d = open(".", O_RDONLY | O_DIRECTORY);
    T(sfile(out, d, NULL, 1));
    close(d);
    int pipefd[2];
    pipe(pipefd);
    off = 0;
    T(sfile(pipefd[1], ro, &off, 8));
    char buf[32] = {0};
    T(read(pipefd[0], buf, sizeof buf));
    printf("pipe got %s\n", buf);
    T(write(pipefd[1], "piped", 5));
    lseek(out, 0, SEEK_SET);
    T(sfile(out, pipefd[0], NULL, 5));
    off = 0;
    T(sfile(out, pipefd[0], &off, 5));
    /* A full non-blocking pipe: EAGAIN. */
    T(read(pipefd[0], buf, sizeof buf));
    fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
    int big = open("big", O_RDWR | O_CREAT | O_TRUNC, 0644);
    T(ftruncate(big, 200000));
    off = 0;
    T(sfile(pipefd[1], big, &off, 200000));
    T(sfile(pipefd[1], big, &off, 200000));
    close(big);
    unlink("big");
    close(pipefd[0]);
    close(pipefd[1]);
    /* A pipe with no reader: EPIPE (SIGPIPE ignored). */
    signal(SIGPIPE, SIG_IGN);
    pipe(pipefd);
    close(pipefd[0]);
    off = 0;
    T(sfile(pipefd[1], ro, &off, 4));
    close(pipefd[1]);
    signal(SIGPIPE, SIG_DFL);
    close(ro);
    close(in);
    close(out);
}

static void copy_ranges(void) {
    int in = open("src", O_RDWR);
    int out = open("dst", O_RDWR | O_TRUNC);
    long oi = 10, oo = 3;
    T(cfr(in, &oi, out, &oo, 5, 0));
    printf("offsets %ld %ld\n", oi, oo);
    contents("dst", out, 0, 10);
    T(cfr(in, NULL, out, NULL, 4, 0));
    printf("file offsets %ld %ld\n", (long)lseek(in, 0, SEEK_CUR), (long)lseek(out, 0, SEEK_CUR));
    contents("dst", out, 0, 10);
    oi = 15;
    T(cfr(in, &oi, out, NULL, 100, 0));
    oi = 50;
    T(cfr(in, &oi, out, NULL, 100, 0));
    T(cfr(in, NULL, out, NULL, 1, 1));
    T(cfr(in, BAD_PTR, out, NULL, 1, 0));
    T(cfr(in, NULL, out, BAD_PTR, 1, 0));
    oi = -1;
    T(cfr(in, &oi, out, NULL, 1, 0));
    oi = 0x7fffffffffffff00L;
    T(cfr(in, &oi, out, NULL, 0x1000, 0));
    oi = 0;
    oo = 0x7fffffffffffff00L;
    T(cfr(in, &oi, out, &oo, 0x1000, 0));
    /* The same file: overlapping ranges are EINVAL, disjoint ones copy. */
    oi = 0, oo = 4;
    T(cfr(in, &oi, in, &oo, 8, 0));
    oi = 0, oo = 20;
    T(cfr(in, &oi, in, &oo, 8, 0));
    contents("self copy", in, 16, 16);
    int ro = open("src", O_RDONLY);
    T(cfr(in, NULL, ro, NULL, 1, 0));
    int wo = open("src", O_WRONLY);
    T(cfr(wo, NULL, out, NULL, 1, 0));
    int ap = open("dst", O_WRONLY | O_APPEND);
    T(cfr(in, NULL, ap, NULL, 1, 0));
    int d = open(".", O_RDONLY | O_DIRECTORY);
    T(cfr(d, NULL, out, NULL, 1, 0));
    T(cfr(in, NULL, d, NULL, 1, 0));
    int pipefd[2];
    pipe(pipefd);
    T(cfr(pipefd[0], NULL, out, NULL, 1, 0));
    T(cfr(in, NULL, pipefd[1], NULL, 1, 0));
    T(cfr(-1, NULL, out, NULL, 1, 0));
    oi = 0;
    T(cfr(in, &oi, out, NULL, 0, 0));
    /* Across filesystems. */
    int mf = memfd("cfr", 0);
    T(cfr(in, NULL, mf, NULL, 4, 0));
    close(mf);
    close(pipefd[0]);
    close(pipefd[1]);
    close(d);
    close(ap);
    close(wo);
    close(ro);
    close(in);
    close(out);
}

static void splices(void) {
    int in = open("src", O_RDONLY);
    int out = open("dst", O_RDWR | O_TRUNC);
    int p[2], q[2];
    pipe(p);
    pipe(q);
    long off = 4;
    T(spl(in, &off, p[1], NULL, 6, 0));
    printf("offset now %ld, file offset %ld\n", off, (long)lseek(in, 0, SEEK_CUR));
    T(spl(in, NULL, p[1], NULL, 2, 0));
    printf("file offset %ld\n", (long)lseek(in, 0, SEEK_CUR));
    T(syscall(SYS_tee, p[0], q[1], 100, 0));
    off = 2;
    T(spl(p[0], NULL, out, &off, 3, 0));
    printf("offset now %ld, file offset %ld\n", off, (long)lseek(out, 0, SEEK_CUR));
    T(spl(p[0], NULL, out, NULL, 100, 0));
    contents("dst", out, 0, 10);
    char buf[32] = {0};
    T(read(q[0], buf, sizeof buf));
    printf("tee copy: %s\n", buf);
    /* Pipe to pipe. */
    write(p[1], "pp", 2);
    T(spl(p[0], NULL, q[1], NULL, 10, 0));
    memset(buf, 0, sizeof buf);
    T(read(q[0], buf, sizeof buf));
    printf("pipe to pipe: %s\n", buf);
    /* Errors. */
    T(spl(in, NULL, out, NULL, 1, 0));
    T(spl(p[0], &off, out, NULL, 1, 0));
    T(spl(in, NULL, p[1], &off, 1, 0));
    T(spl(in, BAD_PTR, p[1], NULL, 1, 0));
    off = -1;
    T(spl(in, &off, p[1], NULL, 1, 0));
    T(spl(in, NULL, p[1], NULL, 1, 0x100));
    T(spl(in, NULL, p[1], NULL, 0, 0));
    T(spl(-1, NULL, p[1], NULL, 1, 0));
    T(spl(in, NULL, p[0], NULL, 1, 0));
    T(spl(p[1], NULL, out, NULL, 1, 0));
    T(spl(p[0], NULL, p[1], NULL, 1, 0));
    T(syscall(SYS_tee, p[0], p[1], 1, 0));
    T(syscall(SYS_tee, in, q[1], 1, 0));
    T(syscall(SYS_tee, p[0], q[1], 1, 0x100));
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    T(spl(p[0], NULL, out, NULL, 1, 0));
    T(syscall(SYS_tee, p[0], q[1], 1, 0));
    int ap = open("dst", O_WRONLY | O_APPEND);
    write(p[1], "ap", 2);
    T(spl(p[0], NULL, ap, NULL, 10, 0));
    contents("appended", out, 0, 16);
    close(ap);
    /* SPLICE_F_NONBLOCK on an empty pipe. */
    fcntl(p[0], F_SETFL, 0);
    T(spl(p[0], NULL, out, NULL, 1, 2));
    /* vmsplice: user memory into a pipe. */
    struct iovec iov[2] = {{"vm", 2}, {"splice", 6}};
    T(vmsplice(p[1], iov, 2, 0));
    memset(buf, 0, sizeof buf);
    T(read(p[0], buf, sizeof buf));
    printf("vmsplice: %s\n", buf);
    T(vmsplice(p[1], BAD_PTR, 1, 0));
    T(vmsplice(in, iov, 1, 0));
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    close(in);
    close(out);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/dev/shm/umk-filedata.XXXXXX";
    char tdir[] = "/tmp/umk-filedata.XXXXXX";
    if (!mkdtemp(dir) || !mkdtemp(tdir) || chdir(dir) != 0) return 1;
    memfds();
    tmpfiles(dir);
    tmpfiles(tdir);
    fallocates();
    sendfiles();
    copy_ranges();
    splices();
    unlink("src");
    unlink("dst");
    chdir("/");
    T(rmdir(dir));
    T(rmdir(tdir));
    return 0;
}
