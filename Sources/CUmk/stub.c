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
#include <stddef.h>
#include <sys/mman.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
    ".pushsection .rodata.umk_stub,\"a\"\n"
    ".balign 16\n"
    "umk_stub_begin:\n"
    // Entry after exec: munmap [0, STUB_CODE) and everything above the stub page, map the control pages
    // (fd 4) read-only, close fd 4, install the seccomp filter they hold, and idle. A failure exits, which
    // the kernel sees before it ever runs guest code here.
    "umk_stub_start:\n"
    "  mov $11, %eax\n"
    "  xor %edi, %edi\n"
    "  movabs $" STR(UMK_STUB_CODE) ", %rsi\n"
    "  syscall\n"
    "  mov $11, %eax\n"
    "  movabs $(" STR(UMK_STUB_CODE) " + 0x1000), %rdi\n"
    "  movabs $(0x7ffffffff000 - " STR(UMK_STUB_CODE) " - 0x1000), %rsi\n"
    "  syscall\n"
    "  mov $9, %eax\n"
    "  movabs $" STR(UMK_STUB_CONTROL) ", %rdi\n"
    "  mov $" STR(UMK_STUB_CONTROL_SIZE) ", %esi\n"
    "  mov $1, %edx\n"   // PROT_READ
    "  mov $0x11, %r10d\n" // MAP_SHARED | MAP_FIXED
    "  mov $" STR(UMK_STUB_CONTROL_FD) ", %r8d\n"
    "  xor %r9d, %r9d\n"
    "  syscall\n"
    "  mov $1, %edi\n"   // anything but the address asked for: exit(1)
    "  movabs $" STR(UMK_STUB_CONTROL) ", %rcx\n"
    "  cmp %rcx, %rax\n"
    "  jne 9f\n"
    "  mov $3, %eax\n"   // close(4)
    "  mov $" STR(UMK_STUB_CONTROL_FD) ", %edi\n"
    "  syscall\n"
    // seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, control page's sock_fprog): without
    // SPEC_ALLOW the host would also force speculative-store-bypass mitigation on the guest's code.
    "  mov $317, %eax\n"
    "  mov $1, %edi\n"
    "  mov $4, %esi\n"
    "  movabs $" STR(UMK_STUB_CONTROL) ", %rdx\n"
    "  syscall\n"
    "  mov $2, %edi\n"
    "  test %rax, %rax\n"
    "  jnz 9f\n"
    "umk_stub_idle:\n"
    "  mov $34, %eax\n" // pause() until the tracer interrupts us
    "  syscall\n"
    "  jmp umk_stub_idle\n"
    "umk_stub_idle_end:\n"
    "9:\n"
    "  mov $60, %eax\n"
    "  syscall\n"
    // Batch entry: run the ops of the (read-only) data page. The count is read once and bounded; each op
    // must be mmap of fd 3 MAP_SHARED|MAP_FIXED, mprotect or munmap, inside the guest's range, with no
    // protection bits beyond rwx. Ends in int3 when every op succeeded (so the kernel need not read any
    // register), or in ud2 with rax = the first failure's -errno (-EINVAL for an op that fails the checks)
    // and r12 = its index.
    "umk_stub_batch:\n"
    "  movabs $" STR(UMK_STUB_DATA) ", %rbx\n"
    "  mov (%rbx), %r14\n"
    "  xor %r12d, %r12d\n"
    "  cmp $" STR(UMK_STUB_MAX_OPS) ", %r14\n"
    "  ja 6f\n"
    "  lea 32(%rbx), %r13\n"
    "2:\n"
    "  cmp %r14, %r12\n"
    "  jae 5f\n"
    "  mov 0(%r13), %rax\n"
    "  mov 8(%r13), %rdi\n"
    "  mov 16(%r13), %rsi\n"
    "  mov 24(%r13), %rdx\n"
    "  mov 32(%r13), %r10\n"
    "  mov 40(%r13), %r8\n"
    "  mov 48(%r13), %r9\n"
    "  movabs $" STR(UMK_STUB_CODE) ", %rcx\n" // addr < STUB_CODE and len <= STUB_CODE - addr
    "  cmp %rcx, %rdi\n"
    "  jae 6f\n"
    "  sub %rdi, %rcx\n"
    "  cmp %rcx, %rsi\n"
    "  ja 6f\n"
    "  cmp $11, %rax\n"
    "  je 3f\n"
    "  test $-8, %rdx\n" // prot & ~7
    "  jnz 6f\n"
    "  cmp $10, %rax\n"
    "  je 3f\n"
    "  cmp $9, %rax\n"
    "  jne 6f\n"
    "  cmp $0x11, %r10\n"
    "  jne 6f\n"
    "  cmp $" STR(UMK_STUB_PHYS_FD) ", %r8\n"
    "  jne 6f\n"
    "3:\n"
    "  syscall\n"
    "  cmp $-4095, %rax\n"
    "  jae 4f\n"
    "  add $56, %r13\n"
    "  inc %r12\n"
    "  jmp 2b\n"
    "5:\n"
    "  int3\n"            // all done: SIGTRAP
    "6:\n"
    "  mov $-22, %rax\n"
    "4:\n"
    "  ud2\n"             // failed: SIGILL, rax = -errno, r12 = the op's index

    // Thread entry, run by the stub's leader (the control thread, which never runs guest code): a new host
    // thread in the stub (auto-attached: PTRACE_O_TRACECLONE). The leader ends in int3 with rax = the new
    // thread's tid or -errno. The new thread first stacks the guest-thread filter (second control page half)
    // onto its inherited one, so that no guest thread can ever run the leader's mapping or clone calls,
    // then ends in int3, ready for guest registers; if it cannot, it exits.
    "umk_stub_clone:\n"
    "  mov $56, %eax\n"
    "  mov $" STR(UMK_STUB_THREAD_FLAGS) ", %edi\n"
    "  xor %esi, %esi\n"
    "  xor %edx, %edx\n"
    "  xor %r10d, %r10d\n"
    "  xor %r8d, %r8d\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 7f\n"
    "  int3\n"
    "7:\n"
    "  mov $317, %eax\n"
    "  mov $1, %edi\n"
    "  mov $4, %esi\n"
    "  movabs $(" STR(UMK_STUB_CONTROL) " + " STR(UMK_STUB_THREAD_FILTER) "), %rdx\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jnz umk_stub_exit_thread\n"
    "  int3\n"
    // Ends the guest thread that runs it (exit, not exit_group): the kernel then reaps it.
    "umk_stub_exit_thread:\n"
    "  mov $60, %eax\n"
    "  xor %edi, %edi\n"
    "  syscall\n"
    "  ud2\n"

    "umk_stub_end:\n"
    ".popsection\n");

