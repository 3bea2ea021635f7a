/* Items per second through Redis end to end (submit, then a worker's
 * batch over them with trivial work, results stored and acknowledged),
 * against the raw hiredis loop on the same redis-server in the same run:
 * pipelined XADD, XREADGROUP COUNT 100, one XACK per read. */
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

static double ours(const srv_t *s, const void *const *items, size_t n)
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
    return (double)n * 1000.0 / (double)(evt_now() - t0 + 1);
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
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 100000;
    char (*bufs)[24] = malloc(n * sizeof *bufs);
    const void **items = malloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        snprintf(bufs[i], sizeof bufs[i], "%zu", i);
        items[i] = bufs[i];
    }
    srv_t s;
    if (srv_new(&s, "bench") < 0)
        return 1;
    /* Alternated, the best of three each: the machine's noise (and the
     * server's growing AOF) weigh on both alike. */
    double a = 0, b = 0;
    for (int k = 0; k < 3; k++) {
        double x = raw(&s, items, n);
        double y = ours(&s, items, n);
        if (x < 0 || y < 0)
            return 1;
        a = x > a ? x : a;
        b = y > b ? y : b;
        srv_int(&s, "FLUSHALL");
    }
    srv_free(&s);
    if (a <= 0 || b <= 0)
        return 1;
    printf("redis_items_per_s %.0f items/s\n", b);
    printf("redis_raw_hiredis_items_per_s %.0f items/s\n", a);
    printf("redis_vs_raw_hiredis %.2f ratio\n", b / a);
    return 0;
}
