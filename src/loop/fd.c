/* Waiting for fds: the table of what the reactor knows of each fd, and
 * evt__fd_wait, the step every cooperative IO call takes on EAGAIN. */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

evt__fd_state_t *evt__fd_state(evt__loop_t *l, int fd)
{
    if (evt__unlikely(fd < 0)) {
        errno = EBADF;
        return NULL;
    }
    size_t page = (size_t)fd / EVT__FD_PAGE;
    if (evt__unlikely(page >= l->npages)) {
        size_t n = page + 1 > l->npages * 2 ? page + 1 : l->npages * 2;
        evt__fd_state_t **p = realloc(l->pages, n * sizeof *p);
        if (!p) {
            errno = ENOMEM;
            return NULL;
        }
        for (size_t i = l->npages; i < n; i++)
            p[i] = NULL;
        l->pages = p;
        l->npages = n;
    }
    if (evt__unlikely(!l->pages[page])) {
        l->pages[page] = calloc(EVT__FD_PAGE, sizeof(evt__fd_state_t));
        if (!l->pages[page]) {
            errno = ENOMEM;
            return NULL;
        }
    }
    return &l->pages[page][(size_t)fd % EVT__FD_PAGE];
}

uint32_t evt__fd_epoll_bits(int want)
{
    return (want & EVT_IN ? EPOLLIN | EPOLLRDHUP : 0) |
           (want & EVT_OUT ? EPOLLOUT : 0);
}

int evt__fd_watch(evt__loop_t *l, evt__fd_state_t *st, int fd, uint32_t need)
{
    if ((st->interest & need) == need && st->registered)
        return 0;
    struct epoll_event ev = {.events = st->interest | need, .data.fd = fd};
    int op = st->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, fd, &ev) < 0) {
        /* Our record can be stale when fd was closed and its number reused
         * without evt_fd_forget: trust the kernel. */
        if (errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else if (errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else if (errno == EPERM)
            return 1;
        else
            return -1;
        if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
            return errno == EPERM ? 1 : -1;
    }
    st->registered = 1;
    st->interest |= need;
    return 0;
}

void evt__fd_link(evt__loop_t *l, evt__fd_state_t *st, evt__fd_waiter_t *w,
                  evt_co_t *co, int want)
{
    w->co = co;
    w->want = want;
    w->got = 0;
    w->next = st->waiters;
    if (w->next)
        w->next->pprev = &w->next;
    w->pprev = &st->waiters;
    st->waiters = w;
    l->fd_waiters++;
}

void evt__fd_unlink(evt__loop_t *l, evt__fd_waiter_t *w)
{
    *w->pprev = w->next;
    if (w->next)
        w->next->pprev = w->pprev;
    l->fd_waiters--;
}

int evt__fd_wait(int fd, int want, int64_t deadline)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    evt__loop_t *l = evt__loop_get(s);
    if (!l)
        return -1;
    evt__fd_state_t *st = evt__fd_state(l, fd);
    if (!st)
        return -1;
    if (deadline == 0) {
        /* Only a look: ask the kernel, not epoll, to leave no interest. */
        struct pollfd p = {.fd = fd,
                           .events = (short)((want & EVT_IN ? POLLIN | POLLRDHUP : 0) |
                                             (want & EVT_OUT ? POLLOUT : 0))};
        if (poll(&p, 1, 0) < 0)
            return -1;
        if (p.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        int got = (p.revents & (POLLIN | POLLRDHUP) ? EVT_IN : 0) |
                  (p.revents & POLLOUT ? EVT_OUT : 0) |
                  (p.revents & (POLLERR | POLLHUP) ? EVT_IN | EVT_OUT : 0);
        if (got & want)
            return got & want;
        errno = ETIMEDOUT;
        return -1;
    }
    if (evt__unlikely(s->current->cancelled)) {
        errno = ECANCELED;
        return -1;
    }
    int r = evt__fd_watch(l, st, fd, evt__fd_epoll_bits(want));
    if (r)
        return r < 0 ? -1 : want;
    evt__fd_waiter_t w;
    evt__fd_link(l, st, &w, s->current, want);
    int rc;
    do
        rc = evt__wait(deadline);
    while (rc == 0 && !w.got);
    evt__fd_unlink(l, &w);
    if (rc) {
        errno = rc;
        return -1;
    }
    return w.got;
}

int evt_wait_fd(int fd, int events, int64_t deadline)
{
    if (!(events & (EVT_IN | EVT_OUT)) || (events & ~(EVT_IN | EVT_OUT))) {
        errno = EINVAL;
        return -1;
    }
    return evt__fd_wait(fd, events, deadline);
}

int evt__fd_nonblock(int fd)
{
    evt__sched_t *s = evt__sched();
    evt__loop_t *l = s ? evt__loop_get(s) : NULL;
    evt__fd_state_t *st = l ? evt__fd_state(l, fd) : NULL;
    if (!st)
        return -1;
    if (evt__likely(st->nonblock))
        goto kind;
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    st->nonblock = 1;
    st->socket = S_ISSOCK(sb.st_mode) ? 1 : 0;
    st->file = S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode) ? 1 : 0;
kind:
    return st->socket ? EVT__FD_SOCKET : st->file ? EVT__FD_FILE : EVT__FD_OTHER;
}

void evt_fd_forget(int fd)
{
    evt__sched_t *s = evt__tls_sched;
    evt__loop_t *l = s ? s->loop : NULL;
    if (!l || fd < 0 || (size_t)fd / EVT__FD_PAGE >= l->npages ||
        !l->pages[(size_t)fd / EVT__FD_PAGE])
        return;
    evt__fd_state_t *st = evt__fd_state(l, fd);
    /* Waiters unlink themselves when they run; the list stays intact. */
    for (evt__fd_waiter_t *w = st->waiters; w; w = w->next)
        evt__unpark(w->co, EBADF);
    if (st->registered)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    st->registered = 0;
    st->interest = 0;
    st->nonblock = 0;
}

int evt_close(int fd)
{
    evt_fd_forget(fd);
    return close(fd);
}
