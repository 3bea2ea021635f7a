/* The Redis connection on the reactor: pipelined replies in order, a
 * command's own deadline against a paused server (the connection is then
 * dropped and made again), a connection killed by the server, a server
 * that is not there, and URLs. */
#include "broker/redis.h"
#include "redis_server.h"

#include <criterion/criterion.h>
#include <errno.h>

Test(redis_conn, pipelined_replies_come_in_order)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "conn"), 0);
    evt__redis_t *r = evt__redis_open(s.url, NULL);
    cr_assert_not_null(r);
    enum { K = 200 };
    for (int i = 0; i < K; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        const char *argv[] = {"ECHO", v};
        size_t al[] = {4, strlen(v)};
        cr_assert_eq(evt__redis_append(r, 2, argv, al), 0);
    }
    cr_assert_eq(r->inflight, (size_t)K);
    for (int i = 0; i < K; i++) {
        redisReply *rep = evt__redis_reply(r, evt_now() + 5000);
        cr_assert_not_null(rep);
        cr_assert_eq(atoi(rep->str), i);
        freeReplyObject(rep);
    }
    evt__redis_close(r);
    srv_free(&s);
}

Test(redis_conn, deadline_on_a_paused_server_then_reconnects)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "conn"), 0);
    evt__redis_t *r = evt__redis_open(s.url, NULL);
    redisReply *rep = evt__redis_command(r, evt_now() + 5000, "SET k v");
    cr_assert_not_null(rep);
    freeReplyObject(rep);
    redisContext *admin = srv_conn(&s);
    redisReply *p = redisCommand(admin, "CLIENT PAUSE 60000 WRITE");
    cr_assert(p && p->type == REDIS_REPLY_STATUS);
    freeReplyObject(p);
    errno = 0;
    cr_assert_null(evt__redis_command(r, evt_now() + 100, "SET k w"));
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_null(r->c, "the connection is dropped at its deadline");
    p = redisCommand(admin, "CLIENT UNPAUSE");
    cr_assert(p && p->type == REDIS_REPLY_STATUS);
    freeReplyObject(p);
    rep = evt__redis_command(r, evt_now() + 5000, "GET k");
    cr_assert(rep && rep->type == REDIS_REPLY_STRING);
    /* (the SET cut off by the deadline may or may not have run) */
    cr_assert(strcmp(rep->str, "v") == 0 || strcmp(rep->str, "w") == 0);
    freeReplyObject(rep);
    redisFree(admin);
    evt__redis_close(r);
    srv_free(&s);
}

Test(redis_conn, killed_connection_fails_then_retry_reconnects)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "conn"), 0);
    evt__redis_t *r = evt__redis_open(s.url, NULL);
    redisReply *rep = evt__redis_command(r, evt_now() + 5000,
                                         "CLIENT SETNAME victim");
    cr_assert_not_null(rep);
    freeReplyObject(rep);
    redisContext *admin = srv_conn(&s);
    redisReply *k = redisCommand(admin, "CLIENT KILL TYPE normal SKIPME yes");
    cr_assert(k && k->type == REDIS_REPLY_INTEGER && k->integer >= 1);
    freeReplyObject(k);
    redisFree(admin);
    const char *argv[] = {"PING"};
    size_t al[] = {4};
    rep = evt__redis_retry(r, 1000, evt_now() + 10000, 1, argv, al);
    cr_assert(rep && rep->type == REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    evt__redis_close(r);
    srv_free(&s);
}

Test(redis_conn, server_away_gives_up_at_its_deadline)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "conn"), 0);
    srv_stop(&s);
    evt__redis_t *r = evt__redis_open(s.url, NULL);
    const char *argv[] = {"PING"};
    size_t al[] = {4};
    errno = 0;
    cr_assert_null(evt__redis_retry(r, 200, evt_now() + 300, 1, argv, al));
    cr_assert_neq(errno, 0);
    evt__redis_close(r);
    cr_assert_eq(srv_start(&s), 0);
    srv_free(&s);
}

Test(redis_conn, urls)
{
    char *name;
    evt__redis_t *r = evt__redis_open("redis://h:7000/b1", &name);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->host, "h");
    cr_assert_eq(r->port, 7000);
    cr_assert_str_eq(name, "b1");
    free(name);
    evt__redis_close(r);
    r = evt__redis_open("redis://", &name);
    cr_assert(r && r->port == 6379 && name == NULL);
    evt__redis_close(r);
    errno = 0;
    cr_assert_null(evt__redis_open("http://x", NULL));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt__redis_open("redis://h:0/x", NULL));
}

Test(redis_conn, urls_with_a_password)
{
    char *name;
    evt__redis_t *r = evt__redis_open("redis://bob:s3@cret@h:7000/b", &name);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->user, "bob");
    cr_assert_str_eq(r->pass, "s3@cret", "the host follows the last @");
    cr_assert_str_eq(r->host, "h");
    cr_assert_str_eq(name, "b");
    free(name);
    evt__redis_close(r);
    r = evt__redis_open("redis://:pw@/x", NULL);
    cr_assert(r && !r->user && !strcmp(r->pass, "pw") && r->port == 6379);
    evt__redis_close(r);
}

/* AUTH on each connection; a refused one is EACCES with Redis's words,
 * and is not retried as if the server were away. */
Test(redis_conn, auth_is_sent_and_a_refusal_is_clear)
{
    srv_t s;
    cr_assert_eq(srv_new(&s, "auth"), 0);
    redisContext *c = srv_conn(&s);
    freeReplyObject(redisCommand(c, "CONFIG SET requirepass sesame"));
    redisFree(c);
    char url[128];
    snprintf(url, sizeof url, "redis://:sesame@127.0.0.1:%d/auth", s.port);
    evt_redis_stat_t st; /* let in: then no such batch */
    cr_assert_eq(evt_redis_stat(url, &st), -1);
    cr_assert_eq(errno, ENOENT, "%s", strerror(errno));
    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/auth", s.port);
    errno = 0;
    cr_assert_eq(evt_redis_stat(url, &st), -1);
    cr_assert_eq(errno, EACCES);
    cr_assert(strstr(evt_redis_error(), "WRONGPASS"), "%s", evt_redis_error());
    evt__redis_t *r = evt__redis_open(url, NULL);
    const char *argv[] = {"PING"};
    size_t al[] = {4};
    int64_t t0 = evt_now();
    cr_assert_null(evt__redis_retry(r, 1000, t0 + 20000, 1, argv, al));
    cr_assert_eq(errno, EACCES);
    cr_assert_lt(evt_now() - t0, 15000, "a refusal is not waited out");
    evt__redis_close(r);
    errno = 0;
    cr_assert_eq(evt_redis_stat(s.url, &st), -1, "no password at all");
    cr_assert_eq(errno, EACCES);
    cr_assert(strstr(evt_redis_error(), "NOAUTH"), "%s", evt_redis_error());
    c = srv_conn(&s);
    freeReplyObject(redisCommand(c, "AUTH sesame"));
    freeReplyObject(redisCommand(c, "CONFIG SET requirepass %s", ""));
    redisFree(c);
    srv_free(&s);
}
