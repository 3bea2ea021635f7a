/* A file of lines on worker processes or threads, split by byte ranges: a
 * chunk source of the batch controller (batch.h). Its items are chunks of
 * whole lines, which the parent cuts (it maps each chunk to count its
 * newlines, and copies no line); a worker maps its chunk, runs its lines
 * through an in-process batch on its coroutines, and writes each line's
 * result to the chunk's spool (spool.h) the moment the line is done; the
 * sink hands the spooled results to the controller in input order. A
 * worker process that dies leaves its spool behind: the controller runs
 * the chunk again on another worker, which runs only the lines without a
 * result, and first, alone, one at a time, those the dead one had started:
 * a line that kills a worker while alone is the culprit (isolate, below).
 * Threads run the same chunks and spools: one way to run a chunk, whatever
 * runs it. */
#define _GNU_SOURCE
#include "broker.h"
#include "spool.h"
#include "../core/crash.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#define KILLS_SPARED 3 /* deaths from outside spared, past the retries */

/* --- what travels to a worker ------------------------------------------ */

/* A chunk, the controller's item: this, then the file's path and the
 * spool's, each ending in a NUL. fn, user and the pointers in o are valid
 * in the worker: it is a copy of this process. */
typedef struct chunk_arg {
    evt_batch_fn fn;
    evt_batch_opts_t o; /* the options of the lines' in-process batch */
    uint64_t off, len;  /* the chunk's bytes: whole lines */
    uint64_t first;     /* index of its first line in the file */
    uint64_t lines;     /* lines in it */
    void *map;          /* the parent's mapping of it, cut to report */
    size_t maplen;
    const char *at;     /* where its first line is in map */
    int named;          /* on a thread: a crash names the line here */
} chunk_arg_t;

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
    evt__spool_t s;       /* the chunk's spool */
    uint32_t *pick;       /* the chunk's line of each task of the batch
                             running; NULL: task i is line i (a new spool) */
    int solo;             /* that batch runs the suspects, one at a time */
    lines_t l;            /* its source: the chunk's lines from line at */
    uint64_t at, picked;
    evt__hist_t hist;     /* attempt times, sent back as the job's result */
} worker_ctx_t;

static uint64_t chunk_line(const worker_ctx_t *w, uint64_t task)
{
    return w->pick ? w->pick[task] : task;
}

/* The source of a batch of the chunk's lines: those without a record (of
 * them, the suspects only, for solo). */
static int next_pick(void *self, const void **item, size_t *len)
{
    worker_ctx_t *w = self;
    while (next_line(&w->l, item, len)) {
        uint64_t i = w->at++;
        if (w->pick && (evt__spool_has(&w->s, i)
                        || (w->solo && !w->s.started[i])))
            continue;
        if (w->pick)
            w->pick[w->picked++] = (uint32_t)i;
        return 1;
    }
    return 0;
}

/* A line's outcome, spooled as soon as its attempt ends (settle), or as the
 * batch reports it (a line it never started, or whose last try failed as
 * the batch stopped). */
static int settle_line(void *self, const evt_batch_task_t *t, int status,
                       const void *res, size_t len)
{
    worker_ctx_t *w = self;
    return evt__spool_put(&w->s, chunk_line(w, t->index), status,
                          t->attempt, res, len) == 0;
}

static void spool_record(const evt_batch_task_t *t, int status,
                         const void *res, size_t len, void *user)
{
    worker_ctx_t *w = user;
    uint64_t i = chunk_line(w, t->index);
    if (!evt__spool_has(&w->s, i))
        evt__spool_put(&w->s, i, status, t->attempt, res, len);
}

/* --- isolate: which line killed its worker -------------------------------
 * A worker that dies of SIGSEGV, SIGBUS, SIGABRT, SIGFPE or SIGILL raised
 * by a line (crash_note has it in the spool) was killed by that line; any
 * other death (SIGKILL, SIGTERM, an exit) came from outside. The next
 * worker runs the lines the dead one had started and left without a
 * record (the suspects: a line records its result the moment it is done,
 * so those were running) one at a time: a death while a line runs alone
 * is that line's. A crash is one of its attempts; a kill from outside is
 * not, up to KILLS_SPARED times (README). */

