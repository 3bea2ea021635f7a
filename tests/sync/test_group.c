/* Tests of groups: join all, join with a deadline (how many finished),
 * cancel all, free with live members (cancelled and joined, none leaks,
 * even when the freeing coroutine is cancelled), EDEADLK, spawns during
 * free, bad arguments, and many members. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "eventor.h"

static int finished;  /* member bodies that returned */
static int cancelled; /* of which saw ECANCELED */

static void *wait_event(void *arg)
{
    if (evt_event_wait(arg, -1) < 0 && errno == ECANCELED)
        cancelled++;
    finished++;
    return NULL;
}

static void *sleep_long(void *arg)
{
    (void)arg;
    if (evt_sleep(evt_now() + 100000) < 0 && errno == ECANCELED)
        cancelled++;
    finished++;
    return NULL;
}

static void *quick(void *arg)
{
    (void)arg;
    evt_yield();
    finished++;
    return NULL;
}

static void reset(void)
{
    finished = cancelled = 0;
}

Test(group, join_all)
{
    reset();
    evt_group_t *g = evt_group_new();
    cr_assert_not_null(g);
    cr_assert_eq(evt_group_join(g, 0), 0); /* empty */
    for (int i = 0; i < 100; i++)
        cr_assert_not_null(evt_group_spawn(g, quick, NULL));
    cr_assert_eq(evt_group_running(g), 100);
    cr_assert_eq(evt_group_join(g, -1), 0);
    cr_assert_eq(finished, 100);
    cr_assert_eq(evt_group_running(g), 0);
    cr_assert_eq(evt_group_finished(g), 100);
    cr_assert_eq(evt_group_free(g), 0);
}

