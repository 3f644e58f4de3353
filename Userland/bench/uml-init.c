// uml-init: init (pid 1) for the User Mode Linux column of Tools/bench.
// Usage (kernel command line): init=/path/uml-init -- PROGRAM [ARGS...]
// Runs PROGRAM, waits for it, then powers the UML machine off at once (no panic, no /proc needed).
// Exits UML with status 0 whatever PROGRAM did; PROGRAM's status is printed as "uml-init: status N".
#include <stdio.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int status = -1;
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
