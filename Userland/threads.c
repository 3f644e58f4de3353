/* threads.c: POSIX threads on clone(CLONE_THREAD), compared with a native run: mutexes, condition variables,
 * barriers, rwlocks, thread-local storage, tids, cancellation, pthread_kill, which thread takes a signal sent to
 * the process, sigwait, exit of one thread versus the process, exec and fork from a thread, /proc/self/task,
 * thread names, and busy threads. Processes that must die are forked children; the parent prints how. */
#include "check.h"
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <dirent.h>
#include <stdint.h>
#include <sched.h>
#include <sys/stat.h>

static void status_of(const char *what, pid_t pid) {
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) { printf("%s: waitpid %s\n", what, errname(errno)); return; }
    if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) printf("%s: killed by %d\n", what, WTERMSIG(st));
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* Mutex contention */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void *add(void *arg) {
    for (int i = 0; i < 20000; i++) { pthread_mutex_lock(&lock); counter++; pthread_mutex_unlock(&lock); }
    return arg;
}

/* Producer and consumer on a condition variable */
static pthread_cond_t more = PTHREAD_COND_INITIALIZER, room = PTHREAD_COND_INITIALIZER;
static int queue[8], head, tail, count;
static void *producer(void *arg) {
    for (int i = 1; i <= 2000; i++) {
        pthread_mutex_lock(&lock);
        while (count == 8) pthread_cond_wait(&room, &lock);
        queue[tail] = i; tail = (tail + 1) % 8; count++;
        pthread_cond_signal(&more);
        pthread_mutex_unlock(&lock);
    }
    return arg;
}
static void *consumer(void *arg) {
    long sum = 0;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        while (count == 0) pthread_cond_wait(&more, &lock);
        sum += queue[head]; head = (head + 1) % 8; count--;
        pthread_cond_signal(&room);
        pthread_mutex_unlock(&lock);
    }
    (void)arg;
    return (void *)sum;
}

/* Barrier */
static pthread_barrier_t barrier;
static int round_seen[4];
static void *barrier_worker(void *arg) {
    long id = (long)arg;
    for (int r = 0; r < 50; r++) {
        round_seen[id] = r;
        pthread_barrier_wait(&barrier);
        for (int j = 0; j < 4; j++) if (round_seen[j] != r) return (void *)1;
        pthread_barrier_wait(&barrier);
    }
    return 0;
}

/* rwlock */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long shared_a, shared_b;
static void *rw_writer(void *arg) {
    for (int i = 0; i < 2000; i++) { pthread_rwlock_wrlock(&rw); shared_a++; shared_b++; pthread_rwlock_unlock(&rw); }
    return arg;
}
static void *rw_reader(void *arg) {
    long bad = 0;
    for (int i = 0; i < 2000; i++) { pthread_rwlock_rdlock(&rw); if (shared_a != shared_b) bad++; pthread_rwlock_unlock(&rw); }
    (void)arg;
    return (void *)bad;
}

/* Thread-local storage and ids */
static __thread long tls_value = 7;
static pid_t main_tid;
static void *tls_worker(void *arg) {
    long mine = tls_value;  /* the initial value, not main's */
    tls_value = (long)arg;
    sched_yield();
    long ok = mine == 7 && tls_value == (long)arg && gettid_() != getpid() && gettid_() != main_tid;
    return (void *)ok;
}

/* Cancellation of a thread blocked in a system call */
static void *sleeper(void *arg) {
    (void)arg;
    for (;;) pause();
    return 0;
}

/* pthread_kill: the handler runs on the thread it was sent to */
static volatile pid_t handled_on;
static volatile int handled_sig;
static void on_signal(int sig) { handled_on = gettid_(); handled_sig = sig; }
static volatile pid_t worker_tid;
static volatile int stop_waiting;
static void *waiter(void *arg) {
    worker_tid = gettid_();
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, 0);
    while (!stop_waiting) sigsuspend(&none);
    (void)arg;
    return 0;
}