/* The spool of the chunk running here, NULL between chunks. */
static _Thread_local evt__spool_t *volatile crash_spool;

/* Note the signal in the chunk's spool for the next worker to read. */
static int crash_note(int sig, const siginfo_t *si)
{
    (void)si;
    evt__spool_t *s = crash_spool;
    if (s && s->head)
        s->head->crash = sig;
    return 0;
}

/* After the records a dead worker left: blame the line it ran alone, if
 * it died so. */
static void isolate(worker_ctx_t *w)
{
    evt__spool_t *s = &w->s;
    int sig = s->head->crash;
    unsigned retries = w->a->o.retries;
    uint64_t i = s->head->solo - 1;
    s->head->crash = 0;
    if (s->head->solo && i < s->lines && !evt__spool_has(s, i)) {
        if (sig && ++s->crashes[i] > retries)
            evt__spool_put(s, i, EVT_ESIGNALED(sig), s->crashes[i] - 1,
                           NULL, 0);
        else if (!sig && ++s->kills[i] > (uint64_t)retries + KILLS_SPARED)
            evt__spool_put(s, i, EVT_ESIGNALED(SIGKILL), s->kills[i] - 1,
                           NULL, 0);
    }
    s->head->solo = 0;
    /* (marks stay: a line started in a dead worker is suspect till done) */
}

/* The caller's fn, told the line's index in the file. */
static int run_line(const evt_batch_task_t *t, void *out, size_t cap,
                    size_t *len, void *user)
{
    worker_ctx_t *w = user;
    if (w->s.err) /* (its result could not be kept) */
        return errno = w->s.err, -1;
    uint64_t i = chunk_line(w, t->index);
    w->s.started[i] = 1;
    if (w->solo)
        w->s.head->solo = i + 1;
    evt_batch_task_t u = *t;
    u.index = w->a->first + i;
    u.seq = u.index + 1;
    /* A crash kills a worker process, whose parent names the line; on a
     * thread it kills eventor, which names it here first. */
    evt__crash_set_item(w->a->named ? u.index + 1 : 0);
    return w->a->fn(&u, out, cap, len, w->a->o.user);
}

/* Run the chunk's lines that have no record (of them, the suspects only,
 * one at a time: solo) through a batch on this worker's coroutines. 0, or
 * -1 and errno. */
static int run_some(worker_ctx_t *w, const char *at, const char *end,
                    int solo)
{
    evt_batch_opts_t o = w->a->o;
    o.on_result = spool_record;
    o.user = w;
    o.ordered = 0; /* (the spool keeps them in any order) */
    if (solo)
        o.coroutines = 1;
    w->l = (lines_t){at, end};
    w->at = w->picked = 0;
    w->solo = solo;
    evt__source_t src = {.self = w, .next = next_pick,
                         .settle = settle_line};
    evt_batch_report_t rep;
    int rc = evt__batch_run(&o, run_line, &src, &rep, &w->hist);
    w->solo = 0;
    w->s.head->solo = 0;
    return rc;
}

/* 1 when a dead worker left lines started without a record on w's chunk;
 * *fresh: it left nothing at all (no record, no line started). */
static int suspects(const worker_ctx_t *w, int *fresh)
{
    const evt__spool_t *s = &w->s;
    *fresh = !s->kept && !memchr(s->started, 1, s->lines);
    for (uint64_t i = 0; !*fresh && i < s->lines; i++)
        if (s->started[i] && !evt__spool_has(s, i))
            return 1;
    return 0;
}

/* Run the lines of w's chunk that have no record yet: those a dead worker
 * had started one at a time, then the others on this worker's coroutines.
 * 0, or -1 and errno. */
