/* The hooked calls that make, change and end fds: the table learns here
 * what each fd is and whether its user wants it non-blocking, and a close
 * (or a dup2 onto it) wakes the coroutines that wait on it with EBADF. */
#define _GNU_SOURCE
#include "hook.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>

#define SOCK_FLAGS(type) \
    (EVT__HFD_WAITS | EVT__HFD_SOCK | ((type) & SOCK_NONBLOCK ? EVT__HFD_USER_NB : 0))

int socket(int domain, int type, int protocol)
{
    int fd = EVT__REAL(socket, (int)syscall(SYS_socket, domain, type, protocol),
                       domain, type, protocol);
    if (fd >= 0)
        evt__hfd_made(fd, SOCK_FLAGS(type));
    return fd;
}

int socketpair(int domain, int type, int protocol, int sv[2])
{
    int r = EVT__REAL(socketpair,
                      (int)syscall(SYS_socketpair, domain, type, protocol, sv),
                      domain, type, protocol, sv);
    if (r == 0) {
        evt__hfd_made(sv[0], SOCK_FLAGS(type));
        evt__hfd_made(sv[1], SOCK_FLAGS(type));
    }
    return r;
}

int pipe2(int fds[2], int flags)
{
    int r = EVT__REAL(pipe2, (int)syscall(SYS_pipe2, fds, flags), fds, flags);
    if (r == 0) {
        unsigned f = EVT__HFD_WAITS | (flags & O_NONBLOCK ? EVT__HFD_USER_NB : 0);
        evt__hfd_made(fds[0], f);
        evt__hfd_made(fds[1], f);
    }
    return r;
}

int pipe(int fds[2])
{
    return pipe2(fds, 0);
}

/* A connect that has to wait finishes in the background; its outcome is
 * SO_ERROR once the socket is writable. SO_SNDTIMEO bounds it, and then
 * fails with EINPROGRESS, as Linux's blocking connect does. */
int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    evt__hfd_t *h = evt__hfd_get(fd);
    int on = h ? evt__hook_on() : 0;
    int loops = h && evt__hook_loops(fd, h, on), saved = errno;
    int r = EVT__REAL(connect, (int)syscall(SYS_connect, fd, sa, len), fd, sa,
                      len);
    if (r == 0 || !loops || errno != EINPROGRESS)
        return r;
    int64_t dl = evt__hook_deadline(atomic_load(&h->snd_ms));
    if (evt__hook_wait(fd, EVT_OUT, dl, on) < 0) {
        if (errno == ETIMEDOUT)
            errno = EINPROGRESS;
        return -1;
    }
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        return -1;
    if (err) {
        errno = err;
        return -1;
    }
    errno = saved;
    return 0;
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    evt__hfd_t *h = evt__hfd_get(fd);
    int on = h ? evt__hook_on() : 0;
    int loops = h && evt__hook_loops(fd, h, on), saved = errno;
    int64_t dl = loops ? evt__hook_deadline(atomic_load(&h->rcv_ms)) : -1;
    for (;;) {
        int c = EVT__REAL(accept4,
                          (int)syscall(SYS_accept4, fd, sa, len, flags), fd, sa,
                          len, flags);
        if (c >= 0) {
            evt__hfd_made(c, SOCK_FLAGS(flags));
            errno = saved;
            return c;
        }
        if (!loops || (errno != EAGAIN && errno != EWOULDBLOCK))
            return -1;
        if (evt__hook_wait(fd, EVT_IN, dl, on) < 0) {
            if (errno == ETIMEDOUT)
                errno = EAGAIN;
            return -1;
        }
    }
}

int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    return accept4(fd, sa, len, 0);
}

/* The user's own O_NONBLOCK (fcntl or FIONBIO). Returns 1 when the OS fd
 * must keep our O_NONBLOCK although the user clears it. */
static int user_nonblock(evt__hfd_t *h, int on)
{
    if (on) {
        atomic_fetch_and(&h->flags, ~EVT__HFD_OURS_NB);
        atomic_fetch_or(&h->flags, EVT__HFD_USER_NB);
        return 0;
    }
    unsigned f = atomic_fetch_and(&h->flags, ~EVT__HFD_USER_NB);
    return (f & EVT__HFD_OURS_NB) != 0;
}

