/* SIGINT and SIGTERM during a batch: the handler only writes the signal's
 * number to a pipe, and a coroutine of the batch reads it, so the decision
 * (stop starting, cancel after a grace period) stays in the controller. */
#define _GNU_SOURCE
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

/* The write end of the pipe of the batch that owns the signals, or -1. */
static atomic_int sig_wfd = -1;
/* Signals caught since the batch took them, and the first one. */
static atomic_uint sig_count;
static atomic_int sig_first;

static void on_signal(int sig)
{
    int none = 0;
    atomic_compare_exchange_strong(&sig_first, &none, sig);
    atomic_fetch_add(&sig_count, 1);
    int fd = atomic_load(&sig_wfd);
    if (fd >= 0) {
        int saved = errno;
        unsigned char c = (unsigned char)sig;
        ssize_t w = write(fd, &c, 1);
        (void)w; /* a full pipe already holds enough signals */
        errno = saved;
    }
}

int evt__signals_take(evt__signals_t *s, evt_event_t *wake)
{
    s->wake = wake;
    if (pipe2(s->fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    int none = -1;
    if (!atomic_compare_exchange_strong(&sig_wfd, &none, s->fds[1])) {
        close(s->fds[0]);
        close(s->fds[1]);
        errno = EBUSY;
        return -1;
    }
    atomic_store(&sig_count, 0);
    atomic_store(&sig_first, 0);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
    return 0;
}

void evt__signals_give(evt__signals_t *s)
{
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
    atomic_store(&sig_wfd, -1);
    evt_close(s->fds[0]);
    close(s->fds[1]);
}

unsigned evt__signals_count(int *first)
{
    *first = atomic_load(&sig_first);
    return atomic_load(&sig_count);
}

evt__stop_t evt__signals_check(unsigned *seen, evt_batch_report_t *rep,
                               int64_t *grace_end, int64_t grace_ms)
{
    int first;
    unsigned n = evt__signals_count(&first);
    if (n == *seen)
        return EVT__RUN;
    *seen = n;
    rep->halted = 1;
    if (!rep->signal) {
        rep->signal = first;
        *grace_end = evt_now() + grace_ms;
    }
    return n >= 2 ? EVT__CANCEL : EVT__DRAIN;
}

void *evt__signals_watch(void *arg)
{
    evt__signals_t *s = arg;
    unsigned char c[64];
    for (;;) {
        ssize_t n = read(s->fds[0], c, sizeof c);
        if (n > 0)
            evt_event_set(s->wake);
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            return NULL;
        else if (evt_wait_fd(s->fds[0], EVT_IN, -1) < 0)
            return NULL;
    }
}
