/* Tests of src/batch: the seed's Eventor scenarios (a task list cut into
 * units with a pause between them, a file of numbers), retries, per-attempt
 * deadlines, the error policies, ordering, rate, cancellation of the
 * caller, a failing source and bad arguments. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eventor.h"
#include "../common/callback.h"

#define MAXN 20000

/* What the hooks saw. */
typedef struct seen {
    int64_t start_ms[MAXN], end_ms[MAXN];
    int reported[MAXN];
    int status[MAXN];
    char result[MAXN][16];
    uint64_t order[MAXN];
    size_t norder;
    int running, max_running;
    int fail_first;     /* attempts that fail before one succeeds */
    int forever_index;  /* this item waits until cancelled; -1 none */
    int fail_index;     /* this item fails at once; -1 none */
    int yield_by_index; /* items yield (index % 7) times, to shuffle ends */
} seen_t;

static void seen_init(seen_t *s)
{
    memset(s, 0, sizeof *s);
    s->forever_index = -1;
    s->fail_index = -1;
}

/* The seed's func = lambda x: int(x) + 10, with hooks for the tests. */
static int add_ten(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *len, void *user)
{
    seen_t *s = user;
    uint64_t i = t->index;
    if (t->attempt == 0)
        s->start_ms[i] = evt_now();
    if (++s->running > s->max_running)
        s->max_running = s->running;
    int rc = 0;
    if ((int)i == s->forever_index) {
        rc = evt_sleep(-1) < 0 ? errno : 0;
    } else if ((int)i == s->fail_index) {
        rc = EIO;
    } else if ((int)t->attempt < s->fail_first) {
        rc = EAGAIN;
    } else {
        for (uint64_t k = 0; s->yield_by_index && k < i % 7; k++)
            evt_yield();
        *len = (size_t)snprintf(out, cap, "%ld", atol(t->item) + 10);
    }
    s->running--;
    s->end_ms[i] = evt_now();
    if (rc == 0)
        return 0;
    errno = rc;
    return -1;
}

static void record(const evt_batch_task_t *t, int status, const void *res,
                   size_t len, void *user)
{
    seen_t *s = user;
    uint64_t i = t->index;
    s->reported[i]++;
    s->status[i] = status;
    snprintf(s->result[i], sizeof s->result[i], "%.*s", (int)len,
             (const char *)res);
    s->order[s->norder++] = i;
}

static const char *const ONE_TO_TEN[] = {"1", "2", "3", "4", "5",
                                        "6", "7", "8", "9", "10"};

Test(batch, seed_task_list_units_and_interval)
{
    static seen_t s;
    seen_init(&s);
    s.yield_by_index = 1;
    evt_batch_opts_t o = {.coroutines = 3, .unit = 3, .interval_ms = 30,
                          .ordered = 1, .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)ONE_TO_TEN,
                                     NULL, 10, &r), 0);
    for (int i = 0; i < 10; i++) {
        char want[8];
        snprintf(want, sizeof want, "%d", i + 11);
        cr_assert_str_eq(s.result[i], want);
        cr_assert_eq(s.order[i], (uint64_t)i);
        cr_assert_eq(s.reported[i], 1);
    }
    cr_assert_eq(r.read, 10);
    cr_assert_eq(r.ok, 10);
    cr_assert_eq(s.max_running, 3);
    /* A unit runs to its end, then the pause, then the next unit. */
    for (int u = 1; u * 3 < 10; u++)
        for (int a = (u - 1) * 3; a < u * 3; a++)
            for (int b = u * 3; b < u * 3 + 3 && b < 10; b++)
                cr_assert_geq(s.start_ms[b], s.end_ms[a] + 30);
}

static void *one_long_unit(void *arg)
{
    seen_t *s = arg;
    evt_batch_opts_t o = {.coroutines = 3, .unit = 100, .interval_ms = 600000,
                          .on_result = record, .user = s};
    return (void *)(intptr_t)evt_batch_run_array(
        &o, add_ten, (const void *const *)ONE_TO_TEN, NULL, 10, NULL);
}

