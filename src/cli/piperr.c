/* --pipe --round-robin: at most -j jobs in all, started as the first
 * blocks come (GNU parallel starts -j at once, but those that never get a
 * block print nothing and leave no joblog line); every later block goes
 * to whichever job is ready to read it (a rendezvous channel its feeders
 * wait on), or with -k to each job in turn, as GNU's blocking writes do.
 * The --header goes once to each job, before its first block. */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <eventor.h>
#include <stdlib.h>
#include <string.h>

/* A block on its way to a job: buf[skip, len) (skip: the header that only
 * a job's first block keeps). */
struct rr_item {
    char *buf;
    size_t skip, len;
};

static struct {
    evt_chan_t *shared; /* whichever feeder is ready takes the next block */
    evt_chan_t **own;   /* -k: each job's, in turn */
    long started, live; /* jobs started; those still reading */
    long jobs;          /* -j: the most jobs */
    uint64_t turn;      /* -k: blocks handed out after the first ones */
    size_t header_len;
    int keep;
} RR;

static evt_chan_t *chan_of(const struct job *j)
{
    return RR.keep ? RR.own[j->seq - 1] : RR.shared;
}

/* Hand b (its header skipped) to a running job; dropped when none reads. */
static int hand_over(struct pipe_block *b)
{
    struct rr_item it = {b->data, RR.header_len, b->len};
    evt_chan_t *ch = RR.keep ? RR.own[RR.turn++ % (uint64_t)RR.started]
                             : RR.live ? RR.shared : NULL;
    if (!ch || evt_chan_send(ch, &it, -1) < 0)
        free(b->data); /* its job stopped reading (or every job did) */
    b->data = NULL;
    return 0;
}

int piperr_next(const struct opts *o, struct pipe_block *blk)
{
    RR.keep = o->keep_order;
    RR.jobs = o->jobs;
    if (!RR.shared && !(RR.shared = evt_chan_new(sizeof(struct rr_item), 0)))
        return -1;
    for (;;) {
        struct pipe_block b = {0};
        int r = pipe_next(o, &b);
        if (r <= 0) { /* the end: each feeder drains and closes its pipe */
            evt_chan_close(RR.shared);
            for (long k = 0; RR.keep && k < RR.started; k++)
                if (RR.own[k])
                    evt_chan_close(RR.own[k]);
            return r;
        }
        if (RR.started < o->jobs) { /* a new job, this its first block */
            evt_chan_t **own = RR.keep ? realloc(RR.own, (size_t)(RR.started + 1) *
                                                             sizeof *own)
                                       : NULL;
            if (RR.keep && (!own || !(own[RR.started] =
                                          evt_chan_new(sizeof(struct rr_item), 0)))) {
                RR.own = own ? own : RR.own;
                free(b.data);
                cli_error("out of memory");
                return -1;
            }
            RR.own = own;
            RR.started++;
            RR.live++;
            RR.header_len = pipe_header_len();
            *blk = b;
            return 1;
        }
        hand_over(&b);
    }
}

/* Write it into fd: 0; 1 when nothing of it went (the reader was gone:
 * a pipe takes up to 4096 bytes whole or not at all), -1 when part of it
 * did. */
static int write_item(int fd, const struct rr_item *it, int64_t deadline)
{
    const char *p = it->buf + it->skip;
    size_t len = it->len - it->skip, first = len < 4096 ? len : 4096;
    if (first && evt_write(fd, p, first, deadline) < 0)
        return 1;
    if (len > first && evt_write(fd, p + first, len - first, deadline) < 0)
        return -1;
    return 0;
}

/* j reads no more: with -k its blocks are dropped from now on; the last
 * reader to go wakes a producer blocked on the shared channel. */
static void leave(const struct job *j)
{
    RR.live--;
    if (RR.keep || (!RR.live && RR.started == RR.jobs))
        evt_chan_close(chan_of(j));
}

/* The job stopped reading: pass it (untouched) to another job, else drop
 * it (1). */
static int give_up(struct job *j, struct rr_item *it, int untouched)
{
    leave(j);
    if (it->buf == j->in.data) { /* the first block: keep its header out */
        j->in.data = NULL;
        it->skip = RR.header_len;
    }
    if (untouched && !RR.keep && RR.live &&
        evt_chan_send(RR.shared, it, -1) == 0)
        return 0;
    free(it->buf);
    return 1;
}

int piperr_feed(int fd, struct job *j, int64_t deadline)
{
    struct rr_item it = {j->in.data, 0, j->in.len};
    size_t sent = 0; /* the joblog's Send: what the job was given */
    int rc = 0;
    for (;;) {
        int w = write_item(fd, &it, deadline);
        if (w) { /* a block cut short or lost: SIGPIPE, as GNU's */
            size_t len = it.len - it.skip;
            if (give_up(j, &it, w > 0)) {
                rc = -1;
                sent += len;
            }
            break;
        }
        sent += it.len - it.skip;
        if (it.buf != j->in.data)
            free(it.buf);
        if (evt_chan_recv(chan_of(j), &it, deadline) < 0) {
            leave(j); /* the end, or its --timeout */
            break;
        }
    }
    j->in.len = sent;
    evt_close(fd);
    return rc;
}

void piperr_close(void)
{
    if (RR.shared) /* rendezvous channels: nothing left in them */
        evt_chan_free(RR.shared);
    for (long k = 0; k < RR.started && RR.own; k++)
        if (RR.own[k])
            evt_chan_free(RR.own[k]);
    free(RR.own);
    memset(&RR, 0, sizeof RR);
}
