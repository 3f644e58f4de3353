/* procfs.c: /proc in Linux's formats, as procps, libc and scripts read it: /proc/self/{stat,status,statm,maps,
 * smaps,limits,environ,cmdline,comm,fdinfo,task}, a child's state as it sleeps, stops and dies, and the
 * system-wide files (uptime, loadavg, stat, version, sys/kernel, sys/fs).
 *
 * Usage: procfs. Values differ between a native run and umk (pids, addresses, times, sizes), so only what must
 * agree is printed: field counts, relations to what the system calls answer, and the exact text of labels.
 */
#include "check.h"
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

extern char **environ;

/* The whole of a file, NUL-terminated (static buffer); length in *len; NULL when it cannot be opened. */
static char *slurp(const char *path, size_t *len) {
    static char buf[1 << 20];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* The fields of a stat line: comm (without parentheses) in comm, the rest split at spaces, field i in f[i]
 * (1-based, f[2] is comm). Returns the number of fields. */
static int stat_fields(const char *path, char *comm, char f[64][32]) {
    char *s = slurp(path, NULL);
    if (!s) return -1;
    char *open_paren = strchr(s, '('), *close_paren = strrchr(s, ')');
    if (!open_paren || !close_paren) return -1;
    snprintf(comm, 64, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    snprintf(f[1], 32, "%.*s", (int)(open_paren - s - 1), s);
    strcpy(f[2], comm);
    int n = 2;
    for (char *tok = strtok(close_paren + 1, " \n"); tok && n < 63; tok = strtok(NULL, " \n")) snprintf(f[++n], 32, "%s", tok);
    return n;
}

/* The value of "Key:" in a status file, or NULL. */
static const char *status_value(const char *status, const char *key) {
    static char value[256];
    size_t k = strlen(key);
    for (const char *line = status; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, k) == 0 && line[k] == ':') {
            const char *v = line + k + 1;
            while (*v == '\t' || *v == ' ') v++;
            const char *end = strchr(v, '\n');
            snprintf(value, sizeof value, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
            return value;
        }
    }
    return NULL;
}

static char child_state(pid_t pid) {
    char path[64], comm[64], f[64][32];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    return stat_fields(path, comm, f) >= 3 ? f[3][0] : '?';
}

/* Waits (up to 5 s) for the child to reach `want`, and returns the state it last had. */
static char wait_state(pid_t pid, char want) {
    char s = '?';
    for (int i = 0; i < 500 && (s = child_state(pid)) != want; i++) sleep_ms(10);
    return s;
}

static void self_stat(int argc, char **argv) {
    printf("-- /proc/self/stat\n");
    char comm[64], f[64][32];
    int n = stat_fields("/proc/self/stat", comm, f);
    printf("fields: %d\n", n);
    if (n < 52) return;
    printf("comm: %s\n", comm);
    printf("state: %s\n", f[3]);
    show_bool("pid is getpid", atol(f[1]) == getpid());
    show_bool("ppid is getppid", atol(f[4]) == getppid());
    show_bool("pgrp is getpgrp", atol(f[5]) == getpgrp());
    show_bool("session is getsid", atol(f[6]) == getsid(0));
    printf("num_threads: %s\n", f[20]);
    show_bool("vsize > 0", strtoull(f[23], NULL, 10) > 0);
    show_bool("rss is a number", f[24][0] >= '0' && f[24][0] <= '9');  /* Linux's counters may still read 0 */
    show_bool("startcode < endcode", strtoull(f[26], NULL, 10) < strtoull(f[27], NULL, 10));
    show_bool("startstack holds argc", *(long *)(uintptr_t)strtoull(f[28], NULL, 10) == argc);
    show_bool("arg_start is argv[0]", (char *)(uintptr_t)strtoull(f[48], NULL, 10) == argv[0]);
    show_bool("arg_end <= env_start", strtoull(f[49], NULL, 10) <= strtoull(f[50], NULL, 10));
    show_bool("env_start is environ[0]", !environ[0] || (char *)(uintptr_t)strtoull(f[50], NULL, 10) == environ[0]);
    show_bool("env_start < env_end", !environ[0] || strtoull(f[50], NULL, 10) < strtoull(f[51], NULL, 10));
    printf("exit_code: %s\n", f[52]);
    double up = 0;
    char *u = slurp("/proc/uptime", NULL);
    if (u) sscanf(u, "%lf", &up);
    show_bool("starttime within uptime", atol(f[22]) <= (long)(up * 100) + 1);
}

static void self_status(void) {
    printf("-- /proc/self/status\n");
    char *s = slurp("/proc/self/status", NULL);
    if (!s) {
        printf("status: %s\n", errname(errno));
        return;
    }
    static char copy[1 << 16];
    snprintf(copy, sizeof copy, "%s", s);
    const char *keys[] = {"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Uid", "Gid", "FDSize",
                          "Groups", "VmPeak", "VmSize", "VmRSS", "VmData", "VmStk", "VmExe", "VmLib", "Threads", "SigQ",
                          "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd",
                          "NoNewPrivs", "Cpus_allowed", "Cpus_allowed_list", "voluntary_ctxt_switches",
                          "nonvoluntary_ctxt_switches"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!status_value(copy, keys[i])) printf("missing: %s\n", keys[i]);
    printf("Name: %s\n", status_value(copy, "Name"));
    printf("Umask: %s\n", status_value(copy, "Umask"));
    printf("State: %s\n", status_value(copy, "State"));
    printf("Threads: %s\n", status_value(copy, "Threads"));
    printf("TracerPid: %s\n", status_value(copy, "TracerPid"));
    show_bool("Pid", atol(status_value(copy, "Pid")) == getpid());
    show_bool("Tgid", atol(status_value(copy, "Tgid")) == getpid());
    show_bool("PPid", atol(status_value(copy, "PPid")) == getppid());
    uid_t r, e, ss;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &ss);
    getresgid(&gr, &ge, &gs);
    char want[128];
    snprintf(want, sizeof want, "%u\t%u\t%u\t%u", r, e, ss, e);
    show_bool("Uid", strcmp(status_value(copy, "Uid"), want) == 0);
    snprintf(want, sizeof want, "%u\t%u\t%u\t%u", gr, ge, gs, ge);
    show_bool("Gid", strcmp(status_value(copy, "Gid"), want) == 0);
    printf("SigBlk: %s\n", status_value(copy, "SigBlk"));
    printf("SigIgn: %s\n", status_value(copy, "SigIgn"));
    printf("SigCgt: %s\n", status_value(copy, "SigCgt"));
    printf("SigPnd: %s\n", status_value(copy, "SigPnd"));
    printf("NoNewPrivs: %s\n", status_value(copy, "NoNewPrivs"));
    long size = atol(status_value(copy, "VmSize")), rss = atol(status_value(copy, "VmRSS"));
    show_bool("VmSize >= VmRSS", size >= rss && size > 0);
    show_bool("VmRSS line ends in kB", strstr(status_value(copy, "VmRSS"), " kB") != NULL);
    show_bool("FDSize >= 64", atol(status_value(copy, "FDSize")) >= 64);
    const char *list = status_value(copy, "Cpus_allowed_list");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char expect[64];
    if (ncpu == 1) snprintf(expect, sizeof expect, "0");
    else snprintf(expect, sizeof expect, "0-%ld", ncpu - 1);
    show_bool("Cpus_allowed_list is every CPU", strcmp(list, expect) == 0);
}

