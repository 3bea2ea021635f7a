/* The Redis Streams source and sink of the batch controller: items come
 * through one consumer group (XREADGROUP, XAUTOCLAIM of idle ones, dead
 * letters past N deliveries), results are stored once per item id and
 * acknowledged in batches by a writer coroutine, and a lease coroutine
 * keeps this worker's items from looking idle. */
#define _GNU_SOURCE
#include "redis_src.h"
#include "../core/grow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Claim idle entries from the cursor ARGV[4] on, moving those delivered
 * more than ARGV[6] times to the dead-letter stream in the same step (so
 * no item is both). Returns {next cursor, entries}: the next claim goes on
 * from there, so that a long pending list is walked, not its head again. */
static const char CLAIM_LUA[] =
    "local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3],"
    " ARGV[4], 'COUNT', ARGV[5])\n"
    "local out = {}\n"
    "for _, e in ipairs(r[2]) do\n"
    "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)\n"
    "  local n = p[1] and p[1][4] or 0\n"
    "  if n > tonumber(ARGV[6]) then\n"
    "    redis.call('XADD', KEYS[2], '*', 'id', e[1], 'i', e[2][2],"
    " 'deliveries', n)\n"
    "    redis.call('XACK', KEYS[1], ARGV[1], e[1])\n"
    "  else out[#out + 1] = e end\n"
    "end\n"
    "return {r[1], out}\n";

/* Forget the group's consumers that hold no item: this one (ARGV[2]) and
 * those idle longer than ARGV[3] ms (workers gone), so that the group does
 * not grow by one consumer per worker ever run. Checked and deleted in one
 * step: a consumer that holds nothing loses nothing, and XREADGROUP makes
 * it again if it is still alive. */
static const char CLEAN_LUA[] =
    "local n = 0\n"
    "for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1]))"
    " do\n"
    "  local f = {}\n"
    "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
    "  if f['pending'] == 0 and (f['name'] == ARGV[2] or"
    " f['idle'] > tonumber(ARGV[3])) then\n"
    "    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

static redisReply *call(rsrc_t *s, evt__redis_t *r, int argc,
                        const char **argv, const size_t *al)
{
    return evt__redis_retry(r, s->cmd_ms, give_up(s), argc, argv, al);
}

static redisReply *call_v(rsrc_t *s, evt__redis_t *r, int argc,
                          const char **argv)
{
    size_t al[16];
    for (int i = 0; i < argc; i++)
        al[i] = strlen(argv[i]);
    return call(s, r, argc, argv, al);
}

/* Take rep's entries as the ones to hand out next (rep: an array of
 * [id, [field, value...]]); 1 when there are some. */
static int take(rsrc_t *s, redisReply *rep, redisReply **ents, size_t n)
{
    if (s->batch)
        freeReplyObject(s->batch);
    s->batch = rep, s->ents = ents, s->nents = n, s->at = 0;
    return n > 0;
}

static redisReply *eval(rsrc_t *s, evt__redis_t *r, evt__redis_script_t *sc,
                        int argc, const char **argv, const size_t *al)
{
    size_t l[16];
    for (int i = 0; !al && i < argc; i++)
        l[i] = strlen(argv[i]);
    return evt__redis_eval(r, sc, s->cmd_ms, give_up(s), argc, argv,
                           al ? al : l);
}

/* An unexpected reply: its error text kept, errno set; -1. */
static int bad_reply(redisReply *rep)
{
    evt__redis_failed(rep);
    int err = errno;
    freeReplyObject(rep);
    errno = err;
    return -1;
}

static int fetch_claimed(rsrc_t *s)
{
    const char *argv[] = {"2", s->k.items, s->k.dead, EVT__REDIS_GROUP,
                          s->consumer, s->vis, s->cursor, s->count,
                          s->maxd};
    redisReply *rep = eval(s, s->rd, &s->claim, 9, argv, NULL);
    if (!rep)
        return -1;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING ||
        rep->element[1]->type != REDIS_REPLY_ARRAY)
        return bad_reply(rep);
    snprintf(s->cursor, sizeof s->cursor, "%s", rep->element[0]->str);
    redisReply *a = rep->element[1];
    return take(s, rep, a->element, a->elements);
}

/* New entries; block_ms > 0: waiting that long in Redis for some. */
static int fetch_new(rsrc_t *s, int64_t block_ms)
{
    char blk[24];
    snprintf(blk, sizeof blk, "%lld", (long long)block_ms);
    const char *argv[11] = {"XREADGROUP", "GROUP", EVT__REDIS_GROUP,
                            s->consumer, "COUNT", s->count};
    int argc = 6;
    if (block_ms > 0) {
        argv[argc++] = "BLOCK";
        argv[argc++] = blk;
    }
    argv[argc++] = "STREAMS";
    argv[argc++] = s->k.items;
    argv[argc++] = ">";
    redisReply *rep = call_v(s, s->rd, argc, argv);
    if (!rep)
        return -1;
    if (rep->type == REDIS_REPLY_NIL)
        return take(s, rep, NULL, 0);
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 1)
        return bad_reply(rep);
    redisReply *st = rep->element[0]->element[1];
    return take(s, rep, st->element, st->elements);
}

