/* Grouped output of the eventor command. A job writes its standard output
 * and error into temporary files of its own (unlinked, O_TMPFILE, reused
 * from a pool), so a job never blocks on a full pipe and a big output lands
 * on disk rather than in memory; when the job ends its files are copied to
 * eventor's stdout and stderr whole, at once, in input order with -k (a
 * reorder ring keyed by sequence number, of bounded size), followed by its
 * joblog line. */
#include "cli.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <unistd.h>

static const struct opts *O;
static int *pool;             /* free temp files, truncated */
static size_t npool, pool_cap;
static struct job **ring;     /* -k: finished jobs by seq % window */
static size_t window;
static uint64_t next_out = 1; /* -k: the next seq to write */
static evt_event_t *room;     /* set when next_out moves */

int output_init(const struct opts *o)
{
    O = o;
    struct rlimit rl;
    size_t fds = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        fds = (size_t)rl.rlim_cur;
    /* Each finished job waiting for its turn may hold two files. */
    size_t busy = 3 * (size_t)(o->jobs < 100000 ? o->jobs : 100000) + 64;
    window = fds > busy + 64 ? (fds - busy) / 2 : 32;
    if (window > 16384)
        window = 16384;
    pool_cap = 2 * (size_t)(o->jobs < 4096 ? o->jobs : 4096) + 16;
    pool = calloc(pool_cap, sizeof *pool);
    ring = calloc(window, sizeof *ring);
    room = evt_event_new();
    if (!pool || !ring || !room) {
        cli_error("out of memory");
        return -1;
    }
    return 0;
}

static int tmpfile_new(void)
{
    int fd = open(O->tmpdir, O_TMPFILE | O_RDWR | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* file systems without O_TMPFILE: create and unlink at once */
    size_t len = strlen(O->tmpdir);
    char *name = malloc(len + 20);
    if (!name)
        return -1;
    memcpy(name, O->tmpdir, len);
    strcpy(name + len, "/eventorXXXXXX");
    fd = mkostemp(name, O_APPEND | O_CLOEXEC);
    if (fd >= 0)
        unlink(name);
    free(name);
    return fd;
}

int output_tmpfiles(int *out_fd, int *err_fd)
{
    int *fd[2] = {out_fd, err_fd};
    for (int i = 0; i < 2; i++) {
        *fd[i] = npool ? pool[--npool] : tmpfile_new();
        if (*fd[i] < 0) {
            cli_error("cannot create a temporary file in %s: %s", O->tmpdir,
                      strerror(errno));
            if (i)
                close(*out_fd);
            return -1;
        }
    }
    return 0;
}

/* Back to the pool (emptied: size is what it holds), or closed. */
static void tmpfile_release(int *fd, long long size)
{
    if (*fd < 0)
        return;
    if (npool < pool_cap && !O->ungroup && (size == 0 || ftruncate(*fd, 0) == 0))
        pool[npool++] = *fd;
    else
        close(*fd);
    *fd = -1;
}

/* Write all of buf to fd (eventor's stdout or stderr), which may have been
 * left non-blocking by whoever shares it. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EAGAIN)
                evt_wait_fd(fd, EVT_OUT, -1);
            else if (errno != EINTR)
                return; /* nowhere to say it: stdout or stderr is gone */
            continue;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* Copy the size bytes of temp file src to fd, each line after tag when
 * there is one. */
static void copy_out(int src, long long size, int fd, const char *tag)
{
    off_t off = 0;
    if (size <= 0)
        return;
    if (!tag) {
        while (off < size) {
            ssize_t n = sendfile(fd, src, &off, (size_t)(size - off));
            if (n > 0)
                continue;
            if (n < 0 && errno == EAGAIN) {
                evt_wait_fd(fd, EVT_OUT, -1);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno != EINVAL && errno != ENOSYS)
                return;
            break; /* sendfile cannot write there: plain copies */
        }
    }
    size_t tlen = tag ? strlen(tag) : 0;
    int at_line_start = 1;
    char buf[8192]; /* on a coroutine stack of 64 KiB */
    while (off < size) {
        ssize_t n = pread(src, buf, sizeof buf, off);
        if (n <= 0)
            return;
        off += n;
        if (!tag) {
            write_all(fd, buf, (size_t)n);
            continue;
        }
        for (char *p = buf, *end = buf + n; p < end;) {
            if (at_line_start) {
                write_all(fd, tag, tlen);
                write_all(fd, "\t", 1);
            }
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *stop = nl ? nl + 1 : end;
            write_all(fd, p, (size_t)(stop - p));
            at_line_start = nl != NULL;
            p = stop;
        }
    }
}

static void emit(struct job *j)
{
    if (!j->skip) {
        if (O->dry_run) {
            write_all(1, j->cmd, strlen(j->cmd));
            write_all(1, "\n", 1);
        } else if (O->ungroup) {
            joblog_write(j);
        } else if (!j->killed) {
            progress_hide();
            if (j->out_fd >= 0)
                copy_out(j->out_fd, j->out_bytes, 1, j->tag);
            if (j->err_fd >= 0)
                copy_out(j->err_fd, j->err_bytes, 2, j->tag);
            progress_show();
            joblog_write(j);
        }
    }
    tmpfile_release(&j->out_fd, j->out_bytes);
    tmpfile_release(&j->err_fd, j->err_bytes);
    job_free(j);
}

void output_done(struct job *j)
{
    if (!O->keep_order) {
        emit(j);
        return;
    }
    /* An empty output need not hold its files while it waits its turn. */
    if (j->out_fd >= 0 && j->err_fd >= 0 && !j->out_bytes && !j->err_bytes) {
        tmpfile_release(&j->out_fd, 0);
        tmpfile_release(&j->err_fd, 0);
    }
    ring[j->seq % window] = j;
    int moved = 0;
    while (ring[next_out % window]) {
        struct job *h = ring[next_out % window];
        ring[next_out % window] = NULL;
        next_out++;
        emit(h);
        moved = 1;
    }
    if (moved)
        evt_event_set(room);
}

int output_wait_room(uint64_t next_seq)
{
    while (O->keep_order && next_seq - next_out >= window) {
        evt_event_clear(room);
        if (evt_event_wait(room, -1) < 0)
            return -1;
    }
    return 0;
}

void output_finish(void)
{
    while (pool && npool)
        close(pool[--npool]);
    free(pool);
    free(ring);
    evt_event_free(room);
    pool = NULL;
    ring = NULL;
    room = NULL;
}
