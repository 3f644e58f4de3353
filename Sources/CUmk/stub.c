// stub.c: the code that runs inside every stub process, and how a stub is started.
//
// A stub is the host process that holds one guest address space. It is exec'd from a tiny ELF (built by the
// Host layer from the bytes below), so nothing of umk is mapped in it. Its first act unmaps everything but
// its own page (stack, vDSO, vvar included); then it idles in pause() until the kernel seizes it. Later the
// kernel points rip at one of the entries below and continues it: `batch` runs a queue of host mmap/munmap/
// mprotect calls from the data page (UML's stub, os-Linux/skas/mem.c), `syscall` runs one from registers.
// Both end in int3, which the kernel sees as a SIGTRAP stop. Nothing here touches a stack.
#define _GNU_SOURCE
#include "cumk.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
    ".pushsection .rodata.umk_stub,\"a\"\n"
    ".balign 16\n"
    "umk_stub_begin:\n"
    // Entry after exec: munmap [0, STUB_CODE) and [STUB_CODE+4096, top of user space).
    "umk_stub_start:\n"
    "  mov $11, %eax\n"
    "  xor %edi, %edi\n"
    "  movabs $" STR(UMK_STUB_CODE) ", %rsi\n"
    "  syscall\n"
    "  mov $11, %eax\n"
    "  movabs $(" STR(UMK_STUB_CODE) " + 0x1000), %rdi\n"
    "  movabs $(0x7ffffffff000 - " STR(UMK_STUB_CODE) " - 0x1000), %rsi\n"
    "  syscall\n"
    "1:\n"
    "  mov $34, %eax\n" // pause() until the tracer interrupts us
    "  syscall\n"
    "  jmp 1b\n"
    // Batch entry: for each op in the data page run the syscall; stop at the first error.
    "umk_stub_batch:\n"
    "  movabs $" STR(UMK_STUB_DATA) ", %rbx\n"
    "  xor %r12d, %r12d\n"
    "  lea 32(%rbx), %r13\n"
    "  movq $0, 8(%rbx)\n"
    "2:\n"
    "  cmp (%rbx), %r12\n"
    "  jae 4f\n"
    "  mov 0(%r13), %rax\n"
    "  mov 8(%r13), %rdi\n"
    "  mov 16(%r13), %rsi\n"
    "  mov 24(%r13), %rdx\n"
    "  mov 32(%r13), %r10\n"
    "  mov 40(%r13), %r8\n"
    "  mov 48(%r13), %r9\n"
    "  syscall\n"
    "  cmp $-4095, %rax\n"
    "  jae 3f\n"
    "  add $56, %r13\n"
    "  inc %r12\n"
    "  jmp 2b\n"
    "3:\n"
    "  mov %rax, 8(%rbx)\n"
    "  mov %r12, 16(%rbx)\n"
    "4:\n"
    "  int3\n"
    // Single syscall entry: registers already hold it.
    "umk_stub_syscall:\n"
    "  syscall\n"
    "  int3\n"
    "umk_stub_end:\n"
    ".popsection\n");

extern const uint8_t umk_stub_begin[], umk_stub_end[], umk_stub_start[], umk_stub_batch[], umk_stub_syscall[];

const uint8_t *umk_stub_code(size_t *size) {
    *size = (size_t)(umk_stub_end - umk_stub_begin);
    return umk_stub_begin;
}
size_t umk_stub_entry_start(void) { return (size_t)(umk_stub_start - umk_stub_begin); }
size_t umk_stub_entry_batch(void) { return (size_t)(umk_stub_batch - umk_stub_begin); }
size_t umk_stub_entry_syscall(void) { return (size_t)(umk_stub_syscall - umk_stub_begin); }

struct spawn_args {
    int exe_fd, phys_fd;
    volatile int err;
};

struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static long raw(long nr, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

// Runs in the vfork child, sharing the parent's memory: raw syscalls only, no libc state touched.
static int stub_child(void *p) {
    struct spawn_args *a = p;
    struct kernel_sigaction dfl = {SIG_DFL, 0, 0, 0};
    for (long sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) raw(SYS_rt_sigaction, sig, (long)&dfl, 0, 8, 0, 0);
    long exe = raw(SYS_fcntl, a->exe_fd, F_DUPFD_CLOEXEC, 10, 0, 0, 0);
    long r = exe;
    if (exe < 0) goto fail;
    if (a->phys_fd != UMK_STUB_PHYS_FD) r = raw(SYS_dup2, a->phys_fd, UMK_STUB_PHYS_FD, 0, 0, 0, 0);
    else r = raw(SYS_fcntl, UMK_STUB_PHYS_FD, F_SETFD, 0, 0, 0, 0);
    if (r < 0) goto fail;
    raw(SYS_close_range, 0, UMK_STUB_PHYS_FD - 1, 0, 0, 0, 0);
    raw(SYS_close_range, UMK_STUB_PHYS_FD + 1, exe - 1, 0, 0, 0, 0);
    raw(SYS_close_range, exe + 1, ~0U, 0, 0, 0, 0);
    raw(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0);
    raw(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
    raw(SYS_setsid, 0, 0, 0, 0, 0, 0); // keep terminal job-control signals for the guest's own console
    uint64_t empty = 0;
    raw(SYS_rt_sigprocmask, SIG_SETMASK, (long)&empty, 0, 8, 0, 0);
    static const char *const argv[] = {"umk-stub", 0};
    static const char *const envp[] = {0};
    r = raw(SYS_execveat, exe, (long)"", (long)argv, (long)envp, AT_EMPTY_PATH, 0);
fail:
    a->err = (int)-r;
    raw(SYS_exit, 127, 0, 0, 0, 0, 0);
    return 0;
}

pid_t umk_spawn_stub(int exe_fd, int phys_fd, int cpu) {
    (void)cpu;
    static const size_t stack_size = 16384;
    char stack[16384] __attribute__((aligned(16)));
    struct spawn_args args = {exe_fd, phys_fd, 0};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(stub_child, stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, 0);
    if (pid < 0) return -saved;
    if (args.err) {
        int status;
        umk_wait(pid, &status, __WALL);
        return -args.err;
    }
    return pid;
}
