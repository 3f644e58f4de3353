/* int80.c: the 32-bit system call entry, `int $0x80`, from a 64-bit program. Natively a kernel with IA32
 * emulation answers it (getpid, number 20 in the 32-bit table); umk never passes it to the host and answers
 * -ENOSYS. Not differential: the tests expect the ENOSYS line under umk.
 */
#include "check.h"

int main(void) {
    long r = 20; /* __NR_getpid in the i386 table */
    __asm__ volatile("int $0x80" : "+a"(r) : : "memory", "rcx", "r11");
    if (r == -ENOSYS)
        printf("int 0x80 getpid: ENOSYS\n");
    else if (r == getpid())
        printf("int 0x80 getpid: the pid\n");
    else if (r < 0 && r > -4096)
        printf("int 0x80 getpid: %s\n", errname((int)-r));
    else
        printf("int 0x80 getpid: %ld, not the pid\n", r);
    /* The 64-bit entry still works afterwards. */
    show_bool("syscall getpid afterwards is the pid", syscall(SYS_getpid) == getpid());
    return 0;
}