Test(batch, no_pause_before_the_first_unit_or_after_the_last)
{
    static seen_t s;
    seen_init(&s);
    evt_co_t *co = evt_spawn(one_long_unit, &s);
    void *res;
    /* One unit holds all ten items: no 10-minute pause may come at all. */
    cr_assert_eq(evt_join(co, evt_now() + 60000, &res), 0);
    cr_assert_eq((intptr_t)res, 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(s.reported[i], 1);
}

Test(batch, seed_file_of_numbers)
{
    char path[] = "/tmp/evt_batch_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "1\n2\n3\n4\n5\n6\n7\n8\n9\r\n10"; /* no final newline */
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    static seen_t s;
    seen_init(&s);
    evt_batch_opts_t o = {.coroutines = 3, .unit = 3, .ordered = 1,
                          .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_file(&o, add_ten, path, &r), 0);
    unlink(path);
    cr_assert_eq(r.read, 10);
    for (int i = 0; i < 10; i++) {
        char want[8];
        snprintf(want, sizeof want, "%d", i + 11);
        cr_assert_str_eq(s.result[i], want);
    }
    errno = 0;
    cr_assert_eq(evt_batch_run_file(&o, add_ten, "/nonexistent/x", &r), -1);
    cr_assert_eq(errno, ENOENT);
}

Test(batch, retries_with_backoff)
{
    static seen_t s;
    seen_init(&s);
    s.fail_first = 2;
    evt_batch_opts_t o = {.coroutines = 4, .retries = 2, .backoff_ms = 5,
                          .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)ONE_TO_TEN,
                                     NULL, 10, &r), 0);
    cr_assert_eq(r.ok, 10);
    cr_assert_eq(r.retried, 20);
    /* Two waits before success: 5 then 10 ms at least. */
    for (int i = 0; i < 10; i++)
        cr_assert_geq(s.end_ms[i], s.start_ms[i] + 15);

    seen_init(&s);
    s.fail_first = 5;
    o.backoff_ms = 0;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)ONE_TO_TEN,
                                     NULL, 10, &r), 0);
    cr_assert_eq(r.failed, 10);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(s.status[i], EAGAIN);
        cr_assert_eq(s.reported[i], 1);
    }
}

Test(batch, attempt_deadline)
{
    static seen_t s;
    seen_init(&s);
    s.forever_index = 3;
    evt_batch_opts_t o = {.coroutines = 2, .task_timeout_ms = 20,
                          .ordered = 1, .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)ONE_TO_TEN,
                                     NULL, 10, &r), 0);
    cr_assert_eq(r.ok, 9);
    cr_assert_eq(r.failed, 1);
    cr_assert_eq(s.status[3], ETIMEDOUT);
    cr_assert_geq(s.end_ms[3], s.start_ms[3] + 20);

    /* A lone attempt: nothing else wakes the engine before its deadline. */
    seen_init(&s);
    s.forever_index = 0;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)ONE_TO_TEN,
                                     NULL, 1, &r), 0);
    cr_assert_eq(s.status[0], ETIMEDOUT);
}

static const char *numbers[MAXN];

static void numbers_init(void)
{
    static char buf[MAXN][8];
    for (int i = 0; i < MAXN; i++) {
        snprintf(buf[i], sizeof buf[i], "%d", i);
        numbers[i] = buf[i];
    }
}

Test(batch, halt_now_cancels_running)
{
    numbers_init();
    static seen_t s;
    seen_init(&s);
    s.forever_index = 0; /* running when the failure comes */
    s.fail_index = 5;
    evt_batch_opts_t o = {.coroutines = 4, .halt = EVT_HALT_NOW,
                          .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)numbers,
                                     NULL, 100, &r), 0);
    cr_assert_eq(r.halted, 1);
    cr_assert_lt(r.read, 100);
    cr_assert_eq(s.status[5], EIO);
    cr_assert_eq(s.status[0], ECANCELED);
    cr_assert_eq(r.ok + r.failed, r.read);
    for (uint64_t i = 0; i < r.read; i++)
        cr_assert_eq(s.reported[i], 1);
}

Test(batch, halt_soon_lets_running_finish)
{
    numbers_init();
    static seen_t s;
    seen_init(&s);
    s.fail_index = 2;
    s.yield_by_index = 1;
    evt_batch_opts_t o = {.coroutines = 4, .halt = EVT_HALT_SOON,
                          .halt_after = 1, .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)numbers,
                                     NULL, 100, &r), 0);
    cr_assert_eq(r.halted, 1);
    cr_assert_lt(r.read, 100);
    cr_assert_eq(r.failed, 1);
    cr_assert_eq(r.ok + 1, r.read);
}

Test(batch, ordered_and_unordered)
{
    numbers_init();
    static seen_t s;
    seen_init(&s);
    s.yield_by_index = 1;
    evt_batch_opts_t o = {.coroutines = 50, .ordered = 1,
                          .on_result = record, .user = &s};
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)numbers,
                                     NULL, MAXN, &r), 0);
    cr_assert_eq(r.ok, MAXN);
    for (size_t i = 0; i < MAXN; i++)
        cr_assert_eq(s.order[i], i);

    seen_init(&s);
    s.yield_by_index = 1;
    o.ordered = 0;
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)numbers,
                                     NULL, MAXN, &r), 0);
    int out_of_order = 0;
    for (size_t i = 0; i < MAXN; i++) {
        cr_assert_eq(s.reported[i], 1);
        out_of_order |= s.order[i] != i;
    }
    cr_assert(out_of_order, "items that yield more must finish later");
}

