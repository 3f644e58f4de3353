// debug_socket.c: the socket gdb connects to (`umk run --gdb ADDR`): a TCP port on 127.0.0.1 or a UNIX socket
// path, listened on and accepted once at boot, before the kernel thread's own seccomp filter forbids socket
// calls. Afterwards the kernel only reads, writes and polls the connected descriptor. All return -errno.
#define _GNU_SOURCE
#include "cumk.h"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int umk_debug_listen(const char *path, int port) {
    int fd;
    if (path) {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        size_t len = strlen(path);
        if (len == 0 || len >= sizeof sun.sun_path) return -ENAMETOOLONG;
        memcpy(sun.sun_path, path, len);
        // A socket left behind by an earlier run is replaced; any other file at the path is not.
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -errno;
        if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(fd, 1) != 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        return fd;
    }
    if (port <= 0 || port > 65535) return -EINVAL;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 1) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int umk_debug_accept(int listener, int timeout_ms) {
    struct pollfd p = {listener, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0) return -errno;
    if (r == 0) return -EAGAIN;
    int fd = accept4(listener, 0, 0, SOCK_CLOEXEC);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on a UNIX socket
    return fd;
}

void umk_debug_close(int fd) { close(fd); }

long umk_read_some(int fd, void *buf, size_t len) {
    for (;;) {
        ssize_t r = read(fd, buf, len);
        if (r >= 0) return r;
        if (errno != EINTR) return -errno;
    }
}

// send with MSG_NOSIGNAL: gdb going away is EPIPE, never a SIGPIPE that would kill umk.
long umk_send_all(int fd, const void *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t r = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        done += (size_t)r;
    }
    return (long)done;
}
