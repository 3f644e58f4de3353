/* efault.c: bad user pointers handed to system calls answer EFAULT and never crash anything.
 *
 * Usage: efault FILE, where FILE is a readable regular file of at least one page (the tests pass the
 * program's own executable). Raw syscalls are used throughout, so that no libc wrapper touches the pointer
 * first.
 */
#include "check.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: efault FILE\n");
        return 2;
    }
    long page = sysconf(_SC_PAGESIZE);
    int fd = open(argv[1], O_RDONLY);
    show("open FILE", fd);

    /* A read-only page, a writable page followed by an inaccessible one, and a hole: no mapping is made after
     * the hole is punched, so nothing can land in it. */
    unsigned char *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(two + page, page, PROT_NONE);
    unsigned char *gap = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int dirfd = open("/", O_RDONLY | O_DIRECTORY);
    munmap(gap + page, page);
    unsigned char *hole = gap + page;
    fflush(stdout);

    T(syscall(SYS_write, 1, BAD_PTR, 5));
    T(syscall(SYS_write, 1, two + page, 5));
    T(syscall(SYS_write, 1, hole, 5));
    T(syscall(SYS_read, fd, BAD_PTR, 16));
    T(syscall(SYS_read, fd, ro, 16));
    T(syscall(SYS_pread64, fd, ro, 16, 0));
    /* A read that runs off the end of the buffer's mapping is short, not an error. */
    T(syscall(SYS_pread64, fd, two + page - 8, 16, 0));
    show_bool("the short read landed", two[page - 8] == 0x7f && two[page - 7] == 'E');
    T(syscall(SYS_pread64, fd, two + page, 16, 0));
    T(syscall(SYS_pread64, fd, hole, 16, 0));
    /* Ending in the hole: the part before it is read. */
    T(syscall(SYS_pread64, fd, hole - 4, 16, 0));
    T(syscall(SYS_openat, AT_FDCWD, BAD_PTR, O_RDONLY));
    T(syscall(SYS_openat, AT_FDCWD, two + page, O_RDONLY));
    T(syscall(SYS_openat, AT_FDCWD, hole, O_RDONLY));
    /* A path running off the end of its mapping. */
    memset(two + page - 4, 'a', 4);
    T(syscall(SYS_openat, AT_FDCWD, two + page - 4, O_RDONLY));
    T(syscall(SYS_open, BAD_PTR, O_RDONLY));
    T(syscall(SYS_fstat, fd, BAD_PTR));
    T(syscall(SYS_fstat, fd, ro));
    T(syscall(SYS_newfstatat, AT_FDCWD, "/", BAD_PTR, 0));
    T(syscall(SYS_newfstatat, AT_FDCWD, BAD_PTR, two, 0));
    T(syscall(SYS_statx, AT_FDCWD, "/", 0, 0x7ff, BAD_PTR));
    T(syscall(SYS_getcwd, BAD_PTR, 4096));
    T(syscall(SYS_getcwd, ro, 4096));
    T(syscall(SYS_chdir, BAD_PTR));
    T(syscall(SYS_readlinkat, AT_FDCWD, BAD_PTR, two, 64));
    T(syscall(SYS_faccessat, AT_FDCWD, BAD_PTR, 0));
    T(syscall(SYS_getdents64, dirfd, BAD_PTR, 4096));
    T(syscall(SYS_getdents64, dirfd, ro, 4096));
    char dents[4096];
    show_bool("failed getdents64 calls consumed no entries", syscall(SYS_getdents64, dirfd, dents, sizeof dents) > 0);
    T(syscall(SYS_uname, BAD_PTR));
    T(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_PTR));
    T(syscall(SYS_clock_getres, CLOCK_MONOTONIC, BAD_PTR));
    T(syscall(SYS_gettimeofday, BAD_PTR, NULL));
    T(syscall(SYS_nanosleep, BAD_PTR, NULL));
    T(syscall(SYS_getrandom, BAD_PTR, 16, 0));
    T(syscall(SYS_getrandom, ro, 16, 0));
    T(syscall(SYS_sysinfo, BAD_PTR));

    struct iovec bad_iov[2] = {{.iov_base = BAD_PTR, .iov_len = 4}, {.iov_base = BAD_PTR, .iov_len = 4}};
    T(syscall(SYS_writev, 1, BAD_PTR, 1));
    T(syscall(SYS_writev, 1, bad_iov, 2));
    T(syscall(SYS_readv, fd, bad_iov, 2));
    T(syscall(SYS_readv, fd, BAD_PTR, 1));

    /* The pages themselves are unchanged by the failed calls. */
    uint8_t sum = 0;
    for (long i = 0; i < page; i++) sum |= ro[i];
    show_bool("the read-only page still reads zero", sum == 0);
    return 0;
}
