/* The batch's admission: which item starts when. An item is read from the
 * source when a slot is free (or a few ahead, by a reader coroutine, when
 * the source may wait), then held by the unit's pause, the rate limit and
 * the window of ordered results; a retry waits for its backoff. */
#define _GNU_SOURCE
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define READ_AHEAD 64

/* Read the next item into a new one: 1, 0 at the end, -1 on error. */
static int read_item(evt__ctl_t *b, evt__item_t **out)
{
    const void *item;
    size_t len;
    int r = b->src.next(b->src.self, &item, &len);
    if (r <= 0) {
        if (r < 0)
            b->src_err = errno ? errno : EIO;
        b->src_done = 1;
        return r;
    }
    evt__item_t *j = malloc(sizeof *j + len + 1);
    if (!j) {
        b->src_err = ENOMEM;
        b->src_done = 1;
        return -1;
    }
    memset(j, 0, sizeof *j);
    memcpy(j->data, item, len);
    j->data[len] = 0; /* a line can be used as a string */
    j->b = b;
    j->task.index = b->nread++;
    j->task.item = j->data;
    j->task.len = len;
    j->task.seq = b->src.seq ? *b->src.seq : j->task.index + 1;
    if (b->src.pos) {
        j->span = *b->src.pos - b->pos_read;
        b->pos_read = *b->src.pos;
    }
    if (!b->src.chunk_ahead) /* (a chunk's tasks count as they report) */
        b->rep.read++;
    *out = j;
    return 1;
}

/* 1 when the reader may not read another item yet: as many as READ_AHEAD
 * wait to be taken, or the next one would fall out of the window of
 * ordered results. */
static int reader_full(const evt__ctl_t *b)
{
    return b->nread - b->taken >= READ_AHEAD
           || (b->o.ordered && b->nread - b->deliver_next >= b->window);
}

void evt__ctl_room(evt__ctl_t *b)
{
    /* Only when there is room now (an item was taken or one was
     * reported), not for nothing. */
    if (!reader_full(b))
        evt_event_set(b->room);
}

/* Take the next item to start: 1, or 0 when there is none now (see
 * src_done, or wait for the reader's wake). */
static int take_item(evt__ctl_t *b, evt__item_t **out)
{
    if (!b->reader) {
        if (read_item(b, out) <= 0)
            return 0;
    } else {
        if (!b->ahead)
            return 0;
        *out = b->ahead;
        if (!(b->ahead = b->ahead->next))
            b->ahead_tail = &b->ahead;
    }
    b->taken++;
    evt__ctl_wake_reader(b);
    return 1;
}

void evt__ctl_drop_ahead(evt__ctl_t *b)
{
    evt__item_t *j;
    while ((j = b->ahead) != NULL) {
        b->ahead = j->next;
        b->taken++; /* (taken to be dropped) */
        evt__ctl_cancel_unstarted(b, j);
    }
    b->ahead_tail = &b->ahead;
}

/* Up to READ_AHEAD items ahead, and in order within the window of results
 * kept back. */
void *evt__ctl_reader(void *arg)
{
    evt__ctl_t *b = arg;
    while (b->stop == EVT__RUN) {
        if (reader_full(b)) {
            b->reader_waits = 1;
            int rc = evt_event_wait(b->room, -1);
            b->reader_waits = 0;
            if (rc < 0)
                break;
            evt_event_clear(b->room);
            continue;
        }
        evt__item_t *j;
        if (read_item(b, &j) <= 0) {
            if (b->stop) /* cancelled by the halt: not the source's fault */
                b->src_err = 0;
            break;
        }
        j->next = NULL;
        *b->ahead_tail = j;
        b->ahead_tail = &j->next;
        evt_event_set(b->wake);
    }
    b->reader_done = 1;
    evt_event_set(b->wake);
    return NULL;
}

/* The due retry with the earliest time, or NULL; *next gets the earliest
 * time of those not yet due. */
static evt__item_t *due_retry(evt__ctl_t *b, int64_t now, int64_t *next)
{
    evt__item_t **best = NULL;
    for (evt__item_t **p = &b->retries; *p; p = &(*p)->next) {
        if ((*p)->not_before > now)
            *next = evt__earliest(*next, (*p)->not_before);
        else if (!best || (*p)->not_before < (*best)->not_before)
            best = p;
    }
    if (!best)
        return NULL;
    evt__item_t *j = *best;
    *best = j->next;
    return j;
}

/* The next new item that may start now, or NULL; *wake gets when to look
 * again for one held by the unit's pause. */
static evt__item_t *admit_new(evt__ctl_t *b, int64_t now, int64_t *wake)
{
    evt__item_t *j;
    if (b->held) {
        if (b->pause_until > now) {
            *wake = evt__earliest(*wake, b->pause_until);
            return NULL;
        }
        j = b->held;
        b->held = NULL;
        return j;
    }
    if (b->o.ordered && b->taken - b->deliver_next >= b->window)
        return NULL;
    if (b->o.unit && b->chunk_left == 0) {
        /* The unit ends when its last item is reported; then the pause,
         * but only if there is another item at all. */
        if (b->chunk_open > 0 || !take_item(b, &j))
            return NULL;
        b->chunk_left = b->o.unit;
        /* The pause comes between units, not before the first. */
        b->pause_until = j->task.index ? now + b->o.interval_ms : now;
        b->held = j;
        return admit_new(b, now, wake);
    }
    return take_item(b, &j) ? j : NULL;
}

int64_t evt__ctl_start_more(evt__ctl_t *b)
{
    int64_t wake = -1, now_us = evt__now_us(), now = now_us / 1000;
    for (;;) {
        evt__ctl_check_signals(b); /* a signal stops the very next start */
        if (b->stop != EVT__RUN || b->nfree == 0)
            return wake;
        if (b->o.rate > 0) {
            int64_t early_us = b->rate_next_us - evt__now_us();
            if (early_us > 0)
                return evt__earliest(wake, now + early_us / 1000 + 1);
        }
        evt__item_t *j = due_retry(b, now, &wake);
        if (!j) {
            if (!(j = admit_new(b, now, &wake)))
                return wake;
            if (b->o.unit)
                b->chunk_left--;
            b->chunk_open++;
        }
        if (evt__ctl_start(b, j, now_us) < 0) {
            j->status = errno;
            evt__ctl_finish(b, j);
        }
    }
}