static void self_statm_maps(const char *self_path) {
    printf("-- /proc/self/statm, maps, smaps\n");
    char *s = slurp("/proc/self/statm", NULL);
    long v[7] = {0};
    int n = s ? sscanf(s, "%ld %ld %ld %ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) : -1;
    printf("statm fields: %d\n", n);
    show_bool("statm size >= resident", v[0] >= v[1] && v[0] > 0);

    char *anon = mmap(NULL, 5 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    anon[0] = 1;
    anon[4096] = 1;
    int fd = open(self_path, O_RDONLY);
    char *file = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    struct stat st;
    fstat(fd, &st);
    close(fd);
    s = slurp("/proc/self/maps", NULL);
    int bad = 0, self_text = 0, stack = 0, anon_line = 0, file_line = 0;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long start, end, off, ino;
        unsigned maj, min;
        char perms[8];
        int pos = 0;
        if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, perms, &off, &maj, &min, &ino, &pos) != 7) {
            bad++;
            continue;
        }
        const char *name = strlen(line) > 73 ? line + 73 : "";
        if (name[0] && line[72] != ' ') bad++;
        if (strcmp(name, self_path) == 0 && strcmp(perms, "r-xp") == 0) self_text++;
        if (strcmp(name, "[stack]") == 0) stack++;
        if (start == (uintptr_t)anon && end == (uintptr_t)anon + 5 * 4096)
            anon_line = strcmp(perms, "rw-p") == 0 && off == 0 && ino == 0 && !name[0] && maj == 0 && min == 0;
        if (start == (uintptr_t)file)
            file_line = strcmp(perms, "r--s") == 0 && off == 0 && ino == st.st_ino && strcmp(name, self_path) == 0;
    }
    printf("maps lines that do not parse: %d\n", bad);
    printf("maps: own text lines: %s\n", self_text > 0 ? "yes" : "no");
    printf("maps: [stack] lines: %d\n", stack);
    show_bool("maps: anonymous mapping", anon_line);
    show_bool("maps: shared file mapping", file_line);

    s = slurp("/proc/self/smaps", NULL);
    char header[64];
    snprintf(header, sizeof header, "%08lx-%08lx ", (unsigned long)(uintptr_t)anon, (unsigned long)(uintptr_t)anon + 5 * 4096);
    char *block = s ? strstr(s, header) : NULL;
    long size = -1, rss = -1;
    if (block) {
        char *p = strstr(block, "\nSize:");
        if (p) sscanf(p, "\nSize: %ld kB", &size);
        p = strstr(block, "\nRss:");
        if (p) sscanf(p, "\nRss: %ld kB", &rss);
        show_bool("smaps: Size label padded", strstr(block, "\nSize:                 20 kB\n") != NULL);
        show_bool("smaps: VmFlags", strstr(block, "\nVmFlags: rd wr ") != NULL);
    }
    printf("smaps: anonymous Size: %ld kB\n", size);
    show_bool("smaps: anonymous Rss >= 8 kB", rss >= 8 && rss <= 20);
    munmap(anon, 5 * 4096);
    munmap(file, 4096);
}

