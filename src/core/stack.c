/* Coroutine stacks. A pool carves fixed-size stacks out of slabs of 64 at a
 * time: one mapping per slab instead of one per stack keeps a million stacks
 * within vm.max_map_count. Guard pages come from MADV_GUARD_INSTALL, which
 * adds no mapping; on kernels without it, mprotect guards (two mappings each)
 * are used while they stay within a quarter of the map budget, and past that
 * stacks rely on the canary alone. Where the kernel lets a process advise
 * many ranges of its own memory at once (process_madvise), a slab's 64
 * guards take one system call, and so does faulting in its 64 top pages. */
#define _GNU_SOURCE
#include "stack.h"
#include "core.h"
#include "crash.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(EVT_HAVE_VALGRIND)
#include <valgrind/valgrind.h>
#endif

/* The largest stack kept as a pool's spare. */
#define SPARE_MAX (1024 * 1024)

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* The calling thread as a pidfd, for process_madvise (Linux 6.15). */
#ifndef PIDFD_SELF
#define PIDFD_SELF (-10000)
#endif

#define SLAB_STACKS 64

struct evt__slab {
    struct evt__slab *next; /* older slab */
    void *base;             /* the mapping */
    size_t len;             /* its length */
};

static size_t page_size(void)
{
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

/* How guard pages are made: 0 not probed yet, 1 MADV_GUARD_INSTALL,
 * 2 mprotect within budget. */
static atomic_int guard_mode;
/* mprotect guards still affordable (each costs two mappings). */
static atomic_long guard_budget;

static int guard_install(char *page)
{
    int mode = atomic_load_explicit(&guard_mode, memory_order_relaxed);
    if (mode != 2) {
        if (madvise(page, page_size(), MADV_GUARD_INSTALL) == 0) {
            atomic_store_explicit(&guard_mode, 1, memory_order_relaxed);
            return 1;
        }
        if (mode == 1)
            return 0;
        long maps = 65530;
        FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
        if (f) {
            if (fscanf(f, "%ld", &maps) != 1)
                maps = 65530;
            fclose(f);
        }
        atomic_store(&guard_budget, maps / 8);
        atomic_store(&guard_mode, 2);
    }
    if (atomic_fetch_sub(&guard_budget, 1) <= 0)
        return 0;
    return mprotect(page, page_size(), PROT_NONE) == 0;
}

/* process_madvise on our own memory: 0 not tried yet, 1 works, -1 refused
 * (before Linux 6.15, or filtered by seccomp), then advice goes page by
 * page. */
static atomic_int batch_state;

/* Give advice to the n pages at pages[i] in one system call. Returns 0 when
 * every page took it. */
static int advise_pages(char *const *pages, size_t n, int advice)
{
#if defined(SYS_process_madvise)
    struct iovec iov[SLAB_STACKS];
    size_t ps = page_size(), i;
    if (n > SLAB_STACKS ||
        atomic_load_explicit(&batch_state, memory_order_relaxed) < 0)
        return -1;
#if defined(EVT_HAVE_VALGRIND)
    if (RUNNING_ON_VALGRIND) /* which would warn of an unknown syscall */
        return -1;
#endif
    for (i = 0; i < n; i++) {
        iov[i].iov_base = pages[i];
        iov[i].iov_len = ps;
    }
    long r = syscall(SYS_process_madvise, PIDFD_SELF, iov, n, advice, 0u);
    if (r == (long)(n * ps)) {
        atomic_store_explicit(&batch_state, 1, memory_order_relaxed);
        return 0;
    }
    /* EINVAL may mean this advice alone is unknown: only a failure of
     * the call itself turns batching off. */
    if (r < 0 && (errno == ENOSYS || errno == EBADF || errno == EPERM ||
                  errno == ESRCH))
        atomic_store_explicit(&batch_state, -1, memory_order_relaxed);
#else
    (void)pages, (void)n, (void)advice;
#endif
    return -1;
}

static void stack_register(evt__stack_t *st)
{
#if defined(EVT_HAVE_VALGRIND)
    /* Valgrind needs to know each stack to follow switches between them. */
    if (RUNNING_ON_VALGRIND)
        VALGRIND_STACK_REGISTER(st->lo, st->lo + st->size);
#else
    (void)st;
#endif
}

void evt__stack_pool_init(evt__stack_pool_t *pool, size_t size)
{
    memset(pool, 0, sizeof *pool);
    pool->size = size;
}

void evt__stack_pool_fini(evt__stack_pool_t *pool)
{
    if (pool->spare.lo)
        munmap(pool->spare.lo - page_size(), pool->spare.size + page_size());
    struct evt__slab *sl = pool->slabs, *next;
    for (; sl; sl = next) {
        next = sl->next;
        munmap(sl->base, sl->len);
        free(sl);
    }
    free(pool->free);
    memset(pool, 0, sizeof *pool);
}

/* Map len bytes for stacks: never backed by swap reservations, and never
 * huge pages, which would turn a one-page stack into two megabytes. */
static void *map_stacks(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, len, MADV_NOHUGEPAGE);
    return p;
}

