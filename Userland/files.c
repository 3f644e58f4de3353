/* files.c: opening, reading, seeking, stat, directory listing, symlinks and access checks.
 *
 * Usage: files DIR, where DIR is the fixture the tests build (UmkSystemTests/Fixture.swift):
 *   hello.txt "hello, world\n" 0644   empty "" 0600   sparse: one 'x' at offset 1 MiB, 0644
 *   sub/ 0755 holding inner.txt "inner\n"   link -> hello.txt   dangling -> missing   loop -> loop
 * Nothing here writes, so the output is the same on a read-only root.
 */
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>

#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif
#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

/* struct statx of <linux/stat.h>, which musl-gcc cannot include. */
struct statx_ts { int64_t tv_sec; uint32_t tv_nsec; int32_t reserved; };
struct kstatx {
    uint32_t stx_mask, stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink, stx_uid, stx_gid;
    uint16_t stx_mode, pad1;
    uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
    struct statx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
    uint64_t spare[14];
};
#define K_STATX_BASIC 0x7ff
#define K_STATX_TYPE 0x1
#define K_STATX_MODE 0x2
#define K_STATX_NLINK 0x4
#define K_STATX_SIZE 0x200

static char dir[1024];

static const char *at(const char *name) {
    static char buf[2][2048];
    static int i;
    i ^= 1;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static char type_char(mode_t m) {
    return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : '?';
}

/* The stable fields of a stat: type, permission bits, link count, size. */
static void print_stat(const char *what, long r, const struct stat *st) {
    if (r == -1) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    printf("%s: type %c mode %04o nlink %lu size %lld\n", what, type_char(st->st_mode),
           (unsigned)(st->st_mode & 07777), (unsigned long)st->st_nlink,
           S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size);
}

static void print_statx(const char *what, long r, const struct kstatx *sx) {
    if (r == -1) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    uint32_t need = K_STATX_TYPE | K_STATX_MODE | K_STATX_NLINK | K_STATX_SIZE;
    printf("%s: basic mask %s type %c mode %04o nlink %u size %llu\n", what,
           (sx->stx_mask & need) == need ? "set" : "missing", type_char(sx->stx_mode),
           (unsigned)(sx->stx_mode & 07777), sx->stx_nlink,
           S_ISDIR(sx->stx_mode) ? 0ULL : (unsigned long long)sx->stx_size);
}

static void test_read(void) {
    printf("-- open, read, pread, readv, lseek\n");
    char buf[64];
    int fd = open(at("hello.txt"), O_RDONLY);
    show("open hello.txt", fd);
    long n = read(fd, buf, 5);
    printf("read 5: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    n = read(fd, buf, sizeof buf);
    printf("read rest: %ld \"%.*s\"\n", n, (int)(n > 0 ? n - 1 : 0), buf);
    T(read(fd, buf, sizeof buf));
    n = pread(fd, buf, 5, 7);
    printf("pread 5 at 7: %ld \"%.*s\"\n", n, (int)(n > 0 ? n : 0), buf);
    T(pread(fd, buf, 5, 100));
    T(pread(fd, buf, 5, -1));
    T(lseek(fd, 0, SEEK_CUR));
    T(lseek(fd, 0, SEEK_END));
    T(lseek(fd, -3, SEEK_END));
    n = read(fd, buf, sizeof buf);
    printf("read after SEEK_END-3: %ld \"%.*s\"\n", n, (int)(n > 1 ? n - 1 : 0), buf);
    T(lseek(fd, 2, SEEK_SET));
    T(lseek(fd, 3, SEEK_CUR));
    T(lseek(fd, 100, SEEK_SET));
    T(read(fd, buf, sizeof buf));
    T(lseek(fd, -1, SEEK_SET));
    T(lseek(fd, 0, 42));
    T(lseek(fd, 0, SEEK_DATA));
    T(lseek(fd, 0, SEEK_HOLE));
    T(lseek(fd, 13, SEEK_DATA));

    char a[6] = {0}, b[8] = {0};
    struct iovec iov[2] = {{a, 5}, {b, 7}};
    lseek(fd, 0, SEEK_SET);
    n = readv(fd, iov, 2);
    printf("readv 5+7: %ld \"%s\" \"%s\"\n", n, a, b);
    T(pread(fd, buf, 0, 0));
    T(write(fd, "x", 1));
    T(pwrite(fd, "x", 1, 0));
    T(close(fd));
    T(close(fd));
    T(read(fd, buf, 1));
    T(read(-1, buf, 1));

    int sp = open(at("sparse"), O_RDONLY);
    T(lseek(sp, 0, SEEK_END));
    long data = lseek(sp, 0, SEEK_DATA);
    show_bool("sparse: SEEK_DATA from 0 finds data at or before the last byte", data >= 0 && data <= 1048576);
    T(pread(sp, buf, 1, 1048576) == 1 ? buf[0] : -1);
    T(pread(sp, buf, 1, 4096) == 1 ? buf[0] : -1);
    T(lseek(sp, 1048577, SEEK_DATA));
    T(lseek(sp, 1048577, SEEK_HOLE));
    close(sp);

    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    T(read(dfd, buf, sizeof buf));
    close(dfd);
}

static void test_stat(void) {
    printf("-- fstat, newfstatat, statx\n");
    struct stat st;
    struct kstatx sx;
    long r;
    const char *names[] = {"hello.txt", "empty", "sparse", "sub", "sub/inner.txt", "link", "dangling", "loop", "missing"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        char what[128];
        errno = 0;
        r = stat(at(names[i]), &st);
        snprintf(what, sizeof what, "stat %s", names[i]);
        print_stat(what, r, &st);
        r = lstat(at(names[i]), &st);
        snprintf(what, sizeof what, "lstat %s", names[i]);
        print_stat(what, r, &st);
        r = syscall(SYS_statx, AT_FDCWD, at(names[i]), AT_SYMLINK_NOFOLLOW, K_STATX_BASIC, &sx);
        snprintf(what, sizeof what, "statx nofollow %s", names[i]);
        print_statx(what, r, &sx);
    }
    r = stat(dir, &st);
    print_stat("stat DIR", r, &st);

    int fd = open(at("hello.txt"), O_RDONLY);
    r = fstat(fd, &st);
    print_stat("fstat hello.txt", r, &st);
    r = syscall(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH);
    print_stat("newfstatat fd \"\" AT_EMPTY_PATH", r, &st);
    r = syscall(SYS_newfstatat, fd, "", &st, 0);
    print_stat("newfstatat fd \"\" without AT_EMPTY_PATH", r, &st);
    r = syscall(SYS_statx, fd, "", AT_EMPTY_PATH, K_STATX_BASIC, &sx);
    print_statx("statx fd \"\" AT_EMPTY_PATH", r, &sx);
    r = syscall(SYS_statx, AT_FDCWD, at("hello.txt"), 0x12345678, K_STATX_BASIC, &sx);
    print_statx("statx bad flags", r, &sx);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    r = syscall(SYS_newfstatat, dfd, "sub/inner.txt", &st, 0);
    print_stat("newfstatat DIRFD sub/inner.txt", r, &st);
    r = syscall(SYS_newfstatat, fd, "inner.txt", &st, 0);
    print_stat("newfstatat FILEFD inner.txt", r, &st);
    r = syscall(SYS_newfstatat, 999, "inner.txt", &st, 0);
    print_stat("newfstatat 999 inner.txt", r, &st);
    r = syscall(SYS_newfstatat, 999, at("sub"), &st, 0);
    print_stat("newfstatat 999 /DIR/sub (an absolute path ignores dirfd)", r, &st);
    r = fstat(999, &st);
    print_stat("fstat 999", r, &st);
    close(dfd);
    close(fd);
}

struct entry { char name[256]; unsigned char type; };

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Lists DIR/name with getdents64 in chunks of `chunk` bytes, sorted by name. */
static void list(const char *name, size_t chunk) {
    struct entry entries[64];
    int count = 0, calls = 0;
    char buf[4096];
    int fd = open(name[0] ? at(name) : dir, O_RDONLY | O_DIRECTORY);
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, chunk);
        if (n == -1) {
            printf("getdents64 %s: %s\n", name, errname(errno));
            break;
        }
        if (n == 0) break;
        calls++;
        for (long off = 0; off < n;) {
            uint16_t reclen;
            memcpy(&reclen, buf + off + 16, 2);
            if (count < 64) {
                snprintf(entries[count].name, 256, "%s", buf + off + 19);
                entries[count].type = (unsigned char)buf[off + 18];
                count++;
            }
            off += reclen;
        }
    }
    qsort(entries, count, sizeof *entries, by_name);
    printf("getdents64 of %s in %zu-byte chunks: %d entries,%s:", name[0] ? name : "DIR", chunk, count,
           calls > 1 ? " several calls" : " one call");
    for (int i = 0; i < count; i++) {
        unsigned char t = entries[i].type;
        printf(" %s(%c)", entries[i].name, t == DT_REG ? 'f' : t == DT_DIR ? 'd' : t == DT_LNK ? 'l' : t == DT_UNKNOWN ? 'u' : '?');
    }
    printf("\n");
    close(fd);
}

