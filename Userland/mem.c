/* mem.c: brk, mmap, munmap, mprotect, mremap and madvise as a program observes them.
 *
 * Usage: mem PATH, where PATH is a readable regular file of at least two pages (the tests pass the program's
 * own executable) used for the file-backed mappings. Addresses are never printed, only what is read back
 * and the errno of each failing call.
 */
#include "check.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static long page;

/* 1 when every byte of [p, p+n) is c. */
static int all(const unsigned char *p, size_t n, unsigned char c) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != c) return 0;
    return 1;
}

/* Whether the page at p is mapped, probed without touching it: MAP_FIXED_NOREPLACE fails with EEXIST over
 * a mapping and succeeds over a hole (which is unmapped again at once). */
static void probe(const char *what, void *p) {
    void *r = mmap(p, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == p) {
        munmap(r, page);
        printf("%s: unmapped\n", what);
    } else if (r == MAP_FAILED && errno == EEXIST) {
        printf("%s: mapped\n", what);
    } else {
        printf("%s: %s\n", what, r == MAP_FAILED ? errname(errno) : "elsewhere");
        if (r != MAP_FAILED) munmap(r, page);
    }
}

static void *anon(size_t len, int prot, int flags) {
    return mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static void test_brk(void) {
    printf("-- brk\n");
    /* The raw syscall: libc's sbrk caches the break, and musl's refuses to move it. */
    char *cur = (char *)syscall(SYS_brk, 0);
    show_bool("brk(0) is not null", cur != NULL);
    show_bool("brk(0) again is the same", (char *)syscall(SYS_brk, 0) == cur);
    char *base = (char *)(((uintptr_t)cur + page - 1) & ~(uintptr_t)(page - 1));
    char *end = base + 3 * page;
    char *r = (char *)syscall(SYS_brk, end);
    show_bool("brk grow by 3 pages", r == end);
    show_bool("grown area reads zero", all((unsigned char *)base, 3 * page, 0));
    memset(base, 'b', 3 * page);
    show_bool("grown area keeps writes", all((unsigned char *)base, 3 * page, 'b'));
    r = (char *)syscall(SYS_brk, base + page);
    show_bool("brk shrink to 1 page", r == base + page);
    probe("released brk page", base + 2 * page);
    show_bool("kept brk page keeps its bytes", all((unsigned char *)base, page, 'b'));
    r = (char *)syscall(SYS_brk, end);
    show_bool("brk grow again", r == end);
    show_bool("regrown pages read zero", all((unsigned char *)base + page, 2 * page, 0));
    show_bool("first page still holds its bytes", all((unsigned char *)base, page, 'b'));
    /* A break below the start of the heap is refused: the old break comes back. */
    r = (char *)syscall(SYS_brk, (char *)0x1000);
    show_bool("brk below the heap start answers the current break", r == end);
    r = (char *)syscall(SYS_brk, cur);
    show_bool("brk back to the initial break", r == cur);
}

static void test_anon(void) {
    printf("-- anonymous mappings\n");
    unsigned char *p = anon(4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    show_bool("private mmap succeeds", p != MAP_FAILED);
    show_bool("private mmap reads zero", all(p, 4 * page, 0));
    memset(p, 'p', 4 * page);
    show_bool("private mmap keeps writes", all(p, 4 * page, 'p'));

    unsigned char *s = anon(2 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
    show_bool("shared mmap succeeds", s != MAP_FAILED);
    show_bool("shared mmap reads zero", all(s, 2 * page, 0));
    memset(s, 's', 2 * page);
    show_bool("shared mmap keeps writes", all(s, 2 * page, 's'));

    unsigned char *q = anon(2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE);
    show_bool("MAP_POPULATE mmap reads zero", q != MAP_FAILED && all(q, 2 * page, 0));
    unsigned char *n = anon(64L << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
    show_bool("64 MiB MAP_NORESERVE mmap succeeds", n != MAP_FAILED);
    n[0] = 1;
    n[(64L << 20) - 1] = 2;
    show_bool("its first and last bytes keep writes", n[0] == 1 && n[(64L << 20) - 1] == 2);
    show_bool("an untouched page in the middle reads zero", all(n + (32L << 20), page, 0));
    T(munmap(n, 64L << 20));

    /* MAP_FIXED replaces the middle page of a mapping with a fresh zero page. */
    unsigned char *f = mmap(p + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    show_bool("MAP_FIXED lands at the address asked", f == p + page);
    show_bool("the replaced page reads zero", all(p + page, page, 0));
    show_bool("the pages around it are untouched", all(p, page, 'p') && all(p + 2 * page, 2 * page, 'p'));

    /* MAP_FIXED_NOREPLACE over a mapping fails; over a hole it maps exactly there. */
    errno = 0;
    void *e = mmap(p + page, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    printf("MAP_FIXED_NOREPLACE over a mapping: %s\n", e == MAP_FAILED ? errname(errno) : "mapped");
    show_bool("the mapping under it is unchanged", all(p, page, 'p'));

    /* munmap of the middle: the hole reads as unmapped and can be mapped again with NOREPLACE. */
    T(munmap(p + page, page));
    probe("the unmapped middle page", p + page);
    probe("the page before it", p);
    show_bool("the pages around the hole keep their bytes", all(p, page, 'p') && all(p + 2 * page, 2 * page, 'p'));
    e = mmap(p + page, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    show_bool("MAP_FIXED_NOREPLACE into the hole lands there", e == p + page);
    show_bool("and reads zero", e != MAP_FAILED && all(p + page, page, 0));
    T(munmap(p, 4 * page));
    probe("the last page after unmapping all of it", p + 3 * page);
    T(munmap(p, 4 * page)); /* unmapping nothing is not an error */
    T(munmap(s, 2 * page));
    T(munmap(q, 2 * page));
}

static void test_mprotect(void) {
    printf("-- mprotect\n");
    unsigned char *p = anon(3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    memset(p, 'm', 3 * page);
    T(mprotect(p, page, PROT_READ));
    show_bool("a read-only page still reads its bytes", all(p, page, 'm'));
    T(mprotect(p + page, page, PROT_NONE));
    T(mprotect(p + page, page, PROT_READ | PROT_WRITE));
    show_bool("PROT_NONE and back keeps the bytes", all(p + page, page, 'm'));
    p[page] = 'x';
    show_bool("and the page is writable again", p[page] == 'x');
    T(syscall(SYS_mprotect, p + 1, page, PROT_READ)); /* raw: musl rounds the address down */
    T(munmap(p + 2 * page, page));
    T(mprotect(p + page, 2 * page, PROT_READ)); /* part of the range is unmapped */
    T(mprotect(p, page, 0x1000)); /* an unknown PROT bit */
    T(munmap(p, 2 * page));

    /* Code written into an anonymous page runs once the page is executable: mov eax, 42; ret. */
    static const unsigned char code[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
    unsigned char *x = anon(page, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    memcpy(x, code, sizeof code);
    T(mprotect(x, page, PROT_READ | PROT_EXEC));
    int (*fn)(void) = (int (*)(void))(void *)x;
    printf("code in an executable page returns: %d\n", fn());
    T(munmap(x, page));
}

static void test_mremap(void) {
    printf("-- mremap\n");
    unsigned char *p = anon(2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    memset(p, 'r', 2 * page);
    /* Reserve room around so that a grow may also move. */
    unsigned char *g = mremap(p, 2 * page, 8 * page, MREMAP_MAYMOVE);
    show_bool("mremap grow succeeds", g != MAP_FAILED);
    show_bool("grown mapping keeps the old bytes", all(g, 2 * page, 'r'));
    show_bool("grown part reads zero", all(g + 2 * page, 6 * page, 0));
    unsigned char *s = mremap(g, 8 * page, page, 0);
    show_bool("mremap shrink stays in place", s == g);
    probe("a page cut off by the shrink", g + page);

    /* MREMAP_FIXED moves to a chosen address; the old range is gone. */
    unsigned char *dst = anon(4 * page, PROT_NONE, MAP_PRIVATE);
    munmap(dst, 4 * page);
    unsigned char *m = mremap(s, page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, dst + page);
    show_bool("MREMAP_FIXED moves to the target", m == dst + page);
    show_bool("moved mapping keeps the bytes", all(m, page, 'r'));
    probe("the old place", s);
    T(syscall(SYS_mremap, m, 2 * page, 0, MREMAP_MAYMOVE));
    T(syscall(SYS_mremap, m + 1, page, 2 * page, MREMAP_MAYMOVE));
    T(syscall(SYS_mremap, m, page, 2 * page, MREMAP_FIXED));
    T(syscall(SYS_mremap, s, page, 2 * page, MREMAP_MAYMOVE)); /* nothing mapped there */
    T(munmap(m, 2 * page));
}

static void test_madvise(const char *path) {
    printf("-- madvise\n");
    unsigned char *p = anon(2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    memset(p, 'd', 2 * page);
    T(madvise(p, page, MADV_DONTNEED));
    show_bool("MADV_DONTNEED zeroes private anonymous memory", all(p, page, 0));
    show_bool("the page after it keeps its bytes", all(p + page, page, 'd'));
    T(madvise(p + 1, page, MADV_DONTNEED));
    T(madvise(p, page, 12345));
    T(munmap(p, 2 * page));

    unsigned char *s = anon(page, PROT_READ | PROT_WRITE, MAP_SHARED);
    memset(s, 'S', page);
    T(madvise(s, page, MADV_DONTNEED));
    show_bool("MADV_DONTNEED keeps shared anonymous memory", all(s, page, 'S'));
    T(munmap(s, page));

    /* On a private file mapping, DONTNEED drops the private copy: the file's bytes come back. */
    int fd = open(path, O_RDONLY);
    unsigned char *f = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    unsigned char orig = f[1];
    f[1] = 'Z';
    T(madvise(f, page, MADV_DONTNEED));
    show_bool("MADV_DONTNEED on a private file mapping brings back the file", f[1] == orig);
    T(munmap(f, page));
    close(fd);
}

static void test_file(const char *path) {
    printf("-- file mappings\n");
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    long size = st.st_size;
    show_bool("the file is at least 3 pages", size >= 3 * page);

    unsigned char *f = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    show_bool("private file mmap succeeds", f != MAP_FAILED);
    printf("first bytes: %02x %c %c %c\n", f[0], f[1], f[2], f[3]);
    unsigned char buf[4096];
    pread(fd, buf, sizeof buf, 0);
    show_bool("mapping equals the file at 0", memcmp(f, buf, sizeof buf) == 0);
    T(munmap(f, 2 * page));

    unsigned char *o = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, page);
    pread(fd, buf, sizeof buf, page);
    show_bool("mapping at offset one page equals the file there", o != MAP_FAILED && memcmp(o, buf, sizeof buf) == 0);
    T(munmap(o, page));

    /* Writes to a private mapping stay private. */
    unsigned char *w = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    show_bool("PROT_WRITE private mapping of a read-only fd", w != MAP_FAILED);
    memset(w, 'W', 16);
    pread(fd, buf, 16, 0);
    show_bool("writes to it do not reach the file", buf[0] == 0x7f && w[0] == 'W');
    T(munmap(w, page));

    /* The tail of the last page beyond end of file reads zero. */
    long last = (size / page) * page;
    if (size % page != 0) {
        unsigned char *t = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, last);
        show_bool("bytes past end of file in the last page read zero",
                  t != MAP_FAILED && all(t + size % page, page - size % page, 0));
        munmap(t, page);
    } else {
        show_bool("bytes past end of file in the last page read zero", 1);
    }

    /* Errors. */
    errno = 0;
    void *e;
#define TRY_MMAP(label, call) do { errno = 0; e = (call); \
        printf("%s: %s\n", label, e == MAP_FAILED ? errname(errno) : "mapped"); \
        if (e != MAP_FAILED) munmap(e, page); } while (0)
    TRY_MMAP("mmap length 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    TRY_MMAP("mmap unaligned MAP_FIXED", mmap((void *)0x700000001000 + 1, page, PROT_READ,
                                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
    TRY_MMAP("mmap bad fd", mmap(NULL, page, PROT_READ, MAP_PRIVATE, 999, 0));
    TRY_MMAP("mmap unaligned offset", mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 1));
    TRY_MMAP("mmap neither private nor shared", mmap(NULL, page, PROT_READ, MAP_ANONYMOUS, -1, 0));
    TRY_MMAP("mmap shared writable of a read-only fd", mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    int dfd = open("/", O_RDONLY | O_DIRECTORY);
    TRY_MMAP("mmap of a directory", mmap(NULL, page, PROT_READ, MAP_PRIVATE, dfd, 0));
    close(dfd);
    TRY_MMAP("mmap huge length", mmap(NULL, (size_t)-page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    T(munmap((void *)0x700000001001, page));
    T(munmap((void *)0x700000001000, 0));
    close(fd);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: mem FILE\n");
        return 2;
    }
    page = sysconf(_SC_PAGESIZE);
    printf("page size: %ld\n", page);
    test_brk();
    test_anon();
    test_mprotect();
    test_mremap();
    test_madvise(argv[1]);
    test_file(argv[1]);
    return 0;
}
