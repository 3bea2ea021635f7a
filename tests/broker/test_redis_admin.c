/* The Redis broker's calls outside a batch: counts (waiting, retried),
 * the workers of a batch, results that say which items are dead, expiry
 * of a finished batch (and a new submit keeping it), and Redis's own
 * error words. */
#include "redis_server.h"

#include <criterion/criterion.h>
#include <errno.h>

static void cmd(const srv_t *s, const char *c)
{
    redisContext *ctx = srv_conn(s);
    cr_assert_not_null(ctx);
    redisReply *r = redisCommand(ctx, c);
    cr_assert(r && r->type != REDIS_REPLY_ERROR, "%s: %s", c,
              r ? r->str : "no reply");
    freeReplyObject(r);
    redisFree(ctx);
}

Test(redis_admin, counts_and_workers)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "c"), 0);
    const char *items[] = {"a", "b", "c", "d", "e"};
    cr_assert_eq(evt_redis_submit(s.url, (const void *const *)items, NULL, 5),
                 0);
    cmd(&s, "XREADGROUP GROUP eventor alice COUNT 2 STREAMS eventor:{c}:items >");
    cmd(&s, "XREADGROUP GROUP eventor bob COUNT 1 STREAMS eventor:{c}:items >");
    cmd(&s, "XCLAIM eventor:{c}:items eventor bob 0 0-0"); /* no such id */
    evt_redis_stat_t st;
    cr_assert_eq(evt_redis_stat(s.url, &st), 0);
    cr_assert_eq(st.items, 5);
    cr_assert_eq(st.pending, 3);
    cr_assert_eq(st.waiting, 2);
    cr_assert_eq(st.retried, 0);
    evt_redis_consumer_t cs[1];
    cr_assert_eq(evt_redis_consumers(s.url, cs, 1), 2, "two, one filled");
    cr_assert_str_eq(cs[0].name, "alice");
    cr_assert_eq(cs[0].pending, 2);
    srv_free(&s);
}

static int mark(uint64_t index, const void *item, size_t len,
                const void *res, size_t rlen, void *user)
{
    (void)item, (void)len;
    char *m = user;
    m[index] = res ? 'r' : rlen == EVT_REDIS_DEAD ? 'd' : '-';
    return 0;
}

static int fail_b(const evt_batch_task_t *t, void *out, size_t cap,
                  size_t *len, void *user)
{
    (void)user;
    if (*(const char *)t->item == 'b') {
        errno = EIO;
        return -1;
    }
    *len = t->len < cap ? t->len : cap;
    memcpy(out, t->item, *len);
    return 0;
}

Test(redis_admin, results_say_which_items_are_dead)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "d"), 0);
    const char *items[] = {"a", "b", "c"};
    cr_assert_eq(evt_redis_submit(s.url, (const void *const *)items, NULL, 3),
                 0);
    evt_batch_opts_t o = {.coroutines = 2};
    evt_redis_opts_t ro = {.visibility_ms = 50, .max_deliveries = 2};
    evt_batch_report_t rep;
    cr_assert_eq(evt_batch_run_redis(&o, fail_b, s.url, &ro, &rep), 0);
    char m[4] = "???";
    cr_assert_eq(evt_redis_results(s.url, mark, m), 0);
    cr_assert_str_eq(m, "rdr");
    const char *more[] = {"x"};
    cr_assert_eq(evt_redis_submit(s.url, (const void *const *)more, NULL, 1),
                 0);
    char m2[5] = "????";
    cr_assert_eq(evt_redis_results(s.url, mark, m2), 0);
    cr_assert_str_eq(m2, "rdr-", "not done yet is not dead");
    srv_free(&s);
}

Test(redis_admin, a_finished_batch_expires_and_a_submit_keeps_it)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "e"), 0);
    const char *items[] = {"a"};
    cr_assert_eq(evt_redis_submit(s.url, (const void *const *)items, NULL, 1),
                 0);
    cr_assert_eq(evt_redis_expire(s.url, 1000), 0);
    long long ttl = srv_int(&s, "TTL eventor:{e}:items");
    cr_assert(ttl > 900 && ttl <= 1000, "ttl %lld", ttl);
    cr_assert_eq(evt_redis_submit(s.url, (const void *const *)items, NULL, 1),
                 0);
    cr_assert_eq(srv_int(&s, "TTL eventor:{e}:items"), -1);
    cr_assert_eq(evt_redis_expire(s.url, -1), -1);
    cr_assert_eq(errno, EINVAL);
    srv_free(&s);
}

Test(redis_admin, redis_words_for_wrong_type_and_out_of_memory)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "w"), 0);
    cmd(&s, "SET eventor:{w}:items x");
    evt_redis_stat_t st;
    cr_assert_eq(evt_redis_stat(s.url, &st), -1);
    cr_assert_eq(errno, EPROTO);
    cr_assert(!strncmp(evt_redis_error(), "WRONGTYPE", 9), "%s",
              evt_redis_error());
    cmd(&s, "CONFIG SET maxmemory 1");
    char url[96];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/m", s.port);
    const char *items[] = {"a"};
    cr_assert_eq(evt_redis_submit(url, (const void *const *)items, NULL, 1),
                 -1);
    cr_assert_eq(errno, ENOMEM);
    cr_assert(!strncmp(evt_redis_error(), "OOM", 3), "%s", evt_redis_error());
    cmd(&s, "CONFIG SET maxmemory 0");
    srv_free(&s);
}
