/* What every hooked call decides first: park or block (a scheduler on the
 * thread, hooks on), make the fd non-blocking when it will park, and the
 * wait itself, on the reactor or, off a coroutine, in libc's poll for an
 * fd we made non-blocking (so that its user still sees a blocking fd). */
#define _GNU_SOURCE
#include "hook.h"

#include <fcntl.h>

/* Per thread: hooks turned off by evt_hook_enable(0). */
static __thread int hooks_off __attribute__((tls_model("initial-exec")));

int evt_hook_enable(int on)
{
    int was = !hooks_off;
    hooks_off = !on;
    return was;
}

int64_t evt__hook_after_ns(int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t end = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + ns;
    return (end + 999999) / 1000000;
}

int evt__hook_on(void)
{
    return !hooks_off && !evt__hook_disabled && evt_sched_active();
}

int evt__hook_loops(int fd, evt__hfd_t *h, int on)
{
    unsigned f = atomic_load_explicit(&h->flags, memory_order_relaxed);
    if (f & EVT__HFD_USER_NB)
        return 0;
    if (!on)
        return (f & EVT__HFD_OURS_NB) != 0;
    if (evt__hlikely(f & EVT__HFD_OURS_NB))
        return 1;
    int fl = EVT__REAL(fcntl, (int)syscall(SYS_fcntl, fd, F_GETFL), fd,
                       F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) &&
                   EVT__REAL(fcntl, (int)syscall(SYS_fcntl, fd, F_SETFL,
                                                 fl | O_NONBLOCK),
                             fd, F_SETFL, fl | O_NONBLOCK) < 0))
        return 0;
    atomic_fetch_or_explicit(&h->flags, EVT__HFD_OURS_NB,
                             memory_order_relaxed);
    return 1;
}

/* Off a coroutine: libc's poll, restarted after a signal as a blocking
 * call with SA_RESTART would be. */
static int wait_blocking(int fd, int events, int64_t deadline)
{
    struct pollfd p = {.fd = fd,
                       .events = (short)((events & EVT_IN ? POLLIN : 0) |
                                         (events & EVT_OUT ? POLLOUT : 0))};
    for (;;) {
        int64_t left = deadline < 0 ? -1 : deadline - evt_now();
        if (deadline >= 0 && left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int t = left > INT32_MAX ? INT32_MAX : (int)left;
        int r = EVT__REAL(poll, evt__raw_poll(&p, 1, t), &p, 1, t);
        if (r > 0) {
            if (p.revents & POLLNVAL) {
                errno = EBADF;
                return -1;
            }
            return 0;
        }
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

int evt__hook_wait(int fd, int events, int64_t deadline, int on)
{
    if (!on)
        return wait_blocking(fd, events, deadline);
    return evt_wait_fd(fd, events, deadline) < 0 ? -1 : 0;
}
