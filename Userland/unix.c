/* unix.c: AF_UNIX sockets (net/unix/af_unix.c). socketpair of each type: data both ways, read/write and
 * send/recv with MSG_PEEK, MSG_DONTWAIT and MSG_WAITALL, readv/writev and sendmsg/recvmsg, message boundaries
 * of datagram and seqpacket pairs, shutdown and close (end of file, EPIPE with and without MSG_NOSIGNAL), the
 * socket options, the names, fstat, FIONREAD and poll; SCM_RIGHTS (a pipe passed over a pair, a short or
 * missing control buffer, a bad fd); then a stream server on a path in a fresh directory
 * under /tmp and on an abstract name, with forked clients (bind, listen, connect, accept, echo, EADDRINUSE,
 * ECONNREFUSED, a full backlog), the errors of hostile arguments; datagrams sent to a path or abstract
 * name and connected datagram sockets, a /dev/log-style server; recvmmsg and sendmmsg; SCM_CREDENTIALS; the
 * pending error (sk_err) and a datagram socket's reconnect; the collection of sockets in flight; MSG_OOB. */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

static void show_poll(const char *what, int fd) {
    struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    int r = poll(&p, 1, 0);
    printf("%s: %d%s%s%s%s\n", what, r, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
           p.revents & POLLHUP ? " HUP" : "", p.revents & POLLRDHUP ? " RDHUP" : "");
}

static void show_recv(const char *what, int fd, size_t len, int flags) {
    char buf[256] = {0};
    errno = 0;
    ssize_t r = recv(fd, buf, len < sizeof buf ? len : sizeof buf, flags);
    if (r < 0)
        printf("%s: %s\n", what, errname(errno));
    else
        printf("%s: %zd \"%.*s\"\n", what, r, (int)(r < (ssize_t)len ? r : (ssize_t)len), buf);
}

static int sockopt(int fd, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &len) < 0) return -errno;
    return v;
}

static int sigpipes;
static void on_pipe(int sig) { (void)sig; sigpipes++; }

