/* Grouped output of the eventor command. A job writes its standard output
 * and error into temporary files of its own (unlinked, O_TMPFILE, reused
 * from a pool), so a job never blocks on a full pipe and a big output lands
 * on disk rather than in memory; when the job ends its files are copied to
 * eventor's stdout and stderr whole, at once, in input order with -k (a
 * reorder ring keyed by sequence number, of bounded size), followed by its
 * joblog line. A write that fails is an error: the job is not logged, the
 * run halts (run_write_failed), and nothing more goes to that output. */
#include "cli.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static const struct opts *O;
static int *pool;             /* free temp files, truncated */
static size_t npool, pool_cap;
static struct job **ring;     /* -k: finished jobs by seq % window */
static size_t window;
static uint64_t next_out = 1; /* -k: the next seq to write */
static evt_event_t *room;     /* set when next_out moves */
static int broken[3];         /* fd 1 or 2 failed: written no more */
static uint64_t spool_epoch;  /* times the --tmpdir was seen full */

int output_init(const struct opts *o)
{
    O = o;
    /* A running job holds 3 fds, one finished and waiting its turn 2: the
     * window of seqs is what the budget leaves (limits_plan made room for
     * at least 3 a slot), and at least the slots. */
    size_t jobs = (size_t)o->jobs, fds = (size_t)limits_fd_budget();
    window = fds > jobs ? (fds - jobs) / 2 : jobs;
    if (window < jobs)
        window = jobs;
    if (window > 16384)
        window = jobs > 16384 ? jobs : 16384;
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

static void tmpfile_release(int *fd, long long size);

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
            int e = errno;
            if (i)
                tmpfile_release(out_fd, 0);
            errno = e;
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
    if (npool < pool_cap && !O->ungroup && !results_own_files() &&
        (size == 0 || ftruncate(*fd, 0) == 0))
        pool[npool++] = *fd;
    else
        close(*fd);
    *fd = -1;
}

/* Write all of buf to fd (eventor's stdout or stderr), which may have been
 * left non-blocking by whoever shares it. 0, or -1 and errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EAGAIN)
                evt_wait_fd(fd, EVT_OUT, -1);
            else if (errno != EINTR)
                return -1;
            continue;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int output_write(int fd, const char *buf, size_t len)
{
    return write_all(fd, buf, len);
}

/* --color's way with [p, p + n) (GNU's): each line after the colour and
 * tag, with a reset before its \n and before each \r (the colour and tag
 * again after it); *at_start: a line is to begin. */
static int color_out(int fd, const char *p, size_t n, const char *color,
                     const char *tag, int *at_start)
{
    const char *reset = *color ? "\033[m" : "", *end = p + n;
    while (p < end) {
        if (*at_start && (write_all(fd, color, strlen(color)) < 0 ||
                          (tag && (write_all(fd, tag, strlen(tag)) < 0 ||
                                   write_all(fd, "\t", 1) < 0))))
            return -1;
        *at_start = 0;
        const char *q = p;
        while (q < end && *q != '\n' && *q != '\r')
            q++;
        if (write_all(fd, p, (size_t)(q - p)) < 0)
            return -1;
        if (q == end)
            break;
        if (write_all(fd, reset, strlen(reset)) < 0 || write_all(fd, q, 1) < 0)
            return -1;
        *at_start = 1; /* after \r too: the colour and tag again */
        p = q + 1;
    }
    return 0;
}

/* Copy the size bytes of temp file src to fd, each line after tag when
 * there is one, coloured with color when it is not NULL (color_of). 0, or
 * -1 and errno (a read error of src: EIO). */
static int copy_out(int src, long long size, int fd, const char *tag,
                    const char *color)
{
    off_t off = 0;
    if (size <= 0)
        return 0;
    if (!tag && !color) {
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
            if (n == 0 || (errno != EINVAL && errno != ENOSYS))
                return n == 0 ? (errno = EIO, -1) : -1;
            break; /* sendfile cannot write there: plain copies */
        }
    }
    size_t tlen = tag ? strlen(tag) : 0;
    int at_line_start = 1;
    char buf[8192]; /* on a coroutine stack of 64 KiB */
    while (off < size) {
        ssize_t n = pread(src, buf, sizeof buf, off);
        if (n <= 0)
            return n == 0 ? (errno = EIO, -1) : -1;
        off += n;
        if (color) {
            if (color_out(fd, buf, (size_t)n, color, tag, &at_line_start) < 0)
                return -1;
            continue;
        }
        if (!tag) {
            if (write_all(fd, buf, (size_t)n) < 0)
                return -1;
            continue;
        }
        for (char *p = buf, *end = buf + n; p < end;) {
            if (at_line_start &&
                (write_all(fd, tag, tlen) < 0 || write_all(fd, "\t", 1) < 0))
                return -1;
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *stop = nl ? nl + 1 : end;
            if (write_all(fd, p, (size_t)(stop - p)) < 0)
                return -1;
            at_line_start = nl != NULL;
            p = stop;
        }
    }
    /* GNU's colour ends the last line, and its output, with a newline */
    if (color && !at_line_start &&
        (write_all(fd, *color ? "\033[m" : "", *color ? 3 : 0) < 0 ||
         write_all(fd, "\n", 1) < 0))
        return -1;
    return 0;
}