Test(group, join_deadline_reports_progress)
{
    reset();
    evt_group_t *g = evt_group_new();
    evt_event_t *ev = evt_event_new();
    for (int i = 0; i < 7; i++)
        evt_group_spawn(g, quick, NULL);
    for (int i = 0; i < 3; i++)
        evt_group_spawn(g, wait_event, ev);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_group_join(g, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    cr_assert_eq(evt_group_finished(g), 7);
    cr_assert_eq(evt_group_running(g), 3);
    evt_event_set(ev);
    cr_assert_eq(evt_group_join(g, -1), 0);
    cr_assert_eq(evt_group_finished(g), 10);
    cr_assert_eq(cancelled, 0);
    evt_group_free(g);
    evt_event_free(ev);
}

Test(group, cancel_all)
{
    reset();
    evt_group_t *g = evt_group_new();
    for (int i = 0; i < 50; i++)
        evt_group_spawn(g, sleep_long, NULL);
    evt_yield();
    evt_group_cancel(g);
    cr_assert_eq(evt_group_join(g, evt_now() + 10000), 0);
    cr_assert_eq(finished, 50);
    cr_assert_eq(cancelled, 50);
    /* Still usable. */
    evt_group_spawn(g, quick, NULL);
    cr_assert_eq(evt_group_join(g, -1), 0);
    cr_assert_eq(evt_group_finished(g), 51);
    evt_group_free(g);
}

Test(group, free_cancels_and_joins_live_members)
{
    reset();
    evt_group_t *g = evt_group_new();
    evt_event_t *ev = evt_event_new();
    for (int i = 0; i < 20; i++) {
        evt_group_spawn(g, sleep_long, NULL);
        evt_group_spawn(g, wait_event, ev);
    }
    evt_yield(); /* all parked */
    for (int i = 0; i < 10; i++)
        evt_group_spawn(g, wait_event, ev); /* never ran yet */
    cr_assert_eq(evt_group_free(g), 0);
    cr_assert_eq(finished, 50);
    cr_assert_eq(cancelled, 50);
    cr_assert_eq(evt_event_free(ev), 0); /* nobody waits on it any more */
}

/* Makes a group of sleepers, waits to be cancelled, then frees the group
 * while cancelled. */
static void *owner(void *arg)
{
    evt_event_t *never = arg;
    evt_group_t *g = evt_group_new();
    for (int i = 0; i < 10; i++)
        evt_group_spawn(g, sleep_long, NULL);
    int rc = evt_event_wait(never, -1) < 0 ? errno : 0;
    evt_group_free(g);
    return (void *)(intptr_t)(rc == ECANCELED && finished == 10);
}

Test(group, free_in_a_cancelled_coroutine_still_joins)
{
    reset();
    evt_event_t *never = evt_event_new();
    evt_co_t *co = evt_spawn(owner, never);
    evt_yield();
    evt_cancel(co);
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    cr_assert_eq((intptr_t)r, 1);
    cr_assert_eq(finished, 10);
    evt_event_free(never);
}

static evt_group_t *the_group;

static int spawn_rc;

static void *respawner(void *arg)
{
    (void)arg;
    evt_sleep(-1); /* until cancelled by the group's free */
    spawn_rc = evt_group_spawn(the_group, quick, NULL) ? 0 : errno;
    finished++;
    return NULL;
}

static void *report_to(void *arg)
{
    *(int *)arg = evt_group_free(the_group) < 0 ? errno : 0;
    finished++;
    return NULL;
}

Test(group, free_from_a_member_is_edeadlk)
{
    reset();
    the_group = evt_group_new();
    int rc = -1;
    evt_group_spawn(the_group, report_to, &rc);
    cr_assert_eq(evt_group_join(the_group, -1), 0);
    cr_assert_eq(rc, EDEADLK);
    cr_assert_eq(evt_group_free(the_group), 0);
}

Test(group, no_spawn_while_freeing)
{
    reset();
    spawn_rc = 0;
    the_group = evt_group_new();
    evt_group_spawn(the_group, respawner, NULL);
    evt_yield();
    cr_assert_eq(evt_group_free(the_group), 0);
    cr_assert_eq(spawn_rc, ECANCELED);
    cr_assert_eq(finished, 1);
}

typedef struct join_op {
    evt_group_t *g;
    int64_t deadline;
} join_op_t;

static void *do_join(void *arg)
{
    join_op_t *o = arg;
    return (void *)(intptr_t)(evt_group_join(o->g, o->deadline) < 0 ? errno
                                                                     : 0);
}

Test(group, cancel_while_joining)
{
    reset();
    evt_group_t *g = evt_group_new();
    evt_event_t *ev = evt_event_new();
    evt_group_spawn(g, wait_event, ev);
    join_op_t o = {g, -1};
    evt_co_t *j = evt_spawn(do_join, &o), *k = evt_spawn(do_join, &o);
    evt_yield();
    evt_cancel(j);
    void *r;
    cr_assert_eq(evt_join(j, -1, &r), 0);
    cr_assert_eq((intptr_t)r, ECANCELED);
    evt_event_set(ev);
    cr_assert_eq(evt_join(k, -1, &r), 0);
    cr_assert_eq((intptr_t)r, 0);
    evt_group_free(g);
    evt_event_free(ev);
}

Test(group, free_wakes_joiners)
{
    reset();
    evt_group_t *g = evt_group_new();
    evt_group_spawn(g, sleep_long, NULL);
    join_op_t o = {g, -1};
    evt_co_t *j = evt_spawn(do_join, &o);
    evt_yield();
    cr_assert_eq(evt_group_free(g), 0);
    void *r;
    cr_assert_eq(evt_join(j, -1, &r), 0);
    cr_assert_eq((intptr_t)r, 0);
}

Test(group, bad_arguments)
{
    evt_group_t *g = evt_group_new();
    cr_assert_null(evt_group_spawn(NULL, quick, NULL));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_group_spawn(g, NULL, NULL));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_group_join(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_group_cancel(NULL);
    cr_assert_eq(evt_group_free(NULL), 0);
    cr_assert_eq(evt_group_free(g), 0);
}

Test(group, many_members)
{
    reset();
    evt_group_t *g = evt_group_new();
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 10000; i++)
            cr_assert_not_null(evt_group_spawn(g, quick, NULL));
        cr_assert_eq(evt_group_join(g, -1), 0);
    }
    cr_assert_eq(finished, 100000);
    cr_assert_eq(evt_group_finished(g), 100000);
    evt_group_free(g);
}
