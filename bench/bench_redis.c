/* Items per second through Redis end to end (submit, then a worker's
 * batch over them with trivial work, results stored and acknowledged),
 * against the raw hiredis loop on the same redis-server in the same run:
 * pipelined XADD, XREADGROUP COUNT 100, one XACK per read. Also the same
 * with every result read back (evt_redis_results), the figure compared
 * with Celery and RQ (bench/peers/celery_redis.py, rq_redis.py), whose
 * clocks stop there.
 * Usage: bench_redis [N] [--url redis://HOST:PORT]  (no --url: a
 * redis-server of its own) */
#define EVT_REDIS_SERVER "redis-server"
#include "../tests/broker/redis_server.h"

enum { COUNT = 100 };

static int trivial(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *len, void *user)
{
    (void)user;
    *len = t->len < cap ? t->len : cap;
    memcpy(out, t->item, *len);
    return 0;
}

static int count_result(uint64_t index, const void *item, size_t len,
                        const void *res, size_t rlen, void *user)
{
    (void)index, (void)item, (void)len, (void)rlen;
    *(size_t *)user += res != NULL;
    return 0;
}

/* Items/s to the batch's end; *e2e: to the last result read back. */
static double ours(const srv_t *s, const void *const *items, size_t n,
                   double *e2e)
{
    int64_t t0 = evt_now();
    if (evt_redis_submit(s->url, items, NULL, n) < 0)
        return -1;
    evt_batch_opts_t o = {.coroutines = 64};
    evt_redis_opts_t ro = {.count = COUNT};
    evt_batch_report_t rep;
    if (evt_batch_run_redis(&o, trivial, s->url, &ro, &rep) < 0 ||
        rep.ok != n)
        return -1;
    int64_t t1 = evt_now();
    size_t got = 0;
    if (evt_redis_results(s->url, count_result, &got) < 0 || got != n)
        return -1;
    *e2e = (double)n * 1000.0 / (double)(evt_now() - t0 + 1);
    return (double)n * 1000.0 / (double)(t1 - t0 + 1);
}

/* The batch's keys and the raw loop's stream deleted. */
static void clear(const srv_t *s)
{
    evt_redis_drop(s->url);
    redisContext *c = srv_conn(s);
    if (c) {
        freeReplyObject(redisCommand(c, "DEL raw"));
        redisFree(c);
    }
}

static double raw(const srv_t *s, const void *const *items, size_t n)
{
    redisContext *c = srv_conn(s);
    int64_t t0 = evt_now();
    freeReplyObject(redisCommand(c, "XGROUP CREATE raw g 0 MKSTREAM"));
    for (size_t at = 0; at < n; at += 1000) {
        size_t m = n - at < 1000 ? n - at : 1000;
        for (size_t i = at; i < at + m; i++)
            redisAppendCommand(c, "XADD raw * i %s", (const char *)items[i]);
        for (size_t i = 0; i < m; i++) {
            void *r;
            if (redisGetReply(c, &r) != REDIS_OK)
                return -1;
            freeReplyObject(r);
        }
    }
    size_t done = 0;
    while (done < n) {
        redisReply *r = redisCommand(c, "XREADGROUP GROUP g c COUNT %d "
                                        "STREAMS raw >", COUNT);
        if (!r || r->type != REDIS_REPLY_ARRAY)
            return -1;
        redisReply *ents = r->element[0]->element[1];
        const char *argv[COUNT + 3] = {"XACK", "raw", "g"};
        for (size_t i = 0; i < ents->elements; i++)
            argv[3 + i] = ents->element[i]->element[0]->str;
        freeReplyObject(redisCommandArgv(c, (int)ents->elements + 3, argv,
                                         NULL));
        done += ents->elements;
        freeReplyObject(r);
    }
    redisFree(c);
    return (double)n * 1000.0 / (double)(evt_now() - t0 + 1);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 && argv[1][0] != '-' ? (size_t)atol(argv[1]) : 100000;
    const char *url = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--url") == 0)
            url = argv[i + 1];
    char (*bufs)[24] = malloc(n * sizeof *bufs);
    const void **items = malloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        snprintf(bufs[i], sizeof bufs[i], "%zu", i);
        items[i] = bufs[i];
    }
    srv_t s = {0};
    if (url) {
        const char *port = strrchr(url, ':');
        s.port = port ? atoi(port + 1) : 6379;
        snprintf(s.url, sizeof s.url, "%s/bench", url);
    } else if (srv_new(&s, "bench") < 0) {
        return 1;
    }
    /* Alternated, the best of three each: the machine's noise (and the
     * server's growing AOF) weigh on both alike. */
    double a = 0, b = 0, e = 0;
    clear(&s);
    for (int k = 0; k < 3; k++) {
        double z, x = raw(&s, items, n);
        double y = ours(&s, items, n, &z);
        if (x < 0 || y < 0)
            return 1;
        a = x > a ? x : a;
        b = y > b ? y : b;
        e = z > e ? z : e;
        clear(&s);
    }
    if (!url)
        srv_free(&s);
    if (a <= 0 || b <= 0)
        return 1;
    printf("redis_items_per_s %.0f items/s\n", b);
    printf("redis_raw_hiredis_items_per_s %.0f items/s\n", a);
    printf("redis_vs_raw_hiredis %.2f ratio\n", b / a);
    printf("redis_e2e_n %zu items\n", n);
    printf("redis_e2e_items_per_s %.0f items/s\n", e);
    printf("redis_e2e_us_per_item %.2f us\n", 1e6 / e);
    return 0;
}
