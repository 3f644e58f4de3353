// control.c: the control socket of a named instance (UmkHost/ControlSocket.swift): SOCK_SEQPACKET messages
// that may carry descriptors (a `umk exec`'s stdin, stdout and stderr), the peer's uid, and starting umk
// detached from the caller's session (`umk run -d`).
#define _GNU_SOURCE
#include "cumk.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fill_address(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) return -ENAMETOOLONG;
    strcpy(a->sun_path, path);
    return 0;
}

// A new SEQPACKET socket and the address of `path` for it: the socket, or -errno.
static int new_socket(const char *path, struct sockaddr_un *a) {
    int r = fill_address(a, path);
    if (r < 0) return r;
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    return s < 0 ? -errno : s;
}

int umk_control_listen(const char *path) {
    struct sockaddr_un a;
    int s = new_socket(path, &a);
    if (s < 0) return s;
    // Made 0600 from the start: no moment in which another user could connect. (umask is the process's:
    // umk listens before its instance, and so its kernel thread, exists.)
    mode_t old = umask(0177);
    int r = bind(s, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    umask(old);
    if (r < 0 || listen(s, 16) < 0) {
        if (r == 0) e = errno;
        close(s);
        return -e;
    }
    return s;
}

int umk_control_connect(const char *path) {
    struct sockaddr_un a;
    int s = new_socket(path, &a);
    if (s < 0) return s;
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(s);
        return -e;
    }
    return s;
}

int umk_control_accept(int listener) {
    int c = accept4(listener, 0, 0, SOCK_CLOEXEC);
    return c < 0 ? -errno : c;
}

long umk_control_peer_uid(int sock) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
    return (long)cred.uid;
}

long umk_control_send(int sock, const void *buf, size_t len, const int *fds, int nfds) {
    struct iovec iov = {(void *)buf, len};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * 8)];
    if (nfds > 8) return -EINVAL;
    if (nfds > 0) {
        memset(control, 0, sizeof control);
        m.msg_control = control;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t r;
    do r = sendmsg(sock, &m, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

// One message: its length (0 at end of stream), -EMSGSIZE if it did not fit; up to `maxfds` descriptors
// into `fds` (close-on-exec), their count in *nfds; any beyond are closed.
long umk_control_receive(int sock, void *buf, size_t len, int *fds, int maxfds, int *nfds) {
    struct iovec iov = {buf, len};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * 8)];
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (r < 0) return -errno;
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *got = (int *)CMSG_DATA(c);
        for (int i = 0; i < n; i++) {
            if (*nfds < maxfds) fds[(*nfds)++] = got[i];
            else close(got[i]);
        }
    }
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return -EMSGSIZE;
    return r;
}

// umk itself again, in a session of its own, stdin from /dev/null and stdout and stderr into `out_fd`; the
// descriptor `keep_fd` becomes its fd 3 (the pipe it reports its start on), and it has no other: nothing the
// caller holds (a socket its own parent watches for its end) lives on in the instance. The child's pid.
long umk_spawn_detached(char *const argv[], char *const envp[], int out_fd, int keep_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
    posix_spawn_file_actions_adddup2(&actions, keep_fd, 3);  // for keep_fd 3 itself: clears its close-on-exec
    posix_spawn_file_actions_addclosefrom_np(&actions, 4);
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int r = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return r == 0 ? pid : -r;
}
