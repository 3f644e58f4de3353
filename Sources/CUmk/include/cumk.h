// cumk.h: what Swift cannot do by itself. Raw ptrace and wait, the stub process (its machine code, how it is
// started), register and siginfo layouts. Every function here returns -errno on failure, never sets errno.
#ifndef CUMK_H
#define CUMK_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/stat.h>

#define UMK_AT_EMPTY_PATH 0x1000
#define UMK_AT_NO_AUTOMOUNT 0x800

// The stub's fixed place in every guest address space: one code page, then its control pages, which are not
// guest memory: a small memfd of their own, written by the kernel and mapped read-only in the stub. The first
// control page holds the stub's seccomp filter, the rest the data pages of mapping batches. Guest addresses
// stop below UMK_STUB_CODE.
#define UMK_STUB_CODE 0x7ffffff00000ULL
#define UMK_STUB_CONTROL (UMK_STUB_CODE + 0x1000ULL)
#define UMK_STUB_DATA (UMK_STUB_CONTROL + 0x1000ULL)
#define UMK_STUB_DATA_PAGES 4
#define UMK_STUB_CONTROL_SIZE 0x5000 /* (1 + UMK_STUB_DATA_PAGES) pages */
// The stub finds the physical-memory file at this fd; it keeps no other. The control memfd is fd 4 only until
// the stub has mapped it.
#define UMK_STUB_PHYS_FD 3
#define UMK_STUB_CONTROL_FD 4
// Where in the first control page the guest-thread filter's sock_fprog sits (the leader's is at 0).
#define UMK_STUB_THREAD_FILTER 2048
// The flags of the one clone the stub makes: a host thread of the stub for a guest thread
// (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM).
#define UMK_STUB_THREAD_FLAGS 0x50f00

// One host syscall for the stub to run: number and six arguments.
struct umk_stub_op {
    uint64_t nr;
    uint64_t args[6];
};

// The stub data page: the kernel fills ops[0..<count] and runs the stub's batch entry, which ends in int3
// (SIGTRAP) when all succeeded, or in ud2 (SIGILL) with rax = the first failing op's -errno and r12 = its
// index. The stub cannot write here.
struct umk_stub_data {
    uint64_t count;
    uint64_t reserved[3];
    struct umk_stub_op ops[];
};
#define UMK_STUB_MAX_OPS 292 // (UMK_STUB_DATA_PAGES * 4096 - 32) / sizeof(struct umk_stub_op)

// Fills the first control page with the stub's two seccomp filters (each a struct sock_fprog pointing at the
// instructions after it, at their address in the stub). The leader's, at 0: from the stub's code page only
// mmap of fd 3 (MAP_SHARED|MAP_FIXED), mprotect, munmap, pause, exit, seccomp and the thread clone pass,
// anything else kills the stub; a system call from anywhere else (guest code that was resumed without
// PTRACE_SYSEMU, a vsyscall) raises SIGSYS, which the kernel sees as a signal stop. The guest threads', at
// UMK_STUB_THREAD_FILTER, stacked on it: from the stub's page only pause and exit. Returns the number of
// instructions of the first.
int umk_stub_filter(void *page);

// x86-64 user_regs_struct, as PTRACE_GETREGS fills it.
struct umk_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs,
        eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};

// The stub's code, as position-dependent bytes meant to sit at UMK_STUB_CODE, and its entry points (offsets).
const uint8_t *umk_stub_code(size_t *size);
size_t umk_stub_entry_start(void);  // exec entry: unmap everything else, then wait for the tracer
size_t umk_stub_entry_batch(void);  // run the ops in the data page, then int3 (or ud2 on failure)
size_t umk_stub_entry_clone(void);  // (leader) a new host thread for a guest thread; int3, rax = its tid
size_t umk_stub_entry_exit_thread(void);  // (a guest thread) end this host thread
// [umk_stub_idle_begin(), umk_stub_idle_finish()): the idle loop. A stub stopped with rip there has finished
// its start (mappings, seccomp filter); one stopped anywhere before has not.
size_t umk_stub_idle_begin(void);
size_t umk_stub_idle_finish(void);

