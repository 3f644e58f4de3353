/* pty.c: pseudo-terminals. A pair from posix_openpt with its locking and naming (ptsname, ttyname, TIOCGPTN,
 * TIOCGPTPEER, stat of /dev/pts/N), the slave's default modes, what the line discipline makes of input typed
 * at the master (line editing: erase, word erase, kill, EOF, ECHOCTL echo, ICRNL) and of output (ONLCR), raw
 * mode with VMIN/VTIME, FIONREAD, packet mode; then a child that makes the slave its controlling terminal:
 * its foreground group, ^C and a window-size change arriving as signals, /dev/tty, and the hang-up when the
 * master closes; and the master's EIO once every slave is closed. Output shows bytes with C escapes.
 */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

static void bytes(const char *what, const char *buf, ssize_t n) {
    printf("%s: ", what);
    if (n < 0) {
        printf("%s\n", errname(errno));
        return;
    }
    printf("%zd \"", n);
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\n') printf("\\n");
        else if (c == '\r') printf("\\r");
        else if (c == '\b') printf("\\b");
        else if (c < 32 || c >= 127) printf("\\x%02x", c);
        else putchar(c);
    }
    printf("\"\n");
}

/* Everything the master can read now (the other side has written it already). */
static void drain(const char *what, int master) {
    char buf[512];
    ssize_t total = 0, n;
    struct pollfd p = {master, POLLIN, 0};
    while (total < (ssize_t)sizeof buf && poll(&p, 1, 100) == 1 && (p.revents & POLLIN)) {
        n = read(master, buf + total, sizeof buf - total);
        if (n <= 0) break;
        total += n;
    }
    bytes(what, buf, total);
}

static void type(int master, const char *s) { (void)!write(master, s, strlen(s)); }

