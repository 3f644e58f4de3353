/* confine.c: a guest trying every path trick it has to reach a host file outside its root and its binds,
 * printing what each attempt got. umk only: the expected text is in EscapeTests.swift.
 * Usage: confine CANARY BIND. CANARY is a host path that exists outside the guest's root and outside the
 * bind; BIND is where a writable bind of a host directory is mounted in the guest, and the canary is the
 * host directory's sibling ("BIND/../canary" on the host). Nothing it tries may read or write the canary.
 */
#include "check.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>

static const char *canary;

/* Opens `path` relative to `dirfd` for reading and writing, and says what it reached. */
static void try_open(const char *what, int dirfd, const char *path) {
    int fd = openat(dirfd, path, O_RDWR);
    if (fd < 0) {
        fd = openat(dirfd, path, O_RDONLY);
    }
    if (fd < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("%s: opened, %s\n", what, n > 0 && strstr(buf, "host secret") ? "THE CANARY" : "a guest file");
    close(fd);
}

static void try_openat2(const char *what, int dirfd, const char *path, uint64_t resolve) {
    struct { uint64_t flags, mode, resolve; } how = {O_RDONLY, 0, resolve};
    long fd = syscall(437, dirfd, path, &how, sizeof how);
    printf("%s: %s\n", what, fd >= 0 ? "opened" : errname(errno));
    if (fd >= 0) close((int)fd);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc != 3) return 2;
    canary = argv[1];
    const char *bind = argv[2];
    char path[4096];

    try_open("the canary by its host path", AT_FDCWD, canary);
    snprintf(path, sizeof path, "/../../../../../..%s", canary);
    try_open("dot-dots above the root", AT_FDCWD, path);
    snprintf(path, sizeof path, "%s/../canary", bind);
    try_open("the bind's host sibling through ..", AT_FDCWD, path);

    /* Symlinks made in the bind (the host sees them too), absolute and climbing. */
    snprintf(path, sizeof path, "%s/abs", bind);
    symlink(canary, path);
    try_open("an absolute symlink in the bind", AT_FDCWD, path);
    snprintf(path, sizeof path, "%s/climb", bind);
    symlink("../../../../../../../../canary", path);
    try_open("a climbing symlink in the bind", AT_FDCWD, path);
    snprintf(path, sizeof path, "%s/sib", bind);
    symlink("../canary", path);
    try_open("a symlink to the host sibling", AT_FDCWD, path);

    /* O_PATH and directory fds of the bind, and .. from them. */
    int bfd = open(bind, O_PATH | O_DIRECTORY);
    try_open("openat(bind fd, ../canary)", bfd, "../canary");
    try_open("openat(bind fd, ../../../..canary)", bfd, "../../../../../canary");
    try_openat2("openat2 IN_ROOT ../canary", bfd, "../canary", 0x10);
    try_openat2("openat2 BENEATH ../canary", bfd, "../canary", 0x08);

    /* A directory moved while a process is inside it. */
    snprintf(path, sizeof path, "%s/d1", bind);
    mkdir(path, 0755);
    char inner[4096];
    snprintf(inner, sizeof inner, "%s/d1/d2", bind);
    mkdir(inner, 0755);
    T(chdir(inner));
    char moved[4096];
    snprintf(moved, sizeof moved, "%s/moved", bind);
    T(rename(path, moved));
    try_open("../../../canary from a moved cwd", AT_FDCWD, "../../../canary");
    try_open("../../canary from a moved cwd", AT_FDCWD, "../../canary");
    T(chdir("/"));

    /* Magic links of /proc. */
    snprintf(path, sizeof path, "/proc/self/root%s", canary);
    try_open("/proc/self/root + the canary's path", AT_FDCWD, path);
    snprintf(path, sizeof path, "/proc/self/fd/%d/../canary", bfd);
    try_open("/proc/self/fd/BIND/../canary", AT_FDCWD, path);
    try_open("/proc/1/cwd/../../../canary", AT_FDCWD, "/proc/1/cwd/../../../canary");

    /* Hard links and renames out of the bind (other filesystems: EXDEV). */
    snprintf(path, sizeof path, "%s/file", bind);
    close(open(path, O_WRONLY | O_CREAT, 0644));
    mkdir("/tmp", 01777);
    T(link(path, "/tmp/linked"));
    T(rename(path, "/tmp/renamed"));

    /* chroot, and the classic way out of one (a directory fd kept from before). */
    int rootfd = open("/", O_PATH | O_DIRECTORY);
    mkdir("/jail", 0755);
    T(chroot("/jail"));
    T(fchdir(rootfd));
    for (int i = 0; i < 10; i++) chdir("..");
    try_open("the canary after leaving a chroot", AT_FDCWD, canary + 1);
    T(chroot("."));

    /* A bind of the guest's root inside the bind, and .. through it. */
    snprintf(path, sizeof path, "%s/m", bind);
    mkdir(path, 0755);
    T(mount("/", path, NULL, MS_BIND, NULL));
    snprintf(path, sizeof path, "%s/m%s/../canary", bind, bind);
    try_open("the bind seen again through a bind of /", AT_FDCWD, path);
    snprintf(path, sizeof path, "%s/m", bind);
    T(umount(path));
    return 0;
}
