// oops.c: umk's own crash report (Linux's oops, UML's panic). A Swift runtime trap (failed precondition,
// overflow, force-unwrap, index out of range: ud2, SIGILL) or a fatal signal on a kernel thread prints what
// the kernel was doing, kills every stub and exits 125, so that a kernel bug never looks like a crash of the
// host program. The handler cannot walk Swift objects or allocate: the kernel keeps what it needs in plain C
// memory (struct umk_oops, one per kernel thread, updated with plain stores on each system call) and the stub
// registry below. Every host call made here is on KernelFilter's list (write, kill,
// ioctl for the terminal, openat, fstat, mmap and close for the symbol table, exit_group).
#define _GNU_SOURCE
#include "cumk.h"
#include <dlfcn.h>
#include <elf.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>

void umk_terminal_restore(void);

// The kernel thread's record (NULL on other threads).
static __thread struct umk_oops *current_oops;

// --- Live stubs, for the handler to kill. A stub's leader pid: SIGKILL to it ends every thread of the stub.
#define MAX_STUBS 8192
static _Atomic pid_t stubs[MAX_STUBS];
static _Atomic int stubs_high;  // slots [0, stubs_high) have been used

void umk_oops_stub_add(pid_t pid) {
    for (int i = 0; i < MAX_STUBS; i++) {
        pid_t zero = 0;
        if (atomic_compare_exchange_strong(&stubs[i], &zero, pid)) {
            int high = atomic_load(&stubs_high);
            while (high < i + 1 && !atomic_compare_exchange_weak(&stubs_high, &high, i + 1)) {}
            return;
        }
    }
    // More live stubs than slots: PTRACE_O_EXITKILL and PR_SET_PDEATHSIG still end it with umk.
}

void umk_oops_stub_remove(pid_t pid) {
    int high = atomic_load(&stubs_high);
    for (int i = 0; i < high; i++) {
        pid_t p = pid;
        if (atomic_compare_exchange_strong(&stubs[i], &p, 0)) return;
    }
}

// --- System call names, copied in once (the kernel's table), for the report.
#define NAME_LEN 24
static char names[UMK_OOPS_NAMES][NAME_LEN];

void umk_oops_set_name(int nr, const char *name) {
    if (nr < 0 || nr >= UMK_OOPS_NAMES) return;
    strncpy(names[nr], name, NAME_LEN - 1);
}

// --- Output without allocating: a line buffer written to fd 2 when full or at a newline.
struct out {
    char buf[512];
    size_t len;
};

static void flush(struct out *o) {
    size_t done = 0;
    while (done < o->len) {
        ssize_t n = write(2, o->buf + done, o->len - done);
        if (n <= 0) break;
        done += (size_t)n;
    }
    o->len = 0;
}

static void put(struct out *o, const char *s) {
    for (; *s; s++) {
        if (o->len == sizeof o->buf) flush(o);
        o->buf[o->len++] = *s;
        if (*s == '\n') flush(o);
    }
}

static void put_bytes(struct out *o, const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n && s[i]; i++) {
        char c[2] = {(s[i] >= 32 && s[i] < 127) ? (char)s[i] : '?', 0};
        put(o, c);
    }
}

static void put_dec(struct out *o, int64_t v) {
    char d[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { d[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) put(o, "-");
    char s[2] = {0, 0};
    while (n) { s[0] = d[--n]; put(o, s); }
}

static void put_hex(struct out *o, uint64_t v) {
    char s[19] = "0x";
    int n = 2;
    int started = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
        int nib = (int)((v >> shift) & 15);
        if (nib || started || shift == 0) { s[n++] = "0123456789abcdef"[nib]; started = 1; }
    }
    s[n] = 0;
    put(o, s);
}

static void put_name(struct out *o, int64_t nr) {
    if (nr >= 0 && nr < UMK_OOPS_NAMES && names[nr][0]) {
        put(o, names[nr]);
    } else {
        put(o, "syscall_");
        put_dec(o, nr);
    }
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGILL: return "SIGILL (a Swift runtime trap: failed precondition, overflow, force-unwrap, index out of range)";
    case SIGTRAP: return "SIGTRAP (a Swift runtime trap)";
    case SIGSEGV: return "SIGSEGV (bad memory access)";
    case SIGBUS: return "SIGBUS (bad memory access)";
    case SIGFPE: return "SIGFPE (arithmetic fault)";
    case SIGABRT: return "SIGABRT (abort)";
    default: return "a fatal signal";
    }
}