static void pairs(void) {
    int sv[2];
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    T(write(sv[0], "hello", 5));
    T(send(sv[1], "world!", 6, 0));
    show_recv("peek", sv[1], 3, MSG_PEEK);
    show_recv("read 1", sv[1], 10, 0);
    show_recv("read 0", sv[0], 10, 0);
    show_recv("empty dontwait", sv[0], 10, MSG_DONTWAIT);
    int n = 0;
    T(write(sv[1], "abcdefg", 7));
    T(ioctl(sv[0], FIONREAD, &n));
    printf("FIONREAD: %d\n", n);
    show_poll("poll readable", sv[0]);
    show_recv("read part", sv[0], 3, 0);
    show_recv("read rest", sv[0], 10, 0);
    show_poll("poll idle", sv[0]);

    struct iovec wv[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
    T(writev(sv[0], wv, 3));
    char x[2], y[8] = {0};
    struct iovec rv[2] = {{x, 2}, {y, 8}};
    T(readv(sv[1], rv, 2));
    printf("readv: %.2s %s\n", x, y);
    struct msghdr mh = {0};
    struct iovec mv[2] = {{"sendmsg", 7}, {"!", 1}};
    mh.msg_iov = mv;
    mh.msg_iovlen = 2;
    T(sendmsg(sv[1], &mh, 0));
    char rb[16] = {0};
    struct iovec rmv = {rb, sizeof rb};
    struct msghdr rm = {0};
    rm.msg_iov = &rmv;
    rm.msg_iovlen = 1;
    T(recvmsg(sv[0], &rm, 0));
    printf("recvmsg: %s flags %d controllen %zu\n", rb, rm.msg_flags, (size_t)rm.msg_controllen);

    /* options, names, fstat */
    printf("SO_TYPE %d SO_DOMAIN %d SO_PROTOCOL %d SO_ERROR %d SO_ACCEPTCONN %d\n", sockopt(sv[0], SO_TYPE),
           sockopt(sv[0], SO_DOMAIN), sockopt(sv[0], SO_PROTOCOL), sockopt(sv[0], SO_ERROR), sockopt(sv[0], SO_ACCEPTCONN));
    int v = 8192;
    T(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    printf("SO_SNDBUF after 8192: %d\n", sockopt(sv[0], SO_SNDBUF));
    v = 1;
    T(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    printf("SO_RCVBUF after 1: %d\n", sockopt(sv[0], SO_RCVBUF));
    T(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, 2));
    T(setsockopt(sv[0], SOL_SOCKET, 9999, &v, sizeof v));
    T(setsockopt(sv[0], 6, 1, &v, sizeof v));
    v = 5;
    T(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &v, sizeof v));
    printf("SO_PASSCRED: %d\n", sockopt(sv[0], SO_PASSCRED));
    struct ucred cred;
    socklen_t clen = sizeof cred;
    T(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cred, &clen));
    printf("peercred pid is mine: %s, uid %s, len %u\n", cred.pid == getpid() ? "yes" : "no",
           cred.uid == geteuid() ? "euid" : "other", clen);
    clen = 2;
    T(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &clen));
    printf("short optlen: %u\n", clen);
    clen = -1;
    T(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &clen));
    T(syscall(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, BAD_PTR, &clen));
    struct sockaddr_un sa;
    socklen_t salen = sizeof sa;
    memset(&sa, 0x55, sizeof sa);
    T(getsockname(sv[0], (struct sockaddr *)&sa, &salen));
    printf("getsockname: family %d len %u\n", sa.sun_family, salen);
    salen = sizeof sa;
    T(getpeername(sv[0], (struct sockaddr *)&sa, &salen));
    printf("getpeername: family %d len %u\n", sa.sun_family, salen);
    struct stat st;
    T(fstat(sv[0], &st));
    show_bool("S_ISSOCK", S_ISSOCK(st.st_mode));
    char link[64], path[64] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", sv[0]);
    T_OK(readlink(link, path, sizeof path - 1));
    printf("fd link starts socket:[ %s\n", strncmp(path, "socket:[", 8) == 0 ? "yes" : "no");
    T(lseek(sv[0], 0, SEEK_SET));

    /* shutdown and close */
    T(shutdown(sv[0], SHUT_WR));
    show_poll("poll after peer SHUT_WR", sv[1]);
    show_recv("read after peer SHUT_WR", sv[1], 10, 0);
    T(send(sv[0], "x", 1, MSG_NOSIGNAL));
    T(send(sv[1], "back", 4, 0));
    show_recv("other way still open", sv[0], 10, 0);
    T(shutdown(sv[0], 7));
    T(shutdown(sv[0], SHUT_RDWR));
    show_poll("poll after SHUT_RDWR", sv[0]);
    T(close(sv[0]));
    show_poll("poll after peer close", sv[1]);
    show_recv("read after peer close", sv[1], 10, 0);
    T(send(sv[1], "x", 1, MSG_NOSIGNAL));
    signal(SIGPIPE, on_pipe);
    T(write(sv[1], "x", 1));
    printf("SIGPIPEs: %d\n", sigpipes);
    signal(SIGPIPE, SIG_DFL);
    T(close(sv[1]));

    /* non-blocking: fill the pair */
    T(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    T(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    T(fcntl(sv[0], F_GETFD));
    static char big[65536];
    long total = 0, r;
    while ((r = write(sv[0], big, sizeof big)) > 0) total += r;
    printf("fill ends: %s, some written: %s\n", errname(errno), total > 0 ? "yes" : "no");
    show_poll("poll full writer", sv[0]);
    long got = 0;
    while ((r = read(sv[1], big, sizeof big)) > 0) got += r;
    printf("drained all: %s (%s)\n", got == total ? "yes" : "no", errname(errno));
    T(close(sv[0]));
    T(close(sv[1]));

    /* a blocking reader woken by a child; MSG_WAITALL across writes */
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid_t pid = xfork();
    if (pid == 0) {
        close(sv[0]);
        struct ucred c;
        socklen_t l = sizeof c;
        getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &c, &l);
        sleep_ms(20);
        write(sv[1], c.pid == getppid() ? "parent" : "nobody", 6);
        sleep_ms(20);
        write(sv[1], "12345", 5);
        sleep_ms(20);
        write(sv[1], "67890", 5);
        _exit(0);
    }
    close(sv[1]);
    show_recv("blocking read", sv[0], 6, 0);
    show_recv("waitall", sv[0], 10, MSG_WAITALL);
    show_recv("eof", sv[0], 10, MSG_WAITALL);
    waitpid(pid, NULL, 0);
    close(sv[0]);

    /* a writer blocked on a full pair whose peer closes gets back what it wrote */
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    pid = xfork();
    if (pid == 0) {
        static char huge[1 << 20];
        close(sv[0]);
        signal(SIGPIPE, SIG_IGN);
        ssize_t r = write(sv[1], huge, sizeof huge);
        _exit(r > 0 && r < (ssize_t)sizeof huge ? 3 : r < 0 && errno == EPIPE ? 4 : 5);
    }
    close(sv[1]);
    sleep_ms(50);
    close(sv[0]);
    int status;
    waitpid(pid, &status, 0);
    printf("blocked writer: exit %d\n", WEXITSTATUS(status));

    /* datagrams and seqpackets keep their boundaries */
    int types[2] = {SOCK_DGRAM, SOCK_SEQPACKET};
    for (int i = 0; i < 2; i++) {
        printf("-- %s\n", i ? "seqpacket" : "dgram");
        T(socketpair(AF_UNIX, types[i], 0, sv));
        printf("SO_TYPE %d\n", sockopt(sv[1], SO_TYPE));
        T(send(sv[0], "one", 3, 0));
        T(send(sv[0], "", 0, 0));
        T(send(sv[0], "three33", 7, 0));
        T(ioctl(sv[1], FIONREAD, &n));
        printf("FIONREAD: %d\n", n);
        show_recv("first", sv[1], 10, 0);
        show_recv("empty", sv[1], 10, 0);
        show_recv("truncated", sv[1], 5, MSG_TRUNC);
        show_recv("none", sv[1], 10, MSG_DONTWAIT);
        T(send(sv[1], "12345678", 8, 0));
        memset(rb, 0, sizeof rb);
        rmv.iov_len = 4;
        rm.msg_flags = 0;
        T(recvmsg(sv[0], &rm, 0));
        printf("recvmsg trunc: %s flags %s\n", rb, rm.msg_flags & MSG_TRUNC ? "TRUNC" : "-");
        T(close(sv[1]));
        T(send(sv[0], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT));
        show_recv("after peer close", sv[0], 10, MSG_DONTWAIT);
        T(close(sv[0]));
    }
}

/* SCM_RIGHTS: a pipe's read end passed over a pair, a short control buffer, a bad fd */
static int send_fds(int sock, const int *fds, int n, const char *data) {
    char control[CMSG_SPACE(sizeof(int) * 4)] = {0};
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    return sendmsg(sock, &mh, 0);
}

