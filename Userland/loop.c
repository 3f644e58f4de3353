/* loop.c: a guest that never ends and never makes a system call after printing its first line: the tests
 * kill umk while it runs and check that nothing of the instance survives.
 */
#include "check.h"

int main(void) {
    printf("looping\n");
    fflush(stdout);
    for (volatile unsigned long i = 0;; i++) {
    }
}
