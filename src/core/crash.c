/* One handler, process-wide, for the signals a crashing program dies of.
 * Each layer that can say something useful about a crash leaves a note
 * here rather than a handler of its own: the core says which coroutine
 * overflowed its stack, the batch engine which item was running, a worker
 * process marks its spool. The notes run, then the handler that was there
 * before us (a sanitizer's, the program's own), then the process dies of
 * the signal, as it would have without us, so its parent sees it. */
#define _GNU_SOURCE
#include "crash.h"
#include "core.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static const int crash_sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
#define NSIGS (sizeof crash_sigs / sizeof *crash_sigs)

static _Atomic(evt__crash_note_fn) notes[EVT__CRASH_NOTES];
static struct sigaction prev[NSIGS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void on_crash(int sig, siginfo_t *si, void *uc)
{
    int explained = 0;
    for (size_t k = 0; k < EVT__CRASH_NOTES; k++) {
        evt__crash_note_fn note = atomic_load(&notes[k]);
        if (note && note(sig, si))
            explained = 1;
    }
    size_t k = 0;
    while (crash_sigs[k] != sig)
        k++;
    const struct sigaction *p = &prev[k];
    if (!explained && (p->sa_flags & SA_SIGINFO))
        p->sa_sigaction(sig, si, uc);
    else if (!explained && p->sa_handler != SIG_DFL &&
             p->sa_handler != SIG_IGN)
        p->sa_handler(sig);
    signal(sig, SIG_DFL);
    raise(sig); /* (blocked until this returns: then it kills) */
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < NSIGS; k++) {
        struct sigaction cur;
        /* Once per process; again in a child whose parent (the fork
         * server) reset the signals. */
        if (sigaction(crash_sigs[k], NULL, &cur) == 0 &&
            (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_crash)
            continue;
        sigaction(crash_sigs[k], &sa, &prev[k]);
    }
}

int evt__crash_note(evt__crash_note_fn note)
{
    int rc = -1;
    pthread_mutex_lock(&lock);
    install();
    for (size_t k = 0; k < EVT__CRASH_NOTES && rc < 0; k++) {
        evt__crash_note_fn n = atomic_load(&notes[k]);
        if (n == note)
            rc = 0;
        else if (!n) {
            atomic_store(&notes[k], note);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    if (rc < 0)
        errno = ENOSPC;
    return rc;
}

size_t evt__crash_fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

void evt__crash_write(const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void evt__crash_set_item(uint64_t item)
{
    evt__sched_t *s = evt__tls_sched;
    if (s && s->current)
        s->current->crash_item = item;
}

uint64_t evt__crash_item(void)
{
    evt__sched_t *s = evt__tls_sched;
    return s && s->current ? s->current->crash_item : 0;
}