static int real_fcntl(int fd, int cmd, void *arg)
{
    return EVT__REAL(fcntl, (int)syscall(SYS_fcntl, fd, cmd, arg), fd, cmd, arg);
}

/* glibc's fcntl takes its third argument as a pointer-sized word too. */
static int hooked_fcntl(int fd, int cmd, void *arg)
{
    evt__hfd_t *h;
    int r;
    switch (cmd) {
    case F_GETFL:
        r = real_fcntl(fd, cmd, arg);
        h = r >= 0 ? evt__hfd_get(fd) : NULL;
        if (h && (atomic_load(&h->flags) &
                  (EVT__HFD_OURS_NB | EVT__HFD_USER_NB)) == EVT__HFD_OURS_NB)
            r &= ~O_NONBLOCK;
        return r;
    case F_SETFL:
        h = evt__hfd_get(fd);
        if (h && user_nonblock(h, ((int)(intptr_t)arg & O_NONBLOCK) != 0))
            arg = (void *)((intptr_t)arg | O_NONBLOCK);
        return real_fcntl(fd, cmd, arg);
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        r = real_fcntl(fd, cmd, arg);
        if (r >= 0)
            evt__hfd_copy(fd, r);
        return r;
    default:
        return real_fcntl(fd, cmd, arg);
    }
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return hooked_fcntl(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return hooked_fcntl(fd, cmd, arg);
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (req == FIONBIO && arg) {
        evt__hfd_t *h = evt__hfd_get(fd);
        /* Clearing it on an fd we keep non-blocking: only the user's view
         * changes. */
        if (h && user_nonblock(h, *(int *)arg != 0))
            return 0;
    }
    return EVT__REAL(ioctl, (int)syscall(SYS_ioctl, fd, req, arg), fd, req, arg);
}

static int timeval_ms(const void *v, socklen_t len)
{
    if (!v || len < (socklen_t)sizeof(struct timeval))
        return 0;
    const struct timeval *tv = v;
    int64_t ms = (int64_t)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
    return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int setsockopt(int fd, int level, int opt, const void *v, socklen_t len)
{
    int r = EVT__REAL(setsockopt,
                      (int)syscall(SYS_setsockopt, fd, level, opt, v, len), fd,
                      level, opt, v, len);
    if (r == 0 && level == SOL_SOCKET &&
        (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO)) {
        evt__hfd_t *h = evt__hfd_get(fd);
        if (h)
            atomic_store(opt == SO_RCVTIMEO ? &h->rcv_ms : &h->snd_ms,
                         timeval_ms(v, len));
    }
    return r;
}

int close(int fd)
{
    /* Waiters of this thread wake with EBADF and epoll lets go of the fd
     * before the number can be reused. */
    evt_fd_forget(fd);
    evt__hfd_drop(fd);
    return EVT__REAL(close, (int)syscall(SYS_close, fd), fd);
}

int dup(int fd)
{
    int r = EVT__REAL(dup, (int)syscall(SYS_dup, fd), fd);
    if (r >= 0)
        evt__hfd_copy(fd, r);
    return r;
}

int dup3(int oldfd, int newfd, int flags)
{
    if (oldfd != newfd)
        evt_fd_forget(newfd);
    int r = EVT__REAL(dup3, (int)syscall(SYS_dup3, oldfd, newfd, flags), oldfd,
                      newfd, flags);
    if (r >= 0)
        evt__hfd_copy(oldfd, newfd);
    return r;
}

int dup2(int oldfd, int newfd)
{
    if (oldfd != newfd)
        evt_fd_forget(newfd);
    int r = EVT__REAL(dup2, (int)syscall(SYS_dup3, oldfd, newfd, 0), oldfd,
                      newfd);
    if (r >= 0 && oldfd != newfd)
        evt__hfd_copy(oldfd, newfd);
    return r;
}
