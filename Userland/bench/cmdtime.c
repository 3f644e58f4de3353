// Time one command from fork to wait, inside the guest (a peer's boot is not counted), like shloop.
// Usage: cmdtime RUNS BASE N WORD1 ... WORDN [ignored...]
//   The command is the N words after N (UML appends its own arguments after ours, hence the count).
//   Leading NAME=VALUE words are put in the command's environment, the rest is the argv (absolute path).
//   BASE "-": the command runs in the current directory. Else each run gets a fresh directory
//   BASE/cmdtime.XXXXXX as its working directory and TMPDIR, removed (untimed) after the run.
// One untimed warm-up run, then RUNS timed ones. The command must exit 0 every time. Its stdout goes
// through a pipe to our stderr (read while timing) and its size is reported: `git status --porcelain` on a
// clean tree must print nothing.
// Prints "cmd_ms X runs N outbytes B" (the median run in ms; B is the largest stdout of any run).
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int rm1(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0) perror(path);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: cmdtime RUNS BASE N WORD...\n"); return 2; }
    int runs = atoi(argv[1]);
    const char *base = argv[2];
    int n = atoi(argv[3]);
    if (runs < 1) runs = 1;
    if (runs > 100) runs = 100;
    if (n < 1 || n > argc - 4) { fprintf(stderr, "cmdtime: bad word count %d\n", n); return 2; }
    char **words = argv + 4;
    int nenv = 0;
    while (nenv < n - 1 && words[nenv][0] != '/' && strchr(words[nenv], '=')) nenv++;
    char *cmd[64];
    if (n - nenv > 63) { fprintf(stderr, "cmdtime: too many words\n"); return 2; }
    for (int i = nenv; i < n; i++) cmd[i - nenv] = words[i];
    cmd[n - nenv] = NULL;
    double ms[100];
    long outmax = 0;
    for (int r = -1; r < runs; r++) {
        char dir[4096] = "";
        if (strcmp(base, "-") != 0) {
            snprintf(dir, sizeof dir, "%s/cmdtime.XXXXXX", base);
            if (!mkdtemp(dir)) { perror(dir); return 1; }
        }
        int fds[2];
        if (pipe(fds) != 0) { perror("pipe"); return 1; }
        fflush(stdout);
        double t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            close(fds[0]);
            dup2(fds[1], 1);
            close(fds[1]);
            for (int i = 0; i < nenv; i++) putenv(words[i]);
            if (dir[0] && (chdir(dir) != 0 || setenv("TMPDIR", dir, 1) != 0)) { perror(dir); _exit(126); }
            execv(cmd[0], cmd);
            perror(cmd[0]);
            _exit(127);
        }
        close(fds[1]);
        char buf[65536];
        long out = 0;
        ssize_t k;
        while ((k = read(fds[0], buf, sizeof buf)) > 0) {
            if (out < 4096) fwrite(buf, 1, k, stderr);
            out += k;
        }
        close(fds[0]);
        int status;
        if (waitpid(pid, &status, 0) != pid) { perror("waitpid"); return 1; }
        double t = (now_ns() - t0) / 1e6;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "cmdtime: %s: status 0x%x, expected exit 0\n", cmd[0], status);
            if (dir[0]) nftw(dir, rm1, 32, FTW_DEPTH | FTW_PHYS);
            return 1;
        }
        if (dir[0]) nftw(dir, rm1, 32, FTW_DEPTH | FTW_PHYS);
        if (r >= 0) ms[r] = t;
        if (out > outmax) outmax = out;
    }
    qsort(ms, runs, sizeof ms[0], cmp);
    printf("cmd_ms %.2f runs %d outbytes %ld\n", runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2,
           runs, outmax);
    return 0;
}