static int run_lines(worker_ctx_t *w, const char *path)
{
    const chunk_arg_t *a = w->a;
    int fresh, suspect = suspects(w, &fresh);
    if (!fresh && !(w->pick = malloc(a->lines * sizeof *w->pick + 1)))
        return errno = ENOMEM, -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    const char *at;
    size_t maplen;
    void *m = map_range(fd, a->off, a->len, &at, &maplen);
    close(fd);
    if (!m)
        return -1;
    int rc = suspect ? run_some(w, at, at + a->len, 1) : 0;
    if (rc == 0)
        rc = run_some(w, at, at + a->len, 0);
    int err = errno;
    munmap(m, maplen);
    errno = err;
    return rc;
}

/* A chunk, on a worker process or thread: run the lines that have no
 * record yet (all of them, unless a worker died on this chunk before), then
 * cut the spool to its records. The result: the lines' attempt times. */
static int run_chunk(const evt_batch_task_t *t, void *out, size_t cap,
                     size_t *len, void *user)
{
    (void)user;
    chunk_arg_t a;
    memcpy(&a, t->item, sizeof a);
    const char *path = (const char *)t->item + sizeof a;
    const char *spool = path + strlen(path) + 1;
    if (spool >= (const char *)t->item + t->len || cap < sizeof(evt__hist_t))
        return errno = EINVAL, -1;
    worker_ctx_t w = {.a = &a};
    /* Room for every line's record of a usual size; longer ones grow it. */
    size_t usual = a.o.max_result < EVT_MAX_RESULT_DEFAULT
                       ? a.o.max_result : EVT_MAX_RESULT_DEFAULT;
    evt__crash_note(crash_note);
    int err = 0;
    if (evt__spool_open(&w.s, spool, a.lines, usual) < 0) {
        err = errno ? errno : EIO;
    } else {
        crash_spool = &w.s;
        isolate(&w);
        if (run_lines(&w, path) < 0)
            err = errno ? errno : EIO;
    }
    crash_spool = NULL;
    int cut = evt__spool_close(&w.s);
    free(w.pick);
    if (!err)
        err = cut;
    if (err)
        return errno = err, -1;
    memcpy(out, &w.hist, sizeof w.hist);
    *len = sizeof w.hist;
    return 0;
}

/* --- the parent's side ----------------------------------------------------- */

typedef struct ranges {
    const char *path;
    int fd;
    uint64_t size, chunk_size;
    uint64_t cut;            /* where the next chunk starts */
    uint64_t lines;          /* lines in the chunks cut so far */
    evt_batch_fn fn;         /* the caller's, run on each line */
    evt_batch_opts_t inner;  /* the options of the lines' batch in a worker */
    int named;               /* on threads (chunk_arg_t) */
    char spool_dir[64];
    unsigned char *item;     /* the chunk last cut: chunk_arg_t and paths */
} ranges_t;

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

static void spool_path(const ranges_t *r, uint64_t off, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%llu", r->spool_dir, (unsigned long long)off);
}

/* The source's next: cut the next chunk (mapped until its report). */
static int next_chunk(void *self, const void **item, size_t *len)
{
    ranges_t *r = self;
    if (r->cut >= r->size)
        return 0;
    chunk_arg_t a = {r->fn, r->inner, r->cut, 0, r->lines, 0, NULL, 0, NULL,
                     r->named};
    a.len = chunk_end(r) - r->cut;
    if (!(a.map = map_range(r->fd, a.off, a.len, &a.at, &a.maplen)))
        return -1;
    a.lines = count_lines(a.at, a.len);
    char spool[96];
    spool_path(r, a.off, spool, sizeof spool);
    size_t plen = strlen(r->path) + 1, slen = strlen(spool) + 1;
    memcpy(r->item, &a, sizeof a);
    memcpy(r->item + sizeof a, r->path, plen);
    memcpy(r->item + sizeof a + plen, spool, slen);
    r->cut += a.len;
    r->lines += a.lines;
    *item = r->item;
    *len = sizeof a + plen + slen;
    return 1;
}

/* The source's sink: report chunk's lines, those with a record as the
 * record says, the others with err (the chunk's error). */
