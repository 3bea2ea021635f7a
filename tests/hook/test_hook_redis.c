/* hiredis's synchronous API made cooperative by the hooks alone, against
 * a redis-server the test starts: 200 coroutines block in BLPOP with a 1 s
 * timeout while one coroutine pushes; each blocked call parks only its
 * coroutine, and the timeout still fires for those left without an item. */
#include "hook_test.h"

#include <hiredis/hiredis.h>

enum { POPPERS = 200, ITEMS = 50 };

static struct server srv;

static void redis_start(struct server *s)
{
    char port[16], line[512];
    s->port = free_port();
    snprintf(port, sizeof port, "%d", s->port);
    char *argv[] = {"redis-server", "--port", port, "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--logfile", "",
                    "--daemonize", "no", NULL};
    server_spawn(s, argv);
    server_wait_line(s, "Ready to accept connections", line, sizeof line);
}

/* BLPOP key 1: 1 for an item, 0 for the timeout's nil, -1 on error. */
static void *popper(void *arg)
{
    (void)arg;
    redisContext *c = redisConnect("127.0.0.1", srv.port);
    if (!c || c->err) {
        redisFree(c);
        return CO_RESULT(-1);
    }
    redisReply *r = redisCommand(c, "BLPOP hook_test_key 1");
    int out = !r ? -1 : r->type == REDIS_REPLY_ARRAY ? 1
                      : r->type == REDIS_REPLY_NIL ? 0 : -1;
    freeReplyObject(r);
    redisFree(c);
    return CO_RESULT(out);
}

static void *pusher(void *arg)
{
    (void)arg;
    redisContext *c = redisConnect("127.0.0.1", srv.port);
    if (!c || c->err) {
        redisFree(c);
        return CO_RESULT(-1);
    }
    int pushed = 0;
    for (int i = 0; i < ITEMS; i++) {
        redisReply *r = redisCommand(c, "RPUSH hook_test_key %d", i);
        pushed += r && r->type == REDIS_REPLY_INTEGER;
        freeReplyObject(r);
    }
    redisFree(c);
    return CO_RESULT(pushed);
}

Test(hook_redis, blpop_from_200_coroutines_while_one_pushes)
{
    redis_start(&srv);
    evt_co_t *co[POPPERS];
    int64_t t0 = evt_now();
    for (int i = 0; i < POPPERS; i++)
        co[i] = evt_spawn(popper, NULL);
    evt_co_t *p = evt_spawn(pusher, NULL);
    int items = 0, nils = 0, errors = 0;
    for (int i = 0; i < POPPERS; i++) {
        int r = join_int(co[i]);
        items += r == 1;
        nils += r == 0;
        errors += r < 0;
    }
    int pushed = join_int(p);
    int64_t took = evt_now() - t0;
    server_stop(&srv);
    cr_assert_eq(errors, 0);
    cr_assert_eq(pushed, ITEMS);
    cr_assert_eq(items, ITEMS);
    cr_assert_eq(nils, POPPERS - ITEMS, "the BLPOP timeout did not fire");
    /* The timeouts ran side by side: 1 s, not 150 s one after another. */
    cr_assert_geq(took, 1000);
    cr_assert_lt(took, 10000, "took %lld ms", (long long)took);
}
