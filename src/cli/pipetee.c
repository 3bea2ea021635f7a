/* --pipe --tee, --shard and --bin: the jobs, one a value of the sources,
 * all running at once, fed by one coroutine once they are all started.
 * --tee (GNU parallel's `tee fifo1 fifo2 ...`, with
 * --output-error=warn-nopipe): each piece of standard input to every job.
 * --shard and --bin (as many jobs as -j, the values padded with empty
 * ones; pipeshard.c says which job gets a line): each whole line to one
 * job, through a buffer a job, written when it is full or when the input
 * has nothing more for now. A job that stops reading drops out and keeps
 * its own exit status. With --pipepart --tee, each job gets the -a file
 * itself. */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PIECE = 131072, FULL = 65536 }; /* a read; a job's buffer written */
enum { NOT_IN = -2, GONE = -1 };       /* T.fds[] that are no pipe */

struct outbuf {
    char *b;
    size_t len, cap;
};

static struct {
    int *fds;         /* the jobs' stdin pipes, by seq (or NOT_IN, GONE) */
    long n;           /* the jobs */
    long want, in;    /* those to come (fewer if the run stops), those in */
    int over, failed; /* the input is done; it ended on an error */
    evt_event_t *all_in, *done;
    const char *file; /* --pipepart: the data */
    int route;        /* --shard, --bin: opts.pipe_route; 0: --tee */
    struct outbuf *out; /* --shard, --bin: each job's lines */
    char *pend;       /* read, not yet a whole line (a header's rest too) */
    size_t plen, pcap;
    size_t *at;       /* a read's line starts, then the end */
    long *job;        /* their jobs */
    size_t lcap;
} T;

/* len bytes to job k, unless it stopped reading (then it drops out; a
 * retry may have put a new pipe in its place meanwhile). */
static void put(long k, const char *d, size_t len)
{
    int fd = T.fds[k];
    if (fd >= 0 && len && evt_write(fd, d, len, -1) < 0 && T.fds[k] == fd) {
        evt_close(fd);
        T.fds[k] = GONE;
    }
}

static long reading(void)
{
    long n = 0;
    for (long k = 0; k < T.n; k++)
        n += T.fds[k] >= 0;
    return n;
}

static void flush_all(void)
{
    for (long k = 0; T.out && k < T.n; k++) {
        put(k, T.out[k].b, T.out[k].len);
        T.out[k].len = 0;
    }
}

/* Line l of T.pend to its job's buffer (written once FULL). */
static int buffer_line(size_t l)
{
    long k = T.job[l];
    size_t len = T.at[l + 1] - T.at[l];
    struct outbuf *o = &T.out[k];
    if (T.fds[k] < 0)
        return 0; /* no one to read it */
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap : FULL;
        while (cap < o->len + len)
            cap *= 2;
        char *b = realloc(o->b, cap);
        if (!b)
            return -1;
        o->b = b;
        o->cap = cap;
    }
    memcpy(o->b + o->len, T.pend + T.at[l], len);
    if ((o->len += len) >= FULL) {
        put(k, o->b, o->len);
        o->len = 0;
    }
    return 0;
}

/* The whole lines of T.pend (at the end the rest too) to their jobs. */
static int route(int at_end)
{
    size_t nl = 0, from = 0;
    if (!T.plen)
        return 0;
    for (char *nl_at; from < T.plen; nl++) {
        if (nl + 2 > T.lcap) {
            size_t cap = T.lcap ? T.lcap * 2 : 1024;
            size_t *a = realloc(T.at, cap * sizeof *a);
            long *j = a ? realloc(T.job, cap * sizeof *j) : NULL;
            T.at = a ? a : T.at;
            T.job = j ? j : T.job;
            if (!j)
                return -1;
            T.lcap = cap;
        }
        nl_at = memchr(T.pend + from, '\n', T.plen - from);
        if (!nl_at && !at_end)
            break;
        T.at[nl] = from;
        from = nl_at ? (size_t)(nl_at - T.pend) + 1 : T.plen;
    }
    T.at[nl] = from;
    if (nl && pipeshard_route(T.pend, T.at, nl, T.job) < 0)
        return -2; /* it said why */
    for (size_t l = 0; l < nl; l++)
        if (buffer_line(l) < 0)
            return -1;
    memmove(T.pend, T.pend + from, T.plen - from);
    T.plen -= from;
    return 0;
}

/* A read of stdin into T.pend (room for a byte more: pipeshard.c puts a
 * NUL after a line); with --shard and --bin the buffers are written first
 * when it would have to wait. */
static ssize_t read_in(void)
{
    if (T.plen + PIECE + 1 > T.pcap) {
        char *b = realloc(T.pend, T.plen + PIECE + 1);
        if (!b)
            return errno = ENOMEM, -1;
        T.pend = b;
        T.pcap = T.plen + PIECE + 1;
    }
    ssize_t r = evt_read(0, T.pend + T.plen, PIECE, T.route ? 0 : -1);
    if (r < 0 && errno == ETIMEDOUT) {
        flush_all();
        r = evt_read(0, T.pend + T.plen, PIECE, -1);
    }
    return r;
}

