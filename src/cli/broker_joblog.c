/* The joblog of a Redis batch, in GNU parallel's format (joblog.c's lines):
 * a worker's commands note each attempt's times and exit in a table that
 * its worker processes share; each delivery's line is made from it when
 * the delivery ends, stored in Redis with the item's result (the batch's
 * record of the item), then written to the worker's --joblog; and
 * `eventor results --joblog` writes the stored lines in input order. */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* An attempt as the process that ran it saw it. */
struct note {
    uint64_t tag; /* task index + 1 of the attempt written; 0: none */
    double start, runtime;
    long long out; /* bytes of standard output */
    int exitval, sig, slot;
};

/* By task index modulo nnotes: mapped shared before any worker process
 * is forked, so that the notes of theirs are seen here. Items in flight
 * at once are far fewer than nnotes; a note overwritten meanwhile is told
 * by its tag (the line then says what the status says). */
static struct note *notes;
static size_t nnotes;

int bjob_init(size_t width)
{
    size_t n = 4 * (width + 64);
    n = n < 4096 ? 4096 : n;
    void *p = mmap(NULL, n * sizeof *notes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    notes = p, nnotes = n;
    return 0;
}

void bjob_note(uint64_t index, double start, double runtime, long long out,
               int exitval, int sig, int slot)
{
    if (!notes)
        return;
    struct note *n = &notes[index % nnotes];
    n->tag = 0;
    n->start = start, n->runtime = runtime, n->out = out;
    n->exitval = exitval, n->sig = sig, n->slot = slot;
    __atomic_store_n(&n->tag, index + 1, __ATOMIC_RELEASE);
}

/* What the note of t's last attempt says, or else its status. */
static void outcome(const evt_batch_task_t *t, int status, size_t rlen,
                    struct job *j)
{
    const struct note *n = notes ? &notes[t->index % nnotes] : NULL;
    if (n && __atomic_load_n(&n->tag, __ATOMIC_ACQUIRE) == t->index + 1) {
        j->start = n->start, j->runtime = n->runtime;
        j->out_bytes = n->out;
        j->exitval = n->exitval, j->sig = n->sig, j->slot = n->slot;
    } else { /* its worker process died with it, or was killed */
        j->start = wall_now();
        j->slot = 1;
        j->out_bytes = status == 0 ? (long long)rlen : 0;
        if ((status & ~0xffff) == EVT_ESIGNALED(0))
            j->sig = EVT_ERR_CODE(status);
        else if ((status & ~0xffff) == EVT_EEXITED(0))
            j->exitval = EVT_ERR_CODE(status);
        else if (status != 0)
            j->exitval = -1;
    }
    if (status == ETIMEDOUT && !j->exitval) /* as the local runner */
        j->exitval = -1;
}

void *bjob_record(const evt_batch_task_t *t, int status, const void *res,
                  size_t rlen, size_t *len, void *user)
{
    (void)res, (void)user;
    if (status == ECANCELED) /* stopped here: not logged, runs again */
        return NULL;
    struct job j = {.seq = t->seq};
    outcome(t, status, rlen, &j);
    if (worker_command(t, j.slot, &j.cmd) < 0)
        return NULL;
    char *line = joblog_line(&j, len);
    free(j.cmd);
    return line;
}

void bjob_stored(const void *rec, size_t len, void *user)
{
    (void)user;
    joblog_put(rec, len);
}

/* eventor results --joblog: the batch's lines, in input order. */
struct walk {
    int fd;
    int err;
};

static int write_all_fd(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int one_line(uint64_t index, const void *item, size_t len,
                    const void *rec, size_t rlen, void *user)
{
    (void)index, (void)item, (void)len;
    struct walk *w = user;
    if (!rec || !rlen)
        return 0; /* not run yet, or run without a record */
    if (write_all_fd(w->fd, rec, rlen) < 0) {
        w->err = errno;
        return 1;
    }
    return 0;
}

int bjob_results(const char *url, const char *path)
{
    int append = path[0] == '+';
    path += append;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
                            (append ? O_APPEND : O_TRUNC), 0666);
    struct walk w = {fd, 0};
    if (fd < 0 || (!append && write_all_fd(fd, joblog_header,
                                           strlen(joblog_header)) < 0)) {
        cli_error("cannot write joblog %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_EXIT_ERROR;
    }
    int rc = evt_redis_records(url, one_line, &w);
    int err = errno;
    if (close(fd) < 0 && !w.err)
        w.err = errno;
    if (w.err) {
        cli_error("cannot write joblog %s: %s", path, strerror(w.err));
        return CLI_EXIT_ERROR;
    }
    if (rc < 0) {
        broker_fail(url, err);
        return CLI_EXIT_ERROR;
    }
    return 0;
}