static void rights(void) {
    int sv[2], p[2];
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    T(pipe(p));
    int two[2] = {p[0], p[1]};
    T(send_fds(sv[0], two, 2, "fds"));
    T(send(sv[0], "after", 5, 0));
    char buf[16] = {0}, control[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    T(recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    printf("data %s, controllen %zu, flags %d, level %d type %d len %zu\n", buf, (size_t)mh.msg_controllen,
           mh.msg_flags, c ? c->cmsg_level : -1, c ? c->cmsg_type : -1, c ? (size_t)c->cmsg_len : 0);
    if (c) {
        int got[2];
        memcpy(got, CMSG_DATA(c), sizeof got);
        T(fcntl(got[0], F_GETFD));
        T(write(got[1], "through", 7));
        memset(buf, 0, sizeof buf);
        T(read(p[0], buf, 7));
        printf("pipe carried: %s, new fds differ: %s\n", buf, got[0] != p[0] && got[1] != p[1] ? "yes" : "no");
        close(got[0]);
        close(got[1]);
    }
    show_recv("rest of stream", sv[1], 16, 0);
    /* a control buffer with room for one: MSG_CTRUNC */
    T(send_fds(sv[0], two, 2, "x"));
    mh.msg_controllen = CMSG_SPACE(sizeof(int));
    mh.msg_flags = 0;
    T(recvmsg(sv[1], &mh, 0));
    c = CMSG_FIRSTHDR(&mh);
    printf("short: controllen %zu, CTRUNC %s, len %zu\n", (size_t)mh.msg_controllen, mh.msg_flags & MSG_CTRUNC ? "yes" : "no",
           c ? (size_t)c->cmsg_len : 0);
    if (c) { int fd; memcpy(&fd, CMSG_DATA(c), sizeof fd); close(fd); }
    /* no control buffer at all */
    T(send_fds(sv[0], two, 1, "y"));
    mh.msg_control = NULL;
    mh.msg_controllen = 0;
    mh.msg_flags = 0;
    T(recvmsg(sv[1], &mh, 0));
    printf("none: CTRUNC %s\n", mh.msg_flags & MSG_CTRUNC ? "yes" : "no");
    int bad[1] = {999};
    T(send_fds(sv[0], bad, 1, "z"));
    T(send_fds(sv[0], two, 1, "d") >= 0);
    T(recv(sv[1], buf, sizeof buf, 0));
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

static void errors(void) {
    int sv[2];
    T(socket(AF_INET6 + 100, SOCK_STREAM, 0));
    T(socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
    T(socket(AF_UNIX, 9, 0));
    T(socket(AF_UNIX, SOCK_STREAM, 7));
    T(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, BAD_PTR));
    T(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, NULL));
    int fd = open("/dev/null", O_RDONLY);
    T(listen(fd, 1));
    T(shutdown(fd, SHUT_RD));
    T(getsockopt(-1, SOL_SOCKET, SO_TYPE, &fd, NULL));
    close(fd);
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    T(send(sv[0], BAD_PTR, 10, 0));
    T(recv(sv[0], BAD_PTR, 10, MSG_DONTWAIT));
    struct sockaddr_un sa = {AF_UNIX, "/nonexistent-umk/x"};
    T(send(sv[0], "", 0, 0));
    show_recv("no empty message", sv[1], 10, MSG_DONTWAIT);
    T(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&sa, sizeof sa));
    T(connect(sv[0], (struct sockaddr *)&sa, sizeof sa));
    T(listen(sv[0], 1));
    T(accept(sv[0], NULL, NULL));
    T(syscall(SYS_getsockname, sv[0], BAD_PTR, BAD_PTR));
    struct msghdr mh = {0};
    mh.msg_iovlen = 5000;
    T(syscall(SYS_sendmsg, sv[0], &mh, 0));
    T(syscall(SYS_sendmsg, sv[0], BAD_PTR, 0));
    close(sv[0]);
    close(sv[1]);
}

static void server(const char *dir) {
    char path[200];
    snprintf(path, sizeof path, "%s/sock", dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    T(connect(c, (struct sockaddr *)&sa, len));
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    T(listen(s, 1));
    T(bind(s, (struct sockaddr *)&sa, 1));
    T(bind(s, (struct sockaddr *)&sa, sizeof sa + 1));
    sa.sun_family = AF_INET;
    T(bind(s, (struct sockaddr *)&sa, len));
    sa.sun_family = AF_UNIX;
    umask(022);
    T(bind(s, (struct sockaddr *)&sa, len));
    T(bind(s, (struct sockaddr *)&sa, len));
    struct stat st;
    T(stat(path, &st));
    printf("node: sock %s mode %o\n", S_ISSOCK(st.st_mode) ? "yes" : "no", st.st_mode & 07777);
    int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
    T(bind(s2, (struct sockaddr *)&sa, len));
    T(connect(c, (struct sockaddr *)&sa, len));
    struct sockaddr_un got;
    socklen_t glen = sizeof got;
    T(getsockname(s, (struct sockaddr *)&got, &glen));
    printf("bound name: %s len ok %s\n", got.sun_path + strlen(dir), glen == len ? "yes" : "no");
    T(listen(s, 1));
    printf("SO_ACCEPTCONN %d\n", sockopt(s, SO_ACCEPTCONN));
    show_poll("listener idle", s);
    T(syscall(SYS_accept4, s, NULL, NULL, SOCK_NONBLOCK | 0x10));
    int nb = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, nb | O_NONBLOCK);
    T(accept(s, NULL, NULL));
    fcntl(s, F_SETFL, nb);

    /* a full backlog: the nonblocking connector gets EAGAIN */
    int cs[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        errno = 0;
        int r = connect(cs[i], (struct sockaddr *)&sa, len);
        printf("connect %d: %s\n", i, r == 0 ? "0" : errname(errno));
    }
    show_poll("listener pending", s);
    for (int i = 0; i < 2; i++) {
        glen = sizeof got;
        int a = accept(s, (struct sockaddr *)&got, &glen);
        printf("accepted: %s peer len %u\n", a >= 0 ? "ok" : errname(errno), glen);
        struct ucred cr;
        socklen_t cl = sizeof cr;
        getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cr, &cl);
        printf("peer pid is mine: %s\n", cr.pid == getpid() ? "yes" : "no");
        glen = sizeof got;
        getsockname(a, (struct sockaddr *)&got, &glen);
        printf("accepted socket name len ok %s\n", glen == len ? "yes" : "no");
        close(a);
    }
    for (int i = 0; i < 4; i++) close(cs[i]);


    /* an echo server for forked clients */
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = xfork();
        if (pids[i] == 0) {
            int fd = socket(AF_UNIX, SOCK_STREAM, 0);
            if (connect(fd, (struct sockaddr *)&sa, len) < 0) _exit(1);
            struct sockaddr_un peer;
            socklen_t pl = sizeof peer;
            getpeername(fd, (struct sockaddr *)&peer, &pl);
            char msg[32];
            int n = snprintf(msg, sizeof msg, "client %d %s", i, strcmp(peer.sun_path, path) == 0 ? "named" : "?");
            write(fd, msg, n);
            char back[32] = {0};
            read(fd, back, sizeof back - 1);
            _exit(strcmp(back, msg) == 0 ? 0 : 2);
        }
        int a = accept(s, NULL, NULL);
        char buf[64] = {0};
        ssize_t n = read(a, buf, sizeof buf - 1);
        printf("server got: %s\n", buf);
        write(a, buf, n);
        int status;
        waitpid(pids[i], &status, 0);
        printf("client %d exit %d\n", i, WEXITSTATUS(status));
        close(a);
    }

    /* unlink leaves the bound socket working by its fd; the name is gone */
    T(unlink(path));
    T(connect(c, (struct sockaddr *)&sa, len));
    T(close(s));
    T(mknod(path, S_IFSOCK | 0600, 0));
    T(connect(c, (struct sockaddr *)&sa, len));
    T(unlink(path));
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/none/x", dir);
    T(connect(c, (struct sockaddr *)&sa, sizeof sa));
    close(c);
    close(s2);

    /* an abstract name */
    int a1 = socket(AF_UNIX, SOCK_STREAM, 0), a2 = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    char name[32];
    snprintf(name, sizeof name, "umk-test-%d", getpid());
    memcpy(ab.sun_path + 1, name, strlen(name));
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
    T(bind(a1, (struct sockaddr *)&ab, alen));
    T(bind(a2, (struct sockaddr *)&ab, alen));
    T(listen(a1, 4));
    int cl = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    T(connect(cl, (struct sockaddr *)&ab, alen));
    close(cl);
    cl = socket(AF_UNIX, SOCK_STREAM, 0);
    T(connect(cl, (struct sockaddr *)&ab, alen));
    int ac = accept(a1, NULL, NULL);
    T(send(cl, "abstract", 8, 0));
    show_recv("abstract echo", ac, 20, 0);
    glen = sizeof got;
    T(getsockname(a1, (struct sockaddr *)&got, &glen));
    printf("abstract name len ok %s, first byte %d\n", glen == alen ? "yes" : "no", got.sun_path[0]);
    close(ac);
    close(cl);
    close(a1);
    close(a2);
    /* autobind: a bare family */
    int au = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(bind(au, (struct sockaddr *)&ab, offsetof(struct sockaddr_un, sun_path)));
    glen = sizeof got;
    T(getsockname(au, (struct sockaddr *)&got, &glen));
    printf("autobind len %u first byte %d\n", glen, got.sun_path[0]);
    close(au);
}