static void self_misc(int argc, char **argv, const char *initial_environ, size_t initial_len) {
    printf("-- limits, environ, cmdline, comm, fdinfo, task\n");
    char *s = slurp("/proc/self/limits", NULL);
    char *first = s ? strtok(s, "\n") : NULL;
    printf("limits header: %s|\n", first ? first : "");
    int rows = 0;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    char files[128];
    snprintf(files, sizeof files, "Max open files            %-20lu %-20lu files     ", (unsigned long)rl.rlim_cur,
             (unsigned long)rl.rlim_max);
    int files_ok = 0;
    for (char *line = strtok(NULL, "\n"); line; line = strtok(NULL, "\n")) {
        rows++;
        printf("limit: %.25s|\n", line);
        if (strcmp(line, files) == 0) files_ok = 1;
    }
    printf("limits rows: %d\n", rows);
    show_bool("Max open files matches getrlimit", files_ok);

    size_t len = 0;
    s = slurp("/proc/self/environ", &len);
    show_bool("environ is the initial environment", s && len == initial_len && memcmp(s, initial_environ, len) == 0);
    s = slurp("/proc/self/cmdline", &len);
    size_t at = 0;
    int same = s != NULL;
    for (int i = 0; same && i < argc; i++) {
        size_t l = strlen(argv[i]) + 1;
        same = at + l <= len && memcmp(s + at, argv[i], l) == 0;
        at += l;
    }
    show_bool("cmdline is argv", same && at == len);
    s = slurp("/proc/self/comm", NULL);
    printf("comm: %s", s ? s : "?\n");
    s = slurp("/proc/self/oom_score_adj", NULL);
    printf("oom_score_adj: %s", s ? s : "?\n");

    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    char buf[16];
    T(read(fd, buf, 5));
    T(pread(fd, buf, sizeof buf, 1LL << 62));
    T(pread(fd, buf, sizeof buf, -1));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    s = slurp(path, NULL);
    printf("fdinfo pos: %s\n", s ? status_value(s, "pos") : "?");
    s = slurp(path, NULL);
    printf("fdinfo flags: %s\n", s ? status_value(s, "flags") : "?");
    close(fd);
    int p[2];
    if (pipe(p) == 0) {
        snprintf(path, sizeof path, "/proc/self/fdinfo/%d", p[1]);
        s = slurp(path, NULL);
        printf("fdinfo flags of a pipe's write end: %s\n", s ? status_value(s, "flags") : "?");
        close(p[0]);
        close(p[1]);
    }

    DIR *d = opendir("/proc/self/task");
    int tasks = 0, own = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        tasks++;
        own += atol(e->d_name) == getpid();
    }
    if (d) closedir(d);
    printf("task entries: %d, the process itself: %d\n", tasks, own);
    char link[64] = {0}, want[64];
    snprintf(want, sizeof want, "%d/task/%d", getpid(), getpid());
    readlink("/proc/thread-self", link, sizeof link - 1);
    show_bool("thread-self", strcmp(link, want) == 0);
    char comm[64], f[64][32];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", getpid());
    show_bool("task/TID/stat has 52 fields", stat_fields(path, comm, f) == 52);

    struct stat a, b, c;
    snprintf(path, sizeof path, "/proc/%d/stat", getpid());
    stat("/proc/self/stat", &a);
    stat(path, &b);
    stat("/proc/self/status", &c);
    show_bool("inode of self/stat is that of PID/stat", a.st_ino == b.st_ino);
    show_bool("inodes of stat and status differ", a.st_ino != c.st_ino);
    d = opendir("/proc");
    int seen_self = 0, seen_pid = 0;
    snprintf(want, sizeof want, "%d", getpid());
    while (d && (e = readdir(d))) {
        seen_self += strcmp(e->d_name, "self") == 0;
        seen_pid += strcmp(e->d_name, want) == 0;
    }
    if (d) closedir(d);
    printf("/proc lists self: %d, the pid: %d\n", seen_self, seen_pid);
}

