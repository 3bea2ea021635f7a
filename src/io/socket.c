/* Sockets the runtime makes: created non-blocking and close-on-exec, and
 * adopted by the reactor so that no stale record of an earlier fd with the
 * same number can confuse it; and evt_local_port. */
#define _GNU_SOURCE
#include "io.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int evt__io_adopt(int fd)
{
    /* An fd closed without evt_fd_forget leaves its record behind: a
     * registration epoll dropped with the file, an interest that would make
     * the reactor skip registering the new one, and waiters that would
     * otherwise sleep on a file nobody watches (they get EBADF, as closing
     * an fd under a waiter deserves). */
    evt_fd_forget(fd);
    evt__sched_t *s = evt__sched();
    evt__loop_t *l = s ? evt__loop_get(s) : NULL;
    evt__fd_state_t *st = l ? evt__fd_state(l, fd) : NULL;
    if (!st)
        return -1;
    st->nonblock = 1; /* made with SOCK_NONBLOCK: spare the fcntl */
    st->socket = 1;
    return 0;
}

int evt__socket(int family, int type, int protocol)
{
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return -1;
    if (evt__io_adopt(fd) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int evt_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    errno = EAFNOSUPPORT; /* no port in a Unix or other socket's address */
    return -1;
}
