/* sched.c: the CPUs a program sees and the sched_* / nice calls. Run natively and under `umk run --cpus N`
 * with N the host's CPU count, so that the counts agree: sysconf, sched_getaffinity, /proc/cpuinfo and
 * /sys/devices/system/cpu/online; affinity set and inherited; getcpu within the mask; nice and getpriority;
 * policies that need no privilege; sched_getattr; the errors each call gives for bad arguments.
 */
#include "check.h"
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>

struct attr { unsigned size, policy; unsigned long long flags; int nice; unsigned priority;
              unsigned long long runtime, deadline, period; unsigned util_min, util_max; };

static int count_lines(const char *path, const char *prefix) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) n += strncmp(line, prefix, strlen(prefix)) == 0;
    fclose(f);
    return n;
}

int main(void) {
    long online = sysconf(_SC_NPROCESSORS_ONLN), conf = sysconf(_SC_NPROCESSORS_CONF);
    cpu_set_t set;
    CPU_ZERO(&set);
    T(sched_getaffinity(0, sizeof set, &set));
    int mine = CPU_COUNT(&set);
    show_bool("sysconf online = affinity count", online == mine);
    show_bool("sysconf configured = online", conf == online);
    show_bool("/proc/cpuinfo has one block each", count_lines("/proc/cpuinfo", "processor") == online);
    FILE *f = fopen("/sys/devices/system/cpu/online", "r");
    char range[64] = "";
    if (f) { if (!fgets(range, sizeof range, f)) range[0] = 0; fclose(f); }
    char expect[64];
    if (online == 1) snprintf(expect, sizeof expect, "0\n"); else snprintf(expect, sizeof expect, "0-%ld\n", online - 1);
    show_bool("/sys/devices/system/cpu/online names them", strcmp(range, expect) == 0);

    printf("-- affinity\n");
    T(syscall(SYS_sched_getaffinity, 0, 0, &set));  /* too small */
    T(syscall(SYS_sched_getaffinity, 0, 7, &set));  /* not a multiple of a long */
    T(syscall(SYS_sched_getaffinity, 0, sizeof set, NULL));
    T(syscall(SYS_sched_getaffinity, 999999, sizeof set, &set));
    T(syscall(SYS_sched_getaffinity, -1, sizeof set, &set));
    cpu_set_t none;
    CPU_ZERO(&none);
    T(sched_setaffinity(0, sizeof none, &none));
    cpu_set_t last;
    CPU_ZERO(&last);
    CPU_SET(online - 1, &last);
    T(sched_setaffinity(0, sizeof last, &last));
    unsigned cpu = 99, node = 99;
    T(syscall(SYS_getcpu, &cpu, &node, NULL));
    show_bool("getcpu: the one CPU allowed", cpu == (unsigned)online - 1 && node == 0);
    pid_t pid = xfork();
    if (pid == 0) {
        cpu_set_t c;
        CPU_ZERO(&c);
        sched_getaffinity(0, sizeof c, &c);
        _exit(CPU_COUNT(&c) == 1 && CPU_ISSET(online - 1, &c) ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    show_bool("a child inherits the mask", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    T(sched_setaffinity(0, sizeof set, &set));
    cpu_set_t back;
    CPU_ZERO(&back);
    sched_getaffinity(0, sizeof back, &back);
    show_bool("every CPU again", CPU_EQUAL(&back, &set));

    printf("-- nice\n");
    errno = 0;
    show("getpriority(PRIO_PROCESS, 0)", getpriority(PRIO_PROCESS, 0));
    T(setpriority(PRIO_PROCESS, 0, 5));
    show("getpriority after +5", getpriority(PRIO_PROCESS, 0));
    show("raw getpriority (20 - nice)", syscall(SYS_getpriority, PRIO_PROCESS, 0));
    T(setpriority(PRIO_PROCESS, 0, 50));  /* clamped to 19 */
    show("getpriority after 50", getpriority(PRIO_PROCESS, 0));
    pid = xfork();
    if (pid == 0) _exit(getpriority(PRIO_PROCESS, 0) == 19 ? 0 : 1);
    waitpid(pid, &st, 0);
    show_bool("a child inherits nice", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    T(setpriority(PRIO_PROCESS, 999999, 1));
    T(setpriority(7, 0, 1));
    T(getpriority(PRIO_PGRP, 0) >= 0 ? 0 : -1);
    T(getpriority(PRIO_USER, 0) >= 0 ? 0 : -1);

    printf("-- policies\n");
    T(sched_getscheduler(0));
    struct sched_param p = {0};
    T(sched_setscheduler(0, SCHED_BATCH, &p));
    T(sched_getscheduler(0));
    T(sched_setscheduler(0, SCHED_OTHER, &p));
    T(sched_getscheduler(0));
    p.sched_priority = 5;
    T(sched_setscheduler(0, SCHED_OTHER, &p));
    T(sched_setscheduler(0, 4, &p));
    T(sched_setscheduler(0, SCHED_OTHER, NULL));
    T(sched_setscheduler(-1, SCHED_OTHER, &p));
    T(sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &(struct sched_param){0}));
    T(sched_getscheduler(0));
    T(sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){0}));
    T(sched_getparam(0, &p));
    show("sched_priority", p.sched_priority);
    T(sched_getparam(0, NULL));
    int policies[] = {SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, 6, 4};
    for (unsigned i = 0; i < sizeof policies / sizeof policies[0]; i++) {
        printf("policy %d: max ", policies[i]);
        T(sched_get_priority_max(policies[i]));
        printf("policy %d: min ", policies[i]);
        T(sched_get_priority_min(policies[i]));
    }
    struct attr a;
    memset(&a, 0xff, sizeof a);
    T(syscall(SYS_sched_getattr, 0, &a, sizeof a, 0));
    printf("attr: size %u policy %u flags %llu nice %d priority %u\n", a.size, a.policy, a.flags, a.nice, a.priority);
    T(syscall(SYS_sched_getattr, 0, &a, 16, 0));
    T(syscall(SYS_sched_getattr, 0, &a, sizeof a, 1));
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.policy = SCHED_BATCH;
    a.nice = 19;
    T(syscall(SYS_sched_setattr, 0, &a, 0));
    T(sched_getscheduler(0));
    show("nice after sched_setattr", getpriority(PRIO_PROCESS, 0));
    a.policy = SCHED_OTHER;
    T(syscall(SYS_sched_setattr, 0, &a, 0));
    T(sched_yield());
    return 0;
}
