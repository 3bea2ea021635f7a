/* The result ring: a pool worker puts each result frame into memory it
 * shares with the parent, so that a result costs no system call on either
 * side while both are busy, and every result a worker finished before it
 * died is still there for the parent to read. One producer (the worker),
 * one consumer (the parent). Frames lie whole and 8-byte aligned; one that
 * would cross the end is put at the start, after a WRAP mark. The parent
 * sleeps on the worker's socket only after saying so in parent_waits, and
 * the worker, seeing that after a put, wakes it with an empty frame there:
 * each side stores its own word, then reads the other's (both seq_cst), so
 * one of them always sees the other. */
#include "forkserver.h"

#include <string.h>

#define WRAP UINT32_MAX

static unsigned char *ring(evt__worker_page_t *page)
{
    return (unsigned char *)page + EVT__RING_OFF;
}

static uint64_t span(size_t frame_len)
{
    return ((uint64_t)frame_len + 7) & ~(uint64_t)7;
}

int evt__ring_put(evt__worker_page_t *page, const unsigned char *f,
                  size_t len)
{
    uint64_t tail = atomic_load_explicit(&page->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&page->head, memory_order_acquire);
    size_t pos = (size_t)(tail % EVT__RING_BYTES);
    uint64_t need = span(len), skip = 0;
    if (pos + need > EVT__RING_BYTES)
        skip = EVT__RING_BYTES - pos; /* at least 8: room for the mark */
    if (skip + need > EVT__RING_BYTES - (tail - head))
        return -1;
    if (skip) {
        uint32_t mark = WRAP;
        memcpy(ring(page) + pos, &mark, sizeof mark);
        pos = 0;
    }
    memcpy(ring(page) + pos, f, len);
    atomic_store(&page->tail, tail + skip + need);
    return atomic_load(&page->parent_waits) &&
           atomic_exchange(&page->parent_waits, 0);
}

const unsigned char *evt__ring_peek(evt__worker_page_t *page, int *bad)
{
    uint64_t head = atomic_load_explicit(&page->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&page->tail, memory_order_acquire);
    *bad = 0;
    for (;;) {
        if (tail == head)
            return NULL;
        size_t pos = (size_t)(head % EVT__RING_BYTES);
        uint32_t flen;
        memcpy(&flen, ring(page) + pos, sizeof flen);
        if (flen == WRAP && tail - head >= EVT__RING_BYTES - pos) {
            head += EVT__RING_BYTES - pos;
            atomic_store_explicit(&page->head, head, memory_order_release);
            continue;
        }
        /* The worker is not trusted to keep the ring's shape. */
        if (tail - head > EVT__RING_BYTES ||
            span(4 + (size_t)flen) > tail - head ||
            pos + 4 + (size_t)flen > EVT__RING_BYTES) {
            *bad = 1;
            return NULL;
        }
        return ring(page) + pos;
    }
}

void evt__ring_done(evt__worker_page_t *page, const unsigned char *f)
{
    uint32_t flen;
    memcpy(&flen, f, sizeof flen);
    uint64_t head = atomic_load_explicit(&page->head, memory_order_relaxed);
    atomic_store_explicit(&page->head, head + span(4 + (size_t)flen),
                          memory_order_release);
}

int evt__ring_sleep(evt__worker_page_t *page)
{
    atomic_store(&page->parent_waits, 1);
    if (atomic_load(&page->tail) !=
        atomic_load_explicit(&page->head, memory_order_relaxed)) {
        atomic_store_explicit(&page->parent_waits, 0, memory_order_relaxed);
        return 0;
    }
    return 1;
}
