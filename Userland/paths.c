/* paths.c: the working directory (getcwd, chdir, fchdir) and path walks: "..", ".", repeated slashes, and
 * ".." at the root, which stays at the root.
 *
 * Usage: paths DIR, where DIR is the fixture the tests build (see files.c). Printed paths are made relative
 * to DIR, so the output does not depend on where the fixture lives.
 */
#include "check.h"
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

static char dir[1024];

/* getcwd, with DIR replaced by the word DIR. */
static void cwd(const char *what) {
    char buf[PATH_MAX];
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    if (n == -1) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    size_t len = strlen(dir);
    if (strncmp(buf, dir, len) == 0 && (buf[len] == 0 || buf[len] == '/'))
        printf("%s: %ld DIR%s\n", what, n - (long)len, buf + len);
    else
        printf("%s: %ld %s\n", what, n, buf);
}

/* The contents of a small file, or the errno of opening it. */
static void contents(const char *what, const char *path) {
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd == -1) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
    printf("%s: \"%s\"\n", what, buf);
}

/* Whether two paths name files with the same contents. */
static void same(const char *what, const char *a, const char *b) {
    static char x[65536], y[65536];
    int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
    if (fa == -1 || fb == -1) {
        printf("%s: %s\n", what, errname(errno));
        if (fa != -1) close(fa);
        if (fb != -1) close(fb);
        return;
    }
    long na = read(fa, x, sizeof x), nb = read(fb, y, sizeof y);
    close(fa);
    close(fb);
    show_bool(what, na >= 0 && na == nb && memcmp(x, y, na) == 0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: paths DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    char p[2048];

    printf("-- getcwd, chdir, fchdir\n");
    T(chdir("/"));
    cwd("getcwd at /");
    T(chdir(".."));
    cwd("getcwd after chdir .. at /");
    T(chdir(dir));
    cwd("getcwd after chdir DIR");
    T(chdir("sub"));
    cwd("getcwd after chdir sub");
    contents("open inner.txt relative to the cwd", "inner.txt");
    contents("open ../hello.txt", "../hello.txt");
    contents("open ./../sub/./inner.txt", "./../sub/./inner.txt");
    T(chdir(".."));
    cwd("getcwd after chdir ..");
    T(chdir("link"));
    T(chdir("hello.txt"));
    T(chdir("missing"));
    T(chdir(""));
    cwd("getcwd after failed chdirs");
    int sub = open("sub", O_RDONLY | O_DIRECTORY);
    int file = open("hello.txt", O_RDONLY);
    T(chdir("/"));
    T(fchdir(sub));
    cwd("getcwd after fchdir sub");
    T(fchdir(file));
    T(fchdir(999));
    cwd("getcwd after failed fchdirs");
    char small[4];
    T(syscall(SYS_getcwd, small, 1));
    T(syscall(SYS_getcwd, small, 0));
    T(chdir(dir));

    printf("-- path walks\n");
    snprintf(p, sizeof p, "%s//sub///inner.txt", dir);
    contents("repeated slashes", p);
    snprintf(p, sizeof p, "%s/sub/../sub/./inner.txt", dir);
    contents("dot and dot-dot", p);
    snprintf(p, sizeof p, "%s/link/..", dir);
    T(open(p, O_RDONLY));
    snprintf(p, sizeof p, "/../../..%s/hello.txt", dir);
    contents("/../../.. before DIR stays at the root", p);
    same("/../../etc/passwd is /etc/passwd", "/../../etc/passwd", "/etc/passwd");
    same("/etc/../etc/./passwd is /etc/passwd", "/etc/../etc/./passwd", "/etc/passwd");
    T(chdir("/"));
    same("../../etc/passwd from / is /etc/passwd", "../../etc/passwd", "/etc/passwd");
    cwd("getcwd at the end");
    return 0;
}