/* Datagrams to an address: sendto a bound SOCK_DGRAM socket by path and abstract name, the errors of a missing,
 * unbound or wrong-type target, connect of a datagram socket (send without an address, EISCONN, a socket
 * connected elsewhere refusing others), recvfrom's sender address, and a /dev/log-style server. */
static void show_from(const char *what, int fd) {
    char buf[64] = {0};
    struct sockaddr_un from;
    memset(&from, 0x55, sizeof from);
    socklen_t fl = sizeof from;
    errno = 0;
    ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (r < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    int named = fl > offsetof(struct sockaddr_un, sun_path);
    printf("%s: %zd \"%.*s\" len %u family %d %s\n", what, r, (int)r, buf, fl, from.sun_family,
           !named ? "unnamed" : from.sun_path[0] ? strrchr(from.sun_path, '/') : "abstract");
}

static void datagrams(const char *dir) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX}, ca = {.sun_family = AF_UNIX}, na = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/log", dir);
    snprintf(ca.sun_path, sizeof ca.sun_path, "%s/client", dir);
    snprintf(na.sun_path, sizeof na.sun_path, "%s/none", dir);
    socklen_t slen = offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path) + 1;
    socklen_t clen = offsetof(struct sockaddr_un, sun_path) + strlen(ca.sun_path) + 1;
    socklen_t nlen = offsetof(struct sockaddr_un, sun_path) + strlen(na.sun_path) + 1;
    int c = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(sendto(c, "x", 1, 0, (struct sockaddr *)&sa, slen));
    T(send(c, "x", 1, 0));
    T(write(c, "x", 1));
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(bind(s, (struct sockaddr *)&sa, slen));
    T(sendto(c, "hello", 5, 0, (struct sockaddr *)&sa, slen));
    show_from("from unbound", s);
    show_from("empty", s);
    /* a socket file nobody has bound any more */
    int gone = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(bind(gone, (struct sockaddr *)&na, nlen));
    close(gone);
    T(sendto(c, "x", 1, 0, (struct sockaddr *)&na, nlen));
    T(connect(c, (struct sockaddr *)&na, nlen));
    /* a stream socket and a seqpacket socket bound to a path */
    int st = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sta = {.sun_family = AF_UNIX};
    snprintf(sta.sun_path, sizeof sta.sun_path, "%s/stream", dir);
    socklen_t stlen = offsetof(struct sockaddr_un, sun_path) + strlen(sta.sun_path) + 1;
    T(bind(st, (struct sockaddr *)&sta, stlen));
    T(sendto(c, "x", 1, 0, (struct sockaddr *)&sta, stlen));
    T(connect(c, (struct sockaddr *)&sta, stlen));
    T(listen(st, 1));
    T(sendto(c, "x", 1, 0, (struct sockaddr *)&sta, stlen));
    int sq = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    T(sendto(sq, "x", 1, 0, (struct sockaddr *)&sa, slen));
    T(connect(sq, (struct sockaddr *)&sa, slen));
    close(sq);
    unlink(sta.sun_path);
    close(st);
    /* a bound sender is named */
    T(bind(c, (struct sockaddr *)&ca, clen));
    T(sendto(c, "named", 5, 0, (struct sockaddr *)&sa, slen));
    show_from("from named", s);
    /* abstract names */
    struct sockaddr_un aa = {.sun_family = AF_UNIX};
    memcpy(aa.sun_path, "\0umk-dgram-test", 15);
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 15;
    int as = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(sendto(c, "x", 1, 0, (struct sockaddr *)&aa, alen));
    T(bind(as, (struct sockaddr *)&aa, alen));
    T(sendto(c, "abstract", 8, 0, (struct sockaddr *)&aa, alen));
    show_from("abstract", as);
    int ast = socket(AF_UNIX, SOCK_STREAM, 0);
    T(sendto(ast, "x", 1, 0, (struct sockaddr *)&aa, alen));
    close(ast);
    /* sendmsg with an address */
    struct iovec v = {"msg", 3};
    struct msghdr m = {.msg_name = &sa, .msg_namelen = slen, .msg_iov = &v, .msg_iovlen = 1};
    T(sendmsg(c, &m, 0));
    show_from("sendmsg", s);
    m.msg_namelen = 1;
    T(sendmsg(c, &m, 0));
    m.msg_name = BAD_PTR;
    m.msg_namelen = slen;
    T(sendmsg(c, &m, 0));
    /* connect: send without an address, EISCONN-free sendto elsewhere, write */
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(connect(d, (struct sockaddr *)&sa, slen));
    T(connect(d, (struct sockaddr *)&sa, slen));
    T(send(d, "one", 3, 0));
    T(write(d, "two", 3));
    T(sendto(d, "three", 5, 0, (struct sockaddr *)&aa, alen));
    show_from("connected 1", s);
    show_from("connected 2", s);
    show_from("connected 3", as);
    struct sockaddr_un pn;
    socklen_t pl = sizeof pn;
    T(getpeername(d, (struct sockaddr *)&pn, &pl));
    printf("peer len %u %s\n", pl, strrchr(pn.sun_path, '/'));
    pl = sizeof pn;
    T(getpeername(c, (struct sockaddr *)&pn, &pl));
    /* the server connects to the client: others may no longer send to it */
    T(connect(s, (struct sockaddr *)&ca, clen));
    T(send(d, "x", 1, 0));
    T(sendto(as, "x", 1, 0, (struct sockaddr *)&sa, slen));
    T(sendto(c, "from peer", 9, 0, (struct sockaddr *)&sa, slen));
    show_from("peer only", s);
    T(send(s, "back", 4, 0));
    show_from("reply", c);
    /* dissolve the association with AF_UNSPEC */
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    T(connect(s, &un, sizeof un));
    T(send(d, "again", 5, 0));
    show_from("after unspec", s);
    T(send(s, "x", 1, 0));
    /* the connected peer closes */
    int e = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(connect(e, (struct sockaddr *)&aa, alen));
    close(as);
    T(send(e, "x", 1, 0));
    T(send(e, "x", 1, 0));
    close(e);
    close(d);
    /* a /dev/log-style server: several forked clients send to one path */
    for (int i = 0; i < 3; i++) {
        if (fork() == 0) {
            int k = socket(AF_UNIX, SOCK_DGRAM, 0);
            char line[32];
            int n = snprintf(line, sizeof line, "<13>client %d", i);
            if (sendto(k, line, n, 0, (struct sockaddr *)&sa, slen) != n) _exit(1);
            _exit(0);
        }
        int status;
        wait(&status);
        printf("client %d exit %d\n", i, WEXITSTATUS(status));
    }
    for (int i = 0; i < 3; i++) show_from("log", s);
    close(s);
    close(c);
    unlink(sa.sun_path);
    unlink(ca.sun_path);
    unlink(na.sun_path);
}

