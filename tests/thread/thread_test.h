/* Helpers shared by the tests of src/thread: a coroutine-result convention
 * (a body returns 0 or the errno it failed with), joining with a deadline,
 * and a small counting gate that plain threads and tests wait on. */
#ifndef EVT_TESTS_THREAD_TEST_H
#define EVT_TESTS_THREAD_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "eventor.h"

#define CO_RESULT(err) ((void *)(intptr_t)(err))

/* Join co (a deadline keeps a broken test from hanging) and return its
 * result as an int. */
static inline int join_int(evt_co_t *co)
{
    void *r = NULL;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0, "join: %s",
                 strerror(errno));
    return (int)(intptr_t)r;
}

/* Let the coroutines spawned so far run up to their first park. */
static inline void settle(void)
{
    evt_yield();
}

/* Wait for a POSIX semaphore, with a deadline that keeps a broken test
 * from hanging. Blocks the thread: for plain threads, or for a test whose
 * coroutines have nothing to do meanwhile. */
static inline void gate_wait(sem_t *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    int rc;
    while ((rc = sem_timedwait(s, &ts)) < 0 && errno == EINTR)
        ;
    cr_assert_eq(rc, 0, "gate never opened");
}

#endif
