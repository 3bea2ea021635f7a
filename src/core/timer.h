/* Deadlines of parked coroutines: a binary min-heap of coroutines ordered by
 * their deadline, each knowing its slot so that a wake-up removes it in
 * O(log n). Owned by the scheduler because every park takes a deadline. */
#ifndef EVT_CORE_TIMER_H
#define EVT_CORE_TIMER_H

#include <stddef.h>
#include <stdint.h>

struct evt_co;

typedef struct evt__timers {
    struct evt_co **heap; /* heap[0] has the earliest deadline */
    size_t len;           /* coroutines in the heap */
    size_t cap;           /* allocated slots */
} evt__timers_t;

/* Arm co's deadline (co->deadline). Returns 0 or ENOMEM. */
int evt__timers_add(evt__timers_t *t, struct evt_co *co);
void evt__timers_remove(evt__timers_t *t, struct evt_co *co);
/* Earliest deadline, or -1 when none is armed. */
int64_t evt__timers_next(const evt__timers_t *t);
/* Remove and return a coroutine whose deadline is <= now, or NULL. */
struct evt_co *evt__timers_expired(evt__timers_t *t, int64_t now);
void evt__timers_fini(evt__timers_t *t);

#endif