/* Items of the group delivered and not acknowledged, by anyone. */
static long long pending(rsrc_t *s)
{
    const char *argv[] = {"XPENDING", s->k.items, EVT__REDIS_GROUP};
    redisReply *rep = call_v(s, s->rd, 3, argv);
    if (!rep)
        return -1;
    long long n = -1;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
        rep->element[0]->type == REDIS_REPLY_INTEGER)
        n = rep->element[0]->integer;
    else
        return bad_reply(rep);
    freeReplyObject(rep);
    return n;
}

static int add_slot(rsrc_t *s, const redisReply *id)
{
    slot_t *grown = evt__grow(s->slots, &s->cap, s->nslots, sizeof *grown,
                              1024);
    if (!grown)
        return -1;
    s->slots = grown;
    slot_t *sl = &s->slots[s->nslots++];
    snprintf(sl->id, sizeof sl->id, "%.*s", (int)id->len, id->str);
    sl->state = LEASED;
    return 0;
}

/* An item's input number: evt_redis_submit adds items as 1-0, 1-1, ...
 * (XADD 1-*), so it is the id's sequence + 1; an item added otherwise
 * (another id) has none: its place here (index + 1). */
static uint64_t seq_of(const char *id, uint64_t here)
{
    char *end;
    if (strncmp(id, "1-", 2) != 0)
        return here;
    unsigned long long n = strtoull(id + 2, &end, 10);
    return *end ? here : (uint64_t)n + 1;
}

/* The next entry, in read order (the controller numbers items as they are
 * read, so slot i is task index i). Waits while other items are pending:
 * they may come back to us, and the batch is done only when none is. */
static int redis_next(void *p, const void **item, size_t *len)
{
    rsrc_t *s = p;
    for (;;) {
        if (s->err) {
            errno = s->err;
            return -1;
        }
        if (s->at < s->nents) {
            redisReply *e = s->ents[s->at++];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
                e->element[1]->type != REDIS_REPLY_ARRAY)
                continue; /* deleted meanwhile */
            redisReply *f = e->element[1];
            if (add_slot(s, e->element[0]) < 0)
                return -1;
            s->seq = seq_of(e->element[0]->str, s->nslots);
            *item = f->elements >= 2 ? f->element[1]->str : "";
            *len = f->elements >= 2 ? f->element[1]->len : 0;
            return 1;
        }
        /* Idle items are looked for every poll_ms, not before every
         * read: new ones are read in between at one round trip each. */
        int got = 0;
        if (evt_now() >= s->next_claim) {
            got = fetch_claimed(s);
            s->next_claim = evt_now() + s->poll_ms;
        }
        if (got == 0)
            got = fetch_new(s, 0);
        if (got == 0)
            got = fetch_claimed(s);
        if (got < 0)
            return -1;
        if (got)
            continue;
        long long n = pending(s);
        if (n < 0)
            return -1;
        if (n == 0 && !s->follow)
            return 0;
        /* Others' items are in flight: wait for new ones in Redis, not in
         * a sleep, so that one submitted now is handed out at once. */
        if (fetch_new(s, s->block_ms) < 0)
            return -1;
    }
}

static void advance_lo(rsrc_t *s)
{
    while (s->lo < s->nslots && s->slots[s->lo].state != LEASED)
        s->lo++;
}

/* Runs in the controller's coroutine: queue the result for the writer
 * (never wait here), let a failed item's lease lapse so that it is
 * delivered again, and report the outcome. */
static void redis_sink(void *self, evt__ctl_t *b, const evt_batch_task_t *t,
                       int status, const void *res, size_t len)
{
    rsrc_t *s = self;
    slot_t *sl = &s->slots[t->index];
    size_t rec_len = 0;
    char *rec = s->record ? s->record(t, status, res, len, &rec_len, s->user)
                          : NULL;
    if ((status == 0 || rec) && s->nq == s->qcap) {
        size_t cap = s->qcap ? s->qcap * 2 : 256;
        stored_t *n = realloc(s->q, cap * sizeof *n);
        if (n)
            s->q = n, s->qcap = cap;
    }
    char *copy = status == 0 && s->nq < s->qcap ? malloc(len ? len : 1)
                                                : NULL;
    if (copy || (status != 0 && rec && s->nq < s->qcap)) {
        if (copy)
            memcpy(copy, res, len);
        stored_t *q = &s->q[s->nq++];
        memcpy(q->id, sl->id, sizeof q->id);
        q->res = copy, q->len = copy ? len : 0;
        q->rec = rec, q->rec_len = rec ? rec_len : 0;
        rec = NULL;
        evt_event_set(s->wake);
    }
    free(rec); /* (no memory to keep it: the record is not stored) */
    /* failed, or no memory to keep its result: delivered again */
    sl->state = copy ? DONE : LET_GO;
    advance_lo(s);
    evt__batch_result(b, t, status, res, len);
}

