/* The hooked waits: poll and select over many fds, and the sleeps. On a
 * coroutine they park it (evt_poll, evt_sleep) until the fds or the time
 * come; a cancelled coroutine's wait fails with ECANCELED, not EINTR, so
 * that the usual "retry on EINTR" loops end. Elsewhere they are libc's. */
#define _GNU_SOURCE
#include "hook.h"

#include <stdlib.h>
#include <string.h>

static int64_t ts_ns(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* evt_poll with the caller's errno kept on success. */
static int park_poll(struct pollfd *fds, nfds_t n, int64_t deadline)
{
    int saved = errno;
    int r = evt_poll(fds, n, deadline);
    if (r >= 0)
        errno = saved;
    return r;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (timeout == 0 || !evt__hook_on())
        return EVT__REAL(poll, evt__raw_poll(fds, n, timeout), fds, n, timeout);
    return park_poll(fds, n,
                     timeout < 0 ? -1 : evt__hook_after_ns(timeout * 1000000LL));
}

/* A signal mask asks for an atomic swap a coroutine cannot make: libc's. */
int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
          const sigset_t *mask)
{
    if (mask || (ts && ts_ns(ts) == 0) || !evt__hook_on())
        return EVT__REAL(ppoll,
                         (int)syscall(SYS_ppoll, fds, n, ts, mask, (size_t)8),
                         fds, n, ts, mask);
    if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
        errno = EINVAL;
        return -1;
    }
    return park_poll(fds, n, ts ? evt__hook_after_ns(ts_ns(ts)) : -1);
}

/* select's sets as pollfds, and back. */
static int select_park(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
                       int64_t deadline)
{
    if (nfds < 0 || nfds > FD_SETSIZE) {
        errno = EINVAL;
        return -1;
    }
    struct pollfd *p = calloc((size_t)nfds + 1, sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
                           (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
                           (ex && FD_ISSET(fd, ex) ? POLLPRI : 0));
        if (ev)
            p[n++] = (struct pollfd){.fd = fd, .events = ev};
    }
    int r = park_poll(p, n, deadline), count = 0;
    for (nfds_t i = 0; r > 0 && i < n; i++)
        if (p[i].revents & POLLNVAL) {
            free(p);
            errno = EBADF;
            return -1;
        }
    if (r >= 0) {
        if (rd)
            FD_ZERO(rd);
        if (wr)
            FD_ZERO(wr);
        if (ex)
            FD_ZERO(ex);
        for (nfds_t i = 0; r > 0 && i < n; i++) {
            short re = p[i].revents, ev = p[i].events;
            int any = 0;
            if (ev & POLLIN && re & (POLLIN | POLLHUP | POLLERR))
                FD_SET(p[i].fd, rd), any = 1;
            if (ev & POLLOUT && re & (POLLOUT | POLLERR))
                FD_SET(p[i].fd, wr), count++;
            if (ev & POLLPRI && re & POLLPRI)
                FD_SET(p[i].fd, ex), count++;
            count += any;
        }
        r = count;
    }
    free(p);
    return r;
}

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    if ((tv && tv->tv_sec == 0 && tv->tv_usec == 0) || !evt__hook_on())
        return EVT__REAL(select,
                         (int)syscall(SYS_pselect6, nfds, rd, wr, ex,
                                      tv ? &(struct timespec){tv->tv_sec,
                                                              tv->tv_usec * 1000}
                                         : NULL,
                                      NULL),
                         nfds, rd, wr, ex, tv);
    int64_t dl = tv ? evt__hook_after_ns((int64_t)tv->tv_sec * 1000000000 +
                                         (int64_t)tv->tv_usec * 1000)
                    : -1;
    int r = select_park(nfds, rd, wr, ex, dl);
    if (tv) {
        /* Linux leaves the time not slept in *tv. */
        int64_t left = dl - evt_now();
        left = left < 0 ? 0 : left;
        tv->tv_sec = left / 1000;
        tv->tv_usec = (left % 1000) * 1000;
    }
    return r;
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
            const struct timespec *ts, const sigset_t *mask)
{
    if (mask || (ts && ts_ns(ts) == 0) || !evt__hook_on())
        return EVT__REAL(pselect,
                         (int)syscall(SYS_pselect6, nfds, rd, wr, ex, ts,
                                      mask ? (void *)(const void *[]){mask, (void *)8}
                                           : NULL),
                         nfds, rd, wr, ex, ts, mask);
    return select_park(nfds, rd, wr, ex, ts ? evt__hook_after_ns(ts_ns(ts)) : -1);
}

/* Park for ns nanoseconds of CLOCK_MONOTONIC. 0, or ECANCELED with *left
 * the nanoseconds not slept. */
static int park_ns(int64_t ns, int64_t *left)
{
    int saved = errno;
    int64_t dl = evt__hook_after_ns(ns);
    if (evt_sleep(dl) == 0) {
        errno = saved;
        return 0;
    }
    int64_t ms = dl - evt_now();
    *left = ms > 0 ? ms * 1000000 : 0;
    errno = saved;
    return ECANCELED;
}

static void ns_ts(int64_t ns, struct timespec *ts)
{
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (!evt__hook_on() || !req || req->tv_nsec < 0 ||
        req->tv_nsec >= 1000000000 || req->tv_sec < 0)
        return EVT__REAL(nanosleep, (int)syscall(SYS_nanosleep, req, rem), req,
                         rem);
    int64_t left;
    if (park_ns(ts_ns(req), &left) == 0)
        return 0;
    if (rem)
        ns_ts(left, rem);
    errno = ECANCELED;
    return -1;
}

int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
                    struct timespec *rem)
{
    int ours = clk == CLOCK_MONOTONIC || clk == CLOCK_REALTIME ||
               clk == CLOCK_BOOTTIME;
    if (!ours || !evt__hook_on() || !req || req->tv_nsec < 0 ||
        req->tv_nsec >= 1000000000)
        return EVT__REAL(clock_nanosleep,
                         (int)(syscall(SYS_clock_nanosleep, clk, flags, req,
                                       rem) < 0 ? errno : 0),
                         clk, flags, req, rem);
    int64_t ns = ts_ns(req), left;
    if (flags & TIMER_ABSTIME) {
        struct timespec now;
        clock_gettime(clk, &now);
        ns -= ts_ns(&now);
    }
    if (park_ns(ns > 0 ? ns : 0, &left) == 0)
        return 0;
    if (rem && !(flags & TIMER_ABSTIME))
        ns_ts(left, rem);
    return ECANCELED;
}

int usleep(useconds_t us)
{
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    return nanosleep(&ts, NULL);
}

unsigned sleep(unsigned s)
{
    struct timespec ts = {s, 0}, rem = {0, 0};
    if (nanosleep(&ts, &rem) == 0)
        return 0;
    return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
}