/* Install the guards of a new slab, and fault in the top pages of its
 * stacks, where a spawn writes the coroutine record and the first frames:
 * 64 page faults cost more than one system call doing their work. Only
 * from a pool's second slab on, so that a thread running a few coroutines
 * keeps its few pages. */
static void slab_prepare(evt__stack_pool_t *pool, char *base, int populate)
{
    size_t ps = page_size(), slot = pool->size + ps, i;
    char *pages[SLAB_STACKS];
    pool->guards_made = 0;
    if (atomic_load_explicit(&guard_mode, memory_order_relaxed) != 2) {
        for (i = 0; i < SLAB_STACKS; i++)
            pages[i] = base + i * slot;
        if (advise_pages(pages, SLAB_STACKS, MADV_GUARD_INSTALL) == 0) {
            atomic_store_explicit(&guard_mode, 1, memory_order_relaxed);
            pool->guards_made = 1;
        }
    }
    if (!populate)
        return;
    for (i = 0; i < SLAB_STACKS; i++)
        pages[i] = base + (i + 1) * slot - ps;
    advise_pages(pages, SLAB_STACKS, MADV_POPULATE_WRITE); /* a hint */
}

static int slab_new(evt__stack_pool_t *pool)
{
    size_t slot = pool->size + page_size();
    /* Room in the free array for every stack carved so far, so that giving
     * a stack back can never fail; grown by doubling, since a million
     * stacks take 15625 slabs. */
    size_t need = pool->slots + SLAB_STACKS;
    if (need > pool->free_cap) {
        size_t cap = pool->free_cap * 2 > need ? pool->free_cap * 2 : need;
        uintptr_t *f = realloc(pool->free, cap * sizeof *f);
        if (!f)
            return ENOMEM;
        pool->free = f;
        pool->free_cap = cap;
    }
    struct evt__slab *sl = malloc(sizeof *sl);
    if (!sl)
        return ENOMEM;
    sl->len = slot * SLAB_STACKS;
    sl->base = map_stacks(sl->len);
    if (!sl->base) {
        free(sl);
        return ENOMEM;
    }
    slab_prepare(pool, sl->base, pool->slabs != NULL);
    sl->next = pool->slabs;
    pool->slabs = sl;
    pool->next = sl->base;
    pool->left = SLAB_STACKS;
    pool->slots += SLAB_STACKS;
    return 0;
}

/* A new stack of size bytes above the guard page at guard. */
static void stack_init(evt__stack_t *st, char *guard, size_t size,
                       unsigned pooled, unsigned guarded)
{
    st->lo = guard + page_size();
    st->size = size;
    st->guarded = guarded ? 1u : (unsigned)guard_install(guard);
    st->pooled = pooled;
    stack_register(st);
}

