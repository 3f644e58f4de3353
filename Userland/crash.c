/* crash.c: deaths by signal. `crash MODE` prints a line, flushes, and then:
 *   segv      writes through a null pointer (SIGSEGV)
 *   readonly  writes to a PROT_READ page (SIGSEGV)
 *   exec      jumps into a page without PROT_EXEC (SIGSEGV)
 *   abort     calls abort() (SIGABRT)
 *   ud2       runs an undefined instruction (SIGILL)
 *   div       divides by zero (SIGFPE)
 *   int3      runs a breakpoint (SIGTRAP)
 *   hlt       runs a privileged instruction (SIGSEGV)
 */
#include "check.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: crash segv|readonly|exec|abort|ud2|div|int3|hlt\n");
        return 2;
    }
    const char *mode = argv[1];
    printf("crashing by %s\n", mode);
    fflush(stdout);
    if (strcmp(mode, "segv") == 0) {
        *(volatile int *)0 = 1;
    } else if (strcmp(mode, "readonly") == 0) {
        volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[0] = 1;
    } else if (strcmp(mode, "exec") == 0) {
        unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[0] = 0xc3; /* ret */
        ((void (*)(void))(void *)p)();
    } else if (strcmp(mode, "abort") == 0) {
        abort();
    } else if (strcmp(mode, "ud2") == 0) {
        __asm__ volatile("ud2");
    } else if (strcmp(mode, "div") == 0) {
        int q = 1, zero = 0; /* in asm: gcc turns 1 / x into a compare */
        __asm__ volatile("cltd; idivl %1" : "+a"(q) : "r"(zero) : "edx");
        printf("%d\n", q);
    } else if (strcmp(mode, "int3") == 0) {
        __asm__ volatile("int3");
    } else if (strcmp(mode, "hlt") == 0) {
        __asm__ volatile("hlt");
    } else {
        fprintf(stderr, "crash: unknown mode %s\n", mode);
        return 2;
    }
    printf("still alive\n");
    return 0;
}