/* sigwait in one thread while every thread blocks the signal */
static void *sigwaiter(void *arg) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    int sig = 0;
    int r = sigwait(&set, &sig);
    (void)arg;
    return (void *)(long)(r == 0 ? sig : -r);
}

static void *quick(void *arg) { return arg; }

static void *exit_later(void *arg) {
    sleep_ms(50);
    exit((int)(long)arg);
}

static volatile int spin_forever = 1;
static void *spin(void *arg) {
    volatile unsigned long x = 0;
    while (spin_forever) x++;
    return arg;
}

static char *self_exe;
static void *exec_from_thread(void *arg) {
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    char *argv[] = {self_exe, "execd", pid, 0};
    execv("/proc/self/exe", argv);
    (void)arg;
    return 0;
}

static void *fork_from_thread(void *arg) {
    pid_t child = fork();
    if (child == 0) _exit(getpid() == gettid_() ? 5 : 6);
    status_of("fork from a thread", child);
    return arg;
}

static void *count_tasks(void *arg) {
    (void)arg;
    return 0;
}

static void *segv(void *arg) {
    (void)arg;
    *(volatile int *)8 = 1;
    return 0;
}

static void *hold_and_wait(void *arg) {
    pthread_barrier_wait((pthread_barrier_t *)arg);
    for (;;) pause();
    return 0;
}

static long thread_clock_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}
static volatile int clock_fresh, clock_advanced;
static void *burn(void *arg) {
    long start = thread_clock_ns();
    unsigned long x = (unsigned long)arg;
    for (long i = 0; i < 30000000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    if (start < 20000000) __atomic_fetch_add(&clock_fresh, 1, __ATOMIC_SEQ_CST);  /* a new thread's starts near 0 */
    if (thread_clock_ns() - start > 5000000) __atomic_fetch_add(&clock_advanced, 1, __ATOMIC_SEQ_CST);
    return (void *)(x & 1);
}

static pthread_mutex_t robust, pi;
static void *die_holding(void *arg) {
    pthread_mutex_lock(&robust);
    return arg;  /* ends holding it */
}
static long pi_count;
static void *pi_add(void *arg) {
    for (int i = 0; i < 3000; i++) { pthread_mutex_lock(&pi); pi_count++; pthread_mutex_unlock(&pi); }
    return arg;
}
static void *add_a_little(void *arg) {
    for (int i = 0; i < 500; i++) { pthread_mutex_lock(&lock); counter++; pthread_mutex_unlock(&lock); }
    return arg;
}

/* CLONE_FS: a child process that shares the filesystem context changes the parent's working directory and
 * umask; after unshare(CLONE_FS) its changes are its own. */
static char fs_stack[65536] __attribute__((aligned(16)));
static int fs_child(void *arg) {
    (void)arg;
    if (chdir("/tmp") != 0) return 1;
    umask(077);
    return 0;
}
static int fs_child_unshared(void *arg) {
    (void)arg;
    if (unshare(CLONE_FS) != 0) return 2;
    if (chdir("/") != 0) return 1;
    umask(022);
    return 0;
}
/* CLONE_VM and CLONE_SIGHAND without CLONE_THREAD: a process that shares the memory (and handlers). */
#define FUTEX_WAIT_ 0
static volatile int vm_word;
static volatile pid_t vm_tid = 1;
static void on_usr2(int sig) { (void)sig; }
static int vm_child(void *arg) {
    vm_word = 42;
    if (arg) {
        struct sigaction sa = {0};
        sa.sa_handler = on_usr2;
        sigaction(SIGUSR2, &sa, 0);
    }
    return 7;
}
static void shared_vm(void) {
    pid_t c = clone(vm_child, fs_stack + sizeof fs_stack, CLONE_VM | SIGCHLD, 0);
    status_of("CLONE_VM child", c);
    printf("CLONE_VM: the parent sees the child's write: %s\n", vm_word == 42 ? "yes" : "no");
    vm_word = 0;
    struct sigaction sa = {0};
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR2, &sa, 0);
    c = clone(vm_child, fs_stack + sizeof fs_stack, CLONE_VM | CLONE_SIGHAND | CLONE_CHILD_CLEARTID | SIGCHLD,
              (void *)1, 0, 0, &vm_tid);
    while (vm_tid != 0) syscall(SYS_futex, &vm_tid, FUTEX_WAIT_, vm_tid, 0, 0, 0);
    printf("CLONE_CHILD_CLEARTID of a CLONE_VM child: woken\n");
    status_of("CLONE_VM|CLONE_SIGHAND child", c);
    sigaction(SIGUSR2, 0, &sa);
    printf("CLONE_SIGHAND: the child's handler is the parent's: %s\n", sa.sa_handler == on_usr2 ? "yes" : "no");
    sa.sa_handler = SIG_DFL;
    sigaction(SIGUSR2, &sa, 0);
}

