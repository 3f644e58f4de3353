// ptrace.c: raw ptrace, wait and syscall wrappers. All return -errno and never touch errno for the caller.
#define _GNU_SOURCE
#include "cumk.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cpuid.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/falloc.h>

long umk_syscall6(long nr, long a, long b, long c, long d, long e, long f) {
    long r = syscall(nr, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}

long umk_ptrace(long request, pid_t pid, uint64_t addr, uint64_t data) {
    long r = syscall(SYS_ptrace, request, pid, addr, data);
    return r == -1 ? -errno : r;
}

pid_t umk_wait(pid_t pid, int *status, int options) {
    for (;;) {
        pid_t r = waitpid(pid, status, options);
        if (r >= 0) return r;
        if (errno != EINTR) return -errno;
    }
}

long umk_getregs(pid_t pid, struct umk_regs *regs) { return umk_ptrace(PTRACE_GETREGS, pid, 0, (uint64_t)regs); }
long umk_setregs(pid_t pid, const struct umk_regs *regs) {
    return umk_ptrace(PTRACE_SETREGS, pid, 0, (uint64_t)regs);
}

long umk_getsiginfo(pid_t pid, int *signo, int *code, uint64_t *addr) {
    siginfo_t si;
    long r = umk_ptrace(PTRACE_GETSIGINFO, pid, 0, (uint64_t)&si);
    if (r < 0) return r;
    *signo = si.si_signo;
    *code = si.si_code;
    *addr = (uint64_t)si.si_addr;
    return 0;
}

void umk_cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4]) {
    __cpuid_count(leaf, sub, out[0], out[1], out[2], out[3]);
}

int umk_pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -errno;
}

#include <sys/uio.h>
#include <elf.h>

long umk_get_xstate(pid_t pid, void *buf, size_t size) {
    struct iovec iov = {buf, size};
    long r = umk_ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, (uint64_t)&iov);
    return r < 0 ? r : (long)iov.iov_len;
}

long umk_set_xstate(pid_t pid, const void *buf, size_t size) {
    struct iovec iov = {(void *)buf, size};
    return umk_ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, (uint64_t)&iov);
}

int umk_get_affinity(pid_t pid, int *cpus, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(pid, sizeof set, &set) != 0) return -errno;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set)) cpus[n++] = c;
    return n;
}

int umk_set_affinity(pid_t pid, const int *cpus, int n) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < n; i++)
        if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    return sched_setaffinity(pid, sizeof set, &set) == 0 ? 0 : -errno;
}

int umk_memfd_create(const char *name, int sealable) {
    int fd = memfd_create(name, MFD_CLOEXEC | (sealable ? MFD_ALLOW_SEALING : 0));
    return fd < 0 ? -errno : fd;
}

int umk_punch_hole(int fd, uint64_t offset, uint64_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) == 0 ? 0 : -errno;
}

int umk_seal(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0 ? 0 : -errno;
}

long umk_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *out) {
    for (;;) {
        long r = syscall(SYS_statx, dirfd, path, flags, mask, out);
        if (r == 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

long umk_ioctl(int fd, unsigned long request, void *arg) {
    int r = ioctl(fd, request, arg);
    return r < 0 ? -errno : r;
}

unsigned long umk_getauxval(unsigned long type) { return getauxval(type); }

int umk_current_cpu(void) { return sched_getcpu(); }
void umk_set_thread_name(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

pid_t umk_wait_interruptible(pid_t pid, int *status, int options) {
    pid_t r = waitpid(pid, status, options);
    return r >= 0 ? r : -errno;
}

static void tick_handler(int sig) { (void)sig; }

// The timer's id as an int: glibc's timer_t for a SIGEV_THREAD_ID timer is the kernel's id cast to a pointer,
// and the first id is 0, which would look like no timer at all.
long umk_tick_timer_create(int *timer) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tick_handler;  // no SA_RESTART: the tick must interrupt waitpid
    sigemptyset(&sa.sa_mask);
    if (sigaction(UMK_TICK_SIGNAL, &sa, 0) != 0) return -errno;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, UMK_TICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, 0);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = UMK_TICK_SIGNAL;
    ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0) return -errno;
    *timer = (int)(intptr_t)t;
    return 0;
}

long umk_tick_timer_arm(int timer, int64_t first_ns, int64_t interval_ns) {
    struct itimerspec its;
    its.it_value.tv_sec = first_ns / 1000000000;
    its.it_value.tv_nsec = first_ns % 1000000000;
    its.it_interval.tv_sec = interval_ns / 1000000000;
    its.it_interval.tv_nsec = interval_ns % 1000000000;
    return timer_settime((timer_t)(intptr_t)timer, 0, &its, 0) == 0 ? 0 : -errno;
}

void umk_tick_timer_delete(int timer) { timer_delete((timer_t)(intptr_t)timer); }

int umk_poll_readable(int fd, int timeout_ms) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r >= 0) return r > 0 ? 1 : 0;
    return errno == EINTR ? 0 : -errno;  // a signal: the caller looks again
}

