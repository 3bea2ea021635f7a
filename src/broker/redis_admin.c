/* The Redis broker's calls outside a running batch: submitting items
 * (pipelined XADD), counts, walking the results in input order, and
 * dropping a batch; and the keys every call shares. */
#define _GNU_SOURCE
#include "redis.h"
#include "../core/grow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD_MS 5000

evt__redis_t *evt__redis_batch_open(const char *url, evt__redis_keys_t *k)
{
    char *name = NULL;
    memset(k, 0, sizeof *k);
    evt__redis_t *r = evt__redis_open(url, &name);
    if (!r)
        return NULL;
    const char *n = name ? name : "default";
    if (asprintf(&k->items, "eventor:{%s}:items", n) < 0)
        k->items = NULL;
    if (asprintf(&k->results, "eventor:{%s}:results", n) < 0)
        k->results = NULL;
    if (asprintf(&k->dead, "eventor:{%s}:dead", n) < 0)
        k->dead = NULL;
    if (asprintf(&k->log, "eventor:{%s}:log", n) < 0)
        k->log = NULL;
    free(name);
    if (!k->items || !k->results || !k->dead || !k->log) {
        evt__redis_batch_close(r, k);
        errno = ENOMEM;
        return NULL;
    }
    return r;
}

void evt__redis_batch_close(evt__redis_t *r, evt__redis_keys_t *k)
{
    evt__redis_close(r);
    free(k->items);
    free(k->results);
    free(k->dead);
    free(k->log);
    memset(k, 0, sizeof *k);
}

/* 0 for a reply that is not an error, else -1 and errno (and frees it). */
static int check(redisReply *rep)
{
    if (!rep)
        return -1;
    int bad = rep->type == REDIS_REPLY_ERROR ? evt__redis_failed(rep) : 0;
    int err = errno;
    freeReplyObject(rep);
    errno = err;
    return bad;
}

/* An unexpected reply (or none): -1 and errno, the reply freed. */
static int unexpected(redisReply *rep)
{
    if (!rep)
        return -1;
    evt__redis_failed(rep);
    int err = errno;
    freeReplyObject(rep);
    errno = err;
    return -1;
}

int evt__redis_group(evt__redis_t *r, const evt__redis_keys_t *k,
                     int64_t deadline)
{
    redisReply *rep = evt__redis_command(r, deadline,
        "XGROUP CREATE %s " EVT__REDIS_GROUP " 0 MKSTREAM", k->items);
    if (rep && rep->type == REDIS_REPLY_ERROR &&
        strncmp(rep->str, "BUSYGROUP", 9) == 0) {
        freeReplyObject(rep);
        return 0;
    }
    return check(rep);
}

static const char PERSIST_LUA[] =
    "for _, k in ipairs(KEYS) do redis.call('PERSIST', k) end return 0";

/* XADD pipelined by windows of 1000: the replies of one window are taken
 * while the next one is built. */
int evt_redis_submit(const char *url, const void *const *items,
                     const size_t *lens, size_t n)
{
    evt__redis_keys_t k;
    evt__redis_t *r = evt__redis_batch_open(url, &k);
    if (!r)
        return -1;
    int rc = evt__redis_group(r, &k, evt_now() + CMD_MS);
    if (rc == 0)
        rc = check(evt__redis_command(r, evt_now() + CMD_MS,
            "EVAL %s 4 %s %s %s %s", PERSIST_LUA, k.items, k.results, k.dead,
            k.log));
    for (size_t at = 0; rc == 0 && at < n; at += 1000) {
        size_t m = n - at < 1000 ? n - at : 1000;
        for (size_t i = at; rc == 0 && i < at + m; i++) {
            /* ids 1-0, 1-1...: an item's id says its input number */
            const char *argv[] = {"XADD", k.items, "1-*", "i", items[i]};
            size_t al[] = {4, strlen(k.items), 3, 1,
                           lens ? lens[i] : strlen(items[i])};
            rc = evt__redis_append(r, 5, argv, al);
        }
        while (rc == 0 && r->inflight)
            rc = check(evt__redis_reply(r, evt_now() + CMD_MS));
    }
    int err = errno;
    evt__redis_batch_close(r, &k);
    errno = err;
    return rc;
}