static void report_chunk(void *self, evt__ctl_t *b,
                         const evt_batch_task_t *chunk, int err,
                         const void *res, size_t res_len)
{
    ranges_t *r = self;
    chunk_arg_t c;
    memcpy(&c, chunk->item, sizeof c);
    if (err == 0 && res_len == sizeof(evt__hist_t))
        evt__batch_times(b, res);
    char spool[96];
    spool_path(r, c.off, spool, sizeof spool);
    evt__spool_t sp;
    evt__spool_read(&sp, spool, c.lines); /* (none: no line has a record) */
    unlink(spool);
    lines_t l = {c.at, c.at + c.len};
    for (uint64_t i = 0; i < c.lines; i++) {
        evt_batch_task_t t = {c.first + i, NULL, 0, 0, c.first + i + 1};
        next_line(&l, &t.item, &t.len);
        evt__spool_rec_t rec;
        if (evt__spool_get(&sp, i, &rec) && rec.len <= r->inner.max_result) {
            t.attempt = rec.attempt;
            evt__batch_result(b, &t, rec.status, rec.res, rec.len);
        } else {
            evt__batch_result(b, &t, err ? err : EIO, NULL, 0);
        }
    }
    evt__spool_unmap(&sp);
    munmap(c.map, c.maplen);
}

/* The options of the lines' batch in each worker: this process's
 * controller keeps the error policy, the signals and the progress. */
static evt_batch_opts_t inner_opts(const evt_batch_opts_t *o)
{
    evt_batch_opts_t in = *o;
    if (!in.max_result)
        in.max_result = EVT_MAX_RESULT_DEFAULT;
    in.processes = 0;
    in.threads = 0;
    in.progress = 0;
    in.stop_on_signals = 0;
    in.halt = EVT_HALT_NEVER;
    in.on_result = NULL;
    return in;
}

/* The size of a chunk: CHUNKS_PER_WORKER a worker, within bounds. */
static uint64_t chunk_size(uint64_t size, size_t workers)
{
    uint64_t c = size / (workers * CHUNKS_PER_WORKER) + 1;
    return c < CHUNK_MIN ? CHUNK_MIN : c > CHUNK_MAX ? CHUNK_MAX : c;
}

/* Run the chunks of r through the controller: 0, or -1 and errno. */
static int run_chunks(ranges_t *r, const evt_batch_opts_t *opts,
                      evt_batch_report_t *rep)
{
    /* Workers come from the fork server, so they never hold this lock. */
    int lock_fd = evt__spool_dir_new(r->spool_dir, sizeof r->spool_dir);
    if (lock_fd < 0)
        return -1;
    int rc = -1;
    if ((r->item = malloc(sizeof(chunk_arg_t) + strlen(r->path) + 1 + 96))) {
        evt__source_t src = {.self = r, .next = next_chunk, .pos = &r->cut,
            .bytes = r->size, .sink = report_chunk, .chunk_ahead = AHEAD};
        rc = evt__batch_run(opts, run_chunk, &src, rep, NULL);
    }
    int err = r->item ? errno : ENOMEM;
    free(r->item);
    evt__spool_dir_remove(r->spool_dir, lock_fd);
    errno = err;
    return rc;
}

int evt__broker_run_ranges(const evt_batch_opts_t *opts, evt_batch_fn fn,
                           const char *path, evt_batch_report_t *rep)
{
    ranges_t r = {.path = path, .fn = fn, .inner = inner_opts(opts),
                  .named = opts->threads != 0};
    struct stat st;
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0)
        return -1;
    if (fstat(r.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(r.fd);
        return 1; /* not a file to split: the caller reads it line by line */
    }
    r.size = (uint64_t)st.st_size;
    r.chunk_size = chunk_size(r.size, opts->processes ? opts->processes
                                                      : opts->threads);
    int rc = run_chunks(&r, opts, rep);
    int err = errno;
    close(r.fd);
    errno = err;
    return rc;
}