Test(batch, rate_limit)
{
    numbers_init();
    static seen_t s;
    seen_init(&s);
    evt_batch_opts_t o = {.coroutines = 8, .rate = 500, .on_result = record,
                          .user = &s};
    evt_batch_report_t r;
    int64_t t0 = evt_now();
    cr_assert_eq(evt_batch_run_array(&o, add_ten, (const void *const *)numbers,
                                     NULL, 21, &r), 0);
    /* 21 starts at 500/s: the last one at least 40 ms after the batch
     * began. (Not after the first start: a late first start keeps its due
     * time and the next ones catch up, so they may come closer.) */
    cr_assert_geq(s.start_ms[20], t0 + 40);
}

static void *run_forever_batch(void *arg)
{
    seen_t *s = arg;
    evt_batch_opts_t o = {.coroutines = 3, .on_result = record, .user = s};
    s->forever_index = 1;
    int rc = evt_batch_run_array(&o, add_ten, (const void *const *)numbers,
                                 NULL, 10, NULL);
    return (void *)(intptr_t)(rc < 0 ? errno : 0);
}

Test(batch, caller_cancelled)
{
    numbers_init();
    static seen_t s;
    seen_init(&s);
    evt_co_t *co = evt_spawn(run_forever_batch, &s);
    /* Run until item 1 is parked forever and the rest are done. */
    while (s.reported[9] == 0)
        evt_yield();
    evt_cancel(co);
    void *res;
    cr_assert_eq(evt_join(co, evt_now() + 5000, &res), 0);
    cr_assert_eq((intptr_t)res, ECANCELED);
    cr_assert_eq(s.status[1], ECANCELED);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(s.reported[i], 1);
}

static int failing_source(const void **item, size_t *len, void *src)
{
    int *n = src;
    if (*n == 5) {
        errno = EIO;
        return -1;
    }
    (*n)++;
    *item = "1";
    *len = 1;
    return 1;
}

Test(batch, failing_source_and_bad_arguments)
{
    static seen_t s;
    seen_init(&s);
    int n = 0;
    evt_batch_opts_t o = {.coroutines = 2, .on_result = record, .user = &s};
    evt_batch_report_t r;
    errno = 0;
    cr_assert_eq(evt_batch_run(&o, add_ten, failing_source, &n, &r), -1);
    cr_assert_eq(errno, EIO);
    cr_assert_eq(r.read, 5);
    cr_assert_eq(r.ok, 5);

    cr_assert_eq(evt_batch_run(&o, NULL, failing_source, &n, &r), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_batch_run(&o, add_ten, NULL, &n, &r), -1);
    cr_assert_eq(errno, EINVAL);
    evt_batch_opts_t bad = {.interval_ms = -1};
    cr_assert_eq(evt_batch_run_array(&bad, add_ten, NULL, NULL, 0, &r), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_batch_run_array(&o, add_ten, NULL, NULL, 3, &r), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_batch_run_array(&o, add_ten, NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.read, 0);
}

/* Item 0 waits until cancelled; item 4 sends the signals. */
static int signalling(const evt_batch_task_t *t, void *out, size_t cap,
                      size_t *len, void *user)
{
    seen_t *s = user;
    (void)out, (void)cap, (void)len;
    s->start_ms[t->index] = evt_now();
    if (t->index == 0)
        return evt_sleep(-1);
    if (t->index == 4)
        for (int i = 0; i < s->fail_first; i++)
            raise(SIGINT);
    return 0;
}

static void run_signalled(seen_t *s, int signals, int64_t grace_ms,
                          evt_batch_report_t *r)
{
    numbers_init();
    seen_init(s);
    s->fail_first = signals;
    struct sigaction before, after;
    sigaction(SIGINT, NULL, &before);
    evt_batch_opts_t o = {.coroutines = 2, .stop_on_signals = 1,
                          .grace_ms = grace_ms, .on_result = record,
                          .user = s};
    cr_assert_eq(evt_batch_run_array(&o, signalling,
                                     (const void *const *)numbers, NULL, 100,
                                     r), 0);
    sigaction(SIGINT, NULL, &after);
    cr_assert_eq(after.sa_handler, before.sa_handler);
    cr_assert_eq(r->halted, 1);
    cr_assert_eq(r->signal, SIGINT);
    cr_assert_eq(r->read, 5, "nothing starts after the signal");
    for (int i = 0; i < 5; i++)
        cr_assert_eq(s->reported[i], 1);
    cr_assert_eq(s->status[0], ECANCELED);
}

Test(batch, signal_stops_then_grace_cancels)
{
    static seen_t s;
    evt_batch_report_t r;
    run_signalled(&s, 1, 40, &r);
    cr_assert_geq(r.wall_ms, 40);
    cr_assert_eq(r.ok, 4);
}

Test(batch, second_signal_cancels_at_once)
{
    static seen_t s;
    evt_batch_report_t r;
    run_signalled(&s, 2, 600000, &r);
    cr_assert_lt(r.wall_ms, 600000);
}

Test(batch, a_failure_is_minus_one_and_errno_and_a_long_result_fails)
{
    cb_check((evt_batch_opts_t){.coroutines = 2});
}
