/* The rings between the parent and a pool worker: jobs go out and results
 * come back through memory they share, so that neither costs a system
 * call while both sides are busy, and every result a worker finished
 * before it died is still there for the parent to read. One producer, one
 * consumer per ring. Frames lie whole and 8-byte aligned; one that would
 * cross the end is put at the start, after a WRAP mark. The consumer
 * sleeps on the socket only after saying so in waits, and the producer,
 * seeing that after a put, wakes it with an empty frame there: each side
 * stores its own word, then reads the other's (both seq_cst), so one of
 * them always sees the other. */
#include "forkserver.h"

#include <string.h>

#define WRAP UINT32_MAX

static unsigned char *bytes(evt__worker_page_t *page, int which)
{
    return (unsigned char *)page + EVT__RING_OFF +
           (size_t)which * EVT__RING_BYTES;
}

static uint64_t span(size_t frame_len)
{
    return ((uint64_t)frame_len + 7) & ~(uint64_t)7;
}

int evt__ring_put(evt__worker_page_t *page, int which, const void *a,
                  size_t alen, const void *b, size_t blen)
{
    evt__ring_t *r = &page->rings[which];
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t pos = (size_t)(tail % EVT__RING_BYTES);
    uint64_t need = span(alen + blen), skip = 0;
    if (pos + need > EVT__RING_BYTES)
        skip = EVT__RING_BYTES - pos; /* at least 8: room for the mark */
    if (skip + need > EVT__RING_BYTES - (tail - head))
        return -1;
    unsigned char *p = bytes(page, which);
    if (skip) {
        uint32_t mark = WRAP;
        memcpy(p + pos, &mark, sizeof mark);
        pos = 0;
    }
    memcpy(p + pos, a, alen);
    if (blen)
        memcpy(p + pos + alen, b, blen);
    atomic_store(&r->tail, tail + skip + need);
    return atomic_load(&r->waits) && atomic_exchange(&r->waits, 0);
}

const unsigned char *evt__ring_peek(evt__worker_page_t *page, int which,
                                    int *bad)
{
    evt__ring_t *r = &page->rings[which];
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    const unsigned char *p = bytes(page, which);
    *bad = 0;
    for (;;) {
        if (tail == head)
            return NULL;
        size_t pos = (size_t)(head % EVT__RING_BYTES);
        uint32_t flen;
        memcpy(&flen, p + pos, sizeof flen);
        if (flen == WRAP && tail - head >= EVT__RING_BYTES - pos) {
            head += EVT__RING_BYTES - pos;
            atomic_store_explicit(&r->head, head, memory_order_release);
            continue;
        }
        /* The other side is not trusted to keep the ring's shape. */
        if (tail - head > EVT__RING_BYTES ||
            span(4 + (size_t)flen) > tail - head ||
            pos + 4 + (size_t)flen > EVT__RING_BYTES) {
            *bad = 1;
            return NULL;
        }
        return p + pos;
    }
}

void evt__ring_done(evt__worker_page_t *page, int which,
                    const unsigned char *f)
{
    evt__ring_t *r = &page->rings[which];
    uint32_t flen;
    memcpy(&flen, f, sizeof flen);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + span(4 + (size_t)flen),
                          memory_order_release);
}

int evt__ring_sleep(evt__worker_page_t *page, int which)
{
    evt__ring_t *r = &page->rings[which];
    atomic_store(&r->waits, 1);
    if (atomic_load(&r->tail) !=
        atomic_load_explicit(&r->head, memory_order_relaxed)) {
        atomic_store_explicit(&r->waits, 0, memory_order_relaxed);
        return 0;
    }
    return 1;
}
