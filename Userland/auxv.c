/* auxv.c: what execve hands a program: argc, argv, the environment (sorted), and the auxiliary vector.
 *
 * Usage: auxv [ARGS...]. Values that differ from run to run (addresses, AT_RANDOM's bytes) are printed only
 * as checks against what the program can see for itself: AT_ENTRY against _start, AT_PHDR against the ELF
 * header, AT_HWCAP against cpuid. The vector is read from the stack, as the kernel wrote it.
 */
#include "check.h"
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>

#ifndef AT_HWCAP2
#define AT_HWCAP2 26
#endif
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

extern char _start[];
extern const Elf64_Ehdr __ehdr_start;

/* The raw auxiliary vector, read from the stack: glibc's getauxval answers its own value for AT_HWCAP. */
static Elf64_auxv_t *auxv;

static unsigned long aux(unsigned long type) {
    for (Elf64_auxv_t *a = auxv; a->a_type != AT_NULL; a++)
        if (a->a_type == type) return a->a_un.a_val;
    return 0;
}

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Prints a string with its non-printable bytes escaped. */
static void quoted(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv, char **envp) {
    printf("argc: %d\n", argc);
    for (int i = 0; i < argc; i++) {
        printf("argv[%d]: ", i);
        quoted(argv[i]);
        printf("\n");
    }
    show_bool("argv[argc] is NULL", argv[argc] == NULL);
    show_bool("envp follows argv", envp == argv + argc + 1);

    int envc = 0;
    while (envp[envc]) envc++;
    char **sorted = calloc(envc + 1, sizeof *sorted);
    memcpy(sorted, envp, envc * sizeof *sorted);
    qsort(sorted, envc, sizeof *sorted, by_string);
    printf("envc: %d\n", envc);
    for (int i = 0; i < envc; i++) {
        printf("env: ");
        quoted(sorted[i]);
        printf("\n");
    }

    /* The auxiliary vector sits after the environment's NULL. */
    auxv = (Elf64_auxv_t *)(envp + envc + 1);
    int seen_null = 0, count = 0;
    for (Elf64_auxv_t *a = auxv; count < 128; a++, count++)
        if (a->a_type == AT_NULL) {
            seen_null = 1;
            break;
        }
    show_bool("auxv ends with AT_NULL", seen_null);
    show_bool("getauxval(AT_PAGESZ) matches the raw auxv", aux(AT_PAGESZ) == getauxval(AT_PAGESZ));

    printf("AT_PAGESZ: %lu\n", aux(AT_PAGESZ));
    printf("AT_CLKTCK: %lu\n", aux(AT_CLKTCK));
    printf("AT_UID: %lu\n", aux(AT_UID));
    printf("AT_EUID: %lu\n", aux(AT_EUID));
    printf("AT_GID: %lu\n", aux(AT_GID));
    printf("AT_EGID: %lu\n", aux(AT_EGID));
    show_bool("AT_UID is getuid()", aux(AT_UID) == getuid());
    show_bool("AT_GID is getgid()", aux(AT_GID) == getgid());
    printf("AT_SECURE: %lu\n", aux(AT_SECURE));
    printf("AT_FLAGS: %lu\n", aux(AT_FLAGS));
    printf("AT_PHENT: %lu\n", aux(AT_PHENT));
    printf("AT_PHNUM: %lu\n", aux(AT_PHNUM));
    show_bool("AT_PHNUM is e_phnum", aux(AT_PHNUM) == __ehdr_start.e_phnum);
    show_bool("AT_PHDR is the ELF header plus e_phoff",
              aux(AT_PHDR) == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff);
    show_bool("AT_ENTRY is _start", aux(AT_ENTRY) == (unsigned long)_start);
    printf("AT_BASE (no interpreter): %lu\n", aux(AT_BASE));

    unsigned char *rnd = (unsigned char *)aux(AT_RANDOM);
    show_bool("AT_RANDOM is not null", rnd != NULL);
    if (rnd) {
        unsigned or = 0;
        for (int i = 0; i < 16; i++) or |= rnd[i];
        show_bool("AT_RANDOM's 16 bytes are readable and not all zero", or != 0);
    }
    const char *execfn = (const char *)aux(AT_EXECFN);
    printf("AT_EXECFN: ");
    quoted(execfn ? execfn : "(null)");
    printf("\n");
    const char *platform = (const char *)aux(AT_PLATFORM);
    printf("AT_PLATFORM: ");
    quoted(platform ? platform : "(null)");
    printf("\n");

    unsigned eax = 1, ebx, ecx = 0, edx;
    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    printf("AT_HWCAP: 0x%lx\n", aux(AT_HWCAP));
    show_bool("AT_HWCAP is cpuid(1).edx", aux(AT_HWCAP) == edx);
    printf("AT_HWCAP2: 0x%lx\n", aux(AT_HWCAP2));
    show_bool("AT_MINSIGSTKSZ is present and at least 1 KiB", aux(AT_MINSIGSTKSZ) >= 1024);

    /* The strings live in the stack region above the vectors. */
    show_bool("argv[0] lies above auxv", (char *)argv[0] > (char *)(auxv + count));
    return 0;
}