// The guest task and its recent system calls, as the record holds them.
static void report_task(struct out *o, const struct umk_oops *s) {
    if (!s || !s->count) {
        put(o, "umk: no guest system call had been served yet\n");
        return;
    }
    const uint64_t *r = &s->regs.r15;
    put(o, s->in_syscall ? "umk: serving guest pid " : "umk: the last guest system call served was by pid ");
    put_dec(o, s->pid);
    put(o, " tid ");
    put_dec(o, s->tid);
    put(o, " (");
    put_bytes(o, s->comm, sizeof s->comm);
    put(o, "): system call ");
    put_dec(o, (int64_t)s->regs.orig_rax);
    put(o, " ");
    put_name(o, (int64_t)s->regs.orig_rax);
    put(o, "(");
    const uint64_t args[6] = {s->regs.rdi, s->regs.rsi, s->regs.rdx, s->regs.r10, s->regs.r8, s->regs.r9};
    for (int i = 0; i < 6; i++) {
        if (i) put(o, ", ");
        put_hex(o, args[i]);
    }
    put(o, ")");
    if (!s->in_syscall) {  // done: its result is the ring's newest
        int64_t result = s->ring[(s->count - 1) % UMK_OOPS_RING].result;
        put(o, " = ");
        if (result == UMK_OOPS_PENDING) put(o, "?");
        else put_dec(o, result);
    }
    put(o, "\n");
    static const char *const regnames[27] = {
        "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
        "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"};
    put(o, "umk: guest registers:");
    for (int i = 0; i < 27; i++) {
        put(o, i % 4 == 0 ? "\n  " : "  ");
        put(o, regnames[i]);
        put(o, "=");
        put_hex(o, r[i]);
    }
    put(o, "\n");
    // The ring holds every task's calls: this task's last UMK_OOPS_LAST, oldest first.
    uint64_t idx[UMK_OOPS_LAST];
    int found = 0;
    uint64_t first = s->count > UMK_OOPS_RING ? s->count - UMK_OOPS_RING : 0;
    for (uint64_t i = s->count; i > first && found < UMK_OOPS_LAST; i--) {
        if (s->ring[(i - 1) % UMK_OOPS_RING].tid == s->tid) idx[found++] = i - 1;
    }
    put(o, "umk: last ");
    put_dec(o, found);
    put(o, " system calls of tid ");
    put_dec(o, s->tid);
    put(o, ", oldest first:\n");
    while (found) {
        const struct umk_oops_call *c = &s->ring[idx[--found] % UMK_OOPS_RING];
        put(o, "  ");
        put_name(o, c->nr);
        put(o, " (");
        put_dec(o, c->nr);
        put(o, ") = ");
        if (c->result == UMK_OOPS_PENDING) put(o, found == 0 && s->in_syscall ? "? (in progress)" : "? (blocked, exited or restarted)");
        else put_dec(o, c->result);
        put(o, "\n");
    }
}

static void kill_stubs(struct out *o) {
    int high = atomic_load(&stubs_high);
    int killed = 0;
    put(o, "umk: killing every stub process:");
    for (int i = 0; i < high; i++) {
        pid_t p = atomic_load(&stubs[i]);
        if (p <= 0) continue;
        kill(p, SIGKILL);
        put(o, " ");
        put_dec(o, p);
        killed++;
    }
    put(o, killed ? "\n" : " none\n");
}

void umk_oops_report(const char *reason) {
    struct out o = {.len = 0};
    put(&o, "umk: ------------[ kernel bug ]------------\n");
    put(&o, "umk: kernel bug: ");
    put(&o, reason);
    put(&o, " in the kernel thread\n");
    report_task(&o, current_oops);
    put(&o, "umk: ------------[ end of report ]------------\n");
    flush(&o);
}

// --- The backtrace, named from umk's own ELF symbol table (.symtab: private and internal Swift functions too),
// which dladdr does not read. The executable is mapped read-only when first needed; nothing is allocated.
static const Elf64_Sym *symtab;
static size_t symcount;
static const char *strtab;
static size_t strsize;
static int exe_is_pie;

static void load_symtab(void) {
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof(Elf64_Ehdr))
        map = mmap(0, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return;
    const uint8_t *base = map;
    size_t size = (size_t)st.st_size;
    const Elf64_Ehdr *eh = map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shentsize != sizeof(Elf64_Shdr)
        || eh->e_shoff > size || (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
        return;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
        const Elf64_Shdr *str = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset || str->sh_offset > size
            || str->sh_size > size - str->sh_offset)
            return;
        exe_is_pie = eh->e_type == ET_DYN;
        strtab = (const char *)(base + str->sh_offset);
        strsize = str->sh_size;
        symcount = sh[i].sh_size / sizeof(Elf64_Sym);
        symtab = (const Elf64_Sym *)(base + sh[i].sh_offset);
        return;
    }
}

