/* The writer of a worker's Redis batch: stores the results the sink
 * queued (the first one stored of an item wins) with their records, and
 * acknowledges them, a few hundred per script call; then tells each
 * record stored (evt_redis_opts_t.on_stored). */
#define _GNU_SOURCE
#include "redis_src.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Store results (first one wins) and acknowledge them: ARGV[1] the group,
 * then id, result pairs. */
static const char STORE_LUA[] =
    "local ids = {}\n"
    "for i = 2, #ARGV, 2 do\n"
    "  redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])\n"
    "  ids[#ids + 1] = ARGV[i]\n"
    "end\n"
    "redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))\n"
    "return 0\n";

/* The same with records (evt_redis_opts_t.record): ARGV[1] the group, then
 * id, ok ("1": a result, acknowledged; "0": a failed delivery, left to be
 * delivered again), result, record. A result's record goes with it when
 * the result is the one stored; a failure's record is kept while the item
 * has no result (then an item's record is its last delivery's). */
static const char STORE_LOG_LUA[] =
    "local ids = {}\n"
    "for i = 2, #ARGV, 4 do\n"
    "  local id, rec = ARGV[i], ARGV[i + 3]\n"
    "  if ARGV[i + 1] == '1' then\n"
    "    if redis.call('HSETNX', KEYS[2], id, ARGV[i + 2]) == 1 and"
    " rec ~= '' then\n"
    "      redis.call('HSET', KEYS[3], id, rec)\n"
    "    end\n"
    "    ids[#ids + 1] = id\n"
    "  elseif rec ~= '' and redis.call('HEXISTS', KEYS[2], id) == 0 then\n"
    "    redis.call('HSET', KEYS[3], id, rec)\n"
    "  end\n"
    "end\n"
    "if #ids > 0 then redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))"
    " end\n"
    "return 0\n";

/* One script call storing mine[0..n): STORE_LUA (id, result pairs), or
 * STORE_LOG_LUA (id, ok, result, record) when there are records. */
static int store_batch(rsrc_t *s, const stored_t *mine, size_t n)
{
    int logs = s->record != NULL, per = logs ? 4 : 2;
    const char **argv = malloc((per * n + 6) * sizeof *argv);
    size_t *al = malloc((per * n + 6) * sizeof *al);
    if (!argv || !al) {
        free(argv), free(al);
        return ENOMEM;
    }
    argv[0] = logs ? "3" : "2", argv[1] = s->k.items, argv[2] = s->k.results;
    argv[3] = logs ? s->k.log : EVT__REDIS_GROUP;
    argv[4] = EVT__REDIS_GROUP;
    int at = logs ? 5 : 4;
    for (int i = 0; i < at; i++)
        al[i] = strlen(argv[i]);
    for (size_t i = 0; i < n; i++, at += per) {
        argv[at] = mine[i].id, al[at] = strlen(mine[i].id);
        const char *res = mine[i].res ? mine[i].res : "";
        if (!logs) {
            argv[at + 1] = res, al[at + 1] = mine[i].len;
            continue;
        }
        argv[at + 1] = mine[i].res ? "1" : "0", al[at + 1] = 1;
        argv[at + 2] = res, al[at + 2] = mine[i].len;
        argv[at + 3] = mine[i].rec ? mine[i].rec : "";
        al[at + 3] = mine[i].rec_len;
    }
    redisReply *rep = evt__redis_eval(s->wr, logs ? &s->store_log : &s->store,
                                      s->cmd_ms, give_up(s), at, argv, al);
    free(argv), free(al);
    int err = 0;
    if (!rep)
        err = errno;
    else if (rep->type == REDIS_REPLY_ERROR && evt__redis_failed(rep) < 0)
        err = errno;
    if (rep)
        freeReplyObject(rep);
    return err;
}

/* Store and acknowledge what the sink queued, STORE_MAX per script call:
 * results that finish while one call is out go together in the next.
 * Then on_stored is told each record Redis has. */
void *evt__redis_writer(void *p)
{
    rsrc_t *s = p;
    stored_t *mine = NULL;
    for (;;) {
        if (s->nq == 0) {
            if (s->stop)
                break;
            evt_event_clear(s->wake);
            evt_event_wait(s->wake, -1);
            continue;
        }
        size_t n = s->nq < STORE_MAX ? s->nq : STORE_MAX;
        free(mine);
        if (!(mine = malloc(n * sizeof *mine))) {
            s->err = ENOMEM;
            break;
        }
        memcpy(mine, s->q, n * sizeof *mine);
        memmove(s->q, s->q + n, (s->nq - n) * sizeof *s->q);
        s->nq -= n;
        s->err = store_batch(s, mine, n);
        for (size_t i = 0; i < n; i++) {
            if (!s->err && mine[i].rec && s->on_stored)
                s->on_stored(mine[i].rec, mine[i].rec_len, s->user);
            free(mine[i].res);
            free(mine[i].rec);
        }
        if (s->err)
            break;
    }
    free(mine);
    return NULL;
}

void evt__redis_store_init(rsrc_t *s)
{
    s->store.src = STORE_LUA;
    s->store_log.src = STORE_LOG_LUA;
}
