// uml-noxstate.so: LD_PRELOAD shim that lets Debian's User Mode Linux 6.1 run on hosts with AMX.
//
// UML 6.1 probes PTRACE_GETREGSET(NT_X86_XSTATE) with a fixed ~2.7 KiB buffer; the probe succeeds
// (the host truncates), but every later PTRACE_SETREGSET with that buffer fails with EFAULT because the
// host's XSAVE area is larger (AMX tile data: ~11 KiB), and UML kills init ("userspace - ptrace set fp
// regs failed, errno = 14"). Failing the probe makes UML fall back to PTRACE_GETFPREGS/SETFPREGS
// (the 512-byte FXSAVE area), which the host accepts. Fixed upstream in later UML (xstate size from CPUID).
// Only the benchmark uses this; it does not change the cost of a syscall round trip in kind.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#define NT_X86_XSTATE 0x202

long ptrace(enum __ptrace_request request, ...) {
    static long (*real)(enum __ptrace_request, ...);
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);
    if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) && (long)addr == NT_X86_XSTATE) {
        errno = EIO;
        return -1;
    }
    if (!real) real = (long (*)(enum __ptrace_request, ...))dlsym(RTLD_NEXT, "ptrace");
    return real(request, pid, addr, data);
}
