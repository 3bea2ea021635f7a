/* Duplex pipe (multiprocessing.Pipe): a Unix stream socket pair carrying
 * frames of a 4-byte length and the message. Each end reads ahead into a
 * buffer of its own, so that many small messages cost one read and a
 * receive that times out in the middle of a frame loses nothing. */
#define _GNU_SOURCE
#include "ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define READ_AHEAD (64 * 1024)
#define HDR sizeof(uint32_t)

struct evt_ipc_conn {
    int fd;             /* our end of the socket pair */
    int broken;         /* a send stopped inside a frame */
    unsigned char *buf; /* bytes read, not yet received */
    size_t off;         /* first unreceived byte in buf */
    size_t len;         /* end of the bytes in buf */
    size_t cap;         /* size of buf */
};

evt_ipc_conn_t *evt__ipc_conn_adopt(int fd)
{
    evt_ipc_conn_t *c = calloc(1, sizeof *c);
    if (c)
        c->fd = fd;
    return c;
}

int evt_ipc_pipe(evt_ipc_conn_t *ends[2])
{
    if (!ends) {
        errno = EINVAL;
        return -1;
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) < 0)
        return -1;
    evt_ipc_conn_t *a = evt__ipc_conn_adopt(fds[0]);
    evt_ipc_conn_t *b = evt__ipc_conn_adopt(fds[1]);
    if (!a || !b) {
        free(a);
        free(b);
        evt_close(fds[0]);
        evt_close(fds[1]);
        errno = ENOMEM;
        return -1;
    }
    ends[0] = a;
    ends[1] = b;
    return 0;
}

int evt_ipc_conn_send(evt_ipc_conn_t *c, const void *msg, size_t len,
                      int64_t deadline)
{
    if (evt__unlikely(!c || (!msg && len))) {
        errno = EINVAL;
        return -1;
    }
    if (len > UINT32_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    if (c->broken) {
        errno = EPIPE;
        return -1;
    }
    uint32_t hdr = (uint32_t)len;
    struct iovec iov[2] = {{&hdr, HDR}, {(void *)msg, len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    size_t sent = 0;
    while (sent < HDR + len) {
        ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            sent += (size_t)n;
            /* Skip what went out. */
            while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
                n -= (ssize_t)mh.msg_iov->iov_len;
                mh.msg_iov++;
                mh.msg_iovlen--;
            }
            if (mh.msg_iovlen) {
                mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
                mh.msg_iov->iov_len -= (size_t)n;
            }
            continue;
        }
        if ((errno != EAGAIN && errno != EINTR) ||
            (errno == EAGAIN && evt_wait_fd(c->fd, EVT_OUT, deadline) < 0)) {
            if (sent)
                c->broken = 1; /* the peer would read a torn frame */
            return -1;
        }
    }
    return 0;
}

/* Wait until a whole frame is buffered; its length, or -1 and errno. */
static ssize_t next_frame(evt_ipc_conn_t *c, int64_t deadline)
{
    for (;;) {
        size_t have = c->len - c->off;
        uint32_t n = 0;
        if (have >= HDR) {
            memcpy(&n, c->buf + c->off, HDR);
            if (have >= HDR + n)
                return (ssize_t)n;
        }
        size_t need = have >= HDR ? HDR + n : HDR;
        if (c->off + need > c->cap) {
            /* Move the partial frame to the front, grow if it is big. */
            if (c->off) {
                memmove(c->buf, c->buf + c->off, have);
                c->len = have;
                c->off = 0;
            }
            if (need > c->cap || c->cap - c->len < READ_AHEAD / 4) {
                size_t cap = need > READ_AHEAD ? need : READ_AHEAD;
                unsigned char *p = cap > c->cap ? realloc(c->buf, cap) : c->buf;
                if (!p) {
                    errno = ENOMEM;
                    return -1;
                }
                c->buf = p;
                c->cap = cap > c->cap ? cap : c->cap;
            }
        }
        ssize_t r = evt_recv(c->fd, c->buf + c->len, c->cap - c->len, 0,
                             deadline);
        if (r == 0) {
            errno = EPIPE; /* closed; a torn last frame counts as none */
            return -1;
        }
        if (r < 0)
            return -1;
        c->len += (size_t)r;
    }
}

ssize_t evt_ipc_conn_recv(evt_ipc_conn_t *c, void *buf, size_t cap,
                          int64_t deadline)
{
    if (evt__unlikely(!c || (!buf && cap))) {
        errno = EINVAL;
        return -1;
    }
    ssize_t n = next_frame(c, deadline);
    if (n < 0)
        return -1;
    if ((size_t)n > cap) {
        errno = EMSGSIZE;
        return -1;
    }
    if (n)
        memcpy(buf, c->buf + c->off + HDR, (size_t)n);
    c->off += HDR + (size_t)n;
    if (c->off == c->len)
        c->off = c->len = 0;
    return n;
}

ssize_t evt_ipc_conn_peek(evt_ipc_conn_t *c, int64_t deadline)
{
    if (evt__unlikely(!c)) {
        errno = EINVAL;
        return -1;
    }
    return next_frame(c, deadline);
}

int evt_ipc_conn_fd(const evt_ipc_conn_t *c)
{
    if (!c) {
        errno = EINVAL;
        return -1;
    }
    return c->fd;
}

void evt_ipc_conn_close(evt_ipc_conn_t *c)
{
    if (!c)
        return;
    evt_close(c->fd);
    free(c->buf);
    free(c);
}