/* clone3's set_tid: a chosen free pid (as root), EEXIST for one in use, EINVAL for more levels than there are. */
struct clone_args_ {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
static long clone3_with_tid(pid_t *tids, size_t n) {
    struct clone_args_ a = {0};
    a.exit_signal = SIGCHLD;
    a.set_tid = (uint64_t)(uintptr_t)tids;
    a.set_tid_size = n;
    long r = syscall(SYS_clone3, &a, sizeof a);
    if (r == 0) _exit(0);
    return r;
}
static void chosen_tid(void) {
    pid_t self = getpid(), two[2] = {30000, 30000};
    T(clone3_with_tid(&self, 1));
    T(clone3_with_tid(two, 2));
    pid_t want = 30000;
    long r = -1;
    for (; want > 29000; want--) {  /* natively some pids are taken */
        errno = 0;
        r = clone3_with_tid(&want, 1);
        if (!(r == -1 && errno == EEXIST)) break;
    }
    if (r > 0) waitpid((pid_t)r, 0, 0);
    printf("clone3 set_tid of a free pid: %s\n", r == want ? "that pid" : r < 0 ? errname(errno) : "another pid");
}

static void shared_fs(void) {
    char before[256], after[256];
    if (chdir("/usr") != 0 || !getcwd(before, sizeof before)) return;
    mode_t old = umask(022);
    pid_t c = clone(fs_child, fs_stack + sizeof fs_stack, CLONE_FS | SIGCHLD, 0);
    status_of("CLONE_FS child", c);
    printf("CLONE_FS: cwd %s, umask %03o\n", getcwd(after, sizeof after) ? after : "?", (unsigned)umask(077));
    c = clone(fs_child_unshared, fs_stack + sizeof fs_stack, CLONE_FS | SIGCHLD, 0);
    status_of("CLONE_FS child that unshares", c);
    printf("after unshare: cwd %s, umask %03o\n", getcwd(after, sizeof after) ? after : "?", (unsigned)umask(old));
    T(unshare(0x1));  /* a flag that is no CLONE_*: EINVAL */
    T(unshare(CLONE_VM));  /* the memory of a process with several threads: EINVAL; here one thread */
}

static int task_count(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    setvbuf(stdout, 0, _IONBF, 0);
    self_exe = argv[0];
    if (argc == 3 && strcmp(argv[1], "execd") == 0) {
        printf("exec from a thread: same pid %s, tid is pid %s, threads %d\n",
               atol(argv[2]) == getpid() ? "yes" : "no", gettid_() == getpid() ? "yes" : "no", task_count());
        return 0;
    }
    main_tid = gettid_();
    show_bool("main thread's tid is the pid", main_tid == getpid());

    pthread_t th[16];
    for (long i = 0; i < 8; i++) pthread_create(&th[i], 0, add, (void *)i);
    long sum = 0;
    for (int i = 0; i < 8; i++) { void *r; pthread_join(th[i], &r); sum += (long)r; }
    printf("mutex: counter %ld, join values %ld\n", counter, sum);

    pthread_t many[64];
    counter = 0;
    for (int i = 0; i < 64; i++) pthread_create(&many[i], 0, add_a_little, 0);
    for (int i = 0; i < 64; i++) pthread_join(many[i], 0);
    printf("64 threads on one mutex: counter %ld\n", counter);
    int made = 0;
    for (int round = 0; round < 10; round++) {
        pthread_t batch[100];
        for (int i = 0; i < 100; i++) made += pthread_create(&batch[i], 0, quick, 0) == 0;
        for (int i = 0; i < 100; i++) pthread_join(batch[i], 0);
    }
    printf("1000 threads created and joined: %d\n", made);

    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &ma);
    pthread_create(&th[0], 0, die_holding, 0);
    pthread_join(th[0], 0);
    int rr = pthread_mutex_lock(&robust);
    printf("robust mutex whose owner thread ended: %s\n", rr == EOWNERDEAD ? "EOWNERDEAD" : errname(rr));
    T(pthread_mutex_consistent(&robust));
    T(pthread_mutex_unlock(&robust));
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&pi, &ma);
    for (int i = 0; i < 4; i++) pthread_create(&th[i], 0, pi_add, 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], 0);
    printf("priority-inheritance mutex, 4 threads: %ld\n", pi_count);

    pthread_create(&th[0], 0, producer, 0);
    pthread_create(&th[1], 0, consumer, 0);
    pthread_create(&th[2], 0, consumer, 0);
    void *c1, *c2;
    pthread_join(th[0], 0); pthread_join(th[1], &c1); pthread_join(th[2], &c2);
    printf("condition variable: consumed sum %ld\n", (long)c1 + (long)c2);

    pthread_barrier_init(&barrier, 0, 4);
    for (long i = 0; i < 4; i++) pthread_create(&th[i], 0, barrier_worker, (void *)i);
    long bad = 0;
    for (int i = 0; i < 4; i++) { void *r; pthread_join(th[i], &r); bad += (long)r; }
    printf("barrier: %ld rounds out of step\n", bad);
    pthread_barrier_destroy(&barrier);

    for (long i = 0; i < 2; i++) pthread_create(&th[i], 0, rw_writer, 0);
    for (long i = 2; i < 6; i++) pthread_create(&th[i], 0, rw_reader, 0);
    bad = 0;
    for (int i = 0; i < 6; i++) { void *r; pthread_join(th[i], &r); bad += i >= 2 ? (long)r : 0; }
    printf("rwlock: a %ld b %ld, torn reads %ld\n", shared_a, shared_b, bad);

    long good = 0;
    for (long i = 0; i < 4; i++) pthread_create(&th[i], 0, tls_worker, (void *)(100 + i));
    for (int i = 0; i < 4; i++) { void *r; pthread_join(th[i], &r); good += (long)r; }
    printf("thread-local storage and tids: %ld of 4 right, main's value %ld\n", good, tls_value);

    pthread_create(&th[0], 0, sleeper, 0);
    sleep_ms(20);
    void *res;
    T(pthread_cancel(th[0]));
    pthread_join(th[0], &res);
    show_bool("cancelled in pause", res == PTHREAD_CANCELED);

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, 0);
    sigaction(SIGUSR2, &sa, 0);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &block, 0);  /* main blocks SIGUSR2; the waiter does not */
    pthread_create(&th[0], 0, waiter, 0);
    while (!worker_tid) sched_yield();
    sleep_ms(20);
    T(pthread_kill(th[0], SIGUSR1));
    sleep_ms(50);
    show_bool("pthread_kill: the handler ran on that thread", handled_on == worker_tid && handled_sig == SIGUSR1);
    handled_on = 0;
    T(kill(getpid(), SIGUSR2));
    sleep_ms(50);
    show_bool("kill: taken by the thread that does not block it", handled_on == worker_tid && handled_sig == SIGUSR2);
    stop_waiting = 1;
    pthread_kill(th[0], SIGUSR1);
    pthread_join(th[0], 0);

    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, 0);
    pthread_create(&th[0], 0, sigwaiter, 0);
    sleep_ms(20);
    T(kill(getpid(), SIGINT));
    pthread_join(th[0], &res);
    printf("sigwait in a thread: %ld\n", (long)res);
    T(syscall(SYS_tgkill, getpid(), 999999, SIGUSR1));
    pid_t other = xfork();
    if (other == 0) { pause(); _exit(0); }
    T(syscall(SYS_tgkill, other, gettid_(), 0));  /* a thread of another process */
    kill(other, SIGKILL);
    waitpid(other, 0, 0);
    T(syscall(SYS_tkill, gettid_(), 0));

    for (int round = 0; round < 20; round++) {
        pthread_t q[10];
        for (long i = 0; i < 10; i++) pthread_create(&q[i], 0, quick, (void *)i);
        for (int i = 0; i < 10; i++) pthread_join(q[i], 0);
    }
    printf("200 short threads joined\n");
    pthread_attr_t detached;
    pthread_attr_init(&detached);
    pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 10; i++) pthread_create(&th[0], &detached, quick, 0);
    sleep_ms(20);

    pthread_barrier_init(&barrier, 0, 4);
    for (int i = 0; i < 3; i++) pthread_create(&th[i], 0, hold_and_wait, &barrier);
    pthread_barrier_wait(&barrier);
    printf("/proc/self/task with 3 more threads: %d\n", task_count());
    char name[16] = "";
    T(pthread_setname_np(th[0], "worker-0"));
    T(pthread_getname_np(th[0], name, sizeof name));
    printf("thread name: %s\n", name);
    for (int i = 0; i < 3; i++) { pthread_cancel(th[i]); pthread_join(th[i], 0); }
    (void)count_tasks;

    pid_t child = xfork();
    if (child == 0) {
        pthread_create(&th[0], 0, exit_later, (void *)7);
        pthread_exit(0);  /* the process goes on without its main thread */
    }
    status_of("main thread exits first, another calls exit(7)", child);

    child = xfork();
    if (child == 0) {
        for (int i = 0; i < 3; i++) pthread_create(&th[i], 0, spin, 0);
        pthread_create(&th[3], 0, exit_later, (void *)3);
        for (;;) pause();
    }
    status_of("exit from a thread while three others spin", child);

    child = xfork();
    if (child == 0) {
        for (int i = 0; i < 2; i++) pthread_create(&th[i], 0, spin, 0);
        pthread_create(&th[2], 0, exec_from_thread, 0);
        for (;;) pause();
    }
    status_of("exec from a thread", child);

    pthread_create(&th[0], 0, fork_from_thread, 0);
    pthread_join(th[0], 0);

    child = xfork();
    if (child == 0) {
        pthread_create(&th[0], 0, spin, 0);
        pthread_create(&th[1], 0, segv, 0);
        for (;;) pause();
    }
    status_of("SIGSEGV in a thread", child);

    child = xfork();
    if (child == 0) {
        pthread_barrier_init(&barrier, 0, 17);
        for (int i = 0; i < 8; i++) pthread_create(&th[i], 0, spin, 0);
        for (int i = 8; i < 16; i++) pthread_create(&th[i], 0, hold_and_wait, &barrier);
        /* 8 of them are blocked in the kernel, 8 run */
        for (int i = 0; i < 8; i++) pthread_create(&th[0], &detached, hold_and_wait, &barrier);
        pthread_barrier_wait(&barrier);
        for (;;) pause();
    }
    sleep_ms(100);
    kill(child, SIGKILL);
    status_of("a process of 24 threads killed", child);

    shared_fs();
    shared_vm();
    if (geteuid() == 0) chosen_tid();
    for (long i = 0; i < 2; i++) pthread_create(&th[i], 0, burn, (void *)(i + 1));
    long bits = 0;
    for (int i = 0; i < 2; i++) { void *r; pthread_join(th[i], &r); bits += (long)r; }
    printf("two busy threads: %ld\n", bits);
    printf("their CPU clocks: started near 0 %d, advanced %d\n", clock_fresh, clock_advanced);
    return 0;
}
