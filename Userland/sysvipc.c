/* sysvipc.c: System V shared memory, semaphores and message queues, between a process and its children.
 *
 * Natively this runs in the host's IPC namespace: every object is IPC_PRIVATE or has a key made from the pid,
 * everything made is removed, and only deterministic facts are printed (never ids, keys, pids or times).
 * Permission checks run as uid 65534 (a child that drops root first when the program runs as root), so that
 * the output is the same for root and for other users.
 */
#include "check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/wait.h>

#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif
#ifndef SHM_DEST
#define SHM_DEST 01000
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#ifndef MSG_EXCEPT
#define MSG_EXCEPT 020000
#endif

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

static void wait_child(const char *what, pid_t pid) {
    int st;
    if (waitpid(pid, &st, 0) != pid) {
        printf("%s: waitpid %s\n", what, errname(errno));
        return;
    }
    if (WIFEXITED(st))
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
    else
        printf("%s: signal %d\n", what, WTERMSIG(st));
}

/* What a child that runs alongside its parent saw, printed by the parent once the child is gone. */
static char *report;
#define NOTE(...) snprintf(report + strlen(report), 4096 - strlen(report), __VA_ARGS__)

static void wait_report(const char *what, pid_t pid) {
    wait_child(what, pid);
    printf("%s", report);
    report[0] = 0;
}

static void on_alarm(int sig) { (void)sig; }

/* A signal that interrupts a blocked call in about 50 ms (SA_RESTART: System V IPC calls never restart). */
static void alarm_soon(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, 0);
}

static long nattch(int id) {
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) == -1) return -1;
    return (long)ds.shm_nattch;
}

/* Waits (up to 5 s) until `n` tasks wait on semaphore `num` for it to grow (GETNCNT) or be zero (GETZCNT). */
static int wait_count(int id, int num, int cmd, int n) {
    for (int i = 0; i < 500; i++) {
        if (semctl(id, num, cmd) == n) return 1;
        sleep_ms(10);
    }
    return 0;
}

