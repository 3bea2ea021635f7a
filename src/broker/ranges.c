/* A file of lines on worker processes or threads, split by byte ranges:
 * the parent cuts the file into chunks of whole lines (it maps each chunk to
 * count its newlines, and copies no line), a worker maps its chunk and runs
 * its lines through an in-process batch on its coroutines, and writes each
 * line's result, in order, to a spool file of the chunk; the parent hands
 * the spooled results to on_result in input order. A worker process that
 * dies leaves its spool behind: the chunk runs again from the first line
 * without a result, on another worker. Threads use the same chunk job and
 * spools: one way to run a chunk, whatever runs it. */
#define _GNU_SOURCE
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_MIN ((uint64_t)64 << 10)
#define CHUNK_MAX ((uint64_t)4 << 20)
#define CHUNKS_PER_WORKER 16 /* a file this many chunks per worker or more */
#define AHEAD 2              /* chunks in flight per worker */

/* --- what travels to a worker ------------------------------------------ */

/* A chunk job: this, then the file's path and the spool's, each ending in a
 * NUL. fn, user and the pointers in o are valid in the worker: it is a
 * copy of this process. */
typedef struct chunk_arg {
    evt_batch_fn fn;
    evt_batch_opts_t o; /* the options of the lines' in-process batch */
    uint64_t off, len;  /* the chunk's bytes: whole lines */
    uint64_t first;     /* index of its first line in the file */
    uint64_t lines;     /* lines in it */
} chunk_arg_t;

/* A line's record in a spool: this, then len bytes of result, then zeros
 * up to a multiple of 8 bytes. A worker writes the result before the
 * header, into a shared mapping of the spool: what it wrote survives its
 * death, and a record is whole once its header is there. */
#define RECORD_MAGIC 0x4556524eu
typedef struct record {
    uint32_t magic;
    int32_t status;
    uint32_t attempt;
    uint32_t len;
    uint64_t line;      /* the line's number in its chunk, from 0 */
} record_t;

static size_t record_size(size_t len)
{
    return sizeof(record_t) + ((len + 7) & ~(size_t)7);
}

/* The record for line i at spool + at, or NULL when there is none. */
static const record_t *record_at(const unsigned char *spool, size_t size,
                                 size_t at, uint64_t i)
{
    if (size - at < sizeof(record_t))
        return NULL;
    const record_t *r = (const record_t *)(spool + at);
    if (r->magic != RECORD_MAGIC || r->line != i
        || size - at < record_size(r->len))
        return NULL;
    return r;
}

/* The lines of a mapped chunk, one after another. */
typedef struct lines {
    const char *p, *end;
} lines_t;

static int next_line(void *src, const void **item, size_t *len)
{
    lines_t *l = src;
    if (l->p >= l->end)
        return 0;
    const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
    const char *stop = nl ? nl : l->end;
    size_t n = (size_t)(stop - l->p);
    if (n > 0 && l->p[n - 1] == '\r')
        n--;
    *item = l->p;
    *len = n;
    l->p = nl ? nl + 1 : l->end;
    return 1;
}

/* Map [off, off + len) of fd read-only; *at gets where off is. */
static void *map_range(int fd, uint64_t off, uint64_t len, const char **at,
                       size_t *maplen)
{
    uint64_t base = off & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
    *maplen = (size_t)(off - base + len);
    if (*maplen == 0)
        *maplen = 1;
    void *m = mmap(NULL, *maplen, PROT_READ, MAP_PRIVATE, fd, (off_t)base);
    if (m == MAP_FAILED)
        return NULL;
    madvise(m, *maplen, MADV_SEQUENTIAL);
    *at = (const char *)m + (off - base);
    return m;
}

/* --- the worker's side ---------------------------------------------------- */

typedef struct worker_ctx {
    const chunk_arg_t *a;
    unsigned char *spool; /* the spool, mapped shared */
    size_t cap;           /* its size: room for every line's record */
    size_t used;          /* bytes of whole records */
    uint64_t line;        /* the next line's number in the chunk */
    evt__hist_t hist;     /* attempt times, sent back as the job's result */
} worker_ctx_t;

static void spool_record(const evt_batch_task_t *t, int status,
                         const void *res, size_t len, void *user)
{
    worker_ctx_t *w = user;
    /* cap has room for every line's record of max_result bytes. */
    record_t *r = (record_t *)(w->spool + w->used);
    if (len) /* (a failed line has no result: res is NULL) */
        memcpy(r + 1, res, len);
    *r = (record_t){0, status, t->attempt, (uint32_t)len, w->line++};
    atomic_signal_fence(memory_order_release);
    r->magic = RECORD_MAGIC;
    w->used += record_size(len);
}

