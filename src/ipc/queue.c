/* Process-shared queue (multiprocessing.Queue): a bounded ring of fixed-size
 * slots in the arena, any number of producers and consumers in any process.
 * put and get take the short lock for one copy; they ring doorbells only
 * when someone waits on the other side. */
#include "ipc.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

struct evt_ipc_queue {
    pthread_mutex_t lock;         /* guards everything below */
    size_t cap;                   /* slots */
    size_t msg_max;               /* largest message */
    size_t slot_size;             /* bytes per slot: length word + message */
    uint64_t head;                /* messages taken so far */
    uint64_t tail;                /* messages put so far */
    int closed;                   /* evt_ipc_queue_close was called */
    evt__ipc_waitset_t not_empty; /* getters waiting for a message */
    evt__ipc_waitset_t not_full;  /* putters waiting for room */
    _Alignas(16) unsigned char slots[]; /* cap slots */
};

evt_ipc_queue_t *evt_ipc_queue_new(size_t capacity, size_t msg_max)
{
    size_t slot = (sizeof(uint64_t) + msg_max + 15) & ~(size_t)15;
    int valid = capacity > 0 && msg_max > 0 && msg_max <= ((size_t)1 << 30) &&
                capacity <= ((size_t)1 << 32) &&
                slot <= (((size_t)1 << 38) / capacity);
    evt_ipc_queue_t *q = evt__ipc_alloc_locked(
        valid, sizeof *q + (valid ? capacity * slot : 0),
        offsetof(evt_ipc_queue_t, lock));
    if (!q)
        return NULL;
    q->cap = capacity;
    q->msg_max = msg_max;
    q->slot_size = slot;
    return q;
}

static unsigned char *slot_at(evt_ipc_queue_t *q, uint64_t n)
{
    return q->slots + (size_t)(n % q->cap) * q->slot_size;
}

int evt_ipc_queue_put(evt_ipc_queue_t *q, const void *msg, size_t len,
                      int64_t deadline)
{
    if (evt__unlikely(!q || (!msg && len))) {
        errno = EINVAL;
        return -1;
    }
    if (len > q->msg_max) {
        errno = EMSGSIZE;
        return -1;
    }
    for (;;) {
        if (evt__ipc_lock(&q->lock) < 0)
            return -1;
        if (q->closed) {
            evt__ipc_mutex_unlock(&q->lock);
            errno = EPIPE;
            return -1;
        }
        if (q->tail - q->head < q->cap) {
            unsigned char *s = slot_at(q, q->tail);
            uint64_t n = len;
            memcpy(s, &n, sizeof n);
            if (len)
                memcpy(s + sizeof n, msg, len);
            q->tail++; /* last: a putter killed before this put nothing */
            evt__ipc_mutex_unlock(&q->lock);
            evt__ipc_waitset_wake(&q->not_empty);
            return 0;
        }
        if (evt__ipc_wait(&q->lock, &q->not_full, deadline) < 0)
            return -1;
    }
}

ssize_t evt_ipc_queue_get(evt_ipc_queue_t *q, void *buf, size_t cap,
                          int64_t deadline)
{
    if (evt__unlikely(!q || (!buf && cap))) {
        errno = EINVAL;
        return -1;
    }
    for (;;) {
        if (evt__ipc_lock(&q->lock) < 0)
            return -1;
        if (q->tail != q->head) {
            unsigned char *s = slot_at(q, q->head);
            uint64_t n;
            memcpy(&n, s, sizeof n);
            if (n > cap) {
                evt__ipc_mutex_unlock(&q->lock);
                errno = EMSGSIZE;
                return -1;
            }
            if (n)
                memcpy(buf, s + sizeof n, n);
            q->head++;
            evt__ipc_mutex_unlock(&q->lock);
            evt__ipc_waitset_wake(&q->not_full);
            return (ssize_t)n;
        }
        if (q->closed) {
            evt__ipc_mutex_unlock(&q->lock);
            errno = EPIPE;
            return -1;
        }
        if (evt__ipc_wait(&q->lock, &q->not_empty, deadline) < 0)
            return -1;
    }
}

void evt_ipc_queue_close(evt_ipc_queue_t *q)
{
    if (!q || evt__ipc_mutex_lock(&q->lock))
        return;
    q->closed = 1;
    evt__ipc_mutex_unlock(&q->lock);
    evt__ipc_waitset_wake(&q->not_empty);
    evt__ipc_waitset_wake(&q->not_full);
}

size_t evt_ipc_queue_len(evt_ipc_queue_t *q)
{
    if (!q || evt__ipc_mutex_lock(&q->lock))
        return 0;
    size_t n = (size_t)(q->tail - q->head);
    evt__ipc_mutex_unlock(&q->lock);
    return n;
}

size_t evt_ipc_queue_msg_max(const evt_ipc_queue_t *q)
{
    return q ? q->msg_max : 0;
}

void evt_ipc_queue_free(evt_ipc_queue_t *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    evt__ipc_free(q);
}