/* recvmmsg and sendmmsg: msg_len of each entry, a partial batch, MSG_WAITFORONE, a zero timeout, vlen past
 * UIO_MAXIOV, bad vectors and flags. */
static void batches(void) {
    int sv[2];
    T(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    char out[3][8] = {"a", "bb", "ccc"};
    struct iovec ov[3];
    struct mmsghdr om[3];
    memset(om, 0, sizeof om);
    for (int i = 0; i < 3; i++) {
        ov[i].iov_base = out[i];
        ov[i].iov_len = strlen(out[i]);
        om[i].msg_hdr.msg_iov = &ov[i];
        om[i].msg_hdr.msg_iovlen = 1;
    }
    T(sendmmsg(sv[0], om, 3, 0));
    printf("msg_len %u %u %u\n", om[0].msg_len, om[1].msg_len, om[2].msg_len);
    char in[4][8];
    struct iovec iv[4];
    struct mmsghdr im[4];
    memset(im, 0, sizeof im);
    memset(in, 0, sizeof in);
    for (int i = 0; i < 4; i++) {
        iv[i].iov_base = in[i];
        iv[i].iov_len = sizeof in[i];
        im[i].msg_hdr.msg_iov = &iv[i];
        im[i].msg_hdr.msg_iovlen = 1;
    }
    T(recvmmsg(sv[1], im, 4, MSG_DONTWAIT, NULL));
    printf("got %s %s %s len %u %u %u\n", in[0], in[1], in[2], im[0].msg_len, im[1].msg_len, im[2].msg_len);
    T(recvmmsg(sv[1], im, 4, MSG_DONTWAIT, NULL));
    T(sendmmsg(sv[0], om, 2, 0));
    T(recvmmsg(sv[1], im, 4, MSG_WAITFORONE, NULL));
    T(sendmmsg(sv[0], om, 3, 0));
    struct timespec zero = {0, 0};
    T(recvmmsg(sv[1], im, 4, 0, &zero));
    printf("zero timeout left %ld %ld\n", (long)zero.tv_sec, zero.tv_nsec);
    struct timespec bad = {0, 2000000000};
    T(recvmmsg(sv[1], im, 4, 0, &bad));
    T(recvmmsg(sv[1], im, 4, MSG_DONTWAIT, NULL));
    T(recvmmsg(sv[1], im, 0, 0, NULL));
    T(sendmmsg(sv[0], om, 0, 0));
    T(sendmmsg(sv[0], BAD_PTR, 1, 0));
    T(recvmmsg(sv[1], BAD_PTR, 1, MSG_DONTWAIT, NULL));
    T(sendmmsg(sv[0], om, 1, 0));
    T(recvmmsg(sv[1], BAD_PTR, 1, MSG_DONTWAIT, NULL));
    T(recvmmsg(sv[1], im, 1, MSG_DONTWAIT, BAD_PTR));
    T(recvmmsg(sv[1], im, 1, MSG_DONTWAIT, NULL));
    T(syscall(SYS_sendmmsg, sv[0], om, 1, 0x80000000));
    T(syscall(SYS_recvmmsg, sv[1], im, 1, 0x80000000 | MSG_DONTWAIT, NULL));
    T(sendmmsg(-1, om, 1, 0));
    T(recvmmsg(0 + 2000, im, 1, 0, NULL));
    /* a bad entry after a good one: the count of the good ones */
    struct mmsghdr two[2];
    memset(two, 0, sizeof two);
    two[0] = om[0];
    two[1].msg_hdr.msg_iov = BAD_PTR;
    two[1].msg_hdr.msg_iovlen = 1;
    T(sendmmsg(sv[0], two, 2, 0));
    T(recvmmsg(sv[1], im, 4, MSG_DONTWAIT, NULL));
    /* vlen past UIO_MAXIOV: 1024 entries at most */
    int big[2];
    T(socketpair(AF_UNIX, SOCK_DGRAM, 0, big));
    int sz = 1 << 20;
    setsockopt(big[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    struct mmsghdr *many = calloc(1100, sizeof *many);
    static char one = 'x';
    struct iovec ox = {&one, 1};
    for (int i = 0; i < 1100; i++) {
        many[i].msg_hdr.msg_iov = &ox;
        many[i].msg_hdr.msg_iovlen = 1;
    }
    T(sendmmsg(big[0], many, 1100, MSG_DONTWAIT));
    free(many);
    close(big[0]);
    close(big[1]);
    /* a blocking recvmmsg waits for its whole batch from a child */
    if (fork() == 0) {
        for (int i = 0; i < 3; i++) {
            usleep(20000);
            send(sv[0], out[i], strlen(out[i]), 0);
        }
        _exit(0);
    }
    memset(in, 0, sizeof in);
    T(recvmmsg(sv[1], im, 3, 0, NULL));
    printf("batch %s %s %s\n", in[0], in[1], in[2]);
    wait(NULL);
    close(sv[0]);
    close(sv[1]);
}

/* SCM_CREDENTIALS: SO_PASSCRED on the receiver gives each message the sender's pid, uid and gid, before any
 * SCM_RIGHTS; a short control buffer; explicit credentials (own ids pass, others EPERM or ESRCH, a bad
 * length EINVAL); a sender with SO_PASSCRED autobinds. */
static void show_creds(const char *what, int fd, size_t room) {
    char data[16] = {0};
    union {
        struct cmsghdr h;
        char buf[256];
    } c;
    memset(&c, 0, sizeof c);
    struct iovec v = {data, sizeof data};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = room};
    errno = 0;
    ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT);
    if (r < 0) {
        printf("%s: %s\n", what, errname(errno));
        return;
    }
    printf("%s: %zd \"%s\" controllen %zu flags%s%s\n", what, r, data, (size_t)m.msg_controllen,
           m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "", m.msg_flags & MSG_TRUNC ? " TRUNC" : "");
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS && h->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred u;
            memcpy(&u, CMSG_DATA(h), sizeof u);
            printf("  creds len %zu pid mine %d uid mine %d gid mine %d\n", (size_t)h->cmsg_len, u.pid == getpid(),
                   u.uid == getuid(), u.gid == getgid());
        } else {
            printf("  cmsg level %d type %d len %zu\n", h->cmsg_level, h->cmsg_type, (size_t)h->cmsg_len);
        }
    }
}