/* The caller's fn, told the line's index in the file. */
static int run_line(const evt_batch_task_t *t, void *out, size_t cap,
                    size_t *len, void *user)
{
    worker_ctx_t *w = user;
    evt_batch_task_t u = *t;
    u.index += w->a->first;
    return w->a->fn(&u, out, cap, len, w->a->o.user);
}

/* A chunk job: run the lines that have no record yet (all of them, unless
 * a worker died on this chunk before), then cut the spool to its records. */
static ssize_t run_chunk(const void *in, size_t in_len, void *out, size_t cap)
{
    chunk_arg_t a;
    memcpy(&a, in, sizeof a);
    const char *path = (const char *)in + sizeof a;
    const char *spool = path + strlen(path) + 1;
    if (spool >= (const char *)in + in_len || cap < sizeof(evt__hist_t))
        return errno = EINVAL, -1;
    worker_ctx_t w = {.a = &a};
    size_t max = a.o.max_result ? a.o.max_result : 4096;
    w.cap = (size_t)a.lines * record_size(max);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int sfd = open(spool, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    const char *at = NULL;
    size_t maplen = 0;
    void *m = NULL;
    int err = 0;
    if (fd < 0 || sfd < 0 || ftruncate(sfd, (off_t)w.cap) < 0)
        goto fail;
    w.spool = mmap(NULL, w.cap ? w.cap : 1, PROT_READ | PROT_WRITE,
                   MAP_SHARED, sfd, 0);
    if (w.spool == MAP_FAILED) {
        w.spool = NULL;
        goto fail;
    }
    const record_t *r;
    while ((r = record_at(w.spool, w.cap, w.used, w.line)) != NULL) {
        w.used += record_size(r->len);
        w.line++;
    }
    if (!(m = map_range(fd, a.off, a.len, &at, &maplen)))
        goto fail;
    lines_t l = {at, at + a.len};
    const void *item;
    size_t ilen;
    for (uint64_t i = 0; i < w.line; i++)
        next_line(&l, &item, &ilen);
    a.first += w.line;
    evt_batch_opts_t o = a.o;
    o.on_result = spool_record;
    o.user = &w;
    evt_batch_report_t rep;
    if (evt__batch_run(&o, run_line, next_line, &l, 0, 0, &rep, &w.hist) < 0
        || ftruncate(sfd, (off_t)w.used) < 0)
        goto fail;
    memcpy(out, &w.hist, sizeof w.hist);
    goto done;
fail:
    err = errno ? errno : EIO;
done:
    if (w.spool)
        munmap(w.spool, w.cap ? w.cap : 1);
    if (m)
        munmap(m, maplen);
    if (fd >= 0)
        close(fd);
    if (sfd >= 0)
        close(sfd);
    if (err)
        return errno = err, -1;
    return (ssize_t)sizeof w.hist;
}

/* --- the parent's side ----------------------------------------------------- */

typedef struct ranges ranges_t;

typedef struct chunk {
    uint64_t off, len, first, lines;
    void *map;              /* the chunk, mapped from its cut to its report */
    size_t maplen;
    const char *at;         /* where its first line is in map */
    unsigned deaths;        /* runs lost to a dying worker */
    ranges_t *r;
    int running;            /* its job has not ended */
    int err;                /* once it has: 0 or the job's error */
    evt_future_t *future;   /* processes: the job, or NULL */
    void *in;               /* threads: the job's argument (run_chunk's) */
    size_t in_len;
    evt__hist_t hist;       /* the job's result */
} chunk_t;

struct ranges {
    evt_batch_opts_t o;      /* the caller's options, defaults filled in */
    evt_batch_opts_t inner;  /* those of the lines' batch in a worker */
    evt_batch_fn fn;
    const char *path;
    int fd;
    uint64_t size, chunk_size;
    uint64_t cut;            /* where the next chunk starts */
    uint64_t lines;          /* lines in the chunks cut so far */
    char spool_dir[64];
    int lock_fd;             /* held while the run lives (spooldir.c) */
    evt_procpool_t *pool;    /* processes: where chunks run */
    evt__threads_t *threads; /* threads: where chunks run, one at a time on
                                each (slot: the chunk's place in ring) */
    evt_group_t *runs;       /* threads: a coroutine per chunk running */
    evt_event_t *wake;       /* a job ended or a signal came */
    chunk_t *ring;           /* chunks in flight, oldest at head */
    size_t cap, head, count;
    int stop;                /* 0 run, 1 start nothing new, 2 cancel all */
    uint64_t failures;
    evt__signals_t sig;
    evt_co_t *sig_watch;
    unsigned sig_seen;
    int64_t grace_end;
    evt__progress_t prog;
    evt__hist_t hist;
    evt_batch_report_t rep;
};

/* The end of the chunk that starts at r->cut: its last line is the one
 * holding the byte at cut + chunk_size - 1. */
static uint64_t chunk_end(ranges_t *r)
{
    uint64_t at = r->cut + r->chunk_size;
    if (at >= r->size)
        return r->size;
    char buf[4096];
    for (at--; at < r->size;) {
        ssize_t n = pread(r->fd, buf, sizeof buf, (off_t)at);
        if (n <= 0)
            return r->size;
        char *nl = memchr(buf, '\n', (size_t)n);
        if (nl)
            return at + (uint64_t)(nl - buf) + 1;
        at += (uint64_t)n;
    }
    return r->size;
}

static uint64_t count_lines(const char *p, uint64_t len)
{
    uint64_t n = 0;
    const char *end = p + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    if (len && end[-1] != '\n')
        n++;
    return n;
}

static void on_job_done(evt_future_t *f, void *user)
{
    chunk_t *c = user;
    c->err = evt_future_err(f);
    c->running = 0;
    evt_event_set(c->r->wake);
}

/* run_chunk as a thread's call. */
static int chunk_call(const evt_batch_task_t *t, void *out, size_t cap,
                      size_t *len, void *user)
{
    (void)user;
    ssize_t n = run_chunk(t->item, t->len, out, cap);
    if (n < 0)
        return errno ? errno : EIO;
    *len = (size_t)n;
    return 0;
}

static void *run_on_thread(void *arg)
{
    chunk_t *c = arg;
    ranges_t *r = c->r;
    evt_batch_task_t t = {.item = c->in, .len = c->in_len};
    size_t len;
    c->err = evt__threads_run(r->threads, (size_t)(c - r->ring), chunk_call,
                              &t, &c->hist, sizeof c->hist, &len, NULL);
    free(c->in);
    c->in = NULL;
    c->running = 0;
    evt_event_set(r->wake);
    return NULL;
}

static void spool_path(const ranges_t *r, const chunk_t *c, char *out,
                       size_t cap)
{
    snprintf(out, cap, "%s/%llu", r->spool_dir, (unsigned long long)c->off);
}

/* Send chunk c (again) to a worker. */
static int submit(ranges_t *r, chunk_t *c)
{
    char spool[96];
    spool_path(r, c, spool, sizeof spool);
    size_t plen = strlen(r->path) + 1, slen = strlen(spool) + 1;
    size_t n = sizeof(chunk_arg_t) + plen + slen;
    unsigned char *in = malloc(n);
    if (!in)
        return -1;
    chunk_arg_t a = {r->fn, r->inner, c->off, c->len, c->first, c->lines};
    memcpy(in, &a, sizeof a);
    memcpy(in + sizeof a, r->path, plen);
    memcpy(in + sizeof a + plen, spool, slen);
    c->r = r;
    if (r->threads) {
        c->in = in;
        c->in_len = n;
        if (!evt_group_spawn(r->runs, run_on_thread, c)) {
            c->in = NULL;
            free(in);
            return -1;
        }
        c->running = 1;
        return 0;
    }
    c->future = evt_procpool_apply_async(r->pool, run_chunk, in, n, &c->hist,
                                         sizeof c->hist, NULL, NULL, NULL);
    free(in);
    if (!c->future)
        return -1;
    c->running = 1;
    if (evt_future_on_done(c->future, on_job_done, c) < 0) {
        /* (Only ENOMEM: the job runs on; wait for it without a call.) */
        evt_future_wait(c->future, -1);
        on_job_done(c->future, c);
    }
    return 0;
}

/* Cut the next chunk and send it. 0, or -1 and errno. */
static int start_chunk(ranges_t *r)
{
    chunk_t *c = &r->ring[(r->head + r->count) % r->cap];
    memset(c, 0, sizeof *c);
    c->off = r->cut;
    c->len = chunk_end(r) - r->cut;
    c->first = r->lines;
    if (!(c->map = map_range(r->fd, c->off, c->len, &c->at, &c->maplen)))
        return -1;
    c->lines = count_lines(c->at, c->len);
    if (submit(r, c) < 0) {
        munmap(c->map, c->maplen);
        return -1;
    }
    r->cut += c->len;
    r->lines += c->lines;
    r->rep.read += c->lines;
    r->count++;
    return 0;
}

static void halt(ranges_t *r, int how)
{
    if (r->stop >= how)
        return;
    r->stop = how;
    if (how == 2 && r->pool)
        evt_procpool_terminate(r->pool);
    if (how == 2 && r->runs) /* each run cancels its chunk on its thread */
        evt_group_cancel(r->runs);
}

/* One line is done: count it, tell on_result. */
static void finish_line(ranges_t *r, const evt_batch_task_t *t, int status,
                        const void *res, size_t len)
{
    r->rep.retried += t->attempt;
    if (status == 0) {
        r->rep.ok++;
    } else {
        r->rep.failed++;
        if (r->o.halt != EVT_HALT_NEVER && ++r->failures >= r->o.halt_after) {
            r->rep.halted = 1;
            halt(r, r->o.halt == EVT_HALT_NOW ? 2 : 1);
        }
    }
    if (r->o.on_result)
        r->o.on_result(t, status, res, len, r->o.user);
}

/* Report chunk c: the lines with a record as the record says, the others
 * with err (the job's error). */
static void deliver(ranges_t *r, chunk_t *c, int err)
{
    char spool[96];
    spool_path(r, c, spool, sizeof spool);
    size_t size = 0;
    unsigned char *sp = NULL;
    int sfd = open(spool, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (sfd >= 0 && fstat(sfd, &st) == 0 && st.st_size > 0) {
        size = (size_t)st.st_size;
        sp = mmap(NULL, size, PROT_READ, MAP_SHARED, sfd, 0);
        if (sp == MAP_FAILED)
            sp = NULL;
        else
            madvise(sp, size, MADV_SEQUENTIAL);
    }
    if (sfd >= 0)
        close(sfd);
    unlink(spool);
    lines_t l = {c->at, c->at + c->len};
    size_t used = 0;
    int records = sp != NULL; /* the records so far were whole */
    for (uint64_t i = 0; i < c->lines; i++) {
        evt_batch_task_t t = {c->first + i, NULL, 0, 0};
        next_line(&l, &t.item, &t.len);
        const record_t *rec = records ? record_at(sp, size, used, i) : NULL;
        if (rec && rec->len <= r->o.max_result) {
            t.attempt = rec->attempt;
            used += record_size(rec->len);
            finish_line(r, &t, rec->status, rec + 1, rec->len);
        } else {
            records = 0;
            finish_line(r, &t, err ? err : EIO, NULL, 0);
        }
    }
    if (sp)
        munmap(sp, size);
    munmap(c->map, c->maplen);
}

/* The oldest chunk's job has ended: report it, or send it again after its
 * worker died. */
static void settle(ranges_t *r)
{
    chunk_t *c = &r->ring[r->head];
    int err = c->err;
    evt_future_free(c->future);
    c->future = NULL;
    if (err == 0)
        evt__hist_merge(&r->hist, &c->hist);
    int death = EVT_IS_SIGNALED(err) || EVT_IS_EXITED(err);
    if (death && r->stop < 2 && c->deaths++ <= r->o.retries
        && submit(r, c) == 0)
        return;
    if (r->stop == 2 && err)
        err = ECANCELED;
    deliver(r, c, err);
    r->head = (r->head + 1) % r->cap;
    r->count--;
}

static void check_signals(ranges_t *r)
{
    int how = r->sig_watch ? evt__signals_check(&r->sig_seen, &r->rep,
                                                &r->grace_end, r->o.grace_ms)
                           : 0;
    if (how)
        halt(r, how);
}

/* Run until every chunk started is reported; 0, or -1 and errno. */
static int run(ranges_t *r)
{
    int rc = 0;
    for (;;) {
        check_signals(r);
        if (r->grace_end >= 0 && evt_now() >= r->grace_end)
            halt(r, 2);
        while (r->count && !r->ring[r->head].running)
            settle(r);
        for (;;) {
            check_signals(r); /* a signal stops the very next start */
            if (r->stop != 0 || r->cut >= r->size || r->count >= r->cap)
                break;
            if (start_chunk(r) < 0) {
                rc = errno;
                halt(r, 1);
            }
        }
        if (r->count == 0 && (r->stop || r->cut >= r->size))
            break;
        int64_t wake = r->stop < 2 ? r->grace_end : -1;
        if (r->o.progress) {
            if (evt_now() >= r->prog.next_ms)
                evt__progress_draw(&r->prog, &r->rep, 0);
            wake = evt__earliest(wake, r->prog.next_ms);
        }
        if (evt_event_wait(r->wake, wake) < 0 && errno == ECANCELED) {
            /* The caller was cancelled: the jobs are, too. Freeing the
             * pool or the runs waits (even now) until every job ended. */
            halt(r, 2);
            evt_procpool_free(r->pool);
            r->pool = NULL;
            if (r->runs)
                evt_group_free(r->runs);
            r->runs = NULL;
            while (r->count)
                settle(r);
            rc = ECANCELED;
            break;
        }
        evt_event_clear(r->wake);
    }
    return rc;
}

int evt__broker_run_ranges(const evt_batch_opts_t *opts, evt_batch_fn fn,
                           const char *path, evt_batch_report_t *rep)
{
    ranges_t r = {.o = *opts, .fn = fn, .path = path, .grace_end = -1,
                  .lock_fd = -1};
    if (!r.o.halt_after)
        r.o.halt_after = 1;
    if (!r.o.max_result)
        r.o.max_result = 4096;
    if (!r.o.grace_ms)
        r.o.grace_ms = 10000;
    if (!r.o.progress_fd)
        r.o.progress_fd = 2;
    struct stat st;
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0)
        return -1;
    if (fstat(r.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(r.fd);
        return 1; /* not a file to split: the caller reads it line by line */
    }
    r.size = (uint64_t)st.st_size;
    size_t p = r.o.processes ? r.o.processes : r.o.threads;
    r.chunk_size = r.size / (p * CHUNKS_PER_WORKER) + 1;
    r.chunk_size = r.chunk_size < CHUNK_MIN   ? CHUNK_MIN
                   : r.chunk_size > CHUNK_MAX ? CHUNK_MAX
                                              : r.chunk_size;
    r.cap = p * AHEAD;
    /* The lines' in-process batch in each worker; this process keeps the
     * error policy, the signals and the progress. */
    r.inner = r.o;
    r.inner.processes = 0;
    r.inner.threads = 0;
    r.inner.progress = 0;
    r.inner.stop_on_signals = 0;
    r.inner.halt = EVT_HALT_NEVER;
    r.inner.on_result = NULL;
    int err = 0;
    evt_procpool_opts_t po = {.max_result = sizeof(evt__hist_t)};
    if (evt__spool_dir_new(r.spool_dir, sizeof r.spool_dir) < 0) {
        err = errno;
    } else if (!(r.ring = calloc(r.cap, sizeof *r.ring))
               || !(r.wake = evt_event_new())) {
        err = ENOMEM;
    } else if (r.o.processes && !(r.pool = evt_procpool_new(p, &po))) {
        err = errno;
    } else if (r.o.threads
               && (!(r.runs = evt_group_new())
                   || !(r.threads = evt__threads_new(p, r.cap, 1)))) {
        err = errno;
    } else if ((r.lock_fd = evt__spool_dir_lock(r.spool_dir)) < 0) {
        err = errno; /* after the pool: its processes must not hold it */
    } else if (r.o.stop_on_signals && evt__signals_take(&r.sig, r.wake) < 0) {
        err = errno;
    } else if (r.o.stop_on_signals
               && !(r.sig_watch = evt_spawn(evt__signals_watch, &r.sig))) {
        err = errno;
        evt__signals_give(&r.sig);
    }
    int64_t start_ms = evt_now();
    if (!err) {
        if (r.o.progress)
            evt__progress_init(&r.prog, r.o.progress_fd, 0);
        err = run(&r);
        if (r.sig_watch) {
            evt_cancel(r.sig_watch);
            evt_join(r.sig_watch, -1, NULL);
            evt__signals_give(&r.sig);
        }
    }
    r.rep.wall_ms = evt_now() - start_ms;
    r.rep.p50_ms = evt__hist_quantile(&r.hist, 0.50);
    r.rep.p99_ms = evt__hist_quantile(&r.hist, 0.99);
    if (r.o.progress && !err)
        evt__progress_final(&r.prog, &r.rep);
    if (rep)
        *rep = r.rep;
    evt_procpool_free(r.pool);
    if (r.runs)
        evt_group_free(r.runs);
    evt__threads_free(r.threads);
    if (r.wake)
        evt_event_free(r.wake);
    free(r.ring);
    if (r.spool_dir[0])
        evt__spool_dir_remove(r.spool_dir, r.lock_fd);
    close(r.fd);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