// Start a stub: clone(CLONE_VM|CLONE_VFORK|CLONE_UNTRACED) and execveat the stub executable (a memfd holding
// a tiny ELF) with only the physical-memory file (as UMK_STUB_PHYS_FD) and the control memfd (as
// UMK_STUB_CONTROL_FD) open, default signal dispositions, an empty signal mask, PR_SET_PDEATHSIG(SIGKILL) and
// no_new_privs. Returns the pid once the exec has happened, or -errno. Only async-signal-safe code runs in
// the child. CLONE_UNTRACED: a debugger or `strace -f` on umk never takes a stub over.
pid_t umk_spawn_stub(int exe_fd, int phys_fd, int control_fd);
// A memfd of UMK_STUB_CONTROL_SIZE bytes mapped read-write into umk at *out, then sealed against growing,
// shrinking and any further writable mapping (F_SEAL_FUTURE_WRITE), so the stub can only map it read-only.
// Returns the fd (close it once the stub has it), or -errno.
int umk_stub_control_create(void **out);

long umk_ptrace(long request, pid_t pid, uint64_t addr, uint64_t data);
// waitpid that retries EINTR; returns the pid or -errno.
pid_t umk_wait(pid_t pid, int *status, int options);
// waitpid that returns -EINTR when a signal (the kernel's timer tick) interrupts it.
pid_t umk_wait_interruptible(pid_t pid, int *status, int options);

// The kernel thread's timer interrupt: a CLOCK_MONOTONIC POSIX timer that sends UMK_TICK_SIGNAL to the
// calling thread only (SIGEV_THREAD_ID). Its handler does nothing: the point is the EINTR it causes.
#define UMK_TICK_SIGNAL 40 /* SIGRTMIN+6 */
long umk_tick_timer_create(int *timer);
long umk_tick_timer_arm(int timer, int64_t first_ns, int64_t interval_ns);
void umk_tick_timer_delete(int timer);
// Signal proxy (docker's sig-proxy): SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 sent to umk are
// recorded instead of killing it, and interrupt the kernel thread's waits; the kernel forwards them to the
// guest's first process. umk_proxy_block blocks them in the calling thread (call it before starting the
// kernel thread), umk_proxy_install installs the handlers and unblocks them in the calling (kernel) thread.
void umk_proxy_block(void);
void umk_proxy_install(void);
// The signals received since the last call, as a mask (bit N-1 for signal N), cleared.
uint64_t umk_proxy_take(void);
// poll(2) for readability of one fd; 1 ready (or hung up), 0 not, -errno.
int umk_poll_readable(int fd, int timeout_ms);
long umk_getregs(pid_t pid, struct umk_regs *regs);
long umk_setregs(pid_t pid, const struct umk_regs *regs);
// PTRACE_GETSIGINFO reduced to what the kernel uses.
long umk_getsiginfo(pid_t pid, int *signo, int *code, uint64_t *addr);

// Installs umk's own seccomp filter on the calling thread: only the `count` system calls in `allowed` pass;
// any other raises SIGSYS, reported on stderr, and fails with ENOSYS (log_only: SECCOMP_RET_LOG instead).
long umk_self_filter_install(const int *allowed, int count, int log_only);

// Raw syscall, -errno on failure.
long umk_syscall6(long nr, long a, long b, long c, long d, long e, long f);

// GNU extensions Swift's Glibc module does not import.
long umk_statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *out);
unsigned long umk_getauxval(unsigned long type);
long umk_ioctl(int fd, unsigned long request, void *arg);
int umk_memfd_create(const char *name, int sealable);
int umk_punch_hole(int fd, uint64_t offset, uint64_t length);
int umk_seal(int fd);

void umk_cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4]);
int umk_pin_to_cpu(int cpu);
/* The console writer thread: the kernel thread's tid for wake-ups, the thread's signal mask, a wake-up of the
 * kernel thread (its tick signal), and a write of every byte (EINTR and EAGAIN retried). */
pid_t umk_console_writer_prepare(void);
void umk_console_writer_thread_setup(void);
void umk_console_writer_notify(pid_t kernel_tid);
long umk_write_all(int fd, const void *buf, size_t len);
long umk_console_direct_limit(int fd);
/* The host terminal on fd 0: its mode saved, and restored at exit and on umk's own crash signals. */
int umk_terminal_save(void);
void umk_terminal_restore(void);
int umk_is_terminal(int fd);
/* PTRACE_GETREGSET/SETREGSET NT_X86_XSTATE: the task's whole XSAVE image (standard format) of `size` bytes.
 * Get returns the bytes the host filled. */
