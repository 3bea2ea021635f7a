/* A file of lines on worker processes or threads, split by byte ranges: a
 * chunk source of the batch controller (batch.h). Its items are chunks of
 * whole lines, which the parent cuts (it maps each chunk to count its
 * newlines, and copies no line); a worker maps its chunk, runs its lines
 * through an in-process batch on its coroutines, and writes each line's
 * result, in order, to a spool file of the chunk; the sink hands the
 * spooled results to the controller in input order. A worker process that
 * dies leaves its spool behind: the controller runs the chunk again, from
 * the first line without a result, on another worker, which first runs
 * alone, one at a time, the lines the dead one had started: a line that
 * kills a worker while alone is the culprit (isolate, below). Threads run
 * the same chunks and spools: one way to run a chunk, whatever runs it. */
#define _GNU_SOURCE
#include "broker.h"
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

/* A spool opens with this head, then three bytes a line (started: begun in
 * some worker on the chunk; crashes and kills: deaths of a worker that
 * ran the line alone, by a crash signal the line raised or by anything
 * else), then the records. The worker's crash handler writes crash. */
typedef struct spool_head {
    volatile sig_atomic_t crash; /* the signal a line raised, 0 */
    int32_t pad;
    volatile uint64_t solo;      /* 1 + the line running alone, 0 */
} spool_head_t;

static size_t head_size(uint64_t lines)
{
    return (sizeof(spool_head_t) + 3 * (size_t)lines + 7) & ~(size_t)7;
}

/* The record for line i at spool + at, or NULL when there is none. */
static const record_t *record_at(const unsigned char *spool, size_t size,
                                 size_t at, uint64_t i)
{
    if (at > size || size - at < sizeof(record_t))
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
    int sfd;              /* the spool's descriptor */
    uint64_t line;        /* the next line's number in the chunk */
    uint64_t first;       /* the file's index of the batch's first line */
    uint64_t solo_end;    /* lines before this one run alone */
    size_t reserved;      /* bytes of the spool given space (fallocate) */
    int err;              /* ENOSPC: the spool's disk is full */
    spool_head_t *head;   /* the spool's head, and its bytes a line: */
    uint8_t *started, *crashes, *kills;
    evt__hist_t hist;     /* attempt times, sent back as the job's result */
} worker_ctx_t;

/* Give the spool's disk space to its bytes up to need before they are
 * written: a write into a shared mapping of a file whose disk is full
 * (a small tmpfs as $TMPDIR) is a SIGBUS, not an error. 0, or ENOSPC in
 * w->err, and then no line more runs. */
#define RESERVE_STEP ((size_t)1 << 20)
static void set_head(worker_ctx_t *w);
static int reserve(worker_ctx_t *w, size_t need)
{
    if (need <= w->reserved)
        return 0;
    if (need > w->cap) { /* (results longer than the room made for them) */
        if (evt__spool_grow(w->sfd, &w->spool, &w->cap, need) < 0)
            return w->err = errno, -1;
        set_head(w);
    }
    size_t to = need + RESERVE_STEP < w->cap ? need + RESERVE_STEP : w->cap;
    int rc = posix_fallocate(w->sfd, (off_t)w->reserved,
                             (off_t)(to - w->reserved));
    if (rc == ENOSPC && to > need) /* (the step is more than is left) */
        rc = posix_fallocate(w->sfd, (off_t)w->reserved,
                             (off_t)((to = need) - w->reserved));
    if (rc == EINVAL || rc == EOPNOTSUPP)
        rc = 0; /* (no fallocate here: it allocates as it writes) */
    if (rc)
        return w->err = rc, -1;
    w->reserved = to;
    return 0;
}

static void put_record(worker_ctx_t *w, int status, unsigned attempt,
                       const void *res, size_t len)
{
    if (w->err || reserve(w, w->used + record_size(len)) < 0)
        return;
    record_t *r = (record_t *)(w->spool + w->used);
    if (len) /* (a failed line has no result: res is NULL) */
        memcpy(r + 1, res, len);
    *r = (record_t){0, status, attempt, (uint32_t)len, w->line++};
    atomic_signal_fence(memory_order_release);
    r->magic = RECORD_MAGIC;
    w->used += record_size(len);
}

static void spool_record(const evt_batch_task_t *t, int status,
                         const void *res, size_t len, void *user)
{
    put_record(user, status, t->attempt, res, len);
}

