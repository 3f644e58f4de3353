// ptrace-floor: the bare PTRACE_SYSEMU loop, the floor of umk's design (DESIGN.md, "Execution").
//
// Usage: ptrace-floor PROGRAM [ARGS...]
//
// It forks PROGRAM (normally Userland/bench/getppid) as a tracee and resumes it with PTRACE_SYSEMU, so every
// system call stops in the tracer and is skipped by the host kernel, exactly as under umk. At each stop:
//   - getppid: emulated with one PTRACE_GETREGS + PTRACE_SETREGS (rax = our pid, the tracee's real parent)
//     and resumed with PTRACE_SYSEMU: one round trip, the least work any ptrace kernel can do per call.
//   - any other syscall (execve, brk, write, exit_group ... the program's set-up and output, never inside
//     the timed loop): run for real by the host. SYSEMU has already skipped it, so we rewind rip over the
//     2-byte `syscall` instruction, restore rax = orig_rax, and resume with PTRACE_SYSCALL: the tracee
//     re-executes the instruction (syscall-entry stop), we resume with PTRACE_SYSCALL again, the host runs
//     it (syscall-exit stop), and we go back to PTRACE_SYSEMU.
// The result is the cost of the ptrace round trip alone, with no kernel behind it. Pinning (taskset -c 0 on
// this command) is inherited by the tracee, which is how the bench measures the one-CPU case.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

static void die(const char *what) {
    perror(what);
    exit(125);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ptrace-floor PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        // Stop before exec so the tracer can set options; the execve then runs as an ordinary
        // passed-through syscall.
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) die("PTRACE_TRACEME");
        raise(SIGSTOP);
        execv(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    int status;
    if (waitpid(child, &status, 0) < 0) die("waitpid");
    if (!WIFSTOPPED(status)) {
        fprintf(stderr, "ptrace-floor: child did not stop\n");
        return 125;
    }
    long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC;
    if (ptrace(PTRACE_SETOPTIONS, child, 0, opts) < 0) die("PTRACE_SETOPTIONS");

    long emulated = 0, passed = 0;
    int request = PTRACE_SYSEMU;  // how to resume the tracee next
    int passing = 0;              // 0: SYSEMU mode; 1: awaiting entry of the replayed call; 2: awaiting exit
    int sig = 0;
    for (;;) {
        if (ptrace(request, child, 0, sig) < 0) die("ptrace resume");
        sig = 0;
        if (waitpid(child, &status, __WALL) < 0) die("waitpid");
        if (WIFEXITED(status)) break;
        if (WIFSIGNALED(status)) {
            fprintf(stderr, "ptrace-floor: tracee killed by signal %d\n", WTERMSIG(status));
            return 128 + WTERMSIG(status);
        }
        if (!WIFSTOPPED(status)) continue;
        int stopsig = WSTOPSIG(status);
        if (status >> 16) {  // PTRACE_EVENT_EXEC: nothing to do, resume as before
            continue;
        }
        if (stopsig != (SIGTRAP | 0x80)) {  // signal-delivery stop: deliver it
            sig = (stopsig == SIGTRAP || stopsig == SIGSTOP) ? 0 : stopsig;
            continue;
        }
        // Syscall stop.
        if (passing == 1) {  // entry of the replayed syscall: let the host run it
            passing = 2;
            request = PTRACE_SYSCALL;
            continue;
        }
        if (passing == 2) {  // exit of the replayed syscall: back to emulation
            passing = 0;
            request = PTRACE_SYSEMU;
            continue;
        }
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, child, 0, &regs) < 0) die("PTRACE_GETREGS");
        if (regs.orig_rax == SYS_getppid) {
            regs.rax = (unsigned long long)getpid();
            if (ptrace(PTRACE_SETREGS, child, 0, &regs) < 0) die("PTRACE_SETREGS");
            emulated++;
            request = PTRACE_SYSEMU;
        } else {
            regs.rip -= 2;  // back over `syscall` (0f 05)
            regs.rax = regs.orig_rax;
            if (ptrace(PTRACE_SETREGS, child, 0, &regs) < 0) die("PTRACE_SETREGS");
            passed++;
            passing = 1;
            request = PTRACE_SYSCALL;
        }
    }
    if (getenv("PTRACE_FLOOR_VERBOSE"))
        fprintf(stderr, "ptrace-floor: %ld getppid emulated, %ld syscalls passed through\n", emulated, passed);
    return WEXITSTATUS(status);
}