static void shm_tests(void) {
    printf("== shm\n");
    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    show_ok("shmget private", id);
    struct shmid_ds ds;
    T(shmctl(id, IPC_STAT, &ds));
    printf("segsz %zu nattch %lu mode %o key %d cpid self %s\n", ds.shm_segsz, (unsigned long)ds.shm_nattch,
           ds.shm_perm.mode & 0777, ds.shm_perm.__key, ds.shm_cpid == getpid() ? "yes" : "no");
    char *p = shmat(id, 0, 0);
    show_bool("shmat", p != (void *)-1);
    show_bool("page aligned", ((uintptr_t)p & 4095) == 0);
    printf("nattch %ld\n", nattch(id));
    T(shmctl(id, IPC_STAT, &ds));
    printf("lpid self %s atime set %s\n", ds.shm_lpid == getpid() ? "yes" : "no", ds.shm_atime != 0 ? "yes" : "no");
    printf("zero filled %s\n", p[0] == 0 && p[9999] == 0 ? "yes" : "no");
    strcpy(p, "from parent");
    p[9999] = 'z';
    p[12287] = 'y';  /* the rest of the last page is there too */

    pid_t c = xfork();
    if (c == 0) {
        printf("child sees: %s, nattch %ld\n", p, nattch(id));
        strcpy(p + 100, "from child");
        _exit(0);
    }
    wait_child("fork child", c);
    printf("parent sees: %s, nattch %ld\n", p + 100, nattch(id));

    /* A second attachment aliases the first. */
    char *q = shmat(id, 0, 0);
    show_bool("second shmat", q != (void *)-1 && q != p);
    printf("nattch %ld\n", nattch(id));
    q[200] = 'Q';
    printf("alias: %c\n", p[200]);
    T(shmdt(q));
    printf("nattch %ld\n", nattch(id));

    /* Read-only attachments. */
    char *r = shmat(id, 0, SHM_RDONLY);
    show_bool("shmat SHM_RDONLY", r != (void *)-1);
    printf("reads: %s\n", r);
    T(mprotect(r, 4096, PROT_READ | PROT_WRITE));
    c = xfork();
    if (c == 0) {
        r[0] = 'x';
        _exit(0);
    }
    wait_child("write to SHM_RDONLY", c);
    T(shmdt(r));

    /* Addresses: SHM_RND rounds down, a misaligned address is EINVAL without it, an address in use is EINVAL
     * without SHM_REMAP, SHM_REMAP needs an address. */
    char *area = mmap(0, 8 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(area, 8 * 4096);
    char *at = shmat(id, area + 123, SHM_RND);
    show_bool("SHM_RND rounds down", at == area);
    T(shmdt(at));
    errno = 0;
    show("misaligned", (long)shmat(id, area + 123, 0));
    show("SHM_REMAP at 0", (long)shmat(id, 0, SHM_REMAP));
    char *busy = mmap(area, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    show("over a mapping", (long)shmat(id, busy, 0));
    at = shmat(id, busy, SHM_REMAP);
    show_bool("SHM_REMAP over a mapping", at == busy);
    printf("remapped reads: %s\n", at);
    /* shmdt finds the pieces of an attachment that mprotect split. */
    T(mprotect(at + 4096, 4096, PROT_READ));
    printf("nattch after split %ld\n", nattch(id));
    T(shmdt(at + 4096));
    T(shmdt(at));
    printf("nattch %ld\n", nattch(id));
    T(shmdt(at));
    T(shmdt(p + 1));
    T(shmdt(0));

    /* IPC_RMID while attached: the segment stays until the last detach, under key IPC_PRIVATE. */
    int key = (getpid() << 8) | 0x5a;
    int kid = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    show_ok("shmget key", kid);
    T(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600));
    T(shmget(key, 8192, 0));
    show_bool("shmget key again", shmget(key, 0, 0) == kid);
    show_bool("shmget key smaller", shmget(key, 100, IPC_CREAT) == kid);
    T(shmget(key + 1, 4096, 0));
    char *k = shmat(kid, 0, 0);
    strcpy(k, "kept");
    T(shmctl(kid, IPC_RMID, 0));
    T(shmctl(kid, IPC_STAT, &ds));
    printf("after rmid: dest %s key %d nattch %lu\n", ds.shm_perm.mode & SHM_DEST ? "yes" : "no", ds.shm_perm.__key,
           (unsigned long)ds.shm_nattch);
    T(shmget(key, 4096, 0));
    printf("still reads: %s\n", k);
    c = xfork();
    if (c == 0) {
        printf("child nattch %ld\n", nattch(kid));
        _exit(0);
    }
    wait_child("rmid child", c);
    T(shmdt(k));
    T(shmctl(kid, IPC_STAT, &ds));

    /* An attachment goes with exec and exit: a child that exits while attached. */
    c = xfork();
    if (c == 0) {
        shmat(id, 0, 0);
        printf("child attached: nattch %ld\n", nattch(id));
        _exit(0);
    }
    wait_child("attached child", c);
    printf("nattch %ld\n", nattch(id));

    /* IPC_SET, the INFO commands, SHM_STAT. */
    ds.shm_perm.mode = 0640;
    T(shmctl(id, IPC_STAT, &ds));
    ds.shm_perm.mode = 0640;
    T(shmctl(id, IPC_SET, &ds));
    T(shmctl(id, IPC_STAT, &ds));
    printf("mode %o\n", ds.shm_perm.mode & 0777);
    ds.shm_perm.uid = (uid_t)-1;
    T(shmctl(id, IPC_SET, &ds));
    struct shminfo info;
    show_ok("IPC_INFO", shmctl(0, IPC_INFO, (struct shmid_ds *)&info));
    printf("shmmin %lu shmmni %lu\n", info.shmmin, info.shmmni);
    struct shm_info sinfo;
    show_ok("SHM_INFO", shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo));
    show_bool("used_ids", sinfo.used_ids >= 1);
    int index = shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo), found = 0;
    for (int i = 0; i <= index; i++) {
        struct shmid_ds s2;
        if (shmctl(i, SHM_STAT, &s2) == id) found = 1;
    }
    show_bool("SHM_STAT finds it", found);
    T(shmctl(id, SHM_LOCK, 0));
    T(shmctl(id, IPC_STAT, &ds));
    printf("locked %s\n", ds.shm_perm.mode & 02000 ? "yes" : "no");
    T(shmctl(id, SHM_UNLOCK, 0));

    /* Errors. */
    T(shmget(IPC_PRIVATE, 0, 0600));
    T(shmat(-1, 0, 0));
    T(shmat(0x7ffffff0, 0, 0));
    T(shmctl(-1, IPC_STAT, &ds));
    T(shmctl(id, 99, &ds));
    T(shmctl(id, IPC_STAT, BAD_PTR));
    T(shmctl(id, IPC_SET, BAD_PTR));
    T(shmdt(p));
    T(shmctl(id, IPC_RMID, 0));
    T(shmctl(id, IPC_STAT, &ds));
    T(shmctl(id, IPC_RMID, 0));
}

