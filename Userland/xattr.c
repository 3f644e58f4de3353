/* xattr.c: extended attributes on tmpfs (/dev/shm natively and under umk): user.* set, read, listed,
 * replaced and removed with XATTR_CREATE/XATTR_REPLACE, the size-0 query and ERANGE, E2BIG, long names,
 * namespaces tmpfs does not keep, trusted.* as root, user.* refused on symlinks, and through an fd.
 */
#include "check.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

static void list(const char *p) {
    char buf[1024];
    ssize_t n = listxattr(p, buf, sizeof buf);
    printf("list %s:", p);
    for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1) printf(" %s", buf + i);
    printf("%s\n", n < 0 ? errname(errno) : "");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[] = "/dev/shm/umk-xattr.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0) return 1;
    close(open("f", O_WRONLY | O_CREAT, 0644));
    mkdir("d", 0755);
    symlink("f", "s");
    char v[128];

    T(setxattr("f", "user.a", "one", 3, 0));
    T(setxattr("f", "user.b", "", 0, 0));
    T(setxattr("f", "user.a", "two", 3, XATTR_CREATE));
    T(setxattr("f", "user.c", "x", 1, XATTR_REPLACE));
    T(setxattr("f", "user.a", "three", 5, XATTR_REPLACE));
    T(setxattr("f", "user.a", "x", 1, 4));
    T(getxattr("f", "user.a", NULL, 0));
    T(getxattr("f", "user.a", v, 2));
    memset(v, 0, sizeof v);
    T(getxattr("f", "user.a", v, sizeof v));
    printf("value: %s\n", v);
    T(getxattr("f", "user.b", v, sizeof v));
    T(getxattr("f", "user.none", v, sizeof v));
    list("f");
    T(listxattr("f", NULL, 0));
    T(listxattr("f", v, 3));
    T(removexattr("f", "user.b"));
    T(removexattr("f", "user.b"));
    list("f");

    char big[70000];
    memset(big, 'v', sizeof big);
    T(setxattr("f", "user.big", big, 65536, 0));
    T(setxattr("f", "user.big2", big, 65537, 0));
    T(getxattr("f", "user.big", NULL, 0));
    char name[300] = "user.";
    memset(name + 5, 'n', 280);
    name[285] = 0;
    T(setxattr("f", name, "x", 1, 0));
    T(setxattr("f", "", "x", 1, 0));
    T(setxattr("f", "nonamespace", "x", 1, 0));
    T(setxattr("f", "system.other", "x", 1, 0));
    T(getxattr("f", "system.other", v, sizeof v));
    T(setxattr("f", "trusted.t", "root", 4, 0));
    T(getxattr("f", "trusted.t", v, sizeof v));
    T(setxattr("f", "security.s", "sec", 3, 0));
    list("f");

    T(setxattr("d", "user.dir", "1", 1, 0));
    list("d");
    T(lsetxattr("s", "user.l", "1", 1, 0));
    T(lgetxattr("s", "user.a", v, sizeof v));
    T(getxattr("s", "user.a", v, sizeof v));
    int fd = open("f", O_RDONLY);
    T(fsetxattr(fd, "user.fd", "via fd", 6, 0));
    T(fgetxattr(fd, "user.fd", v, sizeof v));
    T(fremovexattr(fd, "user.fd"));
    close(fd);
    T(getxattr("missing", "user.a", v, sizeof v));
    T(syscall(SYS_setxattr, "f", "user.a", (void *)16, 4, 0));
    T(syscall(SYS_getxattr, "f", "user.a", (void *)16, sizeof v));

    T(chdir("/"));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    T(system(cmd));
    return 0;
}
