/* Tests of channels: order, bounded/unbounded/rendezvous buffering,
 * deadlines, cancellation, close with waiters, free with waiters, and the
 * hand-off race with a waiter that timed out or was cancelled. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "eventor.h"

/* Run by coroutines: one send or recv of an int, result as an errno. */
typedef struct op {
    evt_chan_t *ch;
    int value;       /* sent, or received */
    int64_t deadline;
} op_t;

static void *do_send(void *arg)
{
    op_t *o = arg;
    return (void *)(intptr_t)(evt_chan_send(o->ch, &o->value, o->deadline) < 0
                                  ? errno : 0);
}

static void *do_recv(void *arg)
{
    op_t *o = arg;
    return (void *)(intptr_t)(evt_chan_recv(o->ch, &o->value, o->deadline) < 0
                                  ? errno : 0);
}

static int join_rc(evt_co_t *co)
{
    void *r;
    cr_assert_eq(evt_join(co, -1, &r), 0);
    return (int)(intptr_t)r;
}

Test(chan, bounded_fifo_and_full)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 4);
    cr_assert_not_null(ch);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(evt_chan_send(ch, &i, 0), 0);
    cr_assert_eq(evt_chan_len(ch), 4);
    int x = 99;
    cr_assert_eq(evt_chan_send(ch, &x, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
        cr_assert_eq(x, i);
    }
    cr_assert_eq(evt_chan_recv(ch, &x, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_chan_free(ch), 0);
}

Test(chan, ring_wraps_and_grows_in_order)
{
    /* Unbounded: grow while the ring has wrapped (head not at 0). */
    evt_chan_t *ch = evt_chan_new(sizeof(int), EVT_CHAN_UNBOUNDED);
    int next_in = 0, next_out = 0, x;
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 37; i++, next_in++)
            cr_assert_eq(evt_chan_send(ch, &next_in, 0), 0);
        for (int i = 0; i < 30; i++, next_out++) {
            cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
            if (x != next_out)
                cr_assert_fail("got %d, want %d", x, next_out);
        }
    }
    cr_assert_eq(evt_chan_len(ch), (size_t)(next_in - next_out));
    while (next_out < next_in) {
        cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
        cr_assert_eq(x, next_out++);
    }
    evt_chan_free(ch);
    /* Bounded with a capacity that is not a power of two. */
    ch = evt_chan_new(sizeof(int), 100);
    next_in = next_out = 0;
    for (int round = 0; round < 50; round++) {
        while (evt_chan_len(ch) < 100) {
            cr_assert_eq(evt_chan_send(ch, &next_in, 0), 0);
            next_in++;
        }
        cr_assert_eq(evt_chan_send(ch, &next_in, 0), -1);
        for (int i = 0; i < 33; i++, next_out++) {
            cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
            cr_assert_eq(x, next_out);
        }
    }
    evt_chan_free(ch);
}

Test(chan, big_items_are_copied_whole)
{
    typedef struct { char b[1000]; } big_t;
    evt_chan_t *ch = evt_chan_new(sizeof(big_t), 3);
    big_t in, out;
    for (int i = 0; i < 10; i++) {
        memset(&in, 'a' + i, sizeof in);
        cr_assert_eq(evt_chan_send(ch, &in, 0), 0);
        memset(&in, 0, sizeof in);
        cr_assert_eq(evt_chan_recv(ch, &out, 0), 0);
        for (size_t k = 0; k < sizeof out; k++)
            if (out.b[k] != 'a' + i)
                cr_assert_fail("byte %zu", k);
    }
    evt_chan_free(ch);
}

Test(chan, rendezvous_waits_for_the_other_side)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 0);
    int x = 1;
    cr_assert_eq(evt_chan_send(ch, &x, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    op_t o = {ch, 42, -1};
    evt_co_t *s = evt_spawn(do_send, &o);
    evt_yield(); /* the sender parks */
    cr_assert_eq(evt_chan_len(ch), 0);
    cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
    cr_assert_eq(x, 42);
    cr_assert_eq(join_rc(s), 0);
    /* And the other way round: a parked receiver gets the item at once. */
    op_t r = {ch, 0, -1};
    evt_co_t *rc = evt_spawn(do_recv, &r);
    evt_yield();
    x = 7;
    cr_assert_eq(evt_chan_send(ch, &x, 0), 0);
    cr_assert_eq(join_rc(rc), 0);
    cr_assert_eq(r.value, 7);
    evt_chan_free(ch);
}

Test(chan, blocked_senders_keep_their_order)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 2);
    enum { N = 6 };
    op_t o[N];
    evt_co_t *co[N];
    for (int i = 0; i < N; i++) {
        o[i] = (op_t){ch, i, -1};
        co[i] = evt_spawn(do_send, &o[i]);
    }
    evt_yield(); /* two buffer, four park */
    cr_assert_eq(evt_chan_len(ch), 2);
    for (int i = 0; i < N; i++) {
        int x;
        cr_assert_eq(evt_chan_recv(ch, &x, -1), 0);
        cr_assert_eq(x, i);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(join_rc(co[i]), 0);
    evt_chan_free(ch);
}

