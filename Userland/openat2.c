/* openat2.c: openat2(2)'s struct open_how checks and its RESOLVE_* restrictions (fs/open.c build_open_flags,
 * fs/namei.c): RESOLVE_BENEATH refuses any way above the starting directory (.., absolute paths and links,
 * magic links) with EXDEV; RESOLVE_IN_ROOT treats it as the root; RESOLVE_NO_SYMLINKS and
 * RESOLVE_NO_MAGICLINKS refuse links with ELOOP; RESOLVE_NO_XDEV refuses crossing a mount. Works in a fresh
 * directory under /tmp: a/f, a/b/, a/rel -> b, a/abs -> /etc, a/up -> ../.., a/dot -> ., a/exe -> /proc/self/exe.
 */
#include "check.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#define RESOLVE_CACHED 0x20
#endif

struct how { uint64_t flags, mode, resolve; };

static long o2(int dfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct how h = {flags, mode, resolve};
    long fd = syscall(437, dfd, path, &h, sizeof h);
    if (fd >= 0) close((int)fd);
    return fd >= 0 ? 0 : -1;  /* the fd number itself is not compared */
}

#define R(dfd, path, flags, resolve) \
    do { errno = 0; show(#path " " #resolve, o2(dfd, path, flags, 0, resolve)); } while (0)

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/tmp/umk-openat2.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) return 1;
    mkdir("a", 0755);
    mkdir("a/b", 0755);
    close(open("a/f", O_WRONLY | O_CREAT, 0644));
    close(open("outside", O_WRONLY | O_CREAT, 0644));
    symlink("b", "a/rel");
    symlink("/etc", "a/abs");
    symlink("../..", "a/up");
    symlink(".", "a/dot");
    symlink("/proc/self/exe", "a/exe");
    int a = open("a", O_PATH | O_DIRECTORY);

    printf("-- plain\n");
    R(a, "f", O_RDONLY, 0);
    R(a, "../outside", O_RDONLY, 0);
    R(a, "rel", O_RDONLY | O_DIRECTORY, 0);

    printf("-- RESOLVE_BENEATH\n");
    R(a, "f", O_RDONLY, RESOLVE_BENEATH);
    R(a, "b/../f", O_RDONLY, RESOLVE_BENEATH);
    R(a, "../outside", O_RDONLY, RESOLVE_BENEATH);
    R(a, "b/../../outside", O_RDONLY, RESOLVE_BENEATH);
    R(a, "/etc/passwd", O_RDONLY, RESOLVE_BENEATH);
    R(a, "abs/passwd", O_RDONLY, RESOLVE_BENEATH);
    R(a, "up/outside", O_RDONLY, RESOLVE_BENEATH);
    R(a, "rel", O_RDONLY | O_DIRECTORY, RESOLVE_BENEATH);
    R(a, "dot/dot/f", O_RDONLY, RESOLVE_BENEATH);
    R(a, "exe", O_RDONLY, RESOLVE_BENEATH);
    R(a, "new", O_WRONLY | O_CREAT, RESOLVE_BENEATH);
    R(a, "../new", O_WRONLY | O_CREAT, RESOLVE_BENEATH);

    printf("-- RESOLVE_IN_ROOT\n");
    R(a, "/f", O_RDONLY, RESOLVE_IN_ROOT);
    R(a, "../../../f", O_RDONLY, RESOLVE_IN_ROOT);
    R(a, "up/f", O_RDONLY, RESOLVE_IN_ROOT);
    R(a, "abs/passwd", O_RDONLY, RESOLVE_IN_ROOT);
    R(a, "/outside", O_RDONLY, RESOLVE_IN_ROOT);

    printf("-- RESOLVE_NO_SYMLINKS, RESOLVE_NO_MAGICLINKS\n");
    R(a, "rel", O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
    R(a, "rel", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
    R(a, "rel/..", O_RDONLY, RESOLVE_NO_SYMLINKS);
    R(a, "f", O_RDONLY, RESOLVE_NO_SYMLINKS);
    R(AT_FDCWD, "/proc/self/exe", O_RDONLY, RESOLVE_NO_MAGICLINKS);
    R(AT_FDCWD, "/proc/self/exe", O_RDONLY, 0);
    R(a, "exe", O_RDONLY, RESOLVE_NO_MAGICLINKS);
    R(AT_FDCWD, "/proc/self/fd/0", O_RDONLY, RESOLVE_NO_MAGICLINKS);

    printf("-- RESOLVE_NO_XDEV\n");
    int root = open("/", O_PATH | O_DIRECTORY);
    R(root, "proc/self/status", O_RDONLY, RESOLVE_NO_XDEV);
    R(root, "proc/self/status", O_RDONLY, 0);
    R(a, "b/../f", O_RDONLY, RESOLVE_NO_XDEV);
    int proc = open("/proc", O_PATH | O_DIRECTORY);
    R(proc, "../etc/passwd", O_RDONLY, RESOLVE_NO_XDEV);
    R(proc, "self/status", O_RDONLY, RESOLVE_NO_XDEV);

    printf("-- struct open_how\n");
    struct how h = {O_RDONLY, 0, 0};
    T(syscall(437, a, "f", &h, 23) >= 0);
    unsigned char big[40] = {0};
    memcpy(big, &h, sizeof h);
    T(syscall(437, a, "f", big, 40) >= 0);
    big[33] = 1;
    T(syscall(437, a, "f", big, 40));
    T(syscall(437, a, "f", &h, 5000));
    T(syscall(437, a, "f", (void *)16, sizeof h));
    errno = 0; show("mode without O_CREAT", o2(a, "f", O_RDONLY, 0644, 0));
    errno = 0; show("mode past 07777", o2(a, "g", O_WRONLY | O_CREAT, 010000, 0));
    errno = 0; show("unknown open flag", o2(a, "f", O_RDONLY | (1ull << 40), 0, 0));
    errno = 0; show("unknown resolve flag", o2(a, "f", O_RDONLY, 0, 0x40));
    errno = 0; show("BENEATH|IN_ROOT", o2(a, "f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT));
    errno = 0; show("O_PATH|O_RDWR", o2(a, "f", O_PATH | O_RDWR, 0, 0));
    errno = 0; show("CACHED with O_CREAT", o2(a, "h", O_WRONLY | O_CREAT, 0644, RESOLVE_CACHED));

    close(a);
    close(root);
    close(proc);
    T(chdir("/"));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    T(system(cmd));
    return 0;
}