int output_copy_file(int src, int fd)
{
    struct stat st;
    if (fstat(src, &st) < 0)
        return -1;
    return copy_out(src, (long long)st.st_size, fd, NULL, NULL);
}

/* GNU parallel's test of a full --tmpdir (a job's writes to its spool fail
 * unseen: the job may well exit 0): less than 8193 bytes free on the file
 * system of fd. Each time it is seen full, spool_epoch moves, so a job that
 * ran across such a moment (even if space came back since) is known to
 * have lost output. Looked at when a job ends and before spool space is
 * given back, which is how a full state ends while eventor runs. */
static void spool_probe(int fd)
{
    struct statvfs st;
    if (fd < 0 || fstatvfs(fd, &st) < 0)
        return;
    unsigned long long blocks = geteuid() == 0 ? st.f_bfree : st.f_bavail;
    if (blocks * st.f_frsize < 8193)
        spool_epoch++;
}

uint64_t output_head(void)
{
    return O->keep_order ? next_out : 0;
}

uint64_t output_spool_epoch(void)
{
    return spool_epoch;
}

int output_spool_lost(struct job *j)
{
    spool_probe(j->out_fd);
    return spool_epoch != j->spool_epoch;
}

/* Job j's output fd failed with errno: say so once per output. */
static void out_failed(struct job *j, int fd)
{
    int e = errno;
    if (!broken[fd]) {
        broken[fd] = 1;
        cli_error("Error: cannot write to standard %s: %s", fd == 1 ?
                  "output" : "error", strerror(e));
        cli_error("Error: the output of job %llu is incomplete: it is not "
                  "logged, so --resume runs it again", (unsigned long long)j->seq);
    }
}

/* Write j's output and log it, or neither when it cannot be all written:
 * -1 when something failed (already reported). */
static int emit_job(struct job *j)
{
    if (j->spool_lost) { /* (the directory is named once) */
        static int said;
        if (!said++)
            cli_error("Error: Output is incomplete. Cannot append to buffer "
                      "file in %s. Is the disk full? (job %llu, not logged)",
                      O->tmpdir, (unsigned long long)j->seq);
        else
            cli_error("Error: the output of job %llu is incomplete too (not "
                      "logged)", (unsigned long long)j->seq);
        return -1;
    }
    if (broken[1] || broken[2] || joblog_reserve(j) < 0)
        return -1;
    int failed = 0; /* the fd that could not be written, or 0 */
    progress_hide();
    if (O->results || O->files) { /* gnu-results: kept in files */
        if (results_emit(j) < 0)
            failed = 1;
    } else if (j->out_fd >= 0 &&
               copy_out(j->out_fd, j->out_bytes, 1, j->tag, color_of(O, j)) < 0)
        failed = 1;
    else if (j->err_fd >= 0 &&
             copy_out(j->err_fd, j->err_bytes, 2, j->tag, color_of(O, j)) < 0)
        failed = 2;
    progress_show();
    if (failed) {
        out_failed(j, failed);
        return -1;
    }
    return joblog_write(j);
}

static void emit(struct job *j)
{
    if (!j->skip) {
        if (O->dry_run) {
            if (!broken[1] && (write_all(1, j->cmd, strlen(j->cmd)) < 0 ||
                               write_all(1, "\n", 1) < 0)) {
                out_failed(j, 1);
                run_write_failed(j, 0);
            }
        } else if (O->ungroup || O->line_buffer) { /* written already */
            if (O->line_buffer && linebuf_flush(j) < 0) /* -k: the rest */
                out_failed(j, 1);
            if (joblog_reserve(j) < 0 || joblog_write(j) < 0)
                run_write_failed(j, 0);
        } else if (!j->killed && emit_job(j) < 0) {
            run_write_failed(j, j->spool_lost);
        }
    }
    if (j->out_bytes || j->err_bytes) /* before its space is given back */
        spool_probe(j->out_fd);
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
