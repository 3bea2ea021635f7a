/* The blocking detector's share of a scheduler: what its switch path
 * stores (a relaxed counter, an idle flag) and what the watchdog thread
 * keeps per scheduler between two looks. See watchdog.c. */
#ifndef EVT_CORE_WATCHDOG_H
#define EVT_CORE_WATCHDOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define EVT__WD_FRAMES 32

struct evt__sched;

typedef struct evt__wd {
    struct evt__sched *next, *prev; /* in the watchdog's list */
    pthread_t thread;       /* the scheduler's thread */
    int tid;                /* its kernel id, for reports */
    _Atomic size_t live;    /* mirror of sched.live: 0 = nobody to stall */
    _Atomic int idle;       /* 1 while it waits in the reactor / a sleep */
    uint64_t seen_ticks;    /* watchdog's: ticks at its last look */
    int64_t seen_at;        /* watchdog's: when they last changed */
    int reported;           /* watchdog's: this stall was reported */
} evt__wd_t;

/* Bump the scheduler's switch counter: one relaxed load and store of a
 * field only its own thread writes (a plain increment on x86 and arm). */
static inline void evt__wd_tick(_Atomic uint64_t *ticks)
{
    atomic_store_explicit(
        ticks, atomic_load_explicit(ticks, memory_order_relaxed) + 1,
        memory_order_relaxed);
}

/* Enter the scheduler in the watchdog's list (at its creation; reads
 * EVENTOR_MAX_BLOCKING_MS the first time) / take it out (thread exit). */
void evt__wd_register(struct evt__sched *s);
void evt__wd_unregister(struct evt__sched *s);

#endif
