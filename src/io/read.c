/* Reading without blocking the thread: evt_read and evt_recv try the call
 * first (the bytes are often there already) and park the coroutine on the
 * reactor only when the fd has nothing to give. */
#define _GNU_SOURCE
#include "io.h"

#include <sys/socket.h>
#include <unistd.h>

/* Read what is there, waiting for readability as often as needed. Sockets
 * are read with recv(MSG_DONTWAIT), which cannot block even when the fd lost
 * O_NONBLOCK behind our back; other fds (pipes, ttys) fall back to read()
 * when `fallback` says so, as evt_read does, and regular files are read on
 * the IO pool. */
static ssize_t read_some(int fd, void *buf, size_t len, int flags,
                         int fallback, int64_t deadline)
{
    int kind = evt__io_enter(fd, fallback);
    if (kind < 0)
        return -1;
    int sock = kind == EVT__FD_SOCKET;
    if (kind == EVT__FD_FILE)
        return evt__file_io(fd, buf, len, 0, deadline);
    for (;;) {
        ssize_t n;
        if (evt__likely(sock)) {
            n = recv(fd, buf, len, flags | MSG_DONTWAIT);
        } else {
            n = read(fd, buf, len);
        }
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (evt__fd_wait(fd, EVT_IN, deadline) < 0)
            return -1;
    }
}

ssize_t evt_read(int fd, void *buf, size_t len, int64_t deadline)
{
    return read_some(fd, buf, len, 0, 1, deadline);
}

ssize_t evt_recv(int fd, void *buf, size_t len, int flags, int64_t deadline)
{
    /* The caller's own "do not wait" is our deadline 0. */
    if (flags & MSG_DONTWAIT)
        deadline = 0;
    if (!(flags & MSG_WAITALL))
        return read_some(fd, buf, len, flags, 0, deadline);
    /* MSG_WAITALL: gather len bytes here, as recv would in the kernel; stop
     * short at end of stream, and on an error once something was read (the
     * bytes would be lost otherwise), as recv does. */
    flags &= ~MSG_WAITALL;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read_some(fd, (char *)buf + got, len - got, flags, 0,
                              deadline);
        if (n < 0)
            return got ? (ssize_t)got : -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}
