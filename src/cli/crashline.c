/* Plugin mode in process or on threads: a line that crashes the plugin
 * kills eventor, so say which line was running before dying of it. Each
 * line notes itself (its coroutine and number) in a small lock-free table
 * while the plugin runs it; a handler on the alternate stack finds the
 * crashing coroutine's line and writes it, async-signal-safe. */
#include "eventor.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 4096 /* lines in flight at once noted; more go unnamed */

typedef struct slot {
    _Atomic(evt_co_t *) co; /* the coroutine running the line, NULL: free */
    _Atomic uint64_t line;  /* its number in the input, from 1 */
} slot_t;

static slot_t slots[SLOTS];
static evt_batch_fn plugin_fn;
static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
static struct sigaction prev[sizeof sigs / sizeof *sigs];

static size_t hash(const evt_co_t *co)
{
    return (size_t)(((uintptr_t)co >> 4) * 0x9e3779b97f4a7c15u >> 52) % SLOTS;
}

static int noted(const evt_batch_task_t *t, void *out, size_t cap,
                 size_t *len, void *user)
{
    evt_co_t *co = evt_self(), *none = NULL;
    size_t h = hash(co), k;
    for (k = 0; k < 8; k++, none = NULL)
        if (atomic_compare_exchange_strong(&slots[(h + k) % SLOTS].co, &none,
                                           co))
            break;
    slot_t *s = k < 8 ? &slots[(h + k) % SLOTS] : NULL;
    if (s)
        s->line = t->index + 1;
    int rc = plugin_fn(t, out, cap, len, user);
    if (s)
        atomic_store(&s->co, NULL);
    return rc;
}

static size_t put_u64(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* Name the line, let the handler that was there run (the core's stack
 * overflow report), then die of the signal. */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
    evt_co_t *co = evt_self();
    uint64_t line = 0;
    for (size_t k = 0, h = hash(co); k < 8 && co; k++)
        if (atomic_load(&slots[(h + k) % SLOTS].co) == co)
            line = slots[(h + k) % SLOTS].line;
    char msg[96];
    size_t n = 0;
    if (line) {
        memcpy(msg, "eventor: line ", 14);
        n = 14 + put_u64(msg + 14, line);
        memcpy(msg + n, " crashed the plugin (signal ", 28);
        n += 28;
        n += put_u64(msg + n, (uint64_t)sig);
        memcpy(msg + n, ")\n", 2);
        n += 2;
        ssize_t w = write(2, msg, n);
        (void)w;
    }
    size_t k = 0;
    while (sigs[k] != sig)
        k++;
    if (prev[k].sa_flags & SA_SIGINFO)
        prev[k].sa_sigaction(sig, si, uc);
    else if (prev[k].sa_handler != SIG_DFL && prev[k].sa_handler != SIG_IGN)
        prev[k].sa_handler(sig);
    signal(sig, SIG_DFL);
    raise(sig); /* (blocked until this returns: then it kills) */
}

evt_batch_fn crashline_guard(evt_batch_fn fn)
{
    plugin_fn = fn;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++)
        sigaction(sigs[k], &sa, &prev[k]);
    return noted;
}
