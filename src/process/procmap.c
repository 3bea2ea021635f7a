/* The process pool's front ends: apply (one task, waited for), map over
 * arrays, imap and imap_unordered over a stream of items. A map keeps a
 * window of chunks in flight and takes more input only as results come
 * back (CPython gh-74028), so its input is never read whole. */
#define _GNU_SOURCE
#include "procpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNK 4096
#define MAX_BYTES (UINT32_MAX - 4096u)

/* --- apply ------------------------------------------------------------- */

typedef struct apply {
    void *out;       /* the caller's buffer */
    ssize_t len;     /* the result's length */
    int err;         /* the task's error */
    int done;        /* told */
    evt_co_t *caller;
    int parked;      /* the caller waits for done */
} apply_t;

static void apply_done(evt__job_t *j, const unsigned char *res, int err)
{
    apply_t *c = j->owner;
    if (!err) {
        evt__res_item_t it;
        memcpy(&it, res, sizeof it);
        err = it.err;
        if (!err && it.len)
            memcpy(c->out, res + sizeof it, it.len);
        c->len = it.len;
    }
    c->err = err;
    c->done = 1;
    evt__job_free(j);
    if (c->parked) {
        c->parked = 0;
        evt__unpark(c->caller, 0);
    }
}

/* A job of one item holding in; NULL and errno. */
static evt__job_t *job_one(evt_proc_fn fn, const void *in, size_t in_len,
                           size_t out_cap)
{
    evt__job_t *j = evt__job_new(in_len);
    if (!j)
        return NULL;
    if (in_len)
        memcpy(j->args, in, in_len);
    j->fn = fn;
    j->nitems = 1;
    j->fixed = 1;
    j->item_size = (uint32_t)in_len;
    j->out_cap = (uint32_t)out_cap;
    return j;
}

ssize_t evt_procpool_apply(evt_procpool_t *pool, evt_proc_fn fn,
                           const void *in, size_t in_len, void *out,
                           size_t out_cap, int64_t deadline)
{
    if (!pool || !fn || (!in && in_len) || (!out && out_cap) ||
        in_len > MAX_BYTES || out_cap > MAX_BYTES) {
        errno = EINVAL;
        return -1;
    }
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    apply_t c = {.out = out, .caller = s->current};
    evt__job_t *j = job_one(fn, in, in_len, out_cap);
    if (!j)
        return -1;
    j->done = apply_done;
    j->owner = &c;
    if (evt__pool_submit(pool, j) < 0) {
        evt__job_free(j);
        return -1;
    }
    while (!c.done) {
        c.parked = 1;
        int rc = evt__wait(deadline);
        c.parked = 0;
        if (rc && !c.done) {
            /* The job must not write to out once we have returned. */
            if (!evt__pool_unqueue(pool, &c))
                evt__pool_orphan(pool, &c);
            errno = rc;
            return -1;
        }
    }
    if (c.err) {
        errno = c.err;
        return -1;
    }
    return c.len;
}

/* --- apply_async ------------------------------------------------------ */

typedef struct async {
    evt_future_t *future;     /* the producer's reference */
    void *out;                /* the caller's buffer */
    evt_proc_done_fn callback, error_callback;
    void *user;
} async_t;

static void async_done(evt__job_t *j, const unsigned char *res, int err)
{
    async_t *a = j->owner;
    size_t len = 0;
    if (!err) {
        evt__res_item_t it;
        memcpy(&it, res, sizeof it);
        err = it.err;
        len = it.len;
        if (!err && len)
            memcpy(a->out, res + sizeof it, len);
    }
    evt__job_free(j);
    /* A future cancelled by its owner gets no callback. */
    if (!evt_future_done(a->future)) {
        if (!err && a->callback)
            a->callback(0, a->out, len, a->user);
        else if (err && a->error_callback)
            a->error_callback(err, NULL, 0, a->user);
    }
    evt__future_complete(a->future, err, err ? NULL : (void *)(uintptr_t)len);
    free(a);
}

