/* xstate.c: the whole extended register state survives signal handlers and vfork, and a handler sees it in
 * its ucontext as Linux lays it out. ymm7 holds a value across a raw `syscall` that raises SIGUSR1, whose
 * handler clobbers ymm7 with AVX; the handler reads the saved state (UC_FP_XSTATE, FP_XSTATE_MAGIC1/2, the YMM
 * component); a handler that edits the saved ymm7 gets it back after rt_sigreturn; a vfork child that changes
 * ymm7 leaves its parent's alone. Without AVX (or XSAVE) on the host it says so, natively as under umk.
 */
#include "check.h"
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <ucontext.h>

#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define UC_FP_XSTATE 0x1

static uint8_t pattern[32], clobber[32], edited[32], out[32];
static unsigned ymm_offset;  /* of the YMM_Hi128 component in the standard XSAVE format */
static int edit;
static volatile int saw_flags, saw_magic1, saw_magic2, saw_ymm, saw_size;

static void handler(int sig, siginfo_t *si, void *ctx) {
    (void)sig; (void)si;
    asm volatile("vmovdqu %0, %%ymm7" ::"m"(clobber) : "xmm7");
    ucontext_t *uc = ctx;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    uint32_t magic1, extended, size;
    memcpy(&magic1, fp + 464, 4);
    memcpy(&extended, fp + 468, 4);
    memcpy(&size, fp + 480, 4);
    uint64_t features;
    memcpy(&features, fp + 472, 8);
    saw_flags = (uc->uc_flags & UC_FP_XSTATE) != 0;
    saw_magic1 = magic1 == FP_XSTATE_MAGIC1 && (features & 7) == 7;
    uint32_t magic2 = 0;
    if (saw_magic1) memcpy(&magic2, fp + size, 4);
    saw_magic2 = magic2 == FP_XSTATE_MAGIC2 && extended == size + 4;
    unsigned a, b, c, d;
    __cpuid_count(0xd, 0, a, b, c, d);
    saw_size = size == b;
    /* xmm7 at 160 + 7*16 in the FXSAVE part, its upper half in the YMM component. */
    saw_ymm = memcmp(fp + 160 + 7 * 16, pattern, 16) == 0 && memcmp(fp + ymm_offset + 7 * 16, pattern + 16, 16) == 0;
    if (edit) {
        memcpy(fp + 160 + 7 * 16, edited, 16);
        memcpy(fp + ymm_offset + 7 * 16, edited + 16, 16);
    }
}

/* ymm7 = pattern; kill(getpid(), SIGUSR1) by a raw syscall; out = ymm7, all in one block. */
static void across_signal(void) {
    long pid = getpid();
    asm volatile("vmovdqu %1, %%ymm7\n\t"
                 "mov $62, %%eax\n\t"
                 "mov %2, %%rdi\n\t"
                 "mov $10, %%esi\n\t"
                 "syscall\n\t"
                 "vmovdqu %%ymm7, %0"
                 : "=m"(out)
                 : "m"(pattern), "r"(pid)
                 : "rax", "rdi", "rsi", "rcx", "r11", "memory", "xmm7");
}

int main(void) {
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx) {
        printf("no AVX here\n");
        return 0;
    }
    __cpuid_count(0xd, 2, a, b, c, d);
    ymm_offset = b;
    for (int i = 0; i < 32; i++) pattern[i] = (uint8_t)(i * 7 + 1), clobber[i] = 0xee, edited[i] = (uint8_t)(0x80 + i);
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);

    across_signal();
    show_bool("ymm7 survives a handler that uses AVX", memcmp(out, pattern, 32) == 0);
    show_bool("uc_flags has UC_FP_XSTATE", saw_flags);
    show_bool("fpstate: FP_XSTATE_MAGIC1 and x87|SSE|AVX", saw_magic1);
    show_bool("fpstate: FP_XSTATE_MAGIC2 after the image", saw_magic2);
    show_bool("fpstate: xstate_size is CPUID 0xD's", saw_size);
    show_bool("fpstate: ymm7, both halves", saw_ymm);

    edit = 1;
    across_signal();
    show_bool("rt_sigreturn restores the frame's ymm7", memcmp(out, edited, 32) == 0);

    /* vfork: the child changes ymm7 and exits; the parent's is as it was. */
    long r;
    asm volatile("vmovdqu %2, %%ymm7\n\t"
                 "mov $58, %%eax\n\t"
                 "syscall\n\t"
                 "test %%rax, %%rax\n\t"
                 "jnz 1f\n\t"
                 "vmovdqu %3, %%ymm7\n\t"
                 "mov $60, %%eax\n\t"
                 "xor %%edi, %%edi\n\t"
                 "syscall\n"
                 "1:\n\t"
                 "vmovdqu %%ymm7, %1"
                 : "=a"(r), "=m"(out)
                 : "m"(pattern), "m"(clobber)
                 : "rdi", "rcx", "r11", "memory", "xmm7");
    show_bool("vfork returned a child", r > 0);
    show_bool("a vfork child's ymm7 does not leak into its parent", memcmp(out, pattern, 32) == 0);
    int st;
    show_bool("the child is reaped", waitpid((pid_t)r, &st, 0) == r);
    return 0;
}