/* fmt: a command with one %s, the key. */
static uint64_t count_of(evt__redis_t *r, const char *fmt, const char *key,
                         int *rc)
{
    if (*rc)
        return 0;
    redisReply *rep = evt__redis_command(r, evt_now() + CMD_MS, fmt, key);
    uint64_t v = 0;
    if (rep && rep->type == REDIS_REPLY_INTEGER)
        v = (uint64_t)rep->integer;
    else if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
             rep->element[0]->type == REDIS_REPLY_INTEGER)
        v = (uint64_t)rep->element[0]->integer; /* XPENDING's summary */
    else
    {
        *rc = unexpected(rep);
        return 0;
    }
    freeReplyObject(rep);
    return v;
}

/* Pending items delivered more than once, over the first 10000. */
static uint64_t retried_of(evt__redis_t *r, const char *key, int *rc)
{
    if (*rc)
        return 0;
    redisReply *rep = evt__redis_command(r, evt_now() + CMD_MS,
        "XPENDING %s " EVT__REDIS_GROUP " - + 10000", key);
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
    {
        *rc = unexpected(rep);
        return 0;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < rep->elements; i++) {
        redisReply *e = rep->element[i];
        n += e->type == REDIS_REPLY_ARRAY && e->elements >= 4 &&
             e->element[3]->type == REDIS_REPLY_INTEGER &&
             e->element[3]->integer > 1;
    }
    freeReplyObject(rep);
    return n;
}

int evt_redis_stat(const char *url, evt_redis_stat_t *st)
{
    evt__redis_keys_t k;
    evt__redis_t *r = evt__redis_batch_open(url, &k);
    if (!r)
        return -1;
    memset(st, 0, sizeof *st);
    /* Looked at, not made: a batch that is not there stays so. */
    redisReply *ex = evt__redis_command(r, evt_now() + CMD_MS, "EXISTS %s",
                                        k.items);
    int rc = ex && ex->type == REDIS_REPLY_INTEGER ? 0 : unexpected(ex);
    if (rc == 0) {
        long long there = ex->integer;
        freeReplyObject(ex);
        if (!there) {
            rc = -1;
            errno = ENOENT;
        } else { /* (a stream added to by hand may have no group yet) */
            rc = evt__redis_group(r, &k, evt_now() + CMD_MS);
        }
    }
    st->items = count_of(r, "XLEN %s", k.items, &rc);
    st->results = count_of(r, "HLEN %s", k.results, &rc);
    st->dead = count_of(r, "XLEN %s", k.dead, &rc);
    st->pending = count_of(r, "XPENDING %s " EVT__REDIS_GROUP, k.items, &rc);
    st->retried = retried_of(r, k.items, &rc);
    uint64_t gone = st->results + st->dead + st->pending;
    st->waiting = st->items > gone ? st->items - gone : 0;
    int err = errno;
    evt__redis_batch_close(r, &k);
    errno = err;
    return rc;
}

/* A stream id as two numbers, to sort and search the dead letters. */
typedef struct sid {
    unsigned long long ms, seq;
} sid_t;

static sid_t sid_of(const char *s)
{
    sid_t v = {0, 0};
    sscanf(s, "%llu-%llu", &v.ms, &v.seq);
    return v;
}

static int sid_cmp(const void *a, const void *b)
{
    const sid_t *x = a, *y = b;
    return x->ms != y->ms ? (x->ms > y->ms) - (x->ms < y->ms)
                          : (x->seq > y->seq) - (x->seq < y->seq);
}

typedef struct deadset {
    sid_t *v;
    size_t n, cap;
} deadset_t;