static void child_states(void) {
    printf("-- a child's state\n");
    pid_t child = xfork();
    if (child == 0) {
        for (;;) pause();
    }
    printf("sleeping: %c\n", wait_state(child, 'S'));
    char comm[64], f[64][32], path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    show_bool("child's ppid is us", stat_fields(path, comm, f) >= 4 && atol(f[4]) == getpid());
    int status;
    kill(child, SIGSTOP);
    waitpid(child, &status, WUNTRACED);
    printf("stopped: %c\n", wait_state(child, 'T'));
    snprintf(path, sizeof path, "/proc/%d/status", child);
    char *s = slurp(path, NULL);
    printf("stopped status: %s\n", s ? status_value(s, "State") : "?");
    kill(child, SIGCONT);
    waitpid(child, &status, WCONTINUED);
    printf("continued: %c\n", wait_state(child, 'S'));
    kill(child, SIGTERM);
    siginfo_t info;
    waitid(P_PID, child, &info, WEXITED | WNOWAIT);
    printf("zombie: %c\n", wait_state(child, 'Z'));
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    int n = stat_fields(path, comm, f);
    printf("zombie fields: %d, exit_code: %s\n", n, n >= 52 ? f[52] : "?");
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    size_t len = 99;
    s = slurp(path, &len);
    printf("zombie cmdline length: %zu\n", s ? len : 99);
    waitpid(child, &status, 0);
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    errno = 0;
    int fd = open(path, O_RDONLY);
    printf("reaped child's stat: %s\n", fd < 0 ? errname(errno) : "opened");
    if (fd >= 0) close(fd);
}

