/* forkbomb.c: forks until fork fails, and prints the errno of the first failure; the children all block on a
 * pipe, then exit when the parent closes it, and the parent reaps every one. For umk only, under a small
 * --mem (the tests use 64M): natively it would load the host, so it stops after 5000 children anyway.
 *
 * Usage: forkbomb [LIMIT], LIMIT at most 5000 (the default).
 */
#include "check.h"
#include <stdlib.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
    long limit = argc > 1 ? atol(argv[1]) : 5000;
    if (limit < 1 || limit > 5000) limit = 5000;
    int p[2];
    if (pipe(p) != 0) {
        printf("pipe: %s\n", errname(errno));
        return 1;
    }
    fflush(stdout);
    long forked = 0;
    int failure = 0;
    while (forked < limit) {
        pid_t pid = fork();
        if (pid == -1) {
            failure = errno;
            break;
        }
        if (pid == 0) {
            close(p[1]);
            char c;
            while (read(p[0], &c, 1) > 0) {
            }
            _exit(0);
        }
        forked++;
    }
    if (failure)
        printf("first fork failure: %s\n", errname(failure));
    else
        printf("no fork failed within %ld forks\n", limit);
    show_bool("forked at least one child", forked > 0);
    close(p[1]);
    long reaped = 0, clean = 0;
    int st;
    pid_t pid;
    while ((pid = wait(&st)) > 0) {
        reaped++;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) clean++;
    }
    printf("wait at the end: %s\n", errname(errno));
    if (reaped == forked)
        printf("reaped all\n");
    else
        printf("reaped %ld of %ld\n", reaped, forked);
    show_bool("every child exited 0", clean == reaped);
    return 0;
}