static void sem_tests(void) {
    printf("== sem\n");
    int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    show_ok("semget private", id);
    struct semid_ds ds;
    union semun arg = {.buf = &ds};
    T(semctl(id, 0, IPC_STAT, arg));
    printf("nsems %lu mode %o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777);
    T(semctl(id, 0, GETVAL));
    T(semctl(id, 0, SETVAL, (union semun){.val = 5}));
    T(semctl(id, 0, GETVAL));
    show_bool("GETPID self", semctl(id, 0, GETPID) == getpid());
    unsigned short vals[3] = {1, 2, 3}, got[3] = {0};
    T(semctl(id, 0, SETALL, (union semun){.array = vals}));
    T(semctl(id, 0, GETALL, (union semun){.array = got}));
    printf("values %d %d %d\n", got[0], got[1], got[2]);

    /* All or nothing; IPC_NOWAIT on the operation that would wait. */
    struct sembuf two[2] = {{0, -1, 0}, {1, -5, IPC_NOWAIT}};
    T(semop(id, two, 2));
    printf("sem0 unchanged: %d\n", semctl(id, 0, GETVAL));
    struct sembuf ok[2] = {{0, -1, 0}, {2, 4, 0}};
    T(semop(id, ok, 2));
    printf("after: %d %d\n", semctl(id, 0, GETVAL), semctl(id, 2, GETVAL));
    struct sembuf same[2] = {{1, -2, 0}, {1, 1, 0}};
    T(semop(id, same, 2));
    printf("sem1 %d\n", semctl(id, 1, GETVAL));
    struct sembuf zero = {0, 0, IPC_NOWAIT};
    T(semop(id, &zero, 1));

    /* Limits and bad input. */
    T(semctl(id, 0, SETVAL, (union semun){.val = 32768}));
    T(semctl(id, 0, SETVAL, (union semun){.val = -1}));
    T(semctl(id, 3, SETVAL, (union semun){.val = 1}));
    T(semctl(id, 3, GETVAL));
    struct sembuf big = {2, 32767, 0};
    T(semop(id, &big, 1));
    struct sembuf many[501];
    memset(many, 0, sizeof many);
    T(semop(id, many, 501));
    T(semop(id, many, 0));
    struct sembuf past = {3, 1, 0};
    T(semop(id, &past, 1));
    T(semop(id, BAD_PTR, 1));
    T(semop(-1, &past, 1));
    T(semctl(id, 0, 99));
    T(semctl(id, 0, IPC_STAT, (union semun){.buf = BAD_PTR}));
    T(semget(IPC_PRIVATE, -1, 0600));
    T(semget(IPC_PRIVATE, 32001, 0600));
    struct timespec bad = {0, 1000000000};
    struct sembuf wait1 = {0, -100, 0};
    T(semtimedop(id, &wait1, 1, &bad));
    T(semtimedop(id, &wait1, 1, BAD_PTR));

    /* Timeouts: EAGAIN. */
    struct timespec zero_ts = {0, 0}, short_ts = {0, 50000000};
    T(semtimedop(id, &wait1, 1, &zero_ts));
    T(semtimedop(id, &wait1, 1, &short_ts));
    struct sembuf up = {0, 1, 0};
    T(semtimedop(id, &up, 1, &zero_ts));  /* one that goes through does not wait */

    /* A waiter is completed by the change that lets it go: the unit is its before the poster's next call. */
    semctl(id, 0, SETVAL, (union semun){.val = 0});
    pid_t c = xfork();
    if (c == 0) {
        struct sembuf down = {0, -1, 0};
        int r = semop(id, &down, 1);
        NOTE("child semop: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    show_bool("GETNCNT 1", wait_count(id, 0, GETNCNT, 1));
    T(semctl(id, 0, GETZCNT));
    struct sembuf post = {0, 1, 0}, take = {0, -1, IPC_NOWAIT};
    T(semop(id, &post, 1));
    T(semop(id, &take, 1));
    wait_report("waiter", c);
    T(semctl(id, 0, GETNCNT));

    /* Waiting for zero. */
    semctl(id, 1, SETVAL, (union semun){.val = 2});
    c = xfork();
    if (c == 0) {
        struct sembuf z = {1, 0, 0};
        int r = semop(id, &z, 1);
        NOTE("child zero: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    show_bool("GETZCNT 1", wait_count(id, 1, GETZCNT, 1));
    struct sembuf dec1 = {1, -1, 0};
    T(semop(id, &dec1, 1));
    T(semctl(id, 1, GETZCNT));
    T(semop(id, &dec1, 1));
    wait_report("zero waiter", c);

    /* Several waiters, in order. */
    semctl(id, 2, SETVAL, (union semun){.val = 0});
    pid_t w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = xfork();
        if (w[i] == 0) {
            struct sembuf d = {2, -1, 0};
            _exit(semop(id, &d, 1) == 0 ? 0 : errno);
        }
        wait_count(id, 2, GETNCNT, i + 1);
    }
    struct sembuf three = {2, 3, 0};
    T(semop(id, &three, 1));
    for (int i = 0; i < 3; i++) wait_child("waiter", w[i]);
    T(semctl(id, 2, GETVAL));

    /* SEM_UNDO: what a process did is undone when it exits, clamped at 0. */
    semctl(id, 0, SETVAL, (union semun){.val = 3});
    c = xfork();
    if (c == 0) {
        struct sembuf u[2] = {{0, 2, SEM_UNDO}, {1, 1, SEM_UNDO}};
        semop(id, u, 2);
        printf("child sees %d %d\n", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));
        _exit(0);
    }
    wait_child("undo child", c);
    printf("after undo %d %d, GETPID child %s\n", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL),
           semctl(id, 0, GETPID) == c ? "yes" : "no");
    c = xfork();
    if (c == 0) {
        struct sembuf u = {0, -3, SEM_UNDO};
        semop(id, &u, 1);
        semctl(id, 0, SETVAL, (union semun){.val = 1});  /* SETVAL forgets the adjustment */
        _exit(0);
    }
    wait_child("undo cleared", c);
    T(semctl(id, 0, GETVAL));
    c = xfork();
    if (c == 0) {
        struct sembuf u = {0, 5, SEM_UNDO};
        semop(id, &u, 1);
        struct sembuf d = {0, -6, 0};
        semop(id, &d, 1);
        _exit(0);
    }
    wait_child("undo clamped", c);
    T(semctl(id, 0, GETVAL));

    /* A signal ends a wait with EINTR, even with SA_RESTART. */
    c = xfork();
    if (c == 0) {
        alarm_soon();
        struct sembuf d = {0, -1, 0};
        T(semop(id, &d, 1));
        _exit(0);
    }
    wait_child("EINTR", c);
    T(semctl(id, 0, GETNCNT));

    /* IPC_SET; IPC_RMID wakes waiters with EIDRM. */
    arg.buf = &ds;
    semctl(id, 0, IPC_STAT, arg);
    ds.sem_perm.mode = 0640;
    T(semctl(id, 0, IPC_SET, arg));
    semctl(id, 0, IPC_STAT, arg);
    printf("mode %o\n", ds.sem_perm.mode & 0777);
    c = xfork();
    if (c == 0) {
        struct sembuf d = {0, -1, 0};
        int r = semop(id, &d, 1);
        NOTE("child semop: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    wait_count(id, 0, GETNCNT, 1);
    T(semctl(id, 0, IPC_RMID));
    wait_report("EIDRM", c);
    T(semctl(id, 0, GETVAL));

    /* Keys; the INFO commands. */
    int key = (getpid() << 8) | 0x5b;
    int kid = semget(key, 2, IPC_CREAT | IPC_EXCL | 0600);
    show_ok("semget key", kid);
    T(semget(key, 3, 0));
    show_bool("semget key again", semget(key, 1, 0) == kid);
    T(semget(key, 2, IPC_CREAT | IPC_EXCL));
    struct seminfo si;
    show_ok("IPC_INFO", semctl(0, 0, IPC_INFO, (union semun){.buf = (struct semid_ds *)&si}));
    printf("semmsl %d semopm %d semvmx %d\n", si.semmsl, si.semopm, si.semvmx);
    show_ok("SEM_INFO", semctl(0, 0, SEM_INFO, (union semun){.buf = (struct semid_ds *)&si}));
    show_bool("semusz", si.semusz >= 1);
    T(semctl(kid, 0, IPC_RMID));
}

struct msg {
    long type;
    char text[64];
};

static long send_text(int id, long type, const char *text, int flags) {
    struct msg m = {type, {0}};
    strcpy(m.text, text);
    return msgsnd(id, &m, strlen(text) + 1, flags);
}

/* Prints what msgrcv got, or notes it in the report (in a child that runs alongside its parent). */
static void receive_to(int note, int id, long type, size_t size, int flags) {
    struct msg m = {0, {0}};
    errno = 0;
    long n = msgrcv(id, &m, size, type, flags);
    char line[128];
    if (n == -1)
        snprintf(line, sizeof line, "msgrcv %ld: %s\n", type, errname(errno));
    else
        snprintf(line, sizeof line, "msgrcv %ld: %ld bytes, type %ld, %.*s\n", type, n, m.type, (int)n, m.text);
    if (note)
        NOTE("%s", line);
    else
        printf("%s", line);
}
static void receive(int id, long type, size_t size, int flags) { receive_to(0, id, type, size, flags); }

static void msg_tests(void) {
    printf("== msg\n");
    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    show_ok("msgget private", id);
    T(send_text(id, 3, "three", 0));
    T(send_text(id, 1, "one", 0));
    T(send_text(id, 2, "two", 0));
    T(send_text(id, 1, "one again", 0));
    struct msqid_ds ds;
    T(msgctl(id, IPC_STAT, &ds));
    printf("qnum %lu cbytes %lu qbytes %lu lspid self %s\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
           (unsigned long)ds.msg_qbytes, ds.msg_lspid == getpid() ? "yes" : "no");
    receive(id, 2, 64, MSG_COPY | IPC_NOWAIT);  /* the third message, left in the queue */
    receive(id, 9, 64, MSG_COPY | IPC_NOWAIT);
    receive(id, 0, 64, MSG_COPY);
    receive(id, 2, 64, 0);
    receive(id, -3, 64, 0);
    receive(id, 1, 64, MSG_EXCEPT);
    receive(id, 1, 2, 0);
    receive(id, 1, 2, MSG_NOERROR);
    receive(id, 0, 64, IPC_NOWAIT);
    T(msgctl(id, IPC_STAT, &ds));
    printf("qnum %lu cbytes %lu lrpid self %s\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
           ds.msg_lrpid == getpid() ? "yes" : "no");

    /* Errors. */
    T(send_text(id, 0, "x", 0));
    struct msg m = {1, {0}};
    T(msgsnd(id, &m, 8193, 0));
    T(msgsnd(id, BAD_PTR, 1, 0));
    T(msgsnd(-1, &m, 1, 0));
    T(msgsnd(0x7ffffff0, &m, 1, 0));
    T(msgrcv(id, &m, 8, 0, MSG_COPY));
    T(msgrcv(id, &m, 8, 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT));
    T(msgrcv(id, &m, (size_t)-1, 0, IPC_NOWAIT));
    T(msgctl(id, 99, &ds));
    T(msgctl(id, IPC_STAT, BAD_PTR));
    T(send_text(id, 4, "", 0));
    receive(id, 4, 0, 0);
    receive(id, 4, 0, MSG_NOERROR);

    /* A blocked receiver is handed the message it waits for: it is not in the queue after. */
    pid_t c = xfork();
    if (c == 0) {
        receive_to(1, id, 7, 64, 0);
        _exit(0);
    }
    sleep_ms(200);
    T(send_text(id, 5, "five", 0));
    T(send_text(id, 7, "seven", 0));
    receive(id, 7, 64, IPC_NOWAIT);
    wait_report("receiver", c);
    receive(id, 0, 64, IPC_NOWAIT);

    /* A receiver whose buffer is too small fails with E2BIG. */
    c = xfork();
    if (c == 0) {
        receive_to(1, id, 0, 2, 0);
        _exit(0);
    }
    sleep_ms(200);
    T(send_text(id, 6, "six", 0));
    wait_report("small receiver", c);
    receive(id, 0, 64, IPC_NOWAIT);

    /* A full queue: a sender waits for room (or EAGAIN with IPC_NOWAIT). */
    T(msgctl(id, IPC_STAT, &ds));
    ds.msg_qbytes = 10;
    T(msgctl(id, IPC_SET, &ds));
    T(send_text(id, 1, "123456", 0));
    T(send_text(id, 1, "789", IPC_NOWAIT));
    c = xfork();
    if (c == 0) {
        int r = send_text(id, 2, "789", 0);
        NOTE("child msgsnd: %s\n", r == 0 ? "0" : errname(errno));
        _exit(0);
    }
    sleep_ms(200);
    receive(id, 0, 64, 0);
    wait_report("sender", c);
    receive(id, 0, 64, IPC_NOWAIT);
    ds.msg_qbytes = 16384;
    T(msgctl(id, IPC_SET, &ds));

    /* EINTR, EIDRM. */
    c = xfork();
    if (c == 0) {
        alarm_soon();
        receive(id, 0, 64, 0);
        _exit(0);
    }
    wait_child("EINTR", c);
    c = xfork();
    if (c == 0) {
        receive_to(1, id, 0, 64, 0);
        _exit(0);
    }
    sleep_ms(200);
    T(msgctl(id, IPC_RMID, 0));
    wait_report("EIDRM", c);
    T(msgctl(id, IPC_STAT, &ds));

    /* Keys; the INFO commands. */
    int key = (getpid() << 8) | 0x5c;
    int kid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    show_ok("msgget key", kid);
    show_bool("msgget key again", msgget(key, 0) == kid);
    T(msgget(key, IPC_CREAT | IPC_EXCL));
    T(msgget(key + 1, 0));
    struct msginfo mi;
    show_ok("IPC_INFO", msgctl(0, IPC_INFO, (struct msqid_ds *)&mi));
    printf("msgmax %d msgmnb %d msgssz %d msgseg %d\n", mi.msgmax, mi.msgmnb, mi.msgssz, mi.msgseg);
    T(msgctl(kid, IPC_RMID, 0));
}

/* Permission checks, as a user that is not root. */
static void permission_tests(void) {
    printf("== permissions\n");
    int shm = shmget(IPC_PRIVATE, 4096, 0400);
    T(shmat(shm, 0, 0));
    void *p = shmat(shm, 0, SHM_RDONLY);
    show_bool("read-only shmat", p != (void *)-1);
    shmdt(p);
    struct shmid_ds ds;
    T(shmctl(shm, IPC_STAT, &ds));
    int none = shmget(IPC_PRIVATE, 4096, 0);
    T(shmctl(none, IPC_STAT, &ds));
    T(shmat(none, 0, SHM_RDONLY));
    T(shmctl(none, IPC_RMID, 0));
    T(shmctl(shm, IPC_RMID, 0));
    int key = (getpid() << 8) | 0x5d;
    int k = shmget(key, 4096, IPC_CREAT | 0400);
    T(shmget(key, 4096, 0600));
    show_bool("shmget 0400", shmget(key, 4096, 0400) == k);
    shmctl(k, IPC_RMID, 0);

    int sem = semget(IPC_PRIVATE, 1, 0400);
    struct sembuf up = {0, 1, 0}, z = {0, 0, IPC_NOWAIT};
    T(semop(sem, &up, 1));
    T(semop(sem, &z, 1));
    T(semctl(sem, 0, SETVAL, (union semun){.val = 1}));
    T(semctl(sem, 0, GETVAL));
    T(semctl(sem, 0, IPC_RMID));

    int msg = msgget(IPC_PRIVATE, 0200);
    T(send_text(msg, 1, "w", 0));
    receive(msg, 0, 64, IPC_NOWAIT);
    struct msqid_ds mds;
    T(msgctl(msg, IPC_STAT, &mds));
    memset(&mds, 0, sizeof mds);
    mds.msg_qbytes = 100000;
    mds.msg_perm.mode = 0600;
    T(msgctl(msg, IPC_SET, &mds));
    T(msgctl(msg, IPC_RMID, 0));
}

static void proc_tests(void) {
    printf("== /proc/sysvipc\n");
    int id = shmget(IPC_PRIVATE, 5000, 0640);
    char *p = shmat(id, 0, 0);
    const char *files[] = {"/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg"};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(files[i], "r");
        if (!f) {
            printf("%s: %s\n", files[i], errname(errno));
            continue;
        }
        char line[512];
        if (fgets(line, sizeof line, f)) printf("%s", line);
        while (i == 0 && fgets(line, sizeof line, f)) {
            int key, shmid, fields;
            unsigned perms, nattch;
            unsigned long size;
            fields = sscanf(line, "%d %d %o %lu %*d %*d %u", &key, &shmid, &perms, &size, &nattch);
            if (fields == 5 && shmid == id) printf("row: perms %o size %lu nattch %u\n", perms, size, nattch);
        }
        fclose(f);
    }
    shmdt(p);
    shmctl(id, IPC_RMID, 0);
    const char *sys[] = {"shmmni", "shmmax", "shmall", "sem", "msgmax", "msgmnb", "msgmni"};
    for (int i = 0; i < 7; i++) {
        char path[64], line[128] = "";
        snprintf(path, sizeof path, "/proc/sys/kernel/%s", sys[i]);
        FILE *f = fopen(path, "r");
        if (f && fgets(line, sizeof line, f)) printf("%s: %s", sys[i], line);
        else printf("%s: missing\n", sys[i]);
        if (f) fclose(f);
    }
}

int main(void) {
    setvbuf(stdout, 0, _IOLBF, 0);
    report = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (report == MAP_FAILED) return 1;
    shm_tests();
    sem_tests();
    msg_tests();
    pid_t c = xfork();
    if (c == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
            printf("setuid: %s\n", errname(errno));
            _exit(1);
        }
        permission_tests();
        _exit(0);
    }
    wait_child("permissions", c);
    proc_tests();
    return 0;
}