static void system_files(void) {
    printf("-- system-wide files\n");
    double up = -1, idle = -1;
    char *s = slurp("/proc/uptime", NULL);
    printf("uptime fields: %d\n", s ? sscanf(s, "%lf %lf", &up, &idle) : -1);
    show_bool("uptime >= 0, idle >= 0", up >= 0 && idle >= 0);
    double l1, l5, l15;
    int running = 0, total = 0, last = 0;
    s = slurp("/proc/loadavg", NULL);
    printf("loadavg fields: %d\n", s ? sscanf(s, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total, &last) : -1);
    show_bool("loadavg running >= 1, total >= running, last pid > 0", running >= 1 && total >= running && last > 0);
    double loads[3];
    printf("getloadavg: %d\n", getloadavg(loads, 3));

    s = slurp("/proc/stat", NULL);
    int cpu_numbers = 0, cpu_lines = 0, btime_ok = 0, has_processes = 0, has_running = 0, has_ctxt = 0;
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "cpu ", 4) == 0) {
            unsigned long long v[11];
            cpu_numbers = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                                 &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10]);
        } else if (strncmp(line, "cpu", 3) == 0) {
            cpu_lines++;
        } else if (strncmp(line, "btime ", 6) == 0) {
            long bt = atol(line + 6);
            btime_ok = labs(bt - (long)(time(NULL) - (long)up)) <= 2;
        } else if (strncmp(line, "processes ", 10) == 0) {
            has_processes = atol(line + 10) > 0;
        } else if (strncmp(line, "procs_running ", 14) == 0) {
            has_running = atol(line + 14) >= 1;
        } else if (strncmp(line, "ctxt ", 5) == 0) {
            has_ctxt = 1;
        }
    }
    printf("stat: cpu numbers: %d\n", cpu_numbers);
    show_bool("stat: one cpuN line per CPU", cpu_lines == sysconf(_SC_NPROCESSORS_ONLN));
    show_bool("stat: btime is now less uptime", btime_ok);
    show_bool("stat: processes, procs_running, ctxt", has_processes && has_running && has_ctxt);

    struct utsname u;
    uname(&u);
    char want[128];
    snprintf(want, sizeof want, "%s\n", u.release);
    s = slurp("/proc/sys/kernel/osrelease", NULL);
    show_bool("osrelease is uname's release", s && strcmp(s, want) == 0);
    snprintf(want, sizeof want, "%s\n", u.nodename);
    s = slurp("/proc/sys/kernel/hostname", NULL);
    show_bool("hostname is uname's nodename", s && strcmp(s, want) == 0);
    s = slurp("/proc/sys/kernel/ostype", NULL);
    printf("ostype: %s", s ? s : "?\n");
    snprintf(want, sizeof want, "Linux version %s ", u.release);
    s = slurp("/proc/version", NULL);
    show_bool("version names the release", s && strncmp(s, want, strlen(want)) == 0);
    s = slurp("/proc/sys/kernel/pid_max", NULL);
    show_bool("pid_max > 0", s && atol(s) > 0);
    char boot[64] = {0}, uuid[64] = {0};
    s = slurp("/proc/sys/kernel/random/boot_id", NULL);
    if (s) snprintf(boot, sizeof boot, "%s", s);
    s = slurp("/proc/sys/kernel/random/boot_id", NULL);
    show_bool("boot_id is a stable uuid", strlen(boot) == 37 && boot[8] == '-' && s && strcmp(s, boot) == 0);
    s = slurp("/proc/sys/kernel/random/uuid", NULL);
    if (s) snprintf(uuid, sizeof uuid, "%s", s);
    s = slurp("/proc/sys/kernel/random/uuid", NULL);
    show_bool("uuid changes", strlen(uuid) == 37 && s && strcmp(s, uuid) != 0);
    s = slurp("/proc/sys/fs/nr_open", NULL);
    show_bool("nr_open > 0", s && atol(s) > 0);
    s = slurp("/proc/filesystems", NULL);
    show_bool("filesystems has proc", s && strstr(s, "nodev\tproc\n") != NULL);
}

static void on_signal(int sig) { (void)sig; }

int main(int argc, char **argv) {
    /* The environment block as exec laid it out, before anything changes it. */
    static char initial_environ[1 << 16];
    size_t initial_len = 0;
    for (char **e = environ; *e && initial_len + strlen(*e) + 1 < sizeof initial_environ; e++) {
        memcpy(initial_environ + initial_len, *e, strlen(*e) + 1);
        initial_len += strlen(*e) + 1;
    }
    /* Signal state independent of what the parent left: a known mask and dispositions. */
    for (int sig = 1; sig <= 64; sig++) {
        /* The kernel's struct sigaction, all SIG_DFL: libc refuses the signals it reserves (32, 33). */
        unsigned long kernel_action[4] = {0, 0, 0, 0};
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, kernel_action, NULL, 8);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_SETMASK, &set, NULL);
    signal(SIGUSR2, SIG_IGN);
    signal(SIGHUP, on_signal);
    umask(022);

    char self_path[4096] = {0};
    readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    self_stat(argc, argv);
    self_status();
    self_statm_maps(self_path);
    self_misc(argc, argv, initial_environ, initial_len);
    child_states();
    system_files();
    return 0;
}