static int dead_add(deadset_t *d, const redisReply *e)
{
    const redisReply *f = e->type == REDIS_REPLY_ARRAY && e->elements >= 2
                              ? e->element[1] : NULL;
    for (size_t i = 0; f && i + 1 < f->elements; i += 2) {
        if (strcmp(f->element[i]->str, "id") != 0)
            continue;
        sid_t *v = evt__grow(d->v, &d->cap, d->n, sizeof *v, 64);
        if (!v)
            return -1;
        d->v = v;
        d->v[d->n++] = sid_of(f->element[i + 1]->str);
    }
    return 0;
}

/* The item ids of the dead-letter stream, sorted. */
static int dead_load(evt__redis_t *r, const evt__redis_keys_t *k,
                     deadset_t *d)
{
    char from[64] = "-";
    for (;;) {
        redisReply *page = evt__redis_command(r, evt_now() + CMD_MS,
            "XRANGE %s %s + COUNT 1000", k->dead, from);
        if (!page || page->type != REDIS_REPLY_ARRAY)
            return unexpected(page);
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < page->elements; i++)
            rc = dead_add(d, page->element[i]);
        size_t n = page->elements;
        if (n)
            snprintf(from, sizeof from, "(%s",
                     page->element[n - 1]->element[0]->str);
        freeReplyObject(page);
        if (rc < 0)
            return -1;
        if (n == 0)
            break;
    }
    if (d->n)
        qsort(d->v, d->n, sizeof *d->v, sid_cmp);
    return 0;
}

static int is_dead(const deadset_t *d, const char *id)
{
    sid_t v = sid_of(id);
    return d->n && bsearch(&v, d->v, d->n, sizeof v, sid_cmp) != NULL;
}

/* One page of the walk: HMGET the values of the entries in page from the
 * hash (the results, or the records). */
static int walk_page(evt__redis_t *r, const char *hash, redisReply *page, uint64_t *index, const deadset_t *d,
                     evt_redis_result_fn fn, void *user)
{
    size_t n = page->elements;
    const char **argv = malloc((n + 2) * sizeof *argv);
    size_t *al = malloc((n + 2) * sizeof *al);
    if (!argv || !al) {
        free(argv);
        free(al);
        errno = ENOMEM;
        return -1;
    }
    argv[0] = "HMGET", al[0] = 5;
    argv[1] = hash, al[1] = strlen(hash);
    for (size_t i = 0; i < n; i++) {
        redisReply *id = page->element[i]->element[0];
        argv[i + 2] = id->str, al[i + 2] = id->len;
    }
    redisReply *res = NULL;
    if (evt__redis_append(r, (int)n + 2, argv, al) == 0)
        res = evt__redis_reply(r, evt_now() + CMD_MS);
    free(argv);
    free(al);
    if (!res || res->type != REDIS_REPLY_ARRAY || res->elements != n)
        return unexpected(res);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        redisReply *e = page->element[i]->element[1], *v = res->element[i];
        const char *it = e->elements >= 2 ? e->element[1]->str : "";
        size_t il = e->elements >= 2 ? e->element[1]->len : 0;
        int has = v->type == REDIS_REPLY_STRING;
        size_t rl = has ? v->len
                        : is_dead(d, page->element[i]->element[0]->str)
                              ? EVT_REDIS_DEAD : 0;
        rc = fn((*index)++, it, il, has ? v->str : NULL, rl, user) ? 1 : 0;
    }
    freeReplyObject(res);
    return rc;
}

/* The items in input order with their results (records 0: dead letters
 * loaded to tell them apart) or their records (1). */
static int walk(const char *url, int records, evt_redis_result_fn fn,
                void *user)
{
    evt__redis_keys_t k;
    evt__redis_t *r = evt__redis_batch_open(url, &k);
    if (!r)
        return -1;
    char from[64] = "-";
    uint64_t index = 0;
    deadset_t d = {0};
    int rc = records ? 0 : dead_load(r, &k, &d);
    while (rc == 0) {
        redisReply *page = evt__redis_command(r, evt_now() + CMD_MS,
            "XRANGE %s %s + COUNT 1000", k.items, from);
        if (!page || page->type != REDIS_REPLY_ARRAY) {
            rc = unexpected(page);
            page = NULL;
        } else if (page->elements == 0) {
            freeReplyObject(page);
            break;
        } else {
            rc = walk_page(r, records ? k.log : k.results, page, &index, &d,
                           fn, user);
            redisReply *last = page->element[page->elements - 1]->element[0];
            snprintf(from, sizeof from, "(%s", last->str);
        }
        if (page)
            freeReplyObject(page);
    }
    int err = errno;
    free(d.v);
    evt__redis_batch_close(r, &k);
    errno = err;
    return rc < 0 ? -1 : 0;
}

