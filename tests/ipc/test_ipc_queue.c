/* Tests of the process-shared queue: FIFO order, full and empty queues with
 * deadlines, message sizes, close, cancellation of a parked coroutine while
 * the others run, producers and consumers in other processes, and a
 * producer that dies (killed while parked on a full queue). */
#include "ipc_test.h"

#include <string.h>

Test(ipc_queue, fifo_in_one_process)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(4, 16);
    cr_assert_not_null(q);
    cr_assert_eq(evt_ipc_queue_msg_max(q), 16);
    cr_assert_eq(evt_ipc_queue_put(q, "11", 2, 0), 0);
    cr_assert_eq(evt_ipc_queue_put(q, "", 0, 0), 0);
    cr_assert_eq(evt_ipc_queue_put(q, "333", 3, -1), 0);
    cr_assert_eq(evt_ipc_queue_len(q), 3);
    char buf[16];
    cr_assert_eq(evt_ipc_queue_get(q, buf, sizeof buf, 0), 2);
    cr_assert_eq(memcmp(buf, "11", 2), 0);
    cr_assert_eq(evt_ipc_queue_get(q, buf, sizeof buf, 0), 0);
    cr_assert_eq(evt_ipc_queue_get(q, buf, sizeof buf, -1), 3);
    cr_assert_eq(memcmp(buf, "333", 3), 0);
    cr_assert_eq(evt_ipc_queue_len(q), 0);
    evt_ipc_queue_free(q);
}

Test(ipc_queue, deadlines_on_full_and_empty)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(2, 8);
    char buf[8];
    cr_assert_eq(evt_ipc_queue_get(q, buf, sizeof buf, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_queue_get(q, buf, sizeof buf, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_queue_put(q, "a", 1, 0), 0);
    cr_assert_eq(evt_ipc_queue_put(q, "b", 1, 0), 0);
    cr_assert_eq(evt_ipc_queue_put(q, "c", 1, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_queue_put(q, "c", 1, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_queue_len(q), 2);
    evt_ipc_queue_free(q);
}

Test(ipc_queue, bad_arguments_and_sizes)
{
    cr_assert_null(evt_ipc_queue_new(0, 8));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_ipc_queue_new(8, 0));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_ipc_queue_new((size_t)1 << 33, 8));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_queue_put(NULL, "x", 1, 0), -1);
    cr_assert_eq(errno, EINVAL);
    evt_ipc_queue_t *q = evt_ipc_queue_new(2, 4);
    cr_assert_eq(evt_ipc_queue_put(q, NULL, 1, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_queue_put(q, "12345", 5, 0), -1);
    cr_assert_eq(errno, EMSGSIZE);
    cr_assert_eq(evt_ipc_queue_get(q, NULL, 4, 0), -1);
    cr_assert_eq(errno, EINVAL);
    /* A buffer too small leaves the message first in the queue. */
    cr_assert_eq(evt_ipc_queue_put(q, "1234", 4, 0), 0);
    char buf[4];
    cr_assert_eq(evt_ipc_queue_get(q, buf, 3, 0), -1);
    cr_assert_eq(errno, EMSGSIZE);
    cr_assert_eq(evt_ipc_queue_get(q, buf, 4, 0), 4);
    cr_assert_eq(memcmp(buf, "1234", 4), 0);
    evt_ipc_queue_free(q);
    evt_ipc_queue_free(NULL);
}

Test(ipc_queue, close_drains_then_epipe)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(2, 4);
    cr_assert_eq(evt_ipc_queue_put(q, "x", 1, 0), 0);
    evt_ipc_queue_close(q);
    evt_ipc_queue_close(q);
    cr_assert_eq(evt_ipc_queue_put(q, "y", 1, 0), -1);
    cr_assert_eq(errno, EPIPE);
    char c;
    cr_assert_eq(evt_ipc_queue_get(q, &c, 1, -1), 1);
    cr_assert_eq(evt_ipc_queue_get(q, &c, 1, -1), -1);
    cr_assert_eq(errno, EPIPE);
    evt_ipc_queue_free(q);
}

typedef struct get_op {
    evt_ipc_queue_t *q;
    int64_t deadline;
    char got[8];
} get_op_t;

static void *do_get(void *arg)
{
    get_op_t *o = arg;
    return CO_ERR(evt_ipc_queue_get(o->q, o->got, sizeof o->got, o->deadline));
}

static void *count_ticks(void *arg)
{
    int *ticks = arg;
    for (int i = 0; i < 5; i++) {
        evt_sleep(evt_now() + 1);
        ++*ticks;
    }
    return NULL;
}

Test(ipc_queue, a_parked_getter_blocks_only_itself_and_can_be_cancelled)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(2, 8);
    get_op_t o = {q, -1, {0}};
    int ticks = 0;
    evt_co_t *g = evt_spawn(do_get, &o);
    evt_co_t *t = evt_spawn(count_ticks, &ticks);
    cr_assert_eq(join_err(t), 0);
    cr_assert_eq(ticks, 5); /* ran while g was parked */
    cr_assert_eq(evt_co_done(g), 0);
    cr_assert_eq(evt_cancel(g), 0);
    cr_assert_eq(join_err(g), ECANCELED);
    /* A later put is not taken by the cancelled getter. */
    cr_assert_eq(evt_ipc_queue_put(q, "z", 1, 0), 0);
    cr_assert_eq(evt_ipc_queue_len(q), 1);
    evt_ipc_queue_free(q);
}