/* --- isolate: which line killed its worker -------------------------------
 * A worker that dies of SIGSEGV, SIGBUS, SIGABRT, SIGFPE or SIGILL raised
 * by a line (crash_note has it in the spool) was killed by that line; any
 * other death (SIGKILL, SIGTERM, an exit) came from outside. The next
 * worker runs the lines the dead one had started one at a time: a death
 * while a line runs alone is that line's. A crash is one of its attempts;
 * a kill from outside is not, up to KILLS_SPARED times (README). */

/* The spool word of the chunk running here (it moves when the spool
 * grows: set_head keeps it), NULL between chunks. */
static _Thread_local volatile sig_atomic_t *crash_word;

/* Note the signal in the chunk's spool for the parent to read. */
static int crash_note(int sig, const siginfo_t *si)
{
    (void)si;
    volatile sig_atomic_t *w = crash_word;
    if (w)
        *w = sig;
    return 0;
}

/* After the records a dead worker left: blame the line it ran alone, if
 * it died so, and mark the lines it had started to run alone. */
static void isolate(worker_ctx_t *w)
{
    spool_head_t *h = w->head;
    int sig = h->crash;
    unsigned retries = w->a->o.retries;
    uint64_t i = w->line;
    h->crash = 0;
    if (i < w->a->lines && h->solo == i + 1) {
        if (sig && ++w->crashes[i] > retries)
            put_record(w, EVT_ESIGNALED(sig), w->crashes[i] - 1, NULL, 0);
        else if (!sig && ++w->kills[i] > (uint64_t)retries + KILLS_SPARED)
            put_record(w, EVT_ESIGNALED(SIGKILL), w->kills[i] - 1, NULL, 0);
    }
    h->solo = 0;
    w->solo_end = w->line;
    for (i = w->line; i < w->a->lines; i++)
        if (w->started[i])
            w->solo_end = i + 1;
    /* (marks stay: a line started in a dead worker is suspect till done) */
}

/* The caller's fn, told the line's index in the file. */
static int run_line(const evt_batch_task_t *t, void *out, size_t cap,
                    size_t *len, void *user)
{
    worker_ctx_t *w = user;
    if (w->err) /* (its result could not be kept) */
        return errno = w->err, -1;
    uint64_t i = w->first - w->a->first + t->index; /* in the chunk */
    w->started[i] = 1;
    if (i < w->solo_end)
        w->head->solo = i + 1;
    evt_batch_task_t u = *t;
    u.index += w->first;
    u.seq = u.index + 1;
    return w->a->fn(&u, out, cap, len, w->a->o.user);
}

/* Where the head and the bytes of each line are in w's spool mapping;
 * the crash handler notes a crash in this one. */
static void set_head(worker_ctx_t *w)
{
    w->head = (spool_head_t *)w->spool;
    w->started = w->spool + sizeof(spool_head_t);
    w->crashes = w->started + w->a->lines;
    w->kills = w->crashes + w->a->lines;
    crash_word = &w->head->crash;
}

/* Map the spool of w's chunk (made on the first run), skip the whole
 * records a dead worker left there and isolate. 0, or -1 and errno. */
