/* Accepting without blocking the thread: accept4 first, park on the
 * listening socket while no connection is waiting. */
#define _GNU_SOURCE
#include "io.h"

#include <sys/socket.h>
#include <unistd.h>

int evt_accept(int fd, struct sockaddr *addr, socklen_t *addrlen,
               int64_t deadline)
{
    if (evt__io_enter(fd, 1) < 0)
        return -1;
    for (;;) {
        int c = accept4(fd, addr, addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (evt__likely(c >= 0)) {
            if (evt__unlikely(evt__io_adopt(c) < 0)) {
                int err = errno;
                close(c);
                errno = err;
                return -1;
            }
            return c;
        }
        switch (errno) {
        case EINTR:
        /* Linux hands the network errors of a connection that died in the
         * queue to accept; accept(2) says to treat them as EAGAIN. That
         * connection is gone, the next one may be fine. */
        case ECONNABORTED:
        case EPROTO:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case ENETDOWN:
        case ENETUNREACH:
            continue;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            if (evt__fd_wait(fd, EVT_IN, deadline) < 0)
                return -1;
            continue;
        default:
            return -1;
        }
    }
}
