/* exit.c: exit statuses. `exit N` returns N from main; `exit N _exit` calls _exit(N) without flushing
 * stdio; `exit N exit_group` and `exit N exit` use the raw syscalls. Only the low 8 bits of N survive.
 */
#include "check.h"
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: exit N [_exit|exit|exit_group]\n");
        return 2;
    }
    int status = atoi(argv[1]);
    const char *how = argc > 2 ? argv[2] : "return";
    printf("exiting with %d by %s\n", status, how);
    if (strcmp(how, "_exit") == 0) _exit(status); /* the line above is lost: stdout is a pipe, so buffered */
    fflush(stdout);
    if (strcmp(how, "exit_group") == 0) syscall(SYS_exit_group, status);
    if (strcmp(how, "exit") == 0) syscall(SYS_exit, status);
    return status;
}
