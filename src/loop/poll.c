/* evt_poll: poll(2) for a coroutine. It looks first (the answer is often
 * there already), then parks on the reactor as a waiter of every fd at once
 * and asks poll again when one of them fires. */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/resource.h>

#define ON_STACK 8

/* What a pollfd's events ask the reactor for. Events that only the kernel's
 * poll reports (POLLPRI...) count as readability, their nearest kin. */
static int want_of(short events)
{
    return (events & (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI | POLLRDHUP)
                ? EVT_IN : 0) |
           (events & (POLLOUT | POLLWRNORM | POLLWRBAND) ? EVT_OUT : 0);
}

/* Wait as a waiter of every fd of fds until one fires: 0, ETIMEDOUT,
 * ECANCELED, EBADF (an fd forgotten under us), or 1 when an fd cannot be
 * watched (always ready: poll says at once), or -1 and errno. */
static int park_on_all(evt__sched_t *s, evt__loop_t *l, struct pollfd *fds,
                       size_t n, evt__fd_waiter_t *w, int64_t deadline)
{
    size_t linked = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int want = want_of(fds[i].events);
        evt__fd_state_t *st = fds[i].fd >= 0 && want
                                  ? evt__fd_state(l, fds[i].fd) : NULL;
        if (!st)
            continue;
        rc = evt__fd_watch(l, st, fds[i].fd, evt__fd_epoll_bits(want));
        if (rc == 0)
            evt__fd_link(l, st, &w[linked++], s->current, want);
    }
    if (rc == 0) {
        int got = 0;
        do {
            rc = evt__wait(deadline);
            for (size_t i = 0; i < linked && !got; i++)
                got = w[i].got;
        } while (rc == 0 && !got);
    }
    for (size_t i = 0; i < linked; i++)
        evt__fd_unlink(l, &w[i]);
    return rc;
}

int evt_poll(struct pollfd *fds, size_t n, int64_t deadline)
{
    struct rlimit rl;
    if (n > 4096 && getrlimit(RLIMIT_NOFILE, &rl) == 0 && n > rl.rlim_cur) {
        errno = EINVAL;
        return -1;
    }
    int r = poll(fds, (nfds_t)n, 0);
    if (r != 0 || deadline == 0)
        return r;
    evt__sched_t *s = evt__sched();
    evt__loop_t *l = s ? evt__loop_get(s) : NULL;
    if (!l)
        return -1;
    evt__fd_waiter_t small[ON_STACK], *w = small;
    if (n > ON_STACK && !(w = malloc(n * sizeof *w))) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        int rc = park_on_all(s, l, fds, n, w, deadline);
        if (rc < 0 || rc == ECANCELED) {
            if (rc > 0)
                errno = rc;
            r = -1;
            break;
        }
        /* Timed out, fired, or an fd went away (poll shows POLLNVAL). */
        r = poll(fds, (nfds_t)n, 0);
        if (r != 0 || rc == ETIMEDOUT || rc == 1)
            break;
    }
    if (w != small)
        free(w);
    return r;
}