evt_future_t *evt_procpool_apply_async(evt_procpool_t *pool, evt_proc_fn fn,
                                       const void *in, size_t in_len,
                                       void *out, size_t out_cap,
                                       evt_proc_done_fn callback,
                                       evt_proc_done_fn error_callback,
                                       void *user)
{
    if (!pool || !fn || (!in && in_len) || (!out && out_cap) ||
        in_len > MAX_BYTES || out_cap > MAX_BYTES) {
        errno = EINVAL;
        return NULL;
    }
    async_t *a = malloc(sizeof *a);
    evt__job_t *j = a ? job_one(fn, in, in_len, out_cap) : NULL;
    evt_future_t *f = j ? evt__future_new() : NULL;
    if (!f) {
        free(a);
        evt__job_free(j);
        errno = ENOMEM;
        return NULL;
    }
    *a = (async_t){f, out, callback, error_callback, user};
    j->done = async_done;
    j->owner = a;
    j->future = f;
    if (evt__pool_submit(pool, j) < 0) {
        int e = errno;
        evt__job_free(j);
        evt__future_complete(f, e, NULL);
        evt_future_free(f);
        free(a);
        errno = e;
        return NULL;
    }
    return f;
}

/* --- map and imap ------------------------------------------------------ */

typedef struct pmap {
    evt_procpool_t *pool;
    evt_proc_fn fn;
    const unsigned char *in;  /* map: the items, in_size bytes each */
    size_t in_size;
    size_t n;                 /* map: items */
    evt_proc_next_fn next;    /* imap: the source, or NULL for map */
    void *user;               /* next's and cb's argument */
    unsigned char *out;       /* map: where results go */
    size_t out_size;
    size_t *out_lens;
    int *errs;
    evt_proc_result_fn cb;    /* imap: told each result */
    int ordered;              /* imap: report in input order */
    size_t chunk;             /* items per job */
    uint32_t out_cap;         /* most bytes of one result */
    size_t window;            /* most jobs in flight */
    size_t taken;             /* items taken from the source */
    size_t jobs;              /* jobs submitted and not yet told */
    evt__job_t *ready;        /* imap: jobs told, not yet reported; by
                                 first item when ordered */
    size_t reported;          /* ordered imap: items reported */
    evt_co_t *caller;
    int parked;               /* the caller waits for a job */
    int ended;                /* no more input will be taken */
    int err;                  /* why the map stops early, or 0 */
} pmap_t;

static void wake(pmap_t *b)
{
    b->jobs--;
    if (b->parked) {
        b->parked = 0;
        evt__unpark(b->caller, 0);
    }
}

/* memcpy, with the sizes of ints and pointers copied inline: a map of
 * small results spends most of its time here. */
static inline void copy_result(void *to, const void *from, size_t len)
{
    switch (len) {
    case 4:
        memcpy(to, from, 4);
        break;
    case 8:
        memcpy(to, from, 8);
        break;
    default:
        memcpy(to, from, len);
    }
}

/* map: write each item's outcome into the caller's arrays. */
static void map_done(evt__job_t *j, const unsigned char *res, int err)
{
    pmap_t *b = j->owner;
    for (uint32_t i = 0; i < j->nitems; i++) {
        size_t k = j->first + i;
        evt__res_item_t it = {err, 0};
        if (!err) {
            memcpy(&it, res, sizeof it);
            if (!it.err && it.len)
                copy_result(b->out + k * b->out_size, res + sizeof it,
                            it.len);
            res += sizeof it + it.len;
        }
        if (b->errs)
            b->errs[k] = it.err;
        if (b->out_lens)
            b->out_lens[k] = it.len;
    }
    evt__job_free(j);
    wake(b);
}

