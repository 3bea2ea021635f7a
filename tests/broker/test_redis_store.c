/* The writer of the Redis source and sink (redis_store.c), with records:
 * each task's seq is its item's input number over several submits; each
 * delivery's record is stored (a result's with it, a poison item's last
 * failure otherwise), told once stored, and walked in input order. */
#include "redis_server.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>

static char bufs[60][24];
static const void *items[60];

/* Items "k" and poison ones "pk": each task's seq must be k + 1. */
static _Atomic unsigned seq_bad, stored_n, stored_bad;

static int seq_work(const evt_batch_task_t *t, void *out, size_t cap,
                    size_t *len, void *user)
{
    (void)user;
    const char *it = t->item;
    int poison = it[0] == 'p';
    if (t->seq != (uint64_t)atoi(it + poison) + 1)
        seq_bad++;
    if (poison)
        return errno = EIO, -1;
    *len = (size_t)snprintf(out, cap, "r%s", it);
    return 0;
}

static void *seq_record(const evt_batch_task_t *t, int status,
                        const void *res, size_t rlen, size_t *len, void *u)
{
    (void)res, (void)rlen, (void)u;
    char *r = NULL;
    int n = asprintf(&r, "%llu %d", (unsigned long long)t->seq, status);
    *len = n < 0 ? 0 : (size_t)n;
    return n < 0 ? NULL : r;
}

static void seq_stored(const void *rec, size_t len, void *user)
{
    (void)user;
    stored_n++;
    if (len < 3 || ((const char *)rec)[0] < '1' || ((const char *)rec)[0] > '9')
        stored_bad++;
}

static int check_record(uint64_t index, const void *item, size_t len,
                        const void *rec, size_t rlen, void *user)
{
    (void)len;
    unsigned *bad = user;
    char want[48];
    int poison = ((const char *)item)[0] == 'p';
    int wl = snprintf(want, sizeof want, "%llu %d",
                      (unsigned long long)index + 1, poison ? EIO : 0);
    *bad += !rec || rlen != (size_t)wl || memcmp(rec, want, rlen) != 0;
    return 0;
}

/* The tasks' seq is the input number over two submits; each delivery's
 * record is stored (a result's with it; a poison item keeps its last
 * failure's) and told once stored. */
Test(redis_store, seq_is_the_input_number_and_records_are_stored)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "rec"), 0);
    for (size_t i = 0; i < 60; i++) { /* 17 and 40 always fail */
        snprintf(bufs[i], sizeof bufs[i], "%s%zu",
                 i == 17 || i == 40 ? "p" : "", i);
        items[i] = bufs[i];
    }
    cr_assert_eq(evt_redis_submit(s.url, items, NULL, 30), 0);
    cr_assert_eq(evt_redis_submit(s.url, items + 30, NULL, 30), 0);
    evt_batch_opts_t o = {.coroutines = 4};
    evt_redis_opts_t ro = {.visibility_ms = 100, .max_deliveries = 2,
                           .record = seq_record, .on_stored = seq_stored};
    evt_batch_report_t rep;
    cr_assert_eq(evt_batch_run_redis(&o, seq_work, s.url, &ro, &rep), 0);
    cr_assert_eq(rep.ok, 58);
    cr_assert_eq(seq_bad, 0);
    cr_assert_eq(stored_n, 58 + 2 * 2, "every delivery's record, once");
    cr_assert_eq(stored_bad, 0);
    unsigned bad = 0;
    cr_assert_eq(evt_redis_records(s.url, check_record, &bad), 0);
    cr_assert_eq(bad, 0);
    cr_assert_eq(srv_int(&s, "HLEN eventor:{rec}:log"), 60);
    cr_assert_eq(evt_redis_drop(s.url), 0);
    cr_assert_eq(srv_int(&s, "EXISTS eventor:{rec}:log"), 0);
    srv_free(&s);
}