Test(chan, deadlines_expire)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 1);
    int x = 0;
    int64_t t0 = evt_now();
    cr_assert_eq(evt_chan_recv(ch, &x, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    cr_assert_eq(evt_chan_send(ch, &x, 0), 0);
    t0 = evt_now();
    cr_assert_eq(evt_chan_send(ch, &x, t0 + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now() - t0, 19);
    /* The timed-out send left nothing behind. */
    cr_assert_eq(evt_chan_len(ch), 1);
    cr_assert_eq(evt_chan_free(ch), 0);
}

Test(chan, cancel_while_blocked)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 0);
    op_t s = {ch, 5, -1}, r = {ch, 0, -1};
    evt_co_t *sc = evt_spawn(do_send, &s);
    evt_yield();
    evt_cancel(sc);
    cr_assert_eq(join_rc(sc), ECANCELED);
    evt_co_t *rc = evt_spawn(do_recv, &r);
    evt_yield();
    evt_cancel(rc);
    cr_assert_eq(join_rc(rc), ECANCELED);
    /* Nothing was exchanged, nobody is left waiting. */
    int x;
    cr_assert_eq(evt_chan_recv(ch, &x, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_chan_free(ch), 0);
}

Test(chan, cancelled_waiter_is_not_handed_an_item)
{
    /* The receiver is cancelled (made ready, not yet run) when the send
     * comes: the item must stay in the channel, not vanish with it. */
    evt_chan_t *ch = evt_chan_new(sizeof(int), 1);
    op_t r = {ch, -1, -1};
    evt_co_t *rc = evt_spawn(do_recv, &r);
    evt_yield();
    evt_cancel(rc);
    int x = 33;
    cr_assert_eq(evt_chan_send(ch, &x, 0), 0);
    cr_assert_eq(join_rc(rc), ECANCELED);
    cr_assert_eq(r.value, -1);
    cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
    cr_assert_eq(x, 33);
    /* Same for a sender on a full channel: its item is not taken. */
    cr_assert_eq(evt_chan_send(ch, &x, 0), 0);
    op_t s = {ch, 44, -1};
    evt_co_t *sc = evt_spawn(do_send, &s);
    evt_yield();
    evt_cancel(sc);
    cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
    cr_assert_eq(x, 33);
    cr_assert_eq(join_rc(sc), ECANCELED);
    cr_assert_eq(evt_chan_len(ch), 0);
    evt_chan_free(ch);
}

/* Sleeps until a deadline, then tries a send that must not wait. */
typedef struct late {
    evt_chan_t *ch;
    int64_t deadline;
} late_t;

static void *late_send(void *arg)
{
    late_t *l = arg;
    evt_sleep(l->deadline);
    int x = 1;
    return (void *)(intptr_t)(evt_chan_send(l->ch, &x, 0) < 0 ? errno : 0);
}

Test(chan, timed_out_waiter_is_not_handed_an_item)
{
    /* The sender and the receiver share a deadline; the sender parked
     * first, so it runs first when both fire, and finds the receiver timed
     * out but not yet run. */
    evt_chan_t *ch = evt_chan_new(sizeof(int), 0);
    int64_t d = evt_now() + 10;
    late_t l = {ch, d};
    op_t r = {ch, -1, d};
    evt_co_t *sc = evt_spawn(late_send, &l);
    evt_co_t *rc = evt_spawn(do_recv, &r);
    cr_assert_eq(join_rc(sc), ETIMEDOUT);
    cr_assert_eq(join_rc(rc), ETIMEDOUT);
    cr_assert_eq(r.value, -1);
    evt_chan_free(ch);
}

Test(chan, close_fails_senders_and_drains_receivers)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 2);
    enum { N = 4 };
    op_t o[N];
    evt_co_t *co[N];
    for (int i = 0; i < N; i++) {
        o[i] = (op_t){ch, i, -1};
        co[i] = evt_spawn(do_send, &o[i]);
    }
    evt_yield(); /* 0 and 1 buffered, 2 and 3 parked */
    evt_chan_close(ch);
    evt_chan_close(ch); /* idempotent */
    cr_assert(evt_chan_closed(ch));
    cr_assert_eq(join_rc(co[0]), 0);
    cr_assert_eq(join_rc(co[1]), 0);
    cr_assert_eq(join_rc(co[2]), EPIPE);
    cr_assert_eq(join_rc(co[3]), EPIPE);
    int x = 9;
    cr_assert_eq(evt_chan_send(ch, &x, -1), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(evt_chan_recv(ch, &x, -1), 0);
    cr_assert_eq(x, 0);
    cr_assert_eq(evt_chan_recv(ch, &x, -1), 0);
    cr_assert_eq(x, 1);
    cr_assert_eq(evt_chan_recv(ch, &x, -1), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(evt_chan_free(ch), 0);
}

Test(chan, close_wakes_parked_receivers)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 3);
    op_t o[3];
    evt_co_t *co[3];
    for (int i = 0; i < 3; i++) {
        o[i] = (op_t){ch, 0, -1};
        co[i] = evt_spawn(do_recv, &o[i]);
    }
    evt_yield();
    evt_chan_close(ch);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(join_rc(co[i]), EPIPE);
    evt_chan_free(ch);
}