static const int proxied[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGTSTP, SIGWINCH};
static volatile uint64_t proxy_pending;

static void proxy_handler(int sig) { __atomic_fetch_or(&proxy_pending, 1ULL << (sig - 1), __ATOMIC_SEQ_CST); }

void umk_proxy_block(void) {
    sigset_t set;
    sigemptyset(&set);
    for (unsigned i = 0; i < sizeof proxied / sizeof proxied[0]; i++) sigaddset(&set, proxied[i]);
    pthread_sigmask(SIG_BLOCK, &set, 0);
}

void umk_proxy_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = proxy_handler;  // no SA_RESTART: the signal must interrupt waitpid
    sigemptyset(&sa.sa_mask);
    sigset_t set;
    sigemptyset(&set);
    for (unsigned i = 0; i < sizeof proxied / sizeof proxied[0]; i++) {
        sigaction(proxied[i], &sa, 0);
        sigaddset(&set, proxied[i]);
    }
    pthread_sigmask(SIG_UNBLOCK, &set, 0);
}

uint64_t umk_proxy_take(void) { return __atomic_exchange_n(&proxy_pending, 0, __ATOMIC_SEQ_CST); }

// umk's own filter (gVisor's Sentry filters, runsc/boot/filter): installed on the kernel thread once it has
// booted, so that a bug in the kernel cannot turn into arbitrary host system calls. A call outside the list
// raises SIGSYS; the handler says which on stderr and makes the call fail with ENOSYS. log_only: record
// instead (SECCOMP_RET_LOG, in the host's audit log), to find what the list lacks.
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <ucontext.h>

static void self_filter_sigsys(int sig, siginfo_t *info, void *context) {
    (void)sig;
    ucontext_t *uc = context;
    char msg[96] = "umk: host system call ";
    int n = info->si_syscall, len = 22;
    char digits[12];
    int d = 0;
    unsigned u = n < 0 ? 0 : (unsigned)n;
    do { digits[d++] = (char)('0' + u % 10); u /= 10; } while (u && d < 11);
    while (d) msg[len++] = digits[--d];
    const char *tail = " refused by umk's own seccomp filter (a umk bug: please report it)\n";
    for (const char *t = tail; *t && len < (int)sizeof msg - 1; t++) msg[len++] = *t;
    if (len < (int)sizeof msg) (void)!write(2, msg, (size_t)len);
    uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

long umk_self_filter_install(const int *allowed, int count, int log_only) {
    if (count <= 0 || count > 250) return -EINVAL;
    struct sock_filter prog[260];
    int n = 0;
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < count; i++)  // jump to the ALLOW after the list and the default
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)allowed[i],
                                                 (unsigned char)(count - i), 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, log_only ? SECCOMP_RET_LOG : SECCOMP_RET_TRAP);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = self_filter_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, 0) != 0) return -errno;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    struct sock_fprog fprog = {(unsigned short)n, prog};
    // Without SECCOMP_FILTER_FLAG_TSYNC: this thread only (and what it clones: the stubs). SPEC_ALLOW: no
    // forced speculative-store-bypass mitigation, which slows this thread and runs no untrusted code here.
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &fprog) != 0) return -errno;
    return 0;
}