long umk_get_xstate(pid_t pid, void *buf, size_t size);
long umk_set_xstate(pid_t pid, const void *buf, size_t size);
/* The host CPUs `pid` (0: the calling thread) may run on, in `cpus` (at most `max`): their count, or -errno. */
int umk_get_affinity(pid_t pid, int *cpus, int max);
/* Lets `pid` (0: the calling thread) run on the `n` host CPUs in `cpus`. */
int umk_set_affinity(pid_t pid, const int *cpus, int n);
int umk_current_cpu(void);
void umk_set_thread_name(const char *name);

// Called by the dispatcher before the handler of UMK_BREAK_SYSCALL's system call: a place for gdb to stop.
void umk_debug_syscall(long nr);
/* umk's own crash report (oops.c). Each kernel thread owns a struct umk_oops that the dispatcher fills with
 * plain stores at every system call's entry and exit; on a fatal signal in that thread (a Swift runtime trap)
 * the handler prints it with a backtrace, SIGKILLs every stub registered below and exits 125. */
#define UMK_OOPS_RING 1024
#define UMK_OOPS_LAST 20
#define UMK_OOPS_NAMES 512
#define UMK_OOPS_PENDING INT64_MIN /* no result (yet): in progress, blocked, exited */
struct umk_oops_call {
    int32_t tid;
    int32_t nr;
    int64_t result;
};
struct umk_oops {
    int32_t pid, tid;
    int32_t in_syscall;
    uint8_t comm[16];
    struct umk_regs regs;  /* at the system call's entry: orig_rax and the six arguments */
    uint64_t count;        /* calls recorded; the newest is ring[(count - 1) % UMK_OOPS_RING] */
    struct umk_oops_call ring[UMK_OOPS_RING];
};
static inline void umk_oops_enter(struct umk_oops *s, int32_t pid, int32_t tid, const struct umk_regs *regs,
                                  const uint8_t *comm, size_t comm_len) {
    s->pid = pid;
    s->tid = tid;
    s->regs = *regs;
    size_t i = 0;
    for (; i < comm_len && i < 15; i++) s->comm[i] = comm[i];
    s->comm[i] = 0;
    struct umk_oops_call *c = &s->ring[s->count % UMK_OOPS_RING];
    c->tid = tid;
    c->nr = (int32_t)regs->orig_rax;
    c->result = UMK_OOPS_PENDING;
    s->count++;
    s->in_syscall = 1;
}
static inline void umk_oops_leave(struct umk_oops *s, int64_t result) {
    if (s->count) s->ring[(s->count - 1) % UMK_OOPS_RING].result = result;
    s->in_syscall = 0;
}
/* On the kernel thread: its record for the handler, an alternate signal stack, the handlers (process-wide;
 * on any other thread they restore the terminal and take the signal's default action). */
void umk_oops_attach(struct umk_oops *state);
void umk_oops_detach(void);
/* The same report without a backtrace, for an unexpected host error in the kernel thread. */
void umk_oops_report(const char *reason);
void umk_oops_set_name(int nr, const char *name);
/* The live stubs (leader pids), which the handler kills. */
void umk_oops_stub_add(pid_t pid);
void umk_oops_stub_remove(pid_t pid);

// control.c: named instances' control sockets (SOCK_SEQPACKET, descriptors passed with SCM_RIGHTS).
int umk_terminal_make_raw(void);
long umk_terminal_size(int fd);
int umk_control_listen(const char *path);
int umk_control_connect(const char *path);
int umk_control_accept(int listener);
long umk_control_peer_uid(int sock);
long umk_control_send(int sock, const void *buf, size_t len, const int *fds, int nfds);
long umk_control_receive(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds);
long umk_spawn_detached(char *const argv[], char *const envp[], int out_fd, int keep_fd);

/* debug_socket.c: gdb's connection (umk run --gdb). path NULL: TCP on 127.0.0.1:port. */
int umk_debug_listen(const char *path, int port);
int umk_debug_accept(int listener, int timeout_ms);
void umk_debug_close(int fd);
long umk_read_some(int fd, void *buf, size_t len);
long umk_send_all(int fd, const void *buf, size_t len);

/* Debug registers DR0-DR7 of a stopped tracee (hardware watchpoints for the gdb stub). */
long umk_set_debugreg(pid_t pid, int index, uint64_t value);
long umk_get_debugreg(pid_t pid, int index, uint64_t *value);

#endif