static int open_spool(worker_ctx_t *w, const char *spool)
{
    int sfd = open(spool, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (sfd < 0)
        return -1;
    if (fstat(sfd, &st) == 0 && (uint64_t)st.st_size > w->cap)
        w->cap = (size_t)st.st_size; /* (grown by a dead worker) */
    if (ftruncate(sfd, (off_t)w->cap) < 0)
        return close(sfd), -1;
    w->spool = mmap(NULL, w->cap ? w->cap : 1, PROT_READ | PROT_WRITE,
                    MAP_SHARED, sfd, 0);
    if (w->spool == MAP_FAILED) {
        w->spool = NULL;
        close(sfd);
        return -1;
    }
    w->sfd = sfd;
    if (reserve(w, head_size(w->a->lines)) < 0)
        return errno = w->err, -1;
    set_head(w);
    w->used = head_size(w->a->lines);
    const record_t *r;
    while ((r = record_at(w->spool, w->cap, w->used, w->line)) != NULL) {
        w->used += record_size(r->len);
        w->line++;
    }
    if (w->reserved < w->used)
        w->reserved = w->used; /* (records a dead worker wrote have room) */
    isolate(w);
    return 0;
}

/* Run the lines of l up to end through a batch on this worker's
 * coroutines, or one at a time (solo). 0, or -1 and errno. */
static int run_some(worker_ctx_t *w, lines_t *l, const char *end, int solo)
{
    evt_batch_opts_t o = w->a->o;
    o.on_result = spool_record;
    o.user = w;
    if (solo)
        o.coroutines = 1;
    w->first = w->a->first + w->line;
    lines_t part = {l->p, end};
    evt__source_t src = {.self = &part, .next = next_line};
    evt_batch_report_t rep;
    int rc = evt__batch_run(&o, run_line, &src, &rep, &w->hist);
    l->p = end;
    return rc;
}

/* Run the lines of w's chunk that have no record yet: those a dead worker
 * had started one at a time, then the others on this worker's coroutines.
 * 0, or -1 and errno. */
static int run_lines(worker_ctx_t *w, const char *path)
{
    const chunk_arg_t *a = w->a;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    const char *at;
    size_t maplen;
    void *m = map_range(fd, a->off, a->len, &at, &maplen);
    close(fd);
    if (!m)
        return -1;
    lines_t l = {at, at + a->len};
    const void *item;
    size_t ilen;
    for (uint64_t i = 0; i < w->line; i++)
        next_line(&l, &item, &ilen);
    lines_t solo = l;
    for (uint64_t i = w->line; i < w->solo_end; i++)
        next_line(&solo, &item, &ilen);
    int rc = 0;
    if (w->solo_end > w->line)
        rc = run_some(w, &l, solo.p, 1);
    if (rc == 0)
        rc = run_some(w, &l, l.end, 0);
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
    worker_ctx_t w = {.a = &a, .sfd = -1};
    /* Room for every line's record of a usual size; longer ones grow it. */
    size_t usual = a.o.max_result < EVT_MAX_RESULT_DEFAULT
                       ? a.o.max_result : EVT_MAX_RESULT_DEFAULT;
    w.cap = head_size(a.lines) + (size_t)a.lines * record_size(usual);
    evt__crash_note(crash_note);
    int err = 0;
    if (open_spool(&w, spool) < 0)
        err = errno ? errno : EIO;
    if (!err && run_lines(&w, path) < 0)
        err = errno ? errno : EIO;
    /* Cut to the whole records, failed or not: the parent reads up to the
     * end, and a read of a hole on a full tmpfs is a SIGBUS. */
    if (w.sfd >= 0 && ftruncate(w.sfd, (off_t)w.used) < 0 && !err)
        err = errno ? errno : EIO;
    if (!err && w.err)
        err = w.err;
    crash_word = NULL;
    if (w.spool)
        munmap(w.spool, w.cap ? w.cap : 1);
    if (w.sfd >= 0)
        close(w.sfd);
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
    chunk_arg_t a = {r->fn, r->inner, r->cut, 0, r->lines, 0, NULL, 0, NULL};
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
    lines_t l = {c.at, c.at + c.len};
    size_t used = head_size(c.lines);
    int records = sp != NULL; /* the records so far were whole */
    for (uint64_t i = 0; i < c.lines; i++) {
        evt_batch_task_t t = {c.first + i, NULL, 0, 0, c.first + i + 1};
        next_line(&l, &t.item, &t.len);
        const record_t *rec = records ? record_at(sp, size, used, i) : NULL;
        if (rec && rec->len <= r->inner.max_result) {
            t.attempt = rec->attempt;
            used += record_size(rec->len);
            evt__batch_result(b, &t, rec->status, rec + 1, rec->len);
        } else {
            records = 0;
            evt__batch_result(b, &t, err ? err : EIO, NULL, 0);
        }
    }
    if (sp)
        munmap(sp, size);
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
    if (evt__spool_dir_new(r->spool_dir, sizeof r->spool_dir) < 0)
        return -1;
    /* Workers come from the fork server, so they never hold this lock. */
    int lock_fd = evt__spool_dir_lock(r->spool_dir);
    if (lock_fd < 0) {
        int err = errno;
        evt__spool_dir_remove(r->spool_dir, -1);
        errno = err;
        return -1;
    }
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
    ranges_t r = {.path = path, .fn = fn, .inner = inner_opts(opts)};
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
