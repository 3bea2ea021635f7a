/* The hooked data calls: read, write and the socket send/receive family.
 * Each tries the call; when the OS says "would block" on an fd its user
 * believes blocking, it waits (parks the coroutine, or polls off one) and
 * tries again, with the deadline of the fd's SO_RCVTIMEO / SO_SNDTIMEO. */
#define _GNU_SOURCE
#include "hook.h"

/* Leave the call to libc when the fd is not ours to wait on; else set up
 * the loop: h_, on_, the caller's errno and the deadline. */
#define PREP(fd, timeo, skip, CALL)                                          \
    evt__hfd_t *h_ = (skip) ? NULL : evt__hfd_get(fd);                       \
    int on_ = h_ ? evt__hook_on() : 0;                                       \
    if (!h_ || !evt__hook_loops(fd, h_, on_))                                \
        return CALL;                                                         \
    int saved_ = errno;                                                      \
    int64_t dl_ = evt__hook_deadline(                                        \
        atomic_load_explicit(&h_->timeo, memory_order_relaxed))

/* Return what the first call that does not say EAGAIN returns. */
#define IO_SOME(fd, events, timeo, skip, CALL)                               \
    do {                                                                     \
        PREP(fd, timeo, skip, CALL);                                         \
        for (;;) {                                                           \
            ssize_t n_ = CALL;                                               \
            if (n_ >= 0) {                                                   \
                errno = saved_;                                              \
                return n_;                                                   \
            }                                                                \
            if (errno != EAGAIN && errno != EWOULDBLOCK)                     \
                return -1;                                                   \
            if (evt__hook_wait(fd, events, dl_, on_) < 0) {                  \
                if (errno == ETIMEDOUT)                                      \
                    errno = EAGAIN;                                          \
                return -1;                                                   \
            }                                                                \
        }                                                                    \
    } while (0)

/* Write all len bytes, as a blocking write does; short only when an error
 * or the timeout comes after some bytes (CALL writes from done_). */
#define IO_ALL(fd, len, skip, CALL)                                          \
    do {                                                                     \
        size_t done_ = 0;                                                    \
        PREP(fd, snd_ms, skip, CALL);                                        \
        for (;;) {                                                           \
            ssize_t n_ = CALL;                                               \
            if (n_ >= 0) {                                                   \
                done_ += (size_t)n_;                                         \
                if (done_ >= (len)) {                                        \
                    errno = saved_;                                          \
                    return (ssize_t)done_;                                   \
                }                                                            \
                continue;                                                    \
            }                                                                \
            if (errno != EAGAIN && errno != EWOULDBLOCK)                     \
                return done_ ? (errno = saved_, (ssize_t)done_) : -1;        \
            if (evt__hook_wait(fd, EVT_OUT, dl_, on_) < 0) {                 \
                if (errno == ETIMEDOUT)                                      \
                    errno = EAGAIN;                                          \
                return done_ ? (errno = saved_, (ssize_t)done_) : -1;        \
            }                                                                \
        }                                                                    \
    } while (0)

ssize_t read(int fd, void *buf, size_t n)
{
    IO_SOME(fd, EVT_IN, rcv_ms, 0,
            EVT__REAL(read, syscall(SYS_read, fd, buf, n), fd, buf, n));
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    IO_SOME(fd, EVT_IN, rcv_ms, 0,
            EVT__REAL(readv, syscall(SYS_readv, fd, iov, cnt), fd, iov, cnt));
}

static ssize_t recv_some(int fd, void *buf, size_t n, int flags)
{
    IO_SOME(fd, EVT_IN, rcv_ms, flags & MSG_DONTWAIT,
            EVT__REAL(recv, syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL),
                      fd, buf, n, flags));
}

/* MSG_WAITALL on a non-blocking socket gives what is there: gather the n
 * bytes here as the kernel would, short only at end of stream or on an
 * error (or timeout) after some bytes, as recv(2) says. */
ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if (!(flags & MSG_WAITALL) || (flags & MSG_DONTWAIT))
        return recv_some(fd, buf, n, flags);
    size_t got = 0;
    int saved = errno;
    while (got < n) {
        ssize_t k = recv_some(fd, (char *)buf + got, n - got, flags);
        if (k < 0 && !got)
            return -1;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    errno = saved;
    return (ssize_t)got;
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
                 socklen_t *salen)
{
    IO_SOME(fd, EVT_IN, rcv_ms, flags & MSG_DONTWAIT,
            EVT__REAL(recvfrom, syscall(SYS_recvfrom, fd, buf, n, flags, sa,
                                        salen),
                      fd, buf, n, flags, sa, salen));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    IO_SOME(fd, EVT_IN, rcv_ms, flags & MSG_DONTWAIT,
            EVT__REAL(recvmsg, syscall(SYS_recvmsg, fd, msg, flags), fd, msg,
                      flags));
}

ssize_t write(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    IO_ALL(fd, n, 0,
           EVT__REAL(write, syscall(SYS_write, fd, p + done_, n - done_), fd,
                     p + done_, n - done_));
}

/* A vector or message is written once it can be, short or not: what a
 * blocking call does is not worth rebuilding the vector for. */
ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    IO_SOME(fd, EVT_OUT, snd_ms, 0,
            EVT__REAL(writev, syscall(SYS_writev, fd, iov, cnt), fd, iov, cnt));
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    const char *p = buf;
    IO_ALL(fd, n, flags & MSG_DONTWAIT,
           EVT__REAL(send, syscall(SYS_sendto, fd, p + done_, n - done_, flags,
                                   NULL, 0),
                     fd, p + done_, n - done_, flags));
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               const struct sockaddr *sa, socklen_t salen)
{
    const char *p = buf;
    IO_ALL(fd, n, flags & MSG_DONTWAIT,
           EVT__REAL(sendto, syscall(SYS_sendto, fd, p + done_, n - done_,
                                     flags, sa, salen),
                     fd, p + done_, n - done_, flags, sa, salen));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    IO_SOME(fd, EVT_OUT, snd_ms, flags & MSG_DONTWAIT,
            EVT__REAL(sendmsg, syscall(SYS_sendmsg, fd, msg, flags), fd, msg,
                      flags));
}
