// uml-init: init (pid 1) for the User Mode Linux column of Tools/bench.
// Usage (kernel command line): init=/path/uml-init -- PROGRAM [ARGS...]
// Runs PROGRAM, waits for it, then powers the UML machine off at once (no panic, no /proc needed).
// Exits UML with status 0 whatever PROGRAM did; PROGRAM's status is printed as "uml-init: status N".
// Before PROGRAM it mounts what a booted system would have (the root is the host's /, read-only hostfs):
// a tmpfs on /dev/shm, and a writable hostfs on /var/tmp backed by the host directory uml-rw next to this
// binary (made by Tools/bench), so the file rows have somewhere to write. A failed mount is reported and
// left to the program to trip over.
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int status = -1;
    mkdir("/dev/shm", 01777);  // UML mounts its own devtmpfs on /dev, which has no shm
    if (mount("tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777") != 0) perror("uml-init: mount tmpfs /dev/shm");
    char self[PATH_MAX], rw[PATH_MAX + 8];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(rw, sizeof rw, "%s/uml-rw", dirname(self));
    if (mount("none", "/var/tmp", "hostfs", 0, rw) != 0) perror("uml-init: mount hostfs /var/tmp");
    if (argc < 2) {
        fprintf(stderr, "uml-init: no program\n");
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            execv(argv[1], argv + 1);
            perror(argv[1]);
            _exit(127);
        }
        if (pid > 0) waitpid(pid, &status, 0);
    }
    printf("uml-init: status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
