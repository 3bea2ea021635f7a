/* The sources a batch reads, each an evt__source_t of the controller: the
 * caller's iterator, an array in memory, the lines of a file read as they
 * are needed (constant memory for a file of any size), and the messages of
 * an IPC queue. */
#define _GNU_SOURCE
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The caller's iterator and its user pointer (the public callback takes
 * user last, the controller's sources take their state first). */
typedef struct iter_src {
    evt_batch_next_fn next;
    void *user;
} iter_src_t;

static int iter_next(void *p, const void **item, size_t *len)
{
    iter_src_t *it = p;
    return it->next(item, len, it->user);
}

int evt_batch_run(const evt_batch_opts_t *opts, evt_batch_fn fn,
                  evt_batch_next_fn next, void *user, evt_batch_report_t *rep)
{
    if (!next) {
        errno = EINVAL;
        return -1;
    }
    iter_src_t it = {next, user};
    /* Any iterator may wait (on a socket, a queue...): read it apart. */
    evt__source_t s = {.self = &it, .next = iter_next, .waits = 1};
    return evt__batch_run(opts, fn, &s, rep, NULL);
}

typedef struct array_src {
    const void *const *items;
    const size_t *lens;
    size_t n, at;
} array_src_t;

static int array_next(void *p, const void **item, size_t *len)
{
    array_src_t *a = p;
    if (a->at == a->n)
        return 0;
    const void *it = a->items[a->at];
    *item = it;
    *len = a->lens ? a->lens[a->at] : strlen(it);
    a->at++;
    return 1;
}

int evt_batch_run_array(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        const void *const *items, const size_t *lens,
                        size_t n, evt_batch_report_t *rep)
{
    if (!items && n > 0) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!items[i] && !(lens && lens[i] == 0)) {
            errno = EINVAL;
            return -1;
        }
    array_src_t a = {items, lens, n, 0};
    evt__source_t src = {.self = &a, .next = array_next, .total = n};
    return evt__batch_run(opts, fn, &src, rep, NULL);
}

/* Make *buf cap bytes; 0, or -1 and ENOMEM (*buf is kept). */
static int grow(char **buf, size_t *cap, size_t want)
{
    char *b = realloc(*buf, want);
    if (!b) {
        errno = ENOMEM;
        return -1;
    }
    *buf = b;
    *cap = want;
    return 0;
}

/* Lines of a file descriptor through a buffer that grows to the longest
 * line. A regular file is read with read(2) (it never waits for long); a
 * pipe, FIFO, terminal or socket with evt_read, so that only the reader
 * coroutine waits for the next line. */
typedef struct file_src {
    int fd;
    int waits;          /* not a regular file */
    char *buf;
    size_t cap;
    size_t start, end;  /* bytes not yet handed out */
    size_t scanned;     /* of those, the ones known to hold no newline */
    int eof;
    uint64_t pos;       /* bytes handed out, newlines included */
    uint64_t size;      /* a regular file's bytes from where it was */
} file_src_t;

static int file_next(void *p, const void **item, size_t *len)
{
    file_src_t *s = p;
    for (;;) {
        char *at = s->buf + s->start;
        size_t unscanned = s->end - s->start - s->scanned;
        char *nl = unscanned ? memchr(at + s->scanned, '\n', unscanned)
                             : NULL; /* (buf is NULL before the first read) */
        if (nl || (s->eof && s->end > s->start)) {
            size_t n = nl ? (size_t)(nl - at) : s->end - s->start;
            s->start += n + (nl != NULL);
            s->pos += n + (nl != NULL);
            s->scanned = 0;
            if (n > 0 && at[n - 1] == '\r')
                n--;
            *item = at;
            *len = n;
            return 1;
        }
        if (s->eof)
            return 0;
        s->scanned = s->end - s->start;
        /* The partial line moves to the front (the last item handed out
         * is no longer needed); the buffer doubles when it is all line. */
        if (s->start)
            memmove(s->buf, at, s->end - s->start);
        s->end -= s->start;
        s->start = 0;
        if (s->end == s->cap && grow(&s->buf, &s->cap,
                                     s->cap ? s->cap * 2 : 65536) < 0)
            return -1;
        ssize_t r;
        do
            r = s->waits ? evt_read(s->fd, s->buf + s->end, s->cap - s->end, -1)
                         : read(s->fd, s->buf + s->end, s->cap - s->end);
        while (r < 0 && errno == EINTR);
        if (r < 0)
            return -1;
        s->eof = r == 0;
        s->end += (size_t)r;
    }
}