// The host terminal's mode as umk found it, put back on every way out: exit, and the signals a crash of
// umk raises (the handler restores it, then the signal takes its default action again).
#include <termios.h>
static struct termios saved_termios;
static volatile int termios_saved;

static void terminal_crash(int sig) {
    if (termios_saved) tcsetattr(0, TCSANOW, &saved_termios);
    signal(sig, SIG_DFL);
    raise(sig);
}

int umk_terminal_save(void) {
    if (tcgetattr(0, &saved_termios) != 0) return -errno;
    termios_saved = 1;
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = terminal_crash;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal[i], &sa, 0);
    }
    return 0;
}

void umk_terminal_restore(void) {
    if (termios_saved) tcsetattr(0, TCSANOW, &saved_termios);
}

int umk_is_terminal(int fd) { return isatty(fd); }

// `umk exec -t`: the client's terminal passes every byte through raw (the guest's pty does the line
// discipline); umk_terminal_restore puts it back.
int umk_terminal_make_raw(void) {
    struct termios t;
    if (tcgetattr(0, &t) != 0) return -errno;
    cfmakeraw(&t);
    return tcsetattr(0, TCSANOW, &t) == 0 ? 0 : -errno;
}

long umk_terminal_size(int fd) {
    struct winsize w;
    if (ioctl(fd, TIOCGWINSZ, &w) != 0) return -errno;
    return ((long)w.ws_row << 16) | w.ws_col;
}

// The console writer (ConsoleWriter.swift): guest console output is queued by the kernel thread and written
// by a thread of its own, so that a full pipe or a stopped terminal never blocks the kernel. Each instance's
// writer keeps the tid of its own kernel thread (several instances may share one host process).
pid_t umk_console_writer_prepare(void) { return (pid_t)syscall(SYS_gettid); }

void umk_console_writer_thread_setup(void) {
    sigset_t set;
    sigfillset(&set);  // no signal for this thread: SIGPIPE becomes EPIPE, the rest go to the kernel thread
    pthread_sigmask(SIG_BLOCK, &set, 0);
}

void umk_console_writer_notify(pid_t kernel_tid) {
    if (kernel_tid > 0) syscall(SYS_tgkill, getpid(), kernel_tid, UMK_TICK_SIGNAL);
}

// How much the console writer may write to `fd` at once without ever blocking, if its queue is empty: all of
// it for a regular file; for a pipe that has room (POLLOUT), PIPE_BUF bytes; for anything else with room (a
// terminal's POLLOUT promises WAKEUP_CHARS), 256 bytes; 0 when it has no room.
long umk_console_direct_limit(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return 0;
    if (S_ISREG(st.st_mode)) return 1L << 30;
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT) || (p.revents & (POLLERR | POLLHUP))) return 0;
    return S_ISFIFO(st.st_mode) ? 4096 : 256;
}

long umk_write_all(int fd, const void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t r = write(fd, (const char *)buf + done, len - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {  // a non-blocking descriptor someone else set: wait for room
                struct pollfd p = {fd, POLLOUT, 0};
                poll(&p, 1, 100);
                continue;
            }
            return -errno;
        }
        done += (size_t)r;
    }
    return (long)done;
}

// Where gdb stops for UMK_BREAK_SYSCALL (Tools/gdb-syscall): called by the dispatcher before the handler of
// that system call runs. The asm keeps the call from being optimised away.
__attribute__((noinline)) void umk_debug_syscall(long nr) { __asm__ volatile("" : : "r"(nr) : "memory"); }

// The x86 debug registers of a stopped tracee (struct user's u_debugreg), for a debugger's hardware
// watchpoints: DR0-DR3 addresses, DR6 status, DR7 control. The raw PEEKUSER stores the word at `value`.
#include <sys/user.h>
long umk_set_debugreg(pid_t pid, int index, uint64_t value) {
    if (index < 0 || index > 7) return -EINVAL;
    return umk_ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg) + (uint64_t)index * 8, value);
}

long umk_get_debugreg(pid_t pid, int index, uint64_t *value) {
    if (index < 0 || index > 7) return -EINVAL;
    return umk_ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user, u_debugreg) + (uint64_t)index * 8, (uint64_t)value);
}
