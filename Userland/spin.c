/* spin.c: tasks that compute without making system calls never stall the others (the timer interrupt and
 * preemption). Children spin in a pure loop, no system call and no vDSO call, while the parent sleeps beside
 * them, signals them (a handler, a default action, SIGKILL) and waits for them; two spinners run beside a
 * sleeper that wakes twenty times. Every line is a fact, never a time: natively and under umk the output
 * is the same.
 */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t flag;
static void on_usr1(int sig) { (void)sig; flag = 1; }

/* A child that spins until a signal's handler sets `flag` (or forever, without one), then exits 7. */
static pid_t spinner(int with_handler) {
    pid_t pid = xfork();
    if (pid == 0) {
        if (with_handler) signal(SIGUSR1, on_usr1);
        volatile unsigned long n = 0;
        while (!flag) n++;
        _exit(7);
    }
    return pid;
}

static void pause_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static void report(const char *what, pid_t pid) {
    int st;
    pid_t r = waitpid(pid, &st, 0);
    if (r != pid) printf("%s: waitpid %s\n", what, errname(errno));
    else if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", what, WTERMSIG(st));
}

int main(void) {
    printf("-- a sleeper beside a spinner wakes\n");
    pid_t s = spinner(0);
    for (int i = 0; i < 3; i++) pause_ms(50);
    printf("slept three times\n");
    kill(s, SIGKILL);
    report("spinner after SIGKILL", s);

    printf("-- a signal reaches a spinning child's handler\n");
    s = spinner(1);
    pause_ms(50);  /* the child has installed its handler by now on any machine that runs the test */
    kill(s, SIGUSR1);
    report("spinner after SIGUSR1", s);

    printf("-- a default action ends a spinning child\n");
    s = spinner(0);
    pause_ms(20);
    kill(s, SIGTERM);
    report("spinner after SIGTERM", s);

    printf("-- two spinners beside a sleeper that wakes twenty times\n");
    pid_t a = spinner(0), b = spinner(0);
    for (int i = 0; i < 20; i++) pause_ms(5);
    printf("woke twenty times\n");
    kill(a, SIGKILL);
    kill(b, SIGKILL);
    report("first spinner", a);
    report("second spinner", b);

    printf("-- the parent spins while a child sleeps\n");
    pid_t sl = xfork();
    if (sl == 0) {
        pause_ms(30);
        _exit(3);
    }
    volatile unsigned long n = 0;
    int status = 0;
    while (waitpid(sl, &status, WNOHANG) == 0) n++;  /* a system call each turn, but never blocking */
    printf("sleeper: exited %d\n", WEXITSTATUS(status));
    return 0;
}
