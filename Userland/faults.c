/* faults.c: the siginfo of each hardware fault, as a SA_SIGINFO handler sees it: si_code (SEGV_MAPERR,
 * SEGV_ACCERR, BUS_ADRERR, FPE_INTDIV, ILL_ILLOPN, SI_KERNEL for int3 and for a privileged instruction) and
 * si_addr (the faulting address for memory faults, the instruction for the others).
 */
#include "check.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

static sigjmp_buf env;
static void *volatile expect;
static const char *name(int sig, int code) {
    if (sig == SIGSEGV) return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : code == SI_KERNEL ? "SI_KERNEL" : "?";
    if (sig == SIGBUS) return code == BUS_ADRERR ? "BUS_ADRERR" : "?";
    if (sig == SIGFPE) return code == FPE_INTDIV ? "FPE_INTDIV" : "?";
    if (sig == SIGILL) return code == ILL_ILLOPN ? "ILL_ILLOPN" : "?";
    if (sig == SIGTRAP) return code == SI_KERNEL ? "SI_KERNEL" : code == TRAP_BRKPT ? "TRAP_BRKPT" : "?";
    return "?";
}
static void on(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    printf(" %s, si_addr %s\n", name(sig, si->si_code),
           si->si_addr == expect ? "the address" : si->si_addr == NULL ? "0" : "elsewhere");
    siglongjmp(env, 1);
}

extern char ud2_at[], div_at[];

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {0};
    sa.sa_sigaction = on;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    for (int s = 1; s < 32; s++) sigaction(s, &sa, NULL);
    printf("unmapped:");
    if (!sigsetjmp(env, 1)) { expect = (void *)16; *(volatile int *)16 = 1; }
    printf("read-only:");
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!sigsetjmp(env, 1)) { expect = ro; *(volatile char *)ro = 1; }
    printf("beyond the end of a mapped file:");
    int fd = open("/etc/hostname", O_RDONLY);
    char *f = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    if (!sigsetjmp(env, 1)) { expect = f + 4096; (void)*(volatile char *)(f + 4096); }
    printf("divide by zero:");
    if (!sigsetjmp(env, 1)) {
        expect = div_at;
        __asm__ volatile("xor %%ecx, %%ecx\n mov $1, %%eax\n cltd\n.globl div_at\ndiv_at: idiv %%ecx" ::: "eax", "ecx", "edx");
    }
    printf("ud2:");
    if (!sigsetjmp(env, 1)) { expect = ud2_at; __asm__ volatile(".globl ud2_at\nud2_at: ud2"); }
    printf("int3:");
    if (!sigsetjmp(env, 1)) { expect = NULL; __asm__ volatile("int3"); }
    printf("hlt:");
    if (!sigsetjmp(env, 1)) { expect = NULL; __asm__ volatile("hlt"); }
    return 0;
}