int evt_redis_results(const char *url, evt_redis_result_fn fn, void *user)
{
    return walk(url, 0, fn, user);
}

int evt_redis_records(const char *url, evt_redis_result_fn fn, void *user)
{
    return walk(url, 1, fn, user);
}

int evt_redis_drop(const char *url)
{
    evt__redis_keys_t k;
    evt__redis_t *r = evt__redis_batch_open(url, &k);
    if (!r)
        return -1;
    int rc = check(evt__redis_command(r, evt_now() + CMD_MS,
                                      "DEL %s %s %s %s", k.items, k.results,
                                      k.dead, k.log));
    int err = errno;
    evt__redis_batch_close(r, &k);
    errno = err;
    return rc;
}

/* One consumer of XINFO CONSUMERS: an array of name, value pairs. */
static void consumer_of(const redisReply *c, evt_redis_consumer_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; c->type == REDIS_REPLY_ARRAY && i + 1 < c->elements;
         i += 2) {
        const redisReply *f = c->element[i], *v = c->element[i + 1];
        if (f->type != REDIS_REPLY_STRING && f->type != REDIS_REPLY_STATUS)
            continue;
        if (!strcmp(f->str, "name") && v->type == REDIS_REPLY_STRING)
            snprintf(out->name, sizeof out->name, "%s", v->str);
        else if (!strcmp(f->str, "pending") && v->type == REDIS_REPLY_INTEGER)
            out->pending = (uint64_t)v->integer;
        else if (!strcmp(f->str, "idle") && v->type == REDIS_REPLY_INTEGER)
            out->idle_ms = v->integer;
    }
}

int evt_redis_consumers(const char *url, evt_redis_consumer_t *out,
                        size_t max)
{
    evt__redis_keys_t k;
    evt__redis_t *r = evt__redis_batch_open(url, &k);
    if (!r)
        return -1;
    int rc = evt__redis_group(r, &k, evt_now() + CMD_MS);
    redisReply *rep = rc ? NULL : evt__redis_command(r, evt_now() + CMD_MS,
        "XINFO CONSUMERS %s " EVT__REDIS_GROUP, k.items);
    if (rc == 0 && (!rep || rep->type != REDIS_REPLY_ARRAY)) {
        rc = unexpected(rep);
        rep = NULL;
    }
    for (size_t i = 0; rep && i < rep->elements && i < max; i++)
        consumer_of(rep->element[i], &out[i]);
    if (rep) {
        rc = rep->elements > 0x7fffffff ? 0x7fffffff : (int)rep->elements;
        freeReplyObject(rep);
    }
    int err = errno;
    evt__redis_batch_close(r, &k);
    errno = err;
    return rc;
}

static const char EXPIRE_LUA[] =
    "for _, k in ipairs(KEYS) do\n"
    "  if ARGV[1] == '0' then redis.call('PERSIST', k)\n"
    "  else redis.call('EXPIRE', k, ARGV[1]) end\n"
    "end\n"
    "return 0\n";

int evt_redis_expire(const char *url, int64_t secs)
{
    if (secs < 0) {
        errno = EINVAL;
        return -1;
    }
    evt__redis_keys_t k;
    evt__redis_t *r = evt__redis_batch_open(url, &k);
    if (!r)
        return -1;
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)secs);
    int rc = check(evt__redis_command(r, evt_now() + CMD_MS,
        "EVAL %s 4 %s %s %s %s %s", EXPIRE_LUA, k.items, k.results, k.dead,
        k.log, s));
    int err = errno;
    evt__redis_batch_close(r, &k);
    errno = err;
    return rc;
}
