/* Deadlines of parked coroutines: a hierarchical timing wheel, as in the
 * Linux kernel and Tokio. Level k has 64 slots of 64^k ms each, and a
 * coroutine waits in a list in the slot of the lowest level whose span
 * reaches its deadline; when the wheel turns to that slot, its coroutines
 * move down a level, or are due once at level 0 (slots of 1 ms, which is
 * the clock's resolution). Arming and disarming are O(1) and touch only
 * the coroutine and a list head; each coroutine moves down at most once
 * per level. A binary heap of a million sleepers spent most of its time in
 * cache misses while sifting. Owned by the scheduler because every park
 * takes a deadline. */
#ifndef EVT_CORE_TIMER_H
#define EVT_CORE_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct evt_co;

/* 11 levels of 6 bits cover every non-negative int64 deadline. */
#define EVT__WHEEL_LEVELS 11
#define EVT__WHEEL_SLOTS 64
/* The index of the list of coroutines found due, after the slots. */
#define EVT__WHEEL_DUE (EVT__WHEEL_LEVELS * EVT__WHEEL_SLOTS)

typedef struct evt__timers {
    /* Lists through evt_co.timer_next/timer_pprev: slot s of level k at
     * [k * 64 + s], then the due list. */
    struct evt_co *lists[EVT__WHEEL_DUE + 1];
    uint64_t occupied[EVT__WHEEL_LEVELS]; /* bit s: slot s has a list */
    int64_t elapsed; /* ms the wheel has turned to; never after the clock */
    size_t len;      /* coroutines armed */
} evt__timers_t;

/* Arm co's deadline (co->deadline), which may have passed already. */
void evt__timers_add(evt__timers_t *t, struct evt_co *co);
void evt__timers_remove(evt__timers_t *t, struct evt_co *co);
/* When the wheel must turn next, or -1 when nothing is armed: the
 * earliest deadline, or earlier (the start of the slot it waits in). */
int64_t evt__timers_next(const evt__timers_t *t);
/* Remove and return a coroutine whose deadline is <= now, or NULL. */
struct evt_co *evt__timers_expired(evt__timers_t *t, int64_t now);
/* Unpark, with ETIMEDOUT, up to 16 of the coroutines whose deadline is
 * <= now; the others stay due for the next call. */
void evt__timers_fire(evt__timers_t *t, int64_t now);

/* Block the thread for ms milliseconds (0: return at once), through
 * signals: how a thread without a reactor waits for its next timer. */
void evt__sleep_ms(int ms);

#endif
