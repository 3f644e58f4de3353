/* rofs.c: writes to the read-only root fail with EROFS, and opens that do not write still work.
 *
 * Usage: rofs DIR, where DIR is the fixture (see files.c). Not differential: natively the fixture is
 * writable. Every call here is harmless on a writable file system (nothing is written or truncated but the
 * empty file, and the only file created is DIR/new-file), so it may also be run natively.
 */
#include "check.h"
#include <fcntl.h>

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

static char dir[1024];

static const char *at(const char *name) {
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: rofs DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    T(faccessat(AT_FDCWD, "/", W_OK, 0));
    T(syscall(SYS_faccessat2, AT_FDCWD, "/", W_OK, AT_EACCESS));
    T(faccessat(AT_FDCWD, "/", R_OK | X_OK, 0));
    T(faccessat(AT_FDCWD, at("hello.txt"), W_OK, 0));
    T(faccessat(AT_FDCWD, at("hello.txt"), R_OK, 0));
    T(faccessat(AT_FDCWD, at("missing"), W_OK, 0));
    T_OK(open(at("hello.txt"), O_WRONLY));
    T_OK(open(at("hello.txt"), O_RDWR));
    T_OK(open(at("hello.txt"), O_WRONLY | O_APPEND));
    T_OK(open(at("hello.txt"), O_RDONLY | O_CREAT, 0644));
    T_OK(open(at("hello.txt"), O_WRONLY | O_CREAT | O_EXCL, 0644));
    T_OK(open(at("empty"), O_RDONLY | O_TRUNC));
    T_OK(open(at("new-file"), O_WRONLY | O_CREAT, 0644));
    T_OK(open(at("new-file"), O_RDONLY | O_CREAT, 0644));
    T_OK(open(at("missing/new-file"), O_WRONLY | O_CREAT, 0644));
    T_OK(open("/", O_WRONLY));
    T_OK(open("/", O_RDONLY | O_CREAT, 0644));
    T_OK(open("/", O_RDONLY | O_DIRECTORY));
    return 0;
}
