/* Wait groups (Go sync.WaitGroup): a counter of outstanding work; waiters
 * park until it drops to zero. Every waiter parked at that moment returns
 * 0, even if work is added again before it runs. */
#include "../core/wait.h"

#include <stdlib.h>

struct evt_wg {
    evt__waitq_t waiters; /* parked until count reaches 0 */
    int64_t count;        /* outstanding work */
};

evt_wg_t *evt_wg_new(void)
{
    return evt__zalloc(sizeof(evt_wg_t));
}

int evt_wg_add(evt_wg_t *wg, int n)
{
    if (evt__unlikely(!wg || wg->count + n < 0)) {
        errno = EINVAL;
        return -1;
    }
    wg->count += n;
    if (wg->count == 0)
        evt__waitq_wake_all(&wg->waiters, 0);
    return 0;
}

int evt_wg_done(evt_wg_t *wg)
{
    return evt_wg_add(wg, -1);
}

int64_t evt_wg_count(const evt_wg_t *wg)
{
    return wg ? wg->count : 0;
}

int evt_wg_wait(evt_wg_t *wg, int64_t deadline)
{
    return EVT__WAIT_OBJ(wg, wg->count == 0, deadline);
}

int evt_wg_free(evt_wg_t *wg)
{
    return wg ? evt__waitq_free(wg, &wg->waiters) : 0;
}
