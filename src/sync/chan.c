/* Channels: fixed-size items passed between the coroutines of one thread,
 * bounded (a ring that grows up to its capacity), unbounded, or rendezvous.
 * An item goes straight from sender to a parked receiver and back, so the
 * buffer is only used when nobody waits on the other side. */
#include "../core/wait.h"

#include <stdlib.h>
#include <string.h>

/* Slots the ring starts with; it doubles on demand up to the capacity. */
#define RING_MIN 16

struct evt_chan {
    size_t item_size;     /* bytes per item */
    size_t cap;           /* most items buffered; EVT_CHAN_UNBOUNDED */
    char *ring;           /* ring_cap slots of item_size bytes */
    size_t ring_cap;      /* slots in ring; 0 or a power of two */
    size_t head;          /* slot of the oldest buffered item */
    size_t len;           /* items buffered */
    evt__waitq_t senders; /* parked in send: the buffer is full */
    evt__waitq_t recvers; /* parked in recv: the buffer is empty */
    int closed;           /* evt_chan_close was called */
};

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

evt_chan_t *evt_chan_new(size_t item_size, size_t capacity)
{
    if (item_size == 0 || item_size > ((size_t)1 << 30)) {
        errno = EINVAL;
        return NULL;
    }
    evt_chan_t *ch = calloc(1, sizeof *ch);
    if (!ch) {
        errno = ENOMEM;
        return NULL;
    }
    ch->item_size = item_size;
    ch->cap = capacity;
    return ch;
}

/* Make room for one more buffered item. 0 or ENOMEM. */
static int ring_grow(evt_chan_t *ch)
{
    size_t n = ch->ring_cap;
    size_t want = n ? n * 2 : pow2_at_least(ch->cap < RING_MIN ? ch->cap
                                                              : RING_MIN);
    if (want < n || want > SIZE_MAX / ch->item_size)
        return ENOMEM;
    char *p = realloc(ch->ring, want * ch->item_size);
    if (!p)
        return ENOMEM;
    /* The ring was full: the items before head wrapped around; move them
     * after the old end so that they follow the others again. */
    if (ch->head)
        memcpy(p + n * ch->item_size, p, ch->head * ch->item_size);
    ch->ring = p;
    ch->ring_cap = want;
    return 0;
}

static inline char *slot(const evt_chan_t *ch, size_t i)
{
    return ch->ring + ((ch->head + i) & (ch->ring_cap - 1)) * ch->item_size;
}

/* Buffer a copy of item; there is room below cap. 0 or ENOMEM. */
static inline int ring_put(evt_chan_t *ch, const void *item)
{
    if (evt__unlikely(ch->len == ch->ring_cap)) {
        int rc = ring_grow(ch);
        if (rc)
            return rc;
    }
    memcpy(slot(ch, ch->len), item, ch->item_size);
    ch->len++;
    return 0;
}

int evt_chan_send(evt_chan_t *ch, const void *item, int64_t deadline)
{
    if (evt__unlikely(!ch || !item)) {
        errno = EINVAL;
        return -1;
    }
    if (evt__unlikely(ch->closed)) {
        errno = EPIPE;
        return -1;
    }
    /* A parked receiver means the buffer is empty: hand it over. */
    evt__waiter_t *w = evt__waitq_pop(&ch->recvers);
    if (w) {
        if (w->item)
            memcpy(w->item, item, ch->item_size);
        evt__unpark(w->co, 0);
        return 0;
    }
    if (ch->len < ch->cap) {
        int rc = ring_put(ch, item);
        if (evt__unlikely(rc)) {
            errno = rc;
            return -1;
        }
        return 0;
    }
    /* Receivers copy from our item while we are parked. */
    return evt__wait_on(&ch->senders, (void *)item, deadline);
}

int evt_chan_recv(evt_chan_t *ch, void *item, int64_t deadline)
{
    if (evt__unlikely(!ch)) {
        errno = EINVAL;
        return -1;
    }
    evt__waiter_t *w;
    if (ch->len) {
        if (item)
            memcpy(item, slot(ch, 0), ch->item_size);
        ch->head = (ch->head + 1) & (ch->ring_cap - 1);
        ch->len--;
        /* The buffer was full if a sender waits: its item takes the freed
         * slot, keeping the order in which sends were made. */
        if ((w = evt__waitq_pop(&ch->senders)) != NULL) {
            memcpy(slot(ch, ch->len), w->item, ch->item_size);
            ch->len++;
            evt__unpark(w->co, 0);
        }
        return 0;
    }
    if ((w = evt__waitq_pop(&ch->senders)) != NULL) {
        /* Rendezvous (capacity 0): take it from the sender's stack. */
        if (item)
            memcpy(item, w->item, ch->item_size);
        evt__unpark(w->co, 0);
        return 0;
    }
    if (ch->closed) {
        errno = EPIPE;
        return -1;
    }
    return evt__wait_on(&ch->recvers, item, deadline);
}

void evt_chan_close(evt_chan_t *ch)
{
    if (!ch || ch->closed)
        return;
    ch->closed = 1;
    /* Parked receivers imply an empty buffer: nothing is left for them. */
    evt__waitq_wake_all(&ch->senders, EPIPE);
    evt__waitq_wake_all(&ch->recvers, EPIPE);
}

size_t evt_chan_len(const evt_chan_t *ch)
{
    return ch ? ch->len : 0;
}

int evt_chan_closed(const evt_chan_t *ch)
{
    return ch ? ch->closed : 0;
}

int evt_chan_free(evt_chan_t *ch)
{
    if (!ch)
        return 0;
    if (evt__waitq_idle(&ch->senders) < 0 || evt__waitq_idle(&ch->recvers) < 0)
        return -1;
    free(ch->ring);
    free(ch);
    return 0;
}