/* Renew the leases of ids[0..n) (XCLAIM JUSTID resets their idle time and
 * leaves their delivery counts alone). */
static int renew(rsrc_t *s, const char **ids, size_t n)
{
    const char *argv[STORE_MAX + 8] = {"XCLAIM", s->k.items,
                                       EVT__REDIS_GROUP, s->consumer, "0"};
    size_t al[STORE_MAX + 8];
    for (size_t i = 0; i < n; i++)
        argv[5 + i] = ids[i];
    argv[5 + n] = "JUSTID";
    for (size_t i = 0; i < n + 6; i++)
        al[i] = strlen(argv[i]);
    redisReply *rep = call(s, s->ls, (int)n + 6, argv, al);
    if (!rep)
        return -1;
    freeReplyObject(rep);
    return 0;
}

/* Every third of the visibility timeout, renew the leases of the items
 * read and not finished, and of those fetched and not yet handed out. */
static void *leaser(void *p)
{
    rsrc_t *s = p;
    const char *ids[STORE_MAX];
    while (evt_sleep(evt_now() + s->vis_ms / 3) == 0) {
        size_t n = 0;
        for (size_t i = s->lo; i < s->nslots; i++) {
            if (s->slots[i].state == LEASED)
                ids[n++] = s->slots[i].id;
            if (n == STORE_MAX) {
                if (renew(s, ids, n) < 0)
                    return NULL;
                n = 0;
            }
        }
        for (size_t i = s->at; i < s->nents && n < STORE_MAX; i++)
            if (s->ents[i]->type == REDIS_REPLY_ARRAY &&
                s->ents[i]->elements >= 1)
                ids[n++] = s->ents[i]->element[0]->str;
        if (n && renew(s, ids, n) < 0)
            return NULL;
    }
    return NULL;
}

static int setup(rsrc_t *s, const char *url, const evt_redis_opts_t *ro)
{
    evt_redis_opts_t d = {0};
    if (!ro)
        ro = &d;
    s->vis_ms = ro->visibility_ms > 0 ? ro->visibility_ms : 30000;
    s->cmd_ms = ro->command_ms > 0 ? ro->command_ms : 5000;
    s->down_ms = ro->down_ms;
    s->follow = ro->follow;
    s->record = ro->record, s->on_stored = ro->on_stored, s->user = ro->user;
    strcpy(s->cursor, "0-0");
    s->claim.src = CLAIM_LUA;
    evt__redis_store_init(s);
    s->clean.src = CLEAN_LUA;
    s->poll_ms = s->vis_ms / 10 < 5 ? 5 : s->vis_ms / 10 > 200 ? 200
                                                            : s->vis_ms / 10;
    s->block_ms = s->poll_ms < s->cmd_ms / 2 ? s->poll_ms : s->cmd_ms / 2;
    if (s->block_ms < 1)
        s->block_ms = 1;
    snprintf(s->count, sizeof s->count, "%zu", ro->count ? ro->count : 64);
    snprintf(s->vis, sizeof s->vis, "%lld", (long long)s->vis_ms);
    snprintf(s->maxd, sizeof s->maxd, "%u",
             ro->max_deliveries ? ro->max_deliveries : 5);
    if (ro->consumer) {
        snprintf(s->consumer, sizeof s->consumer, "%s", ro->consumer);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(s->consumer, sizeof s->consumer, "%s-%d", host,
                 (int)getpid());
    }
    s->rd = evt__redis_batch_open(url, &s->k);
    if (!s->rd)
        return -1;
    s->wr = evt__redis_open(url, NULL);
    s->ls = evt__redis_open(url, NULL);
    s->wake = evt_event_new();
    if (!s->wr || !s->ls || !s->wake) {
        errno = ENOMEM;
        return -1;
    }
    const char *argv[] = {"XGROUP", "CREATE", s->k.items, EVT__REDIS_GROUP,
                          "0", "MKSTREAM"};
    redisReply *rep = call_v(s, s->rd, 6, argv);
    if (!rep)
        return -1;
    if (rep->type == REDIS_REPLY_ERROR &&
        strncmp(rep->str, "BUSYGROUP", 9) != 0)
        return bad_reply(rep);
    freeReplyObject(rep);
    return 0;
}