// The function of umk's executable that holds `value` (an address relative to its load base), or NULL.
static const char *exe_symbol(uint64_t value, uint64_t *start) {
    const Elf64_Sym *best = 0;
    for (size_t i = 0; i < symcount; i++) {
        const Elf64_Sym *sym = &symtab[i];
        if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_value > value) continue;
        if (value >= sym->st_value + (sym->st_size ? sym->st_size : 1)) continue;
        if (!best || sym->st_value > best->st_value) best = sym;
    }
    if (!best || best->st_name >= strsize) return 0;
    *start = best->st_value;
    return strtab + best->st_name;
}

static void print_backtrace(struct out *o, void *const *frames, int n) {
    Dl_info self;
    if (!dladdr((void *)umk_oops_attach, &self)) self.dli_fbase = 0;
    load_symtab();
    for (int i = 0; i < n; i++) {
        uint64_t pc = (uint64_t)(uintptr_t)frames[i];
        Dl_info info;
        const char *module = "?", *name = 0;
        uint64_t start = 0, offset = pc;
        if (dladdr(frames[i], &info)) {
            module = info.dli_fname;
            offset = pc - (uint64_t)(uintptr_t)info.dli_fbase;
            if (info.dli_sname) {
                name = info.dli_sname;
                start = (uint64_t)(uintptr_t)info.dli_saddr;
            }
            if (info.dli_fbase == self.dli_fbase && symtab) {
                uint64_t bias = exe_is_pie ? (uint64_t)(uintptr_t)info.dli_fbase : 0;
                // A return address may sit just past a call that never returns: look up the byte before.
                const char *found = exe_symbol(pc - bias - 1, &start);
                if (found) {
                    name = found;
                    start += bias;
                }
            }
        }
        put(o, "  #");
        put_dec(o, i);
        put(o, " ");
        put_hex(o, pc);
        put(o, " ");
        put(o, name ? name : "?");
        if (name) {
            put(o, "+");
            put_hex(o, pc - start);
        }
        put(o, " (");
        const char *slash = strrchr(module, '/');
        put(o, slash ? slash + 1 : module);
        put(o, "+");
        put_hex(o, offset);
        put(o, ")\n");
    }
}

static volatile sig_atomic_t crashing;

static void oops_handler(int sig, siginfo_t *info, void *ucontext) {
    struct umk_oops *s = current_oops;
    if (!s) {  // not a kernel thread: the terminal back, then the signal's own action (a core dump)
        umk_terminal_restore();
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    struct out o = {.len = 0};
    if (crashing) {  // a fault while reporting: finish the job without the report
        kill_stubs(&o);
        umk_terminal_restore();
        _exit(125);
    }
    crashing = 1;
    ucontext_t *uc = ucontext;
    put(&o, "umk: ------------[ kernel bug ]------------\n");
    put(&o, "umk: kernel bug: ");
    put(&o, signal_name(sig));
    put(&o, " in the kernel thread at rip ");
    put_hex(&o, (uint64_t)uc->uc_mcontext.gregs[REG_RIP]);
    if (sig == SIGSEGV || sig == SIGBUS) {
        put(&o, ", address ");
        put_hex(&o, (uint64_t)(uintptr_t)info->si_addr);
    }
    put(&o, "\n");
    report_task(&o, s);
    put(&o, "umk: kernel backtrace (pipe it through `swift demangle`; `addr2line -f -e umk 0xOFFSET` for the line):\n");
    void *frames[64];
    int n = backtrace(frames, 64);
    print_backtrace(&o, frames, n);
    kill_stubs(&o);
    put(&o, "umk: ------------[ end of report: this is a bug in umk, please report it ]------------\n");
    flush(&o);
    umk_terminal_restore();
    _exit(125);
}

void umk_oops_attach(struct umk_oops *state) {
    current_oops = state;
    // Its own stack, so that a kernel stack overflow is reported too. Never freed: the thread may crash late.
    static __thread int has_stack;
    if (!has_stack) {
        stack_t ss;
        ss.ss_size = 64 * 1024;
        ss.ss_sp = mmap(0, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ss.ss_flags = 0;
        if (ss.ss_sp != MAP_FAILED && sigaltstack(&ss, 0) == 0) has_stack = 1;
    }
    // backtrace() loads libgcc_s on its first call: do that now, not in the handler.
    void *warm[2];
    (void)backtrace(warm, 2);
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE};
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = oops_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal[i], &sa, 0);
    }
}

void umk_oops_detach(void) { current_oops = 0; }