Test(chan, free_with_waiters_is_ebusy)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 0);
    op_t r = {ch, 0, -1};
    evt_co_t *rc = evt_spawn(do_recv, &r);
    evt_yield();
    cr_assert_eq(evt_chan_free(ch), -1);
    cr_assert_eq(errno, EBUSY);
    evt_chan_close(ch);
    cr_assert_eq(join_rc(rc), EPIPE);
    cr_assert_eq(evt_chan_free(ch), 0);
    /* A waiter that was cancelled but has not run yet does not hold it. */
    ch = evt_chan_new(sizeof(int), 0);
    r.ch = ch;
    rc = evt_spawn(do_recv, &r);
    evt_yield();
    evt_cancel(rc);
    cr_assert_eq(evt_chan_free(ch), 0);
    cr_assert_eq(join_rc(rc), ECANCELED);
    cr_assert_eq(evt_chan_free(NULL), 0);
}

Test(chan, recv_null_drops_the_item)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 2);
    int x = 1, y = 2;
    evt_chan_send(ch, &x, 0);
    evt_chan_send(ch, &y, 0);
    cr_assert_eq(evt_chan_recv(ch, NULL, 0), 0);
    cr_assert_eq(evt_chan_recv(ch, &x, 0), 0);
    cr_assert_eq(x, 2);
    evt_chan_free(ch);
}

Test(chan, cancelled_caller_still_completes_without_waiting)
{
    evt_chan_t *ch = evt_chan_new(sizeof(int), 1);
    op_t s = {ch, 8, -1};
    /* Cancelled before it runs: the send needs no wait, so it succeeds. */
    evt_co_t *co = evt_spawn(do_send, &s);
    evt_cancel(co);
    cr_assert_eq(join_rc(co), 0);
    /* The channel is full now: the same send would wait, so it fails. */
    co = evt_spawn(do_send, &s);
    evt_cancel(co);
    cr_assert_eq(join_rc(co), ECANCELED);
    evt_chan_free(ch);
}

Test(chan, bad_arguments)
{
    cr_assert_null(evt_chan_new(0, 1));
    cr_assert_eq(errno, EINVAL);
    int x = 0;
    cr_assert_eq(evt_chan_send(NULL, &x, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_chan_t *ch = evt_chan_new(sizeof x, 1);
    cr_assert_eq(evt_chan_send(ch, NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_chan_recv(NULL, &x, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_chan_close(NULL);
    cr_assert_eq(evt_chan_len(NULL), 0);
    evt_chan_free(ch);
}

/* Producer/consumer through a small buffer: the gevent.queue use. */
static void *producer(void *arg)
{
    evt_chan_t *ch = arg;
    for (int i = 0; i < 200000; i++)
        if (evt_chan_send(ch, &i, -1) < 0)
            return (void *)(intptr_t)errno;
    evt_chan_close(ch);
    return NULL;
}

Test(chan, producer_consumer)
{
    size_t caps[] = {0, 1, 64, EVT_CHAN_UNBOUNDED};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        evt_chan_t *ch = evt_chan_new(sizeof(int), caps[c]);
        evt_co_t *p = evt_spawn(producer, ch);
        int x, want = 0;
        while (evt_chan_recv(ch, &x, -1) == 0) {
            if (x != want)
                cr_assert_fail("cap %zu: got %d, want %d", caps[c], x, want);
            want++;
        }
        cr_assert_eq(errno, EPIPE);
        cr_assert_eq(want, 200000);
        cr_assert_eq(join_rc(p), 0);
        cr_assert_eq(evt_chan_free(ch), 0);
    }
}