/* Feed stdin to the jobs once they are all in. */
static void *feed(void *arg)
{
    int rc = 0;
    ssize_t r = 0;
    (void)arg;
    evt_event_wait(T.all_in, -1);
    if (T.route && T.plen)
        rc = route(0);
    while (rc == 0 && reading() && (r = read_in()) > 0) {
        if (!T.route) {
            for (long k = 0; k < T.n; k++)
                put(k, T.pend, (size_t)r);
        } else {
            T.plen += (size_t)r;
            rc = route(0);
        }
    }
    if (r < 0 && rc == 0)
        cli_error("cannot read the --pipe input: %s", strerror(errno));
    if (rc == 0 && r == 0 && T.route && (rc = route(1)) == 0)
        flush_all();
    if (rc == -1)
        cli_error("out of memory");
    T.failed = r < 0 || rc < 0;
    for (long k = 0; k < T.n; k++)
        if (T.fds[k] >= 0)
            evt_close(T.fds[k]);
    T.over = 1;
    evt_event_set(T.done);
    return NULL;
}

/* GNU's: with -j N slots, at most N jobs, which all run at once. */
static int too_many(const struct opts *o, long total)
{
    if (total <= o->jobs)
        return 0;
    if (!o->pipe_route || o->pipe_route == PIPE_ROUTE_TEE) {
        cli_error("Error: --tee requires --jobs to be higher. Try --jobs 0.");
        return 1;
    }
    const char *opt = o->pipe_route == PIPE_ROUTE_BIN ? "--bin" : "--shard";
    cli_error("Error: %s requires --jobs to be higher than the number of", opt);
    cli_error("Error: arguments. Increase --jobs.");
    return 1;
}

long pipetee_init(const struct opts *o, long total)
{
    if (too_many(o, total))
        return -1;
    if (!o->pipe) /* --tee, --shard, --bin without --pipe: only that check */
        return total;
    T.route = o->pipe_route;
    T.n = T.want = T.route ? o->jobs : total;
    T.file = o->pipe == 2 ? o->tee_file : NULL;
    if (T.file || !T.n)
        return T.n;
    if (T.route && pipeshard_open(o, T.n, &T.pend, &T.plen) < 0)
        return -1; /* it said why */
    T.pcap = T.plen;
    T.fds = malloc((size_t)T.n * sizeof *T.fds);
    T.out = T.route ? calloc((size_t)T.n, sizeof *T.out) : NULL;
    T.all_in = evt_event_new();
    T.done = evt_event_new();
    evt_co_t *co = T.fds && (T.out || !T.route) && T.all_in && T.done
                       ? evt_spawn(feed, NULL) : NULL;
    if (!co) {
        cli_error("out of memory");
        return -1;
    }
    for (long k = 0; k < T.n; k++)
        T.fds[k] = NOT_IN;
    evt_detach(co);
    return T.n;
}

size_t pipetee_pad(struct record **recs, size_t *cap, uint64_t seq)
{
    if (!T.route || seq >= (uint64_t)T.n)
        return 0;
    if (!*cap) {
        if (!(*recs = calloc(1, sizeof **recs)))
            return 0;
        *cap = 1;
    }
    memset(*recs, 0, sizeof **recs);
    return record_push(*recs, "", 0) == 0; /* GNU's: {} is '' */
}

void pipetee_started(uint64_t n)
{
    if (T.all_in && n < (uint64_t)T.want) { /* the run stopped early */
        T.want = (long)n;
        if (T.in >= T.want)
            evt_event_set(T.all_in);
    }
}

int pipetee_failed(void)
{
    return T.failed;
}

int pipetee_start(struct job *j, const char *shell, int *feed)
{
    if (!T.file)
        return pipe_start(j, shell, feed);
    /* --pipepart: the file is the job's stdin, as GNU's `< FILE` */
    *feed = -1;
    if ((j->proc.in_fd = open(T.file, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    int rc = proc_start(&j->proc, j->remote ? NULL : j->argv,
                        j->remote ? j->remote : j->cmd, shell, j->out_fd,
                        j->err_fd);
    int e = errno;
    close(j->proc.in_fd);
    j->proc.in_fd = 0;
    errno = e;
    return rc;
}

int pipetee_feed(int fd, struct job *j, int64_t deadline)
{
    long k = (long)j->seq - 1;
    if (T.file || !T.fds)
        return 0;
    if (T.over || k >= T.n) { /* a retry once the input is done */
        if (fd >= 0)
            evt_close(fd);
        return 0;
    }
    if (T.fds[k] == NOT_IN)
        T.in++;
    else if (T.fds[k] >= 0) /* a retry: its new pipe instead */
        evt_close(T.fds[k]);
    T.fds[k] = fd >= 0 ? fd : GONE; /* -1: it did not start */
    if (T.in >= T.want)
        evt_event_set(T.all_in);
    if (fd >= 0) /* --timeout: then killed, it breaks its pipe */
        evt_event_wait(T.done, deadline);
    return 0;
}

void pipetee_close(void)
{
    for (long k = 0; T.out && k < T.n; k++)
        free(T.out[k].b);
    free(T.out);
    free(T.fds);
    free(T.pend);
    free(T.at);
    free(T.job);
    if (T.all_in)
        evt_event_free(T.all_in);
    if (T.done)
        evt_event_free(T.done);
    pipeshard_close();
    memset(&T, 0, sizeof T);
}
