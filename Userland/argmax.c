/* argmax.c: execve's limits on its arguments, as Linux enforces them: each string below MAX_ARG_STRLEN
 * (128 KiB), all of them within a quarter of RLIMIT_STACK; E2BIG beyond either. */
#include "check.h"
#include <stdlib.h>
#include <sys/wait.h>

static void try_exec(const char *what, char **argv) {
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        execv("/proc/self/exe", argv);
        printf("%s: %s\n", what, errname(errno));
        fflush(stdout);
        _exit(1);
    }
    int status = 0;
    waitpid(p, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) printf("%s: ran\n", what);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) return 0;
    const size_t sizes[] = {100000, 131071, 131072, 1 << 20, 8 << 20};
    for (int k = 0; k < 5; k++) {
        char *big = malloc(sizes[k] + 1);
        memset(big, 'x', sizes[k]);
        big[sizes[k]] = 0;
        char *av[] = {argv[0], "child", big, 0};
        char what[64];
        snprintf(what, sizeof what, "one string of %zu bytes", sizes[k]);
        try_exec(what, av);
        free(big);
    }
    /* 40 strings of 100 000 bytes: each allowed, 4 MB in all, past the 2 MiB of an 8 MiB stack limit. */
    char **av = calloc(43, sizeof(char *));
    av[0] = argv[0];
    av[1] = "child";
    for (int i = 0; i < 40; i++) {
        av[i + 2] = malloc(100000);
        memset(av[i + 2], 'y', 99999);
        av[i + 2][99999] = 0;
    }
    try_exec("4 MB of strings", av);
    av[22] = 0; /* 2 MB */
    try_exec("2 MB of strings", av);
    av[12] = 0; /* 1 MB */
    try_exec("1 MB of strings", av);
    return 0;
}