static volatile sig_atomic_t got_int, got_winch, got_hup;
static void on_sig(int s) {
    if (s == SIGINT) got_int++;
    if (s == SIGWINCH) got_winch++;
    if (s == SIGHUP) got_hup++;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("-- a pair\n");
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    printf("posix_openpt: %s\n", m >= 0 ? "ok" : errname(errno));
    printf("grantpt: %d\n", grantpt(m));
    char *name = ptsname(m);
    printf("ptsname: %s\n", name && strncmp(name, "/dev/pts/", 9) == 0 ? "/dev/pts/N" : "other");
    char path[64];
    snprintf(path, sizeof path, "%s", name);
    unsigned int n = 99;
    printf("TIOCGPTN agrees: %d\n", ioctl(m, TIOCGPTN, &n) == 0 && (int)n == atoi(path + 9));
    int locked = -1;
    ioctl(m, TIOCGPTLCK, &locked);
    printf("locked: %d\n", locked);
    int s = open(path, O_RDWR | O_NOCTTY);
    printf("open while locked: %s\n", s >= 0 ? "ok" : errname(errno));
    printf("unlockpt: %d\n", unlockpt(m));
    s = open(path, O_RDWR | O_NOCTTY);
    printf("open: %s\n", s >= 0 ? "ok" : errname(errno));
    printf("isatty master %d slave %d\n", isatty(m), isatty(s));
    char *tn = ttyname(s);
    printf("ttyname is ptsname: %d\n", tn && strcmp(tn, path) == 0);
    struct stat fs, ps;
    fstat(s, &fs);
    stat(path, &ps);
    printf("slave: chr %d major %u same inode %d same rdev %d\n", S_ISCHR(fs.st_mode), major(fs.st_rdev),
           fs.st_ino == ps.st_ino && fs.st_dev == ps.st_dev, fs.st_rdev == ps.st_rdev);
    printf("TIOCGPTN on slave: %s\n", ioctl(s, TIOCGPTN, &n) == 0 ? "ok" : errname(errno));
    int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    struct stat qs;
    fstat(peer, &qs);
    printf("TIOCGPTPEER: %s, same inode %d\n", peer >= 0 ? "ok" : errname(errno), qs.st_ino == fs.st_ino);
    close(peer);

    printf("-- default modes\n");
    struct termios t;
    tcgetattr(s, &t);
    printf("iflag %o oflag %o cflag %o lflag %o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
    printf("VINTR %d VQUIT %d VERASE %d VKILL %d VEOF %d VMIN %d VTIME %d VSUSP %d VWERASE %d\n", t.c_cc[VINTR],
           t.c_cc[VQUIT], t.c_cc[VERASE], t.c_cc[VKILL], t.c_cc[VEOF], t.c_cc[VMIN], t.c_cc[VTIME], t.c_cc[VSUSP],
           t.c_cc[VWERASE]);
    printf("speed %d\n", (int)cfgetospeed(&t) == B38400);
    struct termios m_t;
    printf("master: %s, iflag %o oflag %o cflag %o lflag %o\n", tcgetattr(m, &m_t) == 0 ? "ok" : errname(errno),
           m_t.c_iflag, m_t.c_oflag, m_t.c_cflag, m_t.c_lflag);

    printf("-- canonical input\n");
    char buf[256];
    struct { const char *typed, *what; } lines[] = {
        {"hello\n", "plain"}, {"ab\x7f" "c\n", "erase"}, {"foo bar\x17" "baz\n", "word erase"},
        {"xyz\x15" "abc\n", "kill"}, {"cr\r", "carriage return"}, {"\x01\x1b[A\n", "control characters"},
        {"q\x7f\x7f\n", "erase past the start"}, {"tab\t\x7f" "x\n", "erase a tab"},
    };
    for (unsigned i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        type(m, lines[i].typed);
        bytes(lines[i].what, buf, read(s, buf, sizeof buf));
        drain("  echo", m);
    }
    type(m, "two\nlines\n");
    bytes("first of two", buf, read(s, buf, sizeof buf));
    bytes("second of two", buf, read(s, buf, sizeof buf));
    type(m, "long line\n");
    bytes("4 bytes of a line", buf, read(s, buf, 4));
    bytes("the rest", buf, read(s, buf, sizeof buf));
    type(m, "abc\x04");
    bytes("EOF after text", buf, read(s, buf, sizeof buf));
    type(m, "\x04");
    bytes("EOF alone", buf, read(s, buf, sizeof buf));
    drain("  echo", m);
    int avail = -1;
    type(m, "partial");
    usleep(50000);  /* typed input reaches the line discipline asynchronously on Linux */
    ioctl(s, FIONREAD, &avail);
    printf("FIONREAD of an unfinished line: %d\n", avail);
    type(m, "\n");
    usleep(50000);
    ioctl(s, FIONREAD, &avail);
    printf("FIONREAD once finished: %d\n", avail);
    bytes("it", buf, read(s, buf, sizeof buf));
    drain("  echo", m);

    printf("-- output\n");
    (void)!write(s, "one\ntwo\n", 8);
    drain("ONLCR", m);
    int flags = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, flags | O_NONBLOCK);
    bytes("empty master, nonblocking", buf, read(m, buf, sizeof buf));
    fcntl(m, F_SETFL, flags);

    printf("-- raw mode\n");
    struct termios raw = t;
    cfmakeraw(&raw);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &raw);
    bytes("VMIN 0 VTIME 0, nothing typed", buf, read(s, buf, sizeof buf));
    raw.c_cc[VTIME] = 2;
    tcsetattr(s, TCSANOW, &raw);
    bytes("VMIN 0 VTIME 2, nothing typed", buf, read(s, buf, sizeof buf));
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &raw);
    type(m, "ab\x7f\x03\r\n");
    usleep(50000);
    ioctl(s, FIONREAD, &avail);
    printf("FIONREAD: %d\n", avail);
    bytes("raw input", buf, read(s, buf, sizeof buf));
    drain("  no echo", m);
    (void)!write(s, "a\nb", 3);
    drain("raw output", m);
    type(m, "left");
    usleep(50000);
    tcsetattr(s, TCSANOW, &t);
    bytes("raw input left when canonical again", buf, read(s, buf, sizeof buf));

    printf("-- packet mode\n");
    int one = 1;
    printf("TIOCPKT: %d\n", ioctl(m, TIOCPKT, &one));
    (void)!write(s, "x", 1);
    bytes("packet", buf, read(m, buf, sizeof buf));
    type(m, "gone\n");
    usleep(50000);
    tcflush(s, TCIFLUSH);
    bytes("status after the slave flushed its input", buf, read(m, buf, sizeof buf));
    int zero = 0;
    ioctl(m, TIOCPKT, &zero);

    printf("-- a controlling terminal\n");
    int ready[2], go[2];
    (void)!pipe(ready);
    (void)!pipe(go);
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        close(go[1]);
        close(m);
        struct sigaction sa = {0};
        sa.sa_handler = on_sig;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGWINCH, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        int other = open("/dev/tty", O_RDWR);
        printf("child: /dev/tty before: %s\n", other >= 0 ? "ok" : errname(errno));
        setsid();
        other = open("/dev/tty", O_RDWR);
        printf("child: /dev/tty after setsid: %s\n", other >= 0 ? "ok" : errname(errno));
        printf("child: TIOCSCTTY: %d\n", ioctl(s, TIOCSCTTY, 0));
        printf("child: foreground is me: %d, sid is me: %d\n", tcgetpgrp(s) == getpid(), tcgetsid(s) == getpid());
        int tty = open("/dev/tty", O_RDWR);
        printf("child: /dev/tty: %s, a tty %d\n", tty >= 0 ? "ok" : errname(errno), isatty(tty));
        printf("child: TIOCSCTTY again: %d\n", ioctl(s, TIOCSCTTY, 0));
        (void)!write(ready[1], "r", 1);
        ssize_t r = read(s, buf, sizeof buf);  /* ^C flushes and signals; the read goes on (SA_RESTART) */
        printf("child: read %zd, SIGINT %d\n", r, got_int);
        (void)!write(ready[1], "r", 1);
        (void)!read(go[0], buf, 1);
        struct winsize ws = {0};
        ioctl(tty, TIOCGWINSZ, &ws);
        printf("child: SIGWINCH %d, size %dx%d\n", got_winch, ws.ws_row, ws.ws_col);
        (void)!write(ready[1], "r", 1);
        r = read(s, buf, sizeof buf);  /* the master closes: the terminal hangs up */
        printf("child: read after hang-up %s, SIGHUP %d\n", r < 0 ? errname(errno) : r == 0 ? "0" : "data", got_hup);
        bytes("child: read again", buf, read(s, buf, sizeof buf));
        bytes("child: write after hang-up", buf, write(s, "x", 1));
        printf("child: /dev/tty after hang-up: %s\n", open("/dev/tty", O_RDWR) >= 0 ? "ok" : errname(errno));
        _exit(0);
    }
    close(ready[1]);
    close(go[0]);
    (void)!read(ready[0], buf, 1);
    usleep(100000);
    type(m, "never\x03" "after\n");
    (void)!read(ready[0], buf, 1);
    drain("  echo of ^C", m);
    struct winsize ws = {24, 80, 0, 0};
    ioctl(m, TIOCSWINSZ, &ws);
    (void)!write(go[1], "g", 1);
    (void)!read(ready[0], buf, 1);
    usleep(100000);
    close(s);
    close(m);
    int st;
    waitpid(pid, &st, 0);
    printf("child: %s %d\n", WIFEXITED(st) ? "exited" : "killed", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    printf("slave after the master closed: %s\n", open(path, O_RDWR | O_NOCTTY) >= 0 ? "ok" : errname(errno));

    printf("-- the slaves close\n");
    m = posix_openpt(O_RDWR | O_NOCTTY);
    unlockpt(m);
    s = open(ptsname(m), O_RDWR | O_NOCTTY);
    (void)!write(s, "bye", 3);
    close(s);
    struct pollfd p = {m, POLLIN, 0};
    poll(&p, 1, 1000);
    printf("poll: IN %d HUP %d\n", !!(p.revents & POLLIN), !!(p.revents & POLLHUP));
    bytes("left over", buf, read(m, buf, sizeof buf));
    bytes("then", buf, read(m, buf, sizeof buf));
    return 0;
}