/* Leaving: the items this worker holds and has not finished (read ahead
 * when a signal stopped the batch, or failed) are made idle past the
 * visibility timeout of any worker (XCLAIM ... IDLE, JUSTID: their
 * delivery counts stay),
 * so that the other workers take them at once; then this consumer leaves
 * the group if it holds nothing. Best effort, one try each: what is not
 * released is taken after visibility_ms anyway. */
static void release_ids(rsrc_t *s, const char **ids, size_t n)
{
    const char *argv[STORE_MAX + 10] = {"XCLAIM", s->k.items,
                                        EVT__REDIS_GROUP, s->consumer, "0"};
    size_t al[STORE_MAX + 10];
    memcpy(argv + 5, ids, n * sizeof *ids);
    /* (idle for 100 days: past any worker's visibility timeout) */
    argv[5 + n] = "IDLE", argv[6 + n] = "8640000000", argv[7 + n] = "JUSTID";
    for (size_t k = 0; k < n + 8; k++)
        al[k] = strlen(argv[k]);
    redisReply *rep = evt__redis_retry(s->ls, s->cmd_ms, evt_now() + s->cmd_ms,
                                       (int)n + 8, argv, al);
    if (rep)
        freeReplyObject(rep);
}

/* What Redis says this consumer holds, a page at a time. */
static void release(rsrc_t *s)
{
    char from[48] = "-", count[16];
    snprintf(count, sizeof count, "%d", STORE_MAX);
    for (;;) {
        const char *argv[] = {"XPENDING", s->k.items, EVT__REDIS_GROUP, from,
                              "+", count, s->consumer};
        size_t al[7];
        for (int k = 0; k < 7; k++)
            al[k] = strlen(argv[k]);
        redisReply *rep = evt__redis_retry(s->ls, s->cmd_ms,
                                           evt_now() + s->cmd_ms, 7, argv, al);
        if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
            if (rep)
                freeReplyObject(rep);
            break;
        }
        const char *ids[STORE_MAX];
        size_t n = 0;
        for (size_t i = 0; i < rep->elements && n < STORE_MAX; i++) {
            redisReply *e = rep->element[i];
            if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
                e->element[0]->type == REDIS_REPLY_STRING)
                ids[n++] = e->element[0]->str;
        }
        if (n)
            release_ids(s, ids, n);
        if (n)
            snprintf(from, sizeof from, "(%s", ids[n - 1]);
        size_t got = rep->elements;
        freeReplyObject(rep);
        if (n == 0 || got < STORE_MAX)
            break;
    }
    const char *cv[] = {"1", s->k.items, EVT__REDIS_GROUP, s->consumer,
                        s->vis};
    size_t cl[5];
    for (int k = 0; k < 5; k++)
        cl[k] = strlen(cv[k]);
    redisReply *rep = evt__redis_eval(s->ls, &s->clean, s->cmd_ms,
                                      evt_now() + s->cmd_ms, 5, cv, cl);
    if (rep)
        freeReplyObject(rep);
}

static void teardown(rsrc_t *s)
{
    for (size_t i = 0; i < s->nq; i++) {
        free(s->q[i].res);
        free(s->q[i].rec);
    }
    free(s->q);
    free(s->slots);
    if (s->batch)
        freeReplyObject(s->batch);
    if (s->wake)
        evt_event_free(s->wake);
    evt__redis_close(s->wr);
    evt__redis_close(s->ls);
    evt__redis_batch_close(s->rd, &s->k);
}

int evt_batch_run_redis(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        const char *url, const evt_redis_opts_t *ro,
                        evt_batch_report_t *rep)
{
    if (!evt__batch_valid(opts, fn)) {
        errno = EINVAL;
        return -1;
    }
    rsrc_t s = {0};
    int rc = setup(&s, url, ro);
    evt_co_t *w = NULL, *l = NULL;
    if (rc == 0 && (!(w = evt_spawn(evt__redis_writer, &s)) ||
                    !(l = evt_spawn(leaser, &s))))
        rc = -1;
    if (rc == 0) {
        evt__source_t src = {.self = &s, .next = redis_next, .waits = 1,
                             .seq = &s.seq, .sink = redis_sink};
        rc = evt__batch_run(opts, fn, &src, rep, NULL);
    }
    int err = errno;
    if (l) {
        evt_cancel(l);
        evt_join(l, -1, NULL);
    }
    if (w) {
        /* The last results and acks go out before we return. */
        s.stop = 1;
        evt_event_set(s.wake);
        evt_join(w, -1, NULL);
    }
    if (rc == 0 && s.err) {
        rc = -1;
        err = s.err;
    }
    if (s.ls && s.k.items)
        release(&s);
    teardown(&s);
    errno = err;
    return rc;
}
