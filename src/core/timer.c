/* Hierarchical timing wheel of parked coroutines (see timer.h), and the
 * sleep of a thread that has only timers to wait for, and evt_now, the
 * clock they run on. */
#define _GNU_SOURCE
#include "timer.h"
#include "core.h"

#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BITS 6 /* log2(EVT__WHEEL_SLOTS) */

/* The clock every deadline is on. */
int64_t evt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push(evt__timers_t *t, size_t list, evt_co_t *co)
{
    evt_co_t **head = &t->lists[list];
    co->timer_slot = list;
    co->timer_next = *head;
    co->timer_pprev = head;
    if (*head)
        (*head)->timer_pprev = &co->timer_next;
    *head = co;
}

/* Put co in the slot its deadline falls in, seen from t->elapsed: the
 * level of the highest 6-bit digit in which the two differ. A deadline
 * already passed goes to the current slot of level 0. */
static void place(evt__timers_t *t, evt_co_t *co)
{
    int64_t when = co->deadline > t->elapsed ? co->deadline : t->elapsed;
    uint64_t differ = ((uint64_t)when ^ (uint64_t)t->elapsed) |
                      (EVT__WHEEL_SLOTS - 1);
    unsigned level = (unsigned)(63 - __builtin_clzll(differ)) / BITS;
    unsigned slot = (unsigned)((uint64_t)when >> (level * BITS)) &
                    (EVT__WHEEL_SLOTS - 1);
    t->occupied[level] |= 1ull << slot;
    push(t, level * EVT__WHEEL_SLOTS + slot, co);
}

void evt__timers_add(evt__timers_t *t, evt_co_t *co)
{
    t->len++;
    place(t, co);
}

static void unlink_co(evt__timers_t *t, evt_co_t *co)
{
    size_t list = co->timer_slot;
    *co->timer_pprev = co->timer_next;
    if (co->timer_next)
        co->timer_next->timer_pprev = co->timer_pprev;
    co->timer_slot = SIZE_MAX;
    if (list < EVT__WHEEL_DUE && !t->lists[list])
        t->occupied[list / EVT__WHEEL_SLOTS] &=
            ~(1ull << (list % EVT__WHEEL_SLOTS));
}

void evt__timers_remove(evt__timers_t *t, evt_co_t *co)
{
    unlink_co(t, co);
    t->len--;
}

/* The earliest occupied slot: its list index and start time. Slots of a
 * level never lie before the wheel's position in it (a coroutine is
 * placed ahead of it, and the wheel stops at each occupied slot), and a
 * level's slots all start after those of the levels below. -1: none. */
static int64_t next_slot(const evt__timers_t *t, size_t *list)
{
    for (unsigned level = 0; level < EVT__WHEEL_LEVELS; level++) {
        unsigned shift = level * BITS;
        unsigned pos = (unsigned)((uint64_t)t->elapsed >> shift) &
                       (EVT__WHEEL_SLOTS - 1);
        uint64_t ahead = t->occupied[level] >> pos;
        if (!ahead)
            continue;
        unsigned slot = pos + (unsigned)__builtin_ctzll(ahead);
        *list = level * EVT__WHEEL_SLOTS + slot;
        uint64_t span = shift + BITS < 64 ? ~0ull << (shift + BITS) : 0;
        return (int64_t)(((uint64_t)t->elapsed & span) |
                         ((uint64_t)slot << shift));
    }
    return -1;
}

int64_t evt__timers_next(const evt__timers_t *t)
{
    if (t->lists[EVT__WHEEL_DUE])
        return t->elapsed;
    size_t list;
    return next_slot(t, &list);
}

evt_co_t *evt__timers_expired(evt__timers_t *t, int64_t now)
{
    while (!t->lists[EVT__WHEEL_DUE]) {
        size_t list;
        int64_t start = next_slot(t, &list);
        if (start < 0 || start > now) {
            if (now > t->elapsed)
                t->elapsed = now;
            return NULL;
        }
        /* Turn the wheel to the slot and empty it: at level 0 its
         * coroutines are due, above they move down. */
        t->elapsed = start;
        evt_co_t *co = t->lists[list];
        t->lists[list] = NULL;
        t->occupied[list / EVT__WHEEL_SLOTS] &=
            ~(1ull << (list % EVT__WHEEL_SLOTS));
        while (co) {
            evt_co_t *next = co->timer_next;
            if (co->deadline <= now)
                push(t, EVT__WHEEL_DUE, co);
            else
                place(t, co);
            co = next;
        }
    }
    evt_co_t *co = t->lists[EVT__WHEEL_DUE];
    evt__timers_remove(t, co);
    return co;
}

void evt__sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    /* Raw: the hook layer interposes nanosleep, and would park this very
     * coroutine again from inside its own scheduler. */
    while (ms > 0 && syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, &ts) < 0 &&
           errno == EINTR)
        ;
}

/* Deadlines fired per call. A coroutine woken by its deadline has mostly
 * slept long enough for its frames and record to leave the caches;
 * prefetch_frames starts loading them when it is queued, which pays when
 * it runs soon after, not behind a backlog of a million others (those wait
 * in the wheel for the scheduler's next look, at most 61 switches on). A
 * million sleepers wake in 0.4 s of CPU this way, 0.7 s when every due
 * coroutine was queued at once; at 64 the prefetches crowd each other out
 * and gain nothing. */
#define FIRE_BATCH 16

/* Start loading what resuming co reads: the frames it returns through,
 * from its saved stack pointer up (a shared-stack coroutine's copy of
 * them), and the second line of its record. */
static inline void prefetch_frames(const evt_co_t *co)
{
    const char *p = co->shared ? co->saved : (const char *)co->ctx.sp;
    __builtin_prefetch((const char *)co + 64, 1, 3);
    if (!p)
        return;
    for (int i = 0; i < 4; i++)
        __builtin_prefetch(p + 64 * i, 0, 3);
}

void evt__timers_fire(evt__timers_t *t, int64_t now)
{
    evt_co_t *co;
    for (int n = 0;
         n < FIRE_BATCH && (co = evt__timers_expired(t, now)) != NULL; n++) {
        prefetch_frames(co);
        evt__unpark(co, ETIMEDOUT);
    }
}