int evt__stack_get(evt__stack_pool_t *pool, size_t size, evt__stack_t *st)
{
    size_t ps = page_size();
    if (size == pool->size) {
        if (pool->free_count) {
            uintptr_t e = pool->free[--pool->free_count];
            st->lo = (char *)(e & ~(uintptr_t)1);
            st->size = size;
            st->guarded = (unsigned)(e & 1);
            st->pooled = 1;
            return 0;
        }
        if (!pool->left && slab_new(pool))
            return ENOMEM;
        char *guard = pool->next;
        pool->next += size + ps;
        pool->left--;
        stack_init(st, guard, size, 1, pool->guards_made);
        return 0;
    }
    if (pool->spare.lo && pool->spare.size == size) {
        *st = pool->spare;
        pool->spare.lo = NULL;
        return 0;
    }
    char *base = map_stacks(size + ps);
    if (!base)
        return ENOMEM;
    stack_init(st, base, size, 0, 0);
    return 0;
}

void evt__stack_put(evt__stack_pool_t *pool, evt__stack_t *st)
{
    if (st->pooled) {
        /* slab_new made room for every stack it carves. */
        pool->free[pool->free_count++] = (uintptr_t)st->lo | st->guarded;
        return;
    }
    /* Kept for the next of its size, unless large: its touched pages stay
     * resident while it waits. */
    if (!pool->spare.lo && st->size <= SPARE_MAX) {
        pool->spare = *st;
        return;
    }
#if defined(EVT_HAVE_VALGRIND)
    /* Valgrind's stack ids are not kept: deregistration by id is optional
     * and the range dies with the mapping. */
#endif
    munmap(st->lo - page_size(), st->size + page_size());
}

int evt__stack_in_guard(const evt__stack_t *st, const void *addr)
{
    const char *a = addr;
    return st->guarded && a >= st->lo - page_size() && a < st->lo;
}

/* --- overflow reports ---------------------------------------------------- */

static _Thread_local void *altstack;

void evt__stack_overflow_report(const evt_co_t *co)
{
    char msg[160];
    size_t n = 0;
    static const char a[] = "eventor: coroutine ";
    static const char b[] = " overflowed its stack of ";
    static const char c[] = " bytes (raise it with evt_set_stack_size or "
                            "evt_co_attr_t.stack_size)\n";
    memcpy(msg + n, a, sizeof a - 1);
    n += sizeof a - 1;
    n += evt__crash_fmt_u64(msg + n, co->id);
    memcpy(msg + n, b, sizeof b - 1);
    n += sizeof b - 1;
    n += evt__crash_fmt_u64(msg + n, co->stack.size);
    evt__crash_write(msg, n);
    evt__crash_write(c, sizeof c - 1);
}

/* A fault in the guard page below the running coroutine's stack is an
 * overflow: say so, and let the process die of the fault. */
static int overflow_note(int sig, const siginfo_t *si)
{
    evt__sched_t *s = evt__tls_sched;
    if (sig != SIGSEGV || !s || !s->current ||
        !evt__stack_in_guard(&s->current->stack, si->si_addr))
        return 0;
    evt__stack_overflow_report(s->current);
    return 1;
}

void evt__stack_thread_init(void)
{
    if (!altstack) {
        /* The handler runs on its own stack: the faulting one is full. */
        size_t len = 64 * 1024;
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            stack_t ss = {.ss_sp = p, .ss_size = len, .ss_flags = 0};
            if (sigaltstack(&ss, NULL) == 0)
                altstack = p;
            else
                munmap(p, len);
        }
    }
    evt__crash_note(overflow_note);
}

void evt__stack_thread_fini(void)
{
    if (altstack) {
        stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
        sigaltstack(&ss, NULL);
        munmap(altstack, 64 * 1024);
        altstack = NULL;
    }
}