/* imap: keep the results in the job until the caller reports them. */
static void imap_done(evt__job_t *j, const unsigned char *res, int err)
{
    pmap_t *b = j->owner;
    free(j->args);
    j->args = NULL;
    j->args_len = 0;
    j->err = err;
    if (!err) {
        const unsigned char *q = res;
        for (uint32_t i = 0; i < j->nitems; i++) {
            evt__res_item_t it;
            memcpy(&it, q, sizeof it);
            q += sizeof it + it.len;
        }
        j->args_len = (size_t)(q - res);
        if ((j->args = malloc(j->args_len ? j->args_len : 1)) != NULL)
            memcpy(j->args, res, j->args_len);
        else
            j->err = ENOMEM;
    }
    evt__job_t **pj = &b->ready;
    if (b->ordered)
        while (*pj && (*pj)->first < j->first)
            pj = &(*pj)->next;
    else
        while (*pj)
            pj = &(*pj)->next;
    j->next = *pj;
    *pj = j;
    wake(b);
}

/* Make j the job of the k items from the source's next, in place of b. */
static evt__job_t *taken(pmap_t *b, evt__job_t *j, size_t k)
{
    j->fn = b->fn;
    j->nitems = (uint32_t)k;
    j->out_cap = b->out_cap;
    j->owner = b;
    j->first = b->taken;
    j->done = b->cb ? imap_done : map_done;
    b->taken += k;
    return j;
}

/* map: the next chunk of the array as a job of fixed-size items; NULL at
 * the end (ended set) or on error (errno). */
static evt__job_t *take_array(pmap_t *b)
{
    size_t k = b->n - b->taken < b->chunk ? b->n - b->taken : b->chunk;
    if (k < b->chunk)
        b->ended = 1;
    if (k == 0)
        return NULL;
    size_t len = k * b->in_size;
    if (len / k != b->in_size || len > MAX_BYTES) {
        b->ended = 1;
        errno = EINVAL;
        return NULL;
    }
    evt__job_t *j = evt__job_new(len);
    if (!j) {
        b->ended = 1;
        return NULL;
    }
    if (len)
        memcpy(j->args, b->in + b->taken * b->in_size, len);
    j->fixed = 1;
    j->item_size = (uint32_t)b->in_size;
    return taken(b, j, k);
}

/* imap: the next chunk from the source as a job; NULL at the end of input
 * (ended set) or on error (errno). */
static evt__job_t *take_stream(pmap_t *b)
{
    size_t k = 0, cap = 0, len = 0;
    unsigned char *args = NULL;
    for (; k < b->chunk; k++) {
        const void *item;
        size_t ilen;
        if (b->next(&item, &ilen, b->user) <= 0)
            break;
        if (ilen > MAX_BYTES || len + 4 + ilen > MAX_BYTES) {
            errno = EINVAL;
            goto fail;
        }
        if (len + 4 + ilen > cap) {
            size_t c = cap ? cap * 2 : 256;
            while (c < len + 4 + ilen)
                c *= 2;
            unsigned char *p = realloc(args, c);
            if (!p)
                goto fail;
            args = p;
            cap = c;
        }
        uint32_t l32 = (uint32_t)ilen;
        memcpy(args + len, &l32, 4);
        if (ilen)
            memcpy(args + len + 4, item, ilen);
        len += 4 + ilen;
    }
    if (k < b->chunk)
        b->ended = 1;
    if (k == 0) {
        free(args);
        return NULL;
    }
    evt__job_t *j = evt__job_new(0);
    if (!j)
        goto fail;
    free(j->args);
    j->args = args;
    j->args_len = len;
    return taken(b, j, k);
fail:
    free(args);
    b->ended = 1;
    if (!errno)
        errno = ENOMEM;
    return NULL;
}

/* Report the jobs that are ready (in order when ordered). */
static void report(pmap_t *b)
{
    evt__job_t *j;
    while ((j = b->ready) != NULL &&
           (!b->ordered || j->first == b->reported)) {
        b->ready = j->next;
        const unsigned char *q = j->args;
        for (uint32_t i = 0; i < j->nitems && !b->err; i++) {
            evt__res_item_t it = {j->err, 0};
            if (!j->err) {
                memcpy(&it, q, sizeof it);
                q += sizeof it;
            }
            if (b->cb(j->first + i, it.err, q, it.len, b->user)) {
                b->err = ECANCELED;
                b->ended = 1;
            }
            q += it.len;
        }
        b->reported += j->nitems;
        evt__job_free(j);
    }
}

