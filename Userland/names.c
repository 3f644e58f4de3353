/* names.c: making, removing and renaming names and changing attributes in a writable directory (a fresh one
 * under /tmp, which under umk is the throwaway overlay), with the errors Linux gives for each: ENOENT, EEXIST,
 * ENOTDIR, EISDIR, ENOTEMPTY, EXDEV, ELOOP, ENAMETOOLONG, EINVAL, EPERM, EBUSY, EMLINK-free link counts, and
 * file data: O_APPEND, pwrite on O_APPEND, ftruncate, holes, SEEK_DATA/SEEK_HOLE, an unlinked open file, and a
 * MAP_SHARED mapping coherent with write() and between processes.
 */
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#define RENAME_EXCHANGE 2
#endif
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

static long nlink(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 ? (long)st.st_nlink : -1;
}
static long mode(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 ? (long)(st.st_mode & 07777) : -1;
}
static long size(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0 ? (long)st.st_size : -1;
}
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void list(const char *dir) {
    DIR *d = opendir(dir);
    char *names[64];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64) names[n++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("%s:", dir);
    for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
    printf("\n");
}
static char *slurp(const char *p) {
    static char buf[256];
    int fd = open(p, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0) close(fd);
    buf[n < 0 ? 0 : n] = 0;
    return buf;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/umk-names.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) return 1;
    umask(022);

    printf("-- making names\n");
    T(mkdir("d", 0777));
    T(mode("d"));
    T(nlink("d"));
    T(mkdir("d", 0777));
    T(mkdir("d/e", 0700));
    T(nlink("d"));
    T(mkdir("missing/x", 0777));
    T(mkdir("f/x", 0777));
    T(close(open("f", O_WRONLY | O_CREAT, 0666)));
    T(mode("f"));
    T(mkdir("f/x", 0777));
    T(open("f", O_WRONLY | O_CREAT | O_EXCL, 0666));
    T(open("d", O_WRONLY));
    T(open("d/", O_RDONLY | O_CREAT, 0666));
    T(close(open("ro", O_WRONLY | O_CREAT, 0444)));  /* a new file opens as asked whatever its mode */
    T(mode("ro"));
    T(mknod("fifo", S_IFIFO | 0600, 0));
    T(mknod("fifo", S_IFIFO | 0600, 0));
    T(mknod("bad", 0170000 | 0600, 0));
    T(symlink("f", "s"));
    T(symlink("", "s2"));
    T(symlink("f", "s"));
    T(symlink("loop", "loop"));
    T(open("loop", O_RDONLY));
    T(open("s", O_RDONLY | O_NOFOLLOW));
    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = 0;
    T(mkdir(longname, 0777));
    T(open(longname, O_WRONLY | O_CREAT, 0666));
    list(".");

    printf("-- links\n");
    T(link("f", "f2"));
    T(nlink("f"));
    T(link("d", "d2"));
    T(link("missing", "x"));
    T(link("f", "d"));
    T(linkat(AT_FDCWD, "s", AT_FDCWD, "s-link", 0));
    T(nlink("s"));
    T(linkat(AT_FDCWD, "s", AT_FDCWD, "s-follow", AT_SYMLINK_FOLLOW));
    T(nlink("f"));
    T(unlink("f2"));
    T(unlink("s-follow"));
    T(nlink("f"));
    T(link("f", "/dev/shm/umk-names-link"));

    printf("-- removing\n");
    T(unlink("d"));
    T(rmdir("f"));
    T(rmdir("d"));
    T(rmdir("d/e/."));
    T(rmdir("d/.."));
    T(unlink("missing"));
    T(unlink("f/"));
    T(unlinkat(AT_FDCWD, "d", 0));
    T(unlinkat(AT_FDCWD, "d/e", AT_REMOVEDIR));
    T(unlinkat(AT_FDCWD, "d", 0x1));
    T(nlink("d"));
    T(rmdir("/"));

    printf("-- renaming\n");
    T(mkdir("a", 0755));
    T(mkdir("a/b", 0755));
    T(rename("a", "a/b/c"));
    T(rename("missing", "x"));
    T(rename("f", "a"));
    T(rename("a", "f"));
    T(rename("a", "d"));
    T(close(open("a/b/inner", O_WRONLY | O_CREAT, 0644)));
    T(rename("d", "a"));
    T(rename("f", "g"));
    T(rename("g", "g"));
    T(syscall(SYS_renameat2, AT_FDCWD, "g", AT_FDCWD, "ro", RENAME_NOREPLACE));
    T(syscall(SYS_renameat2, AT_FDCWD, "g", AT_FDCWD, "ro", RENAME_EXCHANGE));
    T(mode("g"));
    T(syscall(SYS_renameat2, AT_FDCWD, "g", AT_FDCWD, "nothing", RENAME_EXCHANGE));
    T(syscall(SYS_renameat2, AT_FDCWD, "g", AT_FDCWD, "ro", RENAME_EXCHANGE | RENAME_NOREPLACE));
    T(rename("g", "ro"));
    T(rename("ro", "/dev/shm/umk-names-moved"));
    T(rename(".", "x"));
    list(".");
    list("a");

    printf("-- attributes\n");
    T(chmod("ro", 04755));
    T(mode("ro"));
    T(chown("ro", 1, 2));
    T(mode("ro"));
    struct stat st;
    T(stat("ro", &st));
    printf("owner %d:%d\n", (int)st.st_uid, (int)st.st_gid);
    T(lchown("s", 3, 4));
    T(lstat("s", &st));
    printf("link owner %d:%d\n", (int)st.st_uid, (int)st.st_gid);
    struct timespec ts[2] = {{1000000000, 5}, {0, UTIME_OMIT}};
    T(utimensat(AT_FDCWD, "ro", ts, 0));
    T(stat("ro", &st));
    printf("atime %ld.%09ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
    ts[0].tv_nsec = 1000000000;
    T(utimensat(AT_FDCWD, "ro", ts, 0));
    T(truncate("ro", 10000));
    T(size("ro"));
    T(truncate("a", 1));
    T(truncate("ro", -1));
    T(chmod("missing", 0644));

    printf("-- data\n");
    int fd = open("data", O_RDWR | O_CREAT | O_APPEND, 0644);
    T(write(fd, "hello", 5));
    T(lseek(fd, 0, SEEK_SET));
    T(write(fd, " world", 6));
    T(pwrite(fd, "!", 1, 0));
    printf("%s\n", slurp("data"));
    close(fd);
    fd = open("data", O_RDWR);
    T(ftruncate(fd, 3));
    printf("%s\n", slurp("data"));
    T(ftruncate(fd, 1 << 20));
    T(pwrite(fd, "end", 3, (1 << 20) - 3));
    char b[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    T(pread(fd, b, 8, 4096));
    show_bool("a hole reads as zeros", b[0] == 0 && b[7] == 0);
    T(lseek(fd, 0, SEEK_DATA));
    T(lseek(fd, 0, SEEK_HOLE));
    T(lseek(fd, (1 << 20) - 10, SEEK_DATA));
    T(lseek(fd, 1 << 20, SEEK_DATA));
    T(ftruncate(fd, -1));
    int rd = open("data", O_RDONLY);
    T(ftruncate(rd, 0));
    T(unlink("data"));
    T(pread(fd, b, 3, 0));
    show_bool("an unlinked open file keeps its data", memcmp(b, "hel", 3) == 0);
    T(fstat(fd, &st));
    printf("links after unlink %ld\n", (long)st.st_nlink);
    close(rd);
    close(fd);

    printf("-- shared mappings\n");
    fd = open("shared", O_RDWR | O_CREAT, 0644);
    T(ftruncate(fd, 8192));
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    T(pwrite(fd, "via write", 9, 100));
    show_bool("the shared mapping sees write()", memcmp(m + 100, "via write", 9) == 0);
    memcpy(m + 5000, "via map", 7);
    T(pread(fd, b, 7, 5000));
    show_bool("read() sees the shared mapping", memcmp(b, "via map", 7) == 0);
    show_bool("a private mapping sees it too before it writes", memcmp(p + 5000, "via map", 7) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        memcpy(m, "child", 5);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    T(pread(fd, b, 5, 0));
    show_bool("a forked child's writes to the mapping reach the file", memcmp(b, "child", 5) == 0);
    show_bool("and the parent's mapping", memcmp(m, "child", 5) == 0);
    munmap(m, 8192);
    munmap(p, 8192);
    close(fd);

    printf("-- cleanup\n");
    unlink("/dev/shm/umk-names-moved");
    unlink("/dev/shm/umk-names-link");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    T(chdir("/"));
    T(system(cmd));
    T(access(dir, F_OK));
    return 0;
}
