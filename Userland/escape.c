/* escape.c: a guest trying every way it has to reach the stub's own pages or the host, printing what each
 * attempt got. umk only (natively there is no stub): the expected text is in EscapeTests.swift.
 * Usage: escape CANARY NEWFILE, two host paths outside the guest's root: the first must not be readable, the
 * second must not come to exist.
 */
#include "check.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define STUB_CODE 0x7ffffff00000UL
#define STUB_CONTROL (STUB_CODE + 0x1000)

static sigjmp_buf env;
static void on_fault(int sig) { siglongjmp(env, sig); }

static void write_at(const char *what, uintptr_t address) {
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
        *(volatile char *)address = 1;
        printf("%s: written\n", what);
    } else {
        printf("%s: %s\n", what, sig == SIGSEGV ? "SIGSEGV" : "other signal");
    }
}

/* After fork, break copy-on-write (or punch a hole) on every other page of a large region: each one is a
 * host mapping of its own in the child's stub. umk must refuse (ENOMEM, or kill the child as out of memory)
 * before the host's vm.max_map_count refuses the stub. */
static void split_every_other_page(const char *what, int hole) {
    const size_t pages = 140000;
    char *p = mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { printf("%s: mmap %s\n", what, errname(errno)); return; }
    for (size_t i = 0; i < pages; i++) p[i * 4096] = 1;
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) { printf("%s: fork %s\n", what, errname(errno)); munmap(p, pages * 4096); return; }
    if (child == 0) {
        for (size_t i = 0; i < pages; i += 2) {
            if (hole) {
                if (madvise(p + i * 4096, 4096, MADV_DONTNEED) != 0) {
                    printf("%s: child: madvise %s\n", what, errname(errno));
                    fflush(stdout);
                    _exit(0);
                }
            } else {
                p[i * 4096] = 2;
            }
        }
        printf("%s: child: every split done\n", what);
        fflush(stdout);
        if (getenv("ESCAPE_PAUSE")) sleep(3);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (WIFSIGNALED(status)) printf("%s: child killed by signal %d\n", what, WTERMSIG(status));
    else printf("%s: child exited %d\n", what, WEXITSTATUS(status));
    munmap(p, pages * 4096);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    struct sigaction sa = {0};
    sa.sa_handler = on_fault;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGBUS, &sa, 0);

    /* The stub's pages are not the guest's to map, change, move over or write. */
    show_ok("mmap MAP_FIXED over the stub code", (long)mmap((void *)STUB_CODE, 4096, PROT_READ | PROT_WRITE,
                                                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == -1 ? -1 : 0);
    show_ok("mmap MAP_FIXED over the control pages", (long)mmap((void *)STUB_CONTROL, 4096, PROT_READ | PROT_WRITE,
                                                              MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == -1 ? -1 : 0);
    show_ok("mprotect the control pages writable", mprotect((void *)STUB_CONTROL, 4096, PROT_READ | PROT_WRITE));
    show_ok("munmap the stub code", munmap((void *)STUB_CODE, 4096));
    show_ok("madvise DONTNEED the control pages", madvise((void *)STUB_CONTROL, 4096, MADV_DONTNEED));
    char *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show_ok("mremap onto the control pages",
         (long)mremap(page, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)STUB_CONTROL) == -1 ? -1 : 0);
    write_at("write to the control pages", STUB_CONTROL);
    write_at("write to the stub code", STUB_CODE);
    char buf[16] = "overwrite";
    struct iovec local = {buf, sizeof buf}, remote = {(void *)STUB_CONTROL, sizeof buf};
    show_ok("process_vm_writev to the control pages", process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
    int mem = open("/proc/self/mem", O_RDWR);
    if (mem >= 0) {
        show_ok("pwrite /proc/self/mem at the control pages", pwrite(mem, buf, sizeof buf, (off_t)STUB_CONTROL));
        close(mem);
    } else {
        show_ok("open /proc/self/mem", -1);
    }

    /* The vsyscall page is emulated by umk like any system call, never run by the host. */
    struct timeval tv = {0};
    long r = ((long (*)(struct timeval *, void *))0xffffffffff600000UL)(&tv, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    printf("vsyscall gettimeofday: %ld, %s\n", r, tv.tv_sec - now.tv_sec <= 1 && now.tv_sec - tv.tv_sec <= 1 ? "now" : "wrong time");

    /* Too many host mappings for one stub. */
    split_every_other_page("copy-on-write on every other page", 0);
    split_every_other_page("MADV_DONTNEED on every other page", 1);

    /* And after all that, the host is still out of reach. */
    show_ok("open the canary", open(argv[1], O_RDONLY));
    show_ok("create the new file", open(argv[2], O_WRONLY | O_CREAT, 0644));
    show_ok("raw syscall open the canary", syscall(SYS_open, argv[1], O_RDONLY));
    return 0;
}
