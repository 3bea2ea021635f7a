/* Connecting without blocking the thread: start the connection, park until
 * the socket is writable, and read the outcome from SO_ERROR. */
#define _GNU_SOURCE
#include "io.h"

#include <sys/socket.h>

int evt_connect(int fd, const struct sockaddr *addr, socklen_t addrlen,
                int64_t deadline)
{
    if (evt__io_enter(fd, 1) < 0)
        return -1;
    if (connect(fd, addr, addrlen) == 0)
        return 0;
    /* An interrupted connect goes on in the background, like one in
     * progress; calling connect again would only say EALREADY. Anything else
     * (EAGAIN included: a full AF_UNIX backlog, which no poll reports the
     * end of) is the caller's to handle. */
    if (errno != EINPROGRESS && errno != EINTR)
        return -1;
    if (evt__fd_wait(fd, EVT_OUT, deadline) < 0)
        return -1;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