static void drop_ready(pmap_t *b)
{
    evt__job_t *j;
    while ((j = b->ready) != NULL) {
        b->ready = j->next;
        evt__job_free(j);
    }
}

static int run(pmap_t *b, size_t chunk)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    size_t workers = evt__pool_size(b->pool);
    b->chunk = chunk;
    size_t per = 8192 / chunk;
    b->window = workers * (per < 4 ? 4 : per > 1024 ? 1024 : per);
    b->caller = s->current;
    evt__pool_batch(b->pool, 1);
    for (;;) {
        while (!b->ended && !b->err && b->jobs < b->window) {
            errno = 0;
            evt__job_t *j = b->next ? take_stream(b) : take_array(b);
            if (!j) {
                if (errno)
                    b->err = errno;
                break;
            }
            b->jobs++;
            if (evt__pool_submit(b->pool, j) < 0) {
                b->err = errno;
                b->ended = 1;
                j->done(j, NULL, b->err);
            }
        }
        if (b->cb && !b->err)
            report(b);
        if (b->err) {
            /* Stop taking: what was queued goes, what runs comes back. */
            b->jobs -= evt__pool_unqueue(b->pool, b);
            drop_ready(b);
        }
        if ((b->ended || b->err) && b->jobs == 0)
            break;
        b->parked = 1;
        int rc = evt__wait(-1);
        b->parked = 0;
        if (rc == ECANCELED) {
            evt__pool_unqueue(b->pool, b);
            evt__pool_orphan(b->pool, b);
            drop_ready(b);
            b->err = ECANCELED;
            break;
        }
    }
    evt__pool_batch(b->pool, -1);
    if (b->err) {
        errno = b->err;
        return -1;
    }
    return 0;
}

int evt_procpool_map(evt_procpool_t *pool, evt_proc_fn fn, const void *in,
                     size_t in_size, size_t n, void *out, size_t out_size,
                     size_t *out_lens, int *errs, size_t chunksize)
{
    if (!pool || !fn || (!in && in_size && n) || (!out && out_size && n) ||
        in_size > MAX_BYTES || out_size > MAX_BYTES) {
        errno = EINVAL;
        return -1;
    }
    if (errs)
        for (size_t i = 0; i < n; i++)
            errs[i] = ECANCELED;
    if (chunksize == 0) {
        size_t q = 4 * evt__pool_size(pool);
        chunksize = (n + q - 1) / q;
        if (chunksize > MAX_CHUNK)
            chunksize = MAX_CHUNK;
        if (chunksize == 0)
            chunksize = 1;
    }
    pmap_t b = {.pool = pool, .fn = fn, .in = in, .in_size = in_size,
                 .n = n, .out = out, .out_size = out_size,
                 .out_lens = out_lens, .errs = errs,
                 .out_cap = (uint32_t)out_size};
    return run(&b, chunksize);
}

static int imap(evt_procpool_t *pool, evt_proc_fn fn, evt_proc_next_fn next,
                evt_proc_result_fn cb, void *user, size_t chunksize,
                int ordered)
{
    if (!pool || !fn || !next || !cb) {
        errno = EINVAL;
        return -1;
    }
    size_t max = evt__pool_max_result(pool);
    pmap_t b = {.pool = pool, .fn = fn, .next = next, .user = user,
                 .cb = cb, .ordered = ordered,
                 .out_cap = (uint32_t)(max ? max : EVT_MAX_RESULT_DEFAULT)};
    return run(&b, chunksize ? chunksize : 1);
}

int evt_procpool_imap(evt_procpool_t *pool, evt_proc_fn fn,
                      evt_proc_next_fn next, evt_proc_result_fn cb,
                      void *user, size_t chunksize)
{
    return imap(pool, fn, next, cb, user, chunksize, 1);
}

int evt_procpool_imap_unordered(evt_procpool_t *pool, evt_proc_fn fn,
                                evt_proc_next_fn next, evt_proc_result_fn cb,
                                void *user, size_t chunksize)
{
    return imap(pool, fn, next, cb, user, chunksize, 0);
}