static int send_creds(int fd, pid_t pid, uid_t uid, gid_t gid, size_t len) {
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(struct ucred))];
    } c;
    memset(&c, 0, sizeof c);
    struct iovec v = {"cred", 4};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
    c.h.cmsg_level = SOL_SOCKET;
    c.h.cmsg_type = SCM_CREDENTIALS;
    c.h.cmsg_len = len;
    struct ucred u = {pid, uid, gid};
    memcpy(CMSG_DATA(&c.h), &u, sizeof u);
    return sendmsg(fd, &m, 0);
}

static void credentials(void) {
    int sv[2], on = 1;
    T(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    T(send(sv[0], "before", 6, 0));
    T(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    show_creds("queued before", sv[1], 256);
    T(send(sv[0], "plain", 5, 0));
    show_creds("passcred", sv[1], 256);
    T(write(sv[0], "write", 5));
    show_creds("short", sv[1], 20);
    T(send(sv[0], "tiny", 4, 0));
    show_creds("tiny", sv[1], 8);
    T(send_creds(sv[0], getpid(), getuid(), getgid(), CMSG_LEN(sizeof(struct ucred))));
    show_creds("explicit", sv[1], 256);
    T(send_creds(sv[0], getpid(), getuid(), getgid(), CMSG_LEN(sizeof(struct ucred)) - 1));
    T(send_creds(sv[0], 0x3ffffff0, getuid(), getgid(), CMSG_LEN(sizeof(struct ucred))));
    if (getuid() != 0) {
        T(send_creds(sv[0], getpid(), getuid() + 1, getgid(), CMSG_LEN(sizeof(struct ucred))));
        T(send_creds(sv[0], getpid(), getuid(), getgid() + 1, CMSG_LEN(sizeof(struct ucred))));
    }
    /* with files: the credentials come first */
    int p[2];
    T(pipe(p));
    T(send_fds(sv[0], p, 1, "fd"));
    show_creds("with rights", sv[1], 256);
    close(p[0]);
    close(p[1]);
    /* from a child: its own pid */
    if (fork() == 0) {
        send(sv[0], "child", 5, 0);
        _exit(0);
    }
    wait(NULL);
    char data[8];
    union {
        struct cmsghdr h;
        char buf[64];
    } c;
    struct iovec v = {data, sizeof data};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof c.buf};
    T(recvmsg(sv[1], &m, 0));
    struct ucred u;
    memcpy(&u, CMSG_DATA(&c.h), sizeof u);
    printf("child pid differs %d, positive %d\n", u.pid != getpid(), u.pid > 0);
    /* a sender with SO_PASSCRED and no name autobinds */
    int snd = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(setsockopt(snd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    struct sockaddr_un me;
    socklen_t ml = sizeof me;
    T(getsockname(snd, (struct sockaddr *)&me, &ml));
    printf("before send len %u\n", ml);
    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    memcpy(ab.sun_path, "\0umk-cred-test", 14);
    socklen_t alen = offsetof(struct sockaddr_un, sun_path) + 14;
    int rcv = socket(AF_UNIX, SOCK_DGRAM, 0);
    T(bind(rcv, (struct sockaddr *)&ab, alen));
    T(sendto(snd, "auto", 4, 0, (struct sockaddr *)&ab, alen));
    ml = sizeof me;
    T(getsockname(snd, (struct sockaddr *)&me, &ml));
    printf("after send len %u first byte %d\n", ml, me.sun_path[0]);
    show_from("autobound sender", rcv);
    /* a stream pair */
    int st[2];
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, st));
    T(setsockopt(st[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    T(send(st[0], "stream", 6, 0));
    show_creds("stream", st[1], 256);
    close(st[0]);
    close(st[1]);
    close(snd);
    close(rcv);
    close(sv[0]);
    close(sv[1]);
}

static int bound_dgram(const char *name) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path + 1, name, strlen(name));
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (bind(fd, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name)) < 0)
        printf("bind %s: %s\n", name, errname(errno));
    return fd;
}

static int connect_dgram(int fd, const char *name) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path + 1, name, strlen(name));
    return connect(fd, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void show_send(const char *what, int fd, const char *data) {
    errno = 0;
    ssize_t r = send(fd, data, strlen(data), MSG_NOSIGNAL | MSG_DONTWAIT);
    printf("%s: %s\n", what, r < 0 ? errname(errno) : "sent");
}

/* sk_err: what a partial recvmmsg hit is answered by the next call; a datagram socket that connects elsewhere
 * drops its queue and resets a peer connected back; a stream closed with data unread resets its peer. */
static void resets(void) {
    int sv[2];
    T(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    T(send(sv[0], "a", 1, 0));
    T(send(sv[0], "b", 1, 0));
    T(send(sv[0], "c", 1, 0));
    char in[2][8] = {{0}};
    struct iovec iv = {in[0], sizeof in[0]};
    struct mmsghdr im[2];
    memset(im, 0, sizeof im);
    im[0].msg_hdr.msg_iov = &iv;
    im[0].msg_hdr.msg_iovlen = 1;
    im[1].msg_hdr.msg_iov = (struct iovec *)1;
    im[1].msg_hdr.msg_iovlen = 1;
    T(recvmmsg(sv[1], im, 2, MSG_DONTWAIT, NULL));
    show_recv("after partial recvmmsg", sv[1], 8, MSG_DONTWAIT);
    show_recv("then", sv[1], 8, MSG_DONTWAIT);
    T(recvmmsg(sv[1], im, 2, MSG_DONTWAIT, NULL));
    int e1 = sockopt(sv[1], SO_ERROR), e2 = sockopt(sv[1], SO_ERROR);
    printf("SO_ERROR %d then %d\n", e1, e2);
    show_recv("last", sv[1], 8, MSG_DONTWAIT);
    close(sv[0]);
    close(sv[1]);

    int a = bound_dgram("umk-reset-a"), b = bound_dgram("umk-reset-b"), c = bound_dgram("umk-reset-c");
    T(connect_dgram(a, "umk-reset-b"));
    T(connect_dgram(b, "umk-reset-a"));
    T(send(b, "1", 1, 0));
    T(connect_dgram(a, "umk-reset-b"));
    show_recv("same peer keeps", a, 8, MSG_DONTWAIT);
    T(send(b, "2", 1, 0));
    T(connect_dgram(a, "umk-reset-c"));
    show_recv("new peer drops", a, 8, MSG_DONTWAIT);
    show_recv("old peer", b, 8, MSG_DONTWAIT);
    show_recv("old peer again", b, 8, MSG_DONTWAIT);
    show_send("old peer sends", b, "3");
    T(connect_dgram(c, "umk-reset-a"));
    T(send(c, "4", 1, 0));
    T(connect_dgram(a, "umk-reset-c"));
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    T(connect(a, &unspec, sizeof unspec));
    show_recv("disconnect drops", a, 8, MSG_DONTWAIT);
    printf("SO_ERROR c %d\n", sockopt(c, SO_ERROR));
    close(b);
    T(connect_dgram(a, "umk-reset-c"));
    T(send(c, "5", 1, 0));
    close(c);
    show_send("peer gone", a, "6");
    show_recv("peer gone drops", a, 8, MSG_DONTWAIT);
    close(a);

    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    T(write(sv[1], "zz", 2));
    T(write(sv[0], "hi", 2));
    close(sv[0]);
    struct pollfd p = {sv[1], POLLIN, 0};
    T(poll(&p, 1, 0));
    printf("revents %#x\n", p.revents);
    show_recv("data first", sv[1], 8, 0);
    show_recv("then reset", sv[1], 8, 0);
    show_recv("then end", sv[1], 8, 0);
    show_send("write", sv[1], "x");
    close(sv[1]);

    int l = socket(AF_UNIX, SOCK_STREAM, 0), k = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un la = {.sun_family = AF_UNIX};
    strcpy(la.sun_path + 1, "umk-reset-l");
    socklen_t ll = offsetof(struct sockaddr_un, sun_path) + 12;
    T(bind(l, (struct sockaddr *)&la, ll));
    T(listen(l, 1));
    T(connect(k, (struct sockaddr *)&la, ll));
    close(l);
    show_recv("listener gone", k, 8, 0);
    show_recv("then end", k, 8, 0);
    close(k);
}

/* Garbage collection (net/unix/garbage.c): a socket reachable only through SCM_RIGHTS messages queued in
 * sockets that are themselves unreachable is freed: its peer sees the end of the stream, its name is free. */
static void garbage(void) {
    int ends = 0, sends = 0, errors = 0;
    for (int i = 0; i < 8; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) { errors++; break; }
        if (send_fds(sv[1], &sv[0], 1, "x") == 1) sends++;  /* sv[0] queued in its own queue */
        close(sv[0]);
        /* Linux collects from a work queue, run when sockets are released: close some until it has. */
        struct pollfd p = {sv[1], POLLIN, 0};
        for (int j = 0; j < 200 && poll(&p, 1, 0) == 0; j++) {
            close(socket(AF_UNIX, SOCK_STREAM, 0));
            usleep(10000);
        }
        char c;
        if (poll(&p, 1, 0) == 1 && read(sv[1], &c, 1) == 0) ends++;
        close(sv[1]);
    }
    printf("self cycles: %d sent, %d ends seen, %d errors\n", sends, ends, errors);
    sends = 0;
    for (int i = 0; i < 500; i++) {
        int sv[2], type = i % 3 == 0 ? SOCK_STREAM : i % 3 == 1 ? SOCK_DGRAM : SOCK_SEQPACKET;
        if (socketpair(AF_UNIX, type, 0, sv) < 0) { errors++; break; }
        if (send_fds(sv[0], sv, 2, "y") == 1) sends++;  /* both ends queued in sv[1] */
        if (send_fds(sv[1], sv, 2, "z") == 1) sends++;  /* and in sv[0] */
        close(sv[0]);
        close(sv[1]);
    }
    printf("pair cycles: %d sent, %d errors\n", sends, errors);
    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    printf("fd after cycles %d\n", fd);
    close(fd);

    /* A listener whose fd sits in a connection it has not accepted. */
    struct sockaddr_un la = {.sun_family = AF_UNIX};
    strcpy(la.sun_path + 1, "umk-garbage-l");
    socklen_t ll = offsetof(struct sockaddr_un, sun_path) + 14;
    int l = socket(AF_UNIX, SOCK_STREAM, 0), k = socket(AF_UNIX, SOCK_STREAM, 0);
    T(bind(l, (struct sockaddr *)&la, ll));
    T(listen(l, 4));
    T(connect(k, (struct sockaddr *)&la, ll));
    T(send_fds(k, &l, 1, "l"));
    close(l);
    int r = -1;
    for (int i = 0; i < 200 && r != 0; i++) {
        int again = socket(AF_UNIX, SOCK_STREAM, 0);
        r = connect(again, (struct sockaddr *)&la, ll) < 0 && errno == ECONNREFUSED ? 0 : -1;
        close(again);
        if (r) usleep(10000);
    }
    printf("listener name before client closes: %s\n", r == 0 ? "free" : "taken");
    show_recv("client of the collected listener", k, 8, MSG_DONTWAIT);
    close(k);
    for (int i = 0; i < 200 && r != 0; i++) {
        int again = socket(AF_UNIX, SOCK_STREAM, 0);
        r = connect(again, (struct sockaddr *)&la, ll) < 0 && errno == ECONNREFUSED ? 0 : -1;
        close(again);
        if (r) usleep(10000);
    }
    printf("listener name after: %s\n", r == 0 ? "free" : "taken");
}

static void show_mark(const char *what, int fd, int inq) {
    int m = -1, n = -1;
    T(ioctl(fd, SIOCATMARK, &m));
    if (inq) ioctl(fd, FIONREAD, &n);  /* Linux 6.18 miscounts it once a read skipped an out-of-band byte */
    struct pollfd p = {fd, POLLIN | POLLPRI, 0};
    poll(&p, 1, 0);
    printf("%s: at mark %d inq %d%s%s\n", what, m, n, p.revents & POLLIN ? " IN" : "", p.revents & POLLPRI ? " PRI" : "");
}

/* MSG_OOB on a stream (Linux 5.15): the last byte of a send goes out of band, a read stops at the mark and
 * skips the byte, recv(MSG_OOB) takes it once, a new one replaces the old, SO_OOBINLINE reads it in line;
 * other types answer EOPNOTSUPP. */
static void oob(void) {
    int sv[2], d[2], m = 0;
    T(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    show_mark("empty", sv[1], 1);
    show_recv("oob none", sv[1], 10, MSG_OOB | MSG_DONTWAIT);
    T(send(sv[0], "", 0, MSG_OOB));
    T(send(sv[0], "abcX", 4, MSG_OOB));
    show_mark("sent", sv[1], 1);
    show_recv("read to mark", sv[1], 10, MSG_DONTWAIT);
    show_mark("at mark", sv[1], 1);
    show_recv("peek oob", sv[1], 10, MSG_OOB | MSG_PEEK);
    char buf[16];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    T(recvmsg(sv[1], &mh, MSG_OOB));
    printf("oob \"%c\" flags %#x\n", buf[0], mh.msg_flags);
    show_mark("taken", sv[1], 1);
    show_recv("oob again", sv[1], 10, MSG_OOB);
    show_recv("read at taken mark", sv[1], 10, MSG_DONTWAIT);
    show_mark("after", sv[1], 0);
    T(send(sv[0], "12", 2, 0));
    T(send(sv[0], "Y", 1, MSG_OOB));
    T(send(sv[0], "34", 2, 0));
    show_recv("read stops", sv[1], 10, MSG_DONTWAIT);
    show_recv("read skips", sv[1], 10, MSG_DONTWAIT);
    show_recv("oob skipped", sv[1], 10, MSG_OOB);
    T(send(sv[0], "a", 1, MSG_OOB));
    T(send(sv[0], "b", 1, MSG_OOB));
    T(send(sv[0], "c", 1, 0));
    show_mark("replaced", sv[1], 0);
    show_recv("old one in line", sv[1], 10, MSG_DONTWAIT);
    show_mark("then", sv[1], 0);
    show_recv("oob", sv[1], 10, MSG_OOB);
    show_recv("read", sv[1], 10, MSG_DONTWAIT);
    T(send(sv[0], "pq", 2, MSG_OOB));
    show_recv("oob into nothing", sv[1], 0, MSG_OOB);
    show_mark("x", sv[1], 0);
    show_recv("read", sv[1], 10, MSG_DONTWAIT);
    show_recv("read", sv[1], 10, MSG_DONTWAIT);
    T(send(sv[0], "uv", 2, MSG_OOB));
    T(send(sv[0], "w", 1, 0));
    show_recv("peek stops", sv[1], 10, MSG_PEEK | MSG_DONTWAIT);
    show_recv("read", sv[1], 10, MSG_DONTWAIT);
    show_recv("read", sv[1], 10, MSG_DONTWAIT);
    int on = 1;
    T(setsockopt(sv[1], SOL_SOCKET, SO_OOBINLINE, &on, sizeof on));
    T(send(sv[0], "12", 2, 0));
    T(send(sv[0], "Z", 1, MSG_OOB));
    T(send(sv[0], "34", 2, 0));
    show_mark("inline", sv[1], 0);
    show_recv("oob inline", sv[1], 10, MSG_OOB);
    show_recv("read inline", sv[1], 10, MSG_DONTWAIT);
    show_mark("inline at", sv[1], 0);
    show_recv("peek inline", sv[1], 10, MSG_PEEK | MSG_DONTWAIT);
    show_recv("read inline", sv[1], 10, MSG_DONTWAIT);
    show_recv("read inline", sv[1], 10, MSG_DONTWAIT);
    close(sv[1]);
    T(send(sv[0], "a", 1, MSG_OOB | MSG_NOSIGNAL));
    close(sv[0]);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    show_recv("unconnected oob", l, 1, MSG_OOB);
    T(send(l, "a", 1, MSG_OOB));
    T(ioctl(l, SIOCATMARK, &m));
    close(l);
    T(socketpair(AF_UNIX, SOCK_DGRAM, 0, d));
    T(send(d[0], "a", 1, MSG_OOB));
    show_recv("dgram oob", d[1], 10, MSG_OOB);
    T(ioctl(d[1], SIOCATMARK, &m));
    close(d[0]);
    close(d[1]);
    T(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, d));
    T(send(d[0], "a", 1, MSG_OOB));
    show_recv("seqpacket oob", d[1], 10, MSG_OOB);
    close(d[0]);
    close(d[1]);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pairs();
    rights();
    errors();
    char dir[] = "/tmp/umk-unix-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    server(dir);
    datagrams(dir);
    batches();
    credentials();
    resets();
    garbage();
    oob();
    rmdir(dir);
    return 0;
}
