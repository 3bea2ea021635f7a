/* Writing without blocking the thread: evt_write and evt_send write all the
 * bytes, parking the coroutine whenever the fd's buffer is full, and never
 * let SIGPIPE kill the process when the reader has gone. */
#define _GNU_SOURCE
#include "io.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* write() to a pipe whose reader is gone raises SIGPIPE, and there is no
 * MSG_NOSIGNAL for it. Block the signal in this thread around the write and
 * swallow the one the write raised, so that the caller sees only EPIPE and a
 * SIGPIPE that was already pending for someone else stays pending (the
 * libpq way). Costs three system calls, on non-sockets only. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &pipe_set, &old) != 0)
        return write(fd, buf, len);
    int was_pending = sigpending(&pending) == 0 &&
                      sigismember(&pending, SIGPIPE) == 1;
    ssize_t n = write(fd, buf, len);
    int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        const struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return n;
}

/* Write all len bytes. Sockets get send(MSG_NOSIGNAL | MSG_DONTWAIT): no
 * SIGPIPE, and no blocking even if the fd lost O_NONBLOCK; other fds fall
 * back to write() when `fallback` says so, as evt_write does, and regular
 * files are written on the IO pool. */
static ssize_t write_all(int fd, const void *buf, size_t len, int flags,
                         int fallback, int64_t deadline)
{
    if (evt__unlikely(len > SSIZE_MAX)) {
        errno = EINVAL;
        return -1;
    }
    int kind = evt__io_enter(fd, fallback);
    if (kind < 0)
        return -1;
    int sock = kind == EVT__FD_SOCKET;
    if (kind == EVT__FD_FILE)
        return evt__file_io(fd, (void *)buf, len, 1, deadline);
    const char *p = buf;
    size_t left = len;
    do {
        ssize_t n;
        if (evt__likely(sock)) {
            n = send(fd, p, left, flags | MSG_NOSIGNAL | MSG_DONTWAIT);
        } else {
            n = write_nosigpipe(fd, p, left);
        }
        if (n >= 0) {
            p += n;
            left -= (size_t)n;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (evt__fd_wait(fd, EVT_OUT, deadline) < 0)
            return -1;
    } while (left);
    return (ssize_t)len;
}

ssize_t evt_write(int fd, const void *buf, size_t len, int64_t deadline)
{
    return write_all(fd, buf, len, 0, 1, deadline);
}

ssize_t evt_send(int fd, const void *buf, size_t len, int flags,
                 int64_t deadline)
{
    if (flags & MSG_DONTWAIT)
        deadline = 0;
    return write_all(fd, buf, len, flags & ~MSG_DONTWAIT, 0, deadline);
}