Test(ipc_queue, a_put_wakes_a_parked_getter_of_the_same_thread)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(2, 8);
    get_op_t a = {q, evt_now() + 5000, {0}}, b = a;
    evt_co_t *ga = evt_spawn(do_get, &a), *gb = evt_spawn(do_get, &b);
    evt_yield();
    cr_assert_eq(evt_ipc_queue_put(q, "1", 1, 0), 0);
    cr_assert_eq(evt_ipc_queue_put(q, "2", 1, 0), 0);
    cr_assert_eq(join_err(ga), 0);
    cr_assert_eq(join_err(gb), 0);
    cr_assert_eq(a.got[0] + b.got[0], '1' + '2');
    evt_ipc_queue_free(q);
}

#define N 2000

static int produce(void *arg)
{
    evt_ipc_queue_t *q = arg;
    for (int i = 0; i < N; i++)
        if (evt_ipc_queue_put(q, &i, sizeof i, evt_now() + 10000) < 0)
            return 1;
    return 0;
}

Test(ipc_queue, producers_in_other_processes)
{
    /* A small queue, so that producers park on a full queue and the
     * consumer on an empty one, again and again. */
    evt_ipc_queue_t *q = evt_ipc_queue_new(4, sizeof(int));
    pid_t p1 = child(produce, q), p2 = child(produce, q);
    long sum = 0;
    int seen1 = 0;
    for (int i = 0; i < 2 * N; i++) {
        int v;
        cr_assert_eq(evt_ipc_queue_get(q, &v, sizeof v, evt_now() + 10000),
                     sizeof v, "get %d: %s", i, strerror(errno));
        sum += v;
        seen1 += v == N - 1;
    }
    expect_ok(p1);
    expect_ok(p2);
    cr_assert_eq(sum, 2L * N * (N - 1) / 2);
    cr_assert_eq(seen1, 2);
    evt_ipc_queue_free(q);
}

static int consume(void *arg)
{
    evt_ipc_queue_t *q = arg;
    for (int i = 0; i < N; i++) {
        int v;
        if (evt_ipc_queue_get(q, &v, sizeof v, evt_now() + 10000) != sizeof v ||
            v != i)
            return 1;
    }
    return 0;
}

Test(ipc_queue, a_consumer_in_another_process_sees_fifo_order)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(3, sizeof(int));
    pid_t c = child(consume, q);
    cr_assert_eq(produce(q), 0);
    expect_ok(c);
    evt_ipc_queue_free(q);
}

typedef struct park_args {
    evt_ipc_queue_t *q;
    evt_ipc_event_t *full; /* set once the queue is full */
} park_args_t;

static int fill_and_park(void *arg)
{
    park_args_t *a = arg;
    for (int i = 0;; i++) {
        if (i == 2)
            evt_ipc_event_set(a->full);
        if (evt_ipc_queue_put(a->q, &i, sizeof i, -1) < 0)
            return 1;
    }
}

Test(ipc_queue, a_producer_that_died_leaves_a_timeout_not_a_hang)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(2, sizeof(int));
    park_args_t a = {q, evt_ipc_event_new()};
    pid_t p = child(fill_and_park, &a);
    /* Once the queue is full, kill the producer (parked, or about to). */
    cr_assert_eq(evt_ipc_event_wait(a.full, evt_now() + 5000), 0);
    kill(p, SIGKILL);
    int v;
    cr_assert_eq(reap(p), 128 + SIGKILL);
    /* Taking what it put rings its dead doorbell: nothing breaks. */
    cr_assert_eq(evt_ipc_queue_get(q, &v, sizeof v, -1), sizeof v);
    cr_assert_eq(v, 0);
    cr_assert_eq(evt_ipc_queue_get(q, &v, sizeof v, -1), sizeof v);
    cr_assert_eq(v, 1);
    cr_assert_eq(evt_ipc_queue_get(q, &v, sizeof v, evt_now() + 30), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    /* The queue still works, and so does closing it for the next reader. */
    cr_assert_eq(evt_ipc_queue_put(q, &v, sizeof v, 0), 0);
    evt_ipc_queue_close(q);
    cr_assert_eq(evt_ipc_queue_get(q, &v, sizeof v, -1), sizeof v);
    cr_assert_eq(evt_ipc_queue_get(q, &v, sizeof v, -1), -1);
    cr_assert_eq(errno, EPIPE);
    evt_ipc_queue_free(q);
    evt_ipc_event_free(a.full);
}

static int put_after_fork(void *arg)
{
    int *fds = arg;
    evt_ipc_queue_t *q;
    if (read(fds[0], &q, sizeof q) != sizeof q)
        return 1;
    return evt_ipc_queue_put(q, "late", 4, evt_now() + 5000) < 0;
}

Test(ipc_queue, an_object_made_after_the_fork_is_shared)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    evt_ipc_queue_t *first = evt_ipc_queue_new(1, 1); /* maps the arena */
    pid_t p = child(put_after_fork, fds);
    evt_ipc_queue_t *q = evt_ipc_queue_new(2, 8);
    cr_assert_eq(write(fds[1], &q, sizeof q), sizeof q);
    char buf[8];
    cr_assert_eq(evt_ipc_queue_get(q, buf, sizeof buf, evt_now() + 5000), 4);
    cr_assert_eq(memcmp(buf, "late", 4), 0);
    expect_ok(p);
    evt_ipc_queue_free(q);
    evt_ipc_queue_free(first);
    close(fds[0]);
    close(fds[1]);
}
