/* The shared arena: one MAP_SHARED region, mapped on first use (or by
 * evt__ipc_prefork before a fork), in which every IPC object lives, so that
 * processes forked after it exists see each object at the same address.
 * Blocks come from power-of-two free lists under one process-shared lock. */
#define _GNU_SOURCE
#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* Address space asked for; pages are only used when touched. Halved until
 * the kernel agrees, down to MIN_ARENA. */
#define ARENA_SIZE ((size_t)1 << 30)
#define MIN_ARENA ((size_t)16 << 20)
#define MIN_CLASS 6   /* 64-byte blocks */
#define NCLASS 40
#define HDR 16        /* block header, keeps user memory 16-byte aligned */
#define BIG_CLASS 16  /* blocks of 64 KiB and more give their pages back
                         when freed (all but the first) */

typedef struct block {
    uint32_t cls;       /* size class: the block spans 1 << cls bytes */
    uint32_t magic;     /* BLOCK_MAGIC while allocated, 0 while free */
    struct block *next; /* free list link, while free */
} block_t;

#define BLOCK_MAGIC 0x1bc0ffeeu

typedef struct arena {
    pthread_mutex_t lock;   /* guards brk and free */
    size_t size;            /* bytes mapped */
    size_t brk;             /* offset of the first byte never handed out */
    block_t *free[NCLASS];  /* free blocks by class */
    evt__ipc_bell_slot_t bells[EVT__IPC_BELLS]; /* see bell.c */
} arena_t;

static _Atomic(arena_t *) arena;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

int evt__ipc_mutex_init(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc)
        return rc;
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
}

void *evt__ipc_alloc_locked(int valid, size_t size, size_t lock_off)
{
    if (!valid) {
        errno = EINVAL;
        return NULL;
    }
    unsigned char *p = evt__ipc_alloc(size);
    if (!p)
        return NULL;
    int rc = evt__ipc_mutex_init((pthread_mutex_t *)(p + lock_off));
    if (rc) {
        evt__ipc_free(p);
        errno = rc;
        return NULL;
    }
    return p;
}

int evt__ipc_mutex_lock(pthread_mutex_t *m)
{
    int rc = pthread_mutex_lock(m);
    if (evt__unlikely(rc == EOWNERDEAD)) {
        /* Updates publish with their last store: the state is whole. */
        pthread_mutex_consistent(m);
        rc = 0;
    }
    return rc;
}

void evt__ipc_mutex_unlock(pthread_mutex_t *m)
{
    pthread_mutex_unlock(m);
}

static arena_t *arena_get(void)
{
    arena_t *a = atomic_load_explicit(&arena, memory_order_acquire);
    if (evt__likely(a != NULL))
        return a;
    pthread_mutex_lock(&map_lock);
    a = atomic_load(&arena);
    for (size_t size = ARENA_SIZE; !a && size >= MIN_ARENA; size /= 2) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            continue;
        a = p;
        if (evt__ipc_mutex_init(&a->lock)) {
            munmap(p, size);
            a = NULL;
            break;
        }
        a->size = size;
        a->brk = (sizeof *a + 63) & ~(size_t)63;
        atomic_store_explicit(&arena, a, memory_order_release);
    }
    pthread_mutex_unlock(&map_lock);
    if (!a)
        errno = ENOMEM;
    return a;
}

int evt__ipc_prefork(void)
{
    return arena_get() ? 0 : -1;
}

evt__ipc_bell_slot_t *evt__ipc_bells(void)
{
    arena_t *a = arena_get();
    return a ? a->bells : NULL;
}

static unsigned class_of(size_t bytes)
{
    unsigned c = MIN_CLASS;
    while (((size_t)1 << c) < bytes)
        c++;
    return c;
}

void *evt__ipc_alloc(size_t size)
{
    if (size == 0 || size > ((size_t)1 << (NCLASS - 1)) - HDR) {
        errno = size ? ENOMEM : EINVAL;
        return NULL;
    }
    arena_t *a = arena_get();
    if (!a)
        return NULL;
    unsigned c = class_of(size + HDR);
    size_t bytes = (size_t)1 << c;
    block_t *b = NULL;
    int reused = 0;
    evt__ipc_mutex_lock(&a->lock);
    if (a->free[c]) {
        b = a->free[c];
        a->free[c] = b->next;
        reused = 1;
    } else {
        /* Blocks are aligned to their size (up to a page), so that a big
         * block starts on a page boundary. */
        size_t align = bytes < 4096 ? bytes : 4096;
        size_t at = (a->brk + align - 1) & ~(align - 1);
        if (at + bytes <= a->size) {
            b = (block_t *)((char *)a + at);
            a->brk = at + bytes;
        }
    }
    evt__ipc_mutex_unlock(&a->lock);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    /* Fresh pages, and those a free gave back, are zero already: touching
     * them would only make them resident. */
    if (reused)
        memset(b, 0, c >= BIG_CLASS ? 4096 : bytes);
    b->cls = c;
    b->magic = BLOCK_MAGIC;
    return (char *)b + HDR;
}

void evt__ipc_free(void *p)
{
    if (!p)
        return;
    arena_t *a = atomic_load(&arena);
    block_t *b = (block_t *)((char *)p - HDR);
    if (b->cls >= BIG_CLASS) /* give the pages back meanwhile */
        madvise((char *)b + 4096, ((size_t)1 << b->cls) - 4096, MADV_REMOVE);
    evt__ipc_mutex_lock(&a->lock);
    b->magic = 0;
    b->next = a->free[b->cls];
    a->free[b->cls] = b;
    evt__ipc_mutex_unlock(&a->lock);
}

size_t evt__ipc_size(const void *p)
{
    const block_t *b = (const block_t *)((const char *)p - HDR);
    return ((size_t)1 << b->cls) - HDR;
}
