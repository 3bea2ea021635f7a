/* Coroutine stacks: carved from large mappings (so that a million of them
 * stay far below vm.max_map_count), pooled per thread, each with a guard page
 * where the kernel makes that cheap and a canary checked on every switch. */
#ifndef EVT_CORE_STACK_H
#define EVT_CORE_STACK_H

#include <stddef.h>
#include <stdint.h>

typedef struct evt__stack {
    char *lo;        /* lowest usable byte; the canary sits here */
    size_t size;     /* usable bytes from lo */
    unsigned guarded; /* 1 when an inaccessible page sits below lo */
    unsigned pooled;  /* 1 when it came from (and returns to) a pool slab */
} evt__stack_t;

/* Bytes at the bottom of a stack that must stay zero: written by nothing but
 * an overflow. Fresh mappings are zero, so the canary costs no memory. */
#define EVT__CANARY_BYTES 64

/* Per-thread pool of stacks of one size. */
typedef struct evt__stack_pool {
    size_t size;        /* usable size of every stack of the pool */
    uintptr_t *free;    /* free stacks: lo, with bit 0 set when guarded;
                           kept apart from the stacks, which a pop would
                           otherwise have to touch while cold */
    size_t free_count;  /* entries in free */
    size_t free_cap;    /* allocated entries */
    struct evt__slab *slabs; /* every mapping the pool carved stacks from */
    char *next;         /* next uncarved stack slot in the newest slab */
    size_t left;        /* uncarved slots left in the newest slab */
    size_t slots;       /* slots of every slab, carved or not */
    unsigned guards_made; /* 1 when the newest slab's guards were all
                             installed with the slab (one system call) */
    evt__stack_t spare; /* the last stack of another size given back (lo
                           NULL: none), kept for the next of its size: a
                           coroutine of one odd size spawned again and again
                           (libcurl's driver) maps no stack each time */
} evt__stack_pool_t;

void evt__stack_pool_init(evt__stack_pool_t *pool, size_t size);
/* Unmap everything; every stack must have been returned. */
void evt__stack_pool_fini(evt__stack_pool_t *pool);

/* Get a stack of pool->size bytes, or of size bytes when size differs (then
 * mapped on its own). Returns 0, or ENOMEM. */
int evt__stack_get(evt__stack_pool_t *pool, size_t size, evt__stack_t *st);
void evt__stack_put(evt__stack_pool_t *pool, evt__stack_t *st);

/* 1 when the canary of st is intact. */
static inline int evt__stack_canary_ok(const evt__stack_t *st)
{
    const uint64_t *c = (const uint64_t *)st->lo;
    return (c[0] | c[3] | c[7]) == 0;
}

/* If addr lies in the guard page of st, 1; else 0. */
int evt__stack_in_guard(const evt__stack_t *st, const void *addr);

/* Install the handler that turns a fault in a guard page into a report
 * naming the coroutine; needs an alternate signal stack per thread, which
 * evt__stack_thread_init sets up. Both are idempotent. */
void evt__stack_thread_init(void);
void evt__stack_thread_fini(void);

#endif