static void test_getdents(void) {
    printf("-- getdents64\n");
    list("", 4096);
    list("", 64);
    list("sub", 4096);
    char buf[4096];
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    T(syscall(SYS_getdents64, fd, buf, 1));
    T(syscall(SYS_getdents64, fd, buf, 0));
    close(fd);
    fd = open(at("hello.txt"), O_RDONLY);
    T(syscall(SYS_getdents64, fd, buf, sizeof buf));
    close(fd);
    T(syscall(SYS_getdents64, 999, buf, sizeof buf));
    /* Rewinding a directory lists it again. */
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    long first = syscall(SYS_getdents64, fd, buf, sizeof buf);
    T(lseek(fd, 0, SEEK_SET));
    long again = syscall(SYS_getdents64, fd, buf, sizeof buf);
    show_bool("after rewinding, the listing is as long as the first", first > 0 && first == again);
    close(fd);
}

static void readlink_show(const char *what, int dirfd, const char *path, size_t size) {
    char buf[256];
    long n = syscall(SYS_readlinkat, dirfd, path, buf, size);
    if (n == -1)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: %ld \"%.*s\"\n", what, n, (int)n, buf);
}

static void test_links_and_access(void) {
    printf("-- readlinkat, faccessat, open errors\n");
    readlink_show("readlinkat link", AT_FDCWD, at("link"), 256);
    readlink_show("readlinkat link into 3 bytes", AT_FDCWD, at("link"), 3);
    readlink_show("readlinkat dangling", AT_FDCWD, at("dangling"), 256);
    readlink_show("readlinkat loop", AT_FDCWD, at("loop"), 256);
    readlink_show("readlinkat hello.txt", AT_FDCWD, at("hello.txt"), 256);
    readlink_show("readlinkat missing", AT_FDCWD, at("missing"), 256);
    readlink_show("readlinkat link size 0", AT_FDCWD, at("link"), 0);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    readlink_show("readlinkat DIRFD link", dfd, "link", 256);
    readlink_show("readlinkat /bin (a symlink on merged-/usr hosts)", AT_FDCWD, "/bin", 256);

    T(faccessat(AT_FDCWD, at("hello.txt"), R_OK, 0));
    T(faccessat(AT_FDCWD, at("hello.txt"), F_OK, 0));
    T(faccessat(AT_FDCWD, at("hello.txt"), X_OK, 0));
    T(faccessat(AT_FDCWD, at("sub"), X_OK | R_OK, 0));
    T(faccessat(AT_FDCWD, at("missing"), F_OK, 0));
    T(faccessat(AT_FDCWD, at("dangling"), F_OK, 0));
    T(faccessat(AT_FDCWD, at("hello.txt/x"), F_OK, 0));
    T(faccessat(dfd, "link", R_OK, 0));
    T(syscall(SYS_faccessat, AT_FDCWD, at("hello.txt"), 8));
    T(syscall(SYS_faccessat2, AT_FDCWD, at("hello.txt"), R_OK, AT_EACCESS));
    T(syscall(SYS_faccessat2, AT_FDCWD, at("dangling"), F_OK, AT_SYMLINK_NOFOLLOW));
    T(syscall(SYS_faccessat2, AT_FDCWD, at("dangling"), F_OK, 0));
    T(syscall(SYS_faccessat2, AT_FDCWD, at("hello.txt"), R_OK, 0x1));
    int fd = open(at("hello.txt"), O_RDONLY);
    T(syscall(SYS_faccessat2, fd, "", R_OK, AT_EMPTY_PATH));
    close(fd);

    T_OK(open(at("link"), O_RDONLY));
    T(open(at("link"), O_RDONLY | O_NOFOLLOW));
    T(open(at("loop"), O_RDONLY));
    T(open(at("dangling"), O_RDONLY));
    T(open(at("hello.txt"), O_RDONLY | O_DIRECTORY));
    T(open(at("link"), O_RDONLY | O_DIRECTORY));
    T(open(at("hello.txt/"), O_RDONLY));
    T(open(at("hello.txt/x"), O_RDONLY));
    T(open(at("missing"), O_RDONLY));
    T(open(at("missing/x"), O_RDONLY));
    T(open("", O_RDONLY));
    T_OK(open(at("sub"), O_RDONLY | O_DIRECTORY));
    T_OK(open(at("sub/"), O_RDONLY));
    T(open(at("sub"), O_WRONLY));
    T(open(at("sub"), O_RDWR));
    T(openat(dfd, "sub/inner.txt", O_RDONLY) >= 0 ? 0 : -1);
    T(openat(999, "sub/inner.txt", O_RDONLY));
    T(openat(0, "sub/inner.txt", O_RDONLY));
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    T(open(at(longname), O_RDONLY));
    static char longpath[5000];
    for (size_t i = 0; i + 2 < sizeof longpath; i += 2) memcpy(longpath + i, "/.", 2);
    longpath[sizeof longpath - 1] = 0;
    T(open(longpath, O_RDONLY));
    close(dfd);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: files DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    test_read();
    test_stat();
    test_getdents();
    test_links_and_access();
    return 0;
}