/* Open what a batch reads lines from: path, or stdin for "-". A stdin that
 * is not a regular file is opened again through /proc (a description of
 * our own) so that the O_NONBLOCK evt_read sets is not seen by the other
 * processes sharing it (the shell's terminal). -1 and errno on failure. */
static int open_lines(const char *path, file_src_t *s)
{
    struct stat st;
    if (strcmp(path, "-") != 0) {
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0)
            return -1;
        if (fstat(s->fd, &st) < 0) {
            int err = errno;
            close(s->fd);
            errno = err;
            return -1;
        }
        s->waits = !S_ISREG(st.st_mode);
        s->size = s->waits ? 0 : (uint64_t)st.st_size;
        return 0;
    }
    if (fstat(0, &st) < 0)
        return -1;
    s->waits = !S_ISREG(st.st_mode);
    s->fd = s->waits ? open("/proc/self/fd/0", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                     : -1;
    if (s->fd < 0) /* a regular file, or a socket (it cannot be reopened) */
        s->fd = dup(0);
    off_t at = s->waits || s->fd < 0 ? -1 : lseek(s->fd, 0, SEEK_CUR);
    if (at >= 0 && at <= st.st_size) /* (< file <redirect: from where it is) */
        s->size = (uint64_t)(st.st_size - at);
    return s->fd < 0 ? -1 : 0;
}

int evt_batch_run_file(const evt_batch_opts_t *opts, evt_batch_fn fn,
                       const char *path, evt_batch_report_t *rep)
{
    if (!path) {
        errno = EINVAL;
        return -1;
    }
    /* On workers, a file is split by byte ranges, unless its items must
     * pass one gate in order (chunks, a rate). */
    if (opts && (opts->processes || opts->threads) && !opts->unit
        && opts->rate == 0
        && strcmp(path, "-") != 0) {
        if (!evt__batch_valid(opts, fn)) {
            errno = EINVAL;
            return -1;
        }
        int rc = evt__broker_run_ranges(opts, fn, path, rep);
        if (rc <= 0)
            return rc;
    }
    file_src_t s = {0};
    if (open_lines(path, &s) < 0)
        return -1;
    evt__source_t src = {.self = &s, .next = file_next, .waits = s.waits,
                         .pos = &s.pos, .bytes = s.size};
    int rc = evt__batch_run(opts, fn, &src, rep, NULL);
    int err = errno;
    evt_fd_forget(s.fd);
    close(s.fd);
    free(s.buf);
    errno = err;
    return rc;
}

typedef struct queue_src {
    evt_ipc_queue_t *q;
    char *buf;
    size_t cap;
} queue_src_t;

static int queue_next(void *p, const void **item, size_t *len)
{
    queue_src_t *s = p;
    for (;;) {
        ssize_t n = evt_ipc_queue_get(s->q, s->buf, s->cap, -1);
        if (n >= 0) {
            *item = s->buf;
            *len = (size_t)n;
            return 1;
        }
        if (errno == EPIPE) /* closed, and nothing left */
            return 0;
        if (errno != EMSGSIZE || s->cap == evt_ipc_queue_msg_max(s->q))
            return -1;
        /* A message longer than any before: room for the longest. */
        if (grow(&s->buf, &s->cap, evt_ipc_queue_msg_max(s->q)) < 0)
            return -1;
    }
}

int evt_batch_run_queue(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        evt_ipc_queue_t *q, evt_batch_report_t *rep)
{
    if (!q) {
        errno = EINVAL;
        return -1;
    }
    size_t max = evt_ipc_queue_msg_max(q);
    queue_src_t s = {q, NULL, max < 65536 ? max : 65536};
    if (!(s.buf = malloc(s.cap))) {
        errno = ENOMEM;
        return -1;
    }
    evt__source_t src = {.self = &s, .next = queue_next, .waits = 1};
    int rc = evt__batch_run(opts, fn, &src, rep, NULL);
    int err = errno;
    free(s.buf);
    errno = err;
    return rc;
}