extern const uint8_t umk_stub_begin[], umk_stub_end[], umk_stub_start[], umk_stub_batch[], umk_stub_idle[],
    umk_stub_idle_end[], umk_stub_clone[], umk_stub_exit_thread[];

const uint8_t *umk_stub_code(size_t *size) {
    *size = (size_t)(umk_stub_end - umk_stub_begin);
    return umk_stub_begin;
}
size_t umk_stub_entry_start(void) { return (size_t)(umk_stub_start - umk_stub_begin); }
size_t umk_stub_idle_begin(void) { return (size_t)(umk_stub_idle - umk_stub_begin); }
size_t umk_stub_idle_finish(void) { return (size_t)(umk_stub_idle_end - umk_stub_begin); }
size_t umk_stub_entry_batch(void) { return (size_t)(umk_stub_batch - umk_stub_begin); }
size_t umk_stub_entry_clone(void) { return (size_t)(umk_stub_clone - umk_stub_begin); }
size_t umk_stub_entry_exit_thread(void) { return (size_t)(umk_stub_exit_thread - umk_stub_begin); }

struct spawn_args {
    int exe_fd, phys_fd, control_fd;
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
    // Above every fd we keep, so that the dup2s below cannot clobber it.
    long exe = raw(SYS_fcntl, a->exe_fd, F_DUPFD_CLOEXEC, 10, 0, 0, 0);
    long control = exe < 0 ? exe : raw(SYS_fcntl, a->control_fd, F_DUPFD, 10, 0, 0, 0);
    long r = control;
    if (r < 0) goto fail;
    r = raw(SYS_dup2, a->phys_fd, UMK_STUB_PHYS_FD, 0, 0, 0, 0);
    if (r >= 0) r = raw(SYS_fcntl, UMK_STUB_PHYS_FD, F_SETFD, 0, 0, 0, 0);
    if (r >= 0) r = raw(SYS_dup2, control, UMK_STUB_CONTROL_FD, 0, 0, 0, 0);
    if (r >= 0) r = raw(SYS_fcntl, UMK_STUB_CONTROL_FD, F_SETFD, 0, 0, 0, 0);
    if (r < 0) goto fail;
    raw(SYS_close_range, 0, UMK_STUB_PHYS_FD - 1, 0, 0, 0, 0);
    raw(SYS_close_range, UMK_STUB_CONTROL_FD + 1, exe - 1, 0, 0, 0, 0);
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

pid_t umk_spawn_stub(int exe_fd, int phys_fd, int control_fd) {
    static const size_t stack_size = 16384;
    char stack[16384] __attribute__((aligned(16)));
    struct spawn_args args = {exe_fd, phys_fd, control_fd, 0};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(stub_child, stack + stack_size, CLONE_VM | CLONE_VFORK | CLONE_UNTRACED | SIGCHLD, &args);
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

int umk_stub_control_create(void **out) {
    int fd = memfd_create("umk-stub-control", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    void *p = MAP_FAILED;
    if (ftruncate(fd, UMK_STUB_CONTROL_SIZE) != 0) goto fail;
    p = mmap(0, UMK_STUB_CONTROL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) goto fail;
    umk_stub_filter(p);
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) != 0) goto fail;
    *out = p;
    return fd;
fail:;
    int e = errno;
    if (p != MAP_FAILED) munmap(p, UMK_STUB_CONTROL_SIZE);
    close(fd);
    return -e;
}

// The filter (Documentation/userspace-api/seccomp_filter.rst). Offsets into struct seccomp_data.
#define SD_NR 0
#define SD_ARCH 4
#define SD_IP_LO 8
#define SD_IP_HI 12
#define SD_ARG_LO(n) (16 + 8 * (n))
#define SD_ARG_HI(n) (20 + 8 * (n))

int umk_stub_filter(void *page) {
    const uint32_t code_hi = (uint32_t)(UMK_STUB_CODE >> 32), code_lo = (uint32_t)UMK_STUB_CODE;
    // The leader's filter, inherited by every thread. Jumps are relative: A = ALLOW (27), T = TRAP (28),
    // K = KILL (29), C = the clone check (23).
    struct sock_filter prog[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARCH),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        // Not from the stub's code page: trap (the kernel sees SIGSYS).
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_HI),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, code_hi, 0, 23),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_LO),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xfffff000u),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, code_lo, 0, 20),
        // From the stub: its mapping calls, its idle loop, a thread's end, the guest-thread filter and the
        // one clone it makes; anything else is a bug or an attack.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_NR),  // 8
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 17, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 16, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pause, 15, 0),
        // -1: the kernel left a syscall-entry stop of the idle pause with orig_rax = -1 (no call is made).
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 14, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 13, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 12, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 7, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 12),  // 16
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(4)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UMK_STUB_PHYS_FD, 0, 10),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_HI(4)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 8),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(3)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MAP_SHARED | MAP_FIXED, 4, 6),  // 22
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_LO(0)),  // 23: clone
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UMK_STUB_THREAD_FLAGS, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARG_HI(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),  // 27
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),  // 28
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),  // 29
    };
    // Stacked by every guest thread on top of the leader's: from the stub's page, only the idle loop and the
    // thread's own end. Elsewhere it allows, so the leader's filter decides (it traps).
    struct sock_filter thread[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_ARCH),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_HI),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, code_hi, 0, 8),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_IP_LO),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xfffff000u),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, code_lo, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SD_NR),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pause, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    _Static_assert(16 + sizeof prog <= UMK_STUB_THREAD_FILTER, "the leader's filter overlaps the thread filter");
    _Static_assert(UMK_STUB_THREAD_FILTER + 16 + sizeof thread <= 4096, "the thread filter leaves the page");
    const int n = (int)(sizeof prog / sizeof prog[0]);
    struct sock_fprog *fprog = page;
    fprog->len = (unsigned short)n;
    fprog->filter = (struct sock_filter *)(uintptr_t)(UMK_STUB_CONTROL + 16);
    memcpy((char *)page + 16, prog, sizeof prog);
    struct sock_fprog *tprog = (struct sock_fprog *)((char *)page + UMK_STUB_THREAD_FILTER);
    tprog->len = (unsigned short)(sizeof thread / sizeof thread[0]);
    tprog->filter = (struct sock_filter *)(uintptr_t)(UMK_STUB_CONTROL + UMK_STUB_THREAD_FILTER + 16);
    memcpy((char *)page + UMK_STUB_THREAD_FILTER + 16, thread, sizeof thread);
    return n;
}
