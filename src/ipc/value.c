/* Shared values and arrays (multiprocessing.Value, Array): an atomic 64-bit
 * integer, and zeroed blocks of the arena that remember their length. */
#include "ipc.h"

#include <errno.h>

struct evt_ipc_value {
    _Atomic int64_t v; /* the value */
};

evt_ipc_value_t *evt_ipc_value_new(int64_t init)
{
    evt_ipc_value_t *v = evt__ipc_alloc(sizeof *v);
    if (v)
        atomic_init(&v->v, init);
    return v;
}

int64_t evt_ipc_value_get(evt_ipc_value_t *v)
{
    return v ? atomic_load(&v->v) : 0;
}

void evt_ipc_value_set(evt_ipc_value_t *v, int64_t x)
{
    if (v)
        atomic_store(&v->v, x);
}

int64_t evt_ipc_value_add(evt_ipc_value_t *v, int64_t delta)
{
    return v ? atomic_fetch_add(&v->v, delta) + delta : 0;
}

int evt_ipc_value_cas(evt_ipc_value_t *v, int64_t expected, int64_t desired)
{
    return v && atomic_compare_exchange_strong(&v->v, &expected, desired);
}

void evt_ipc_value_free(evt_ipc_value_t *v)
{
    evt__ipc_free(v);
}

/* An array is preceded by its length, in 16 bytes to keep alignment. */
#define ARRAY_HDR 16

void *evt_ipc_array_new(size_t n, size_t size)
{
    if (n == 0 || size == 0 || n > (((size_t)1 << 40) / size)) {
        errno = EINVAL;
        return NULL;
    }
    unsigned char *p = evt__ipc_alloc(ARRAY_HDR + n * size);
    if (!p)
        return NULL;
    *(size_t *)p = n;
    return p + ARRAY_HDR;
}

size_t evt_ipc_array_len(const void *a)
{
    return a ? *(const size_t *)((const unsigned char *)a - ARRAY_HDR) : 0;
}

void evt_ipc_array_free(void *a)
{
    if (a)
        evt__ipc_free((unsigned char *)a - ARRAY_HDR);
}
