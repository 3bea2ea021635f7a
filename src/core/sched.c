/* The per-thread scheduler and the life of a coroutine: spawn, switch,
 * park and unpark (join and cancel are in coroutine.c). Switches go straight from one coroutine to
 * the next; only shared-stack coroutines pass through the switcher, a small
 * context that copies their stacks while none of them runs. */
#define _GNU_SOURCE
#include "core.h"
#include "sanitizer.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(EVT_ASAN)
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

/* Switches between two looks at IO when coroutines are always ready. */
#define BUDGET 61
#define DEFAULT_STACK (64 * 1024)
#define MIN_STACK (16 * 1024)
#define SHARED_STACK (256 * 1024)
#define SWITCHER_STACK (32 * 1024)
/* Coroutine ids are handed to schedulers in blocks, so that a spawn needs no
 * atomic operation. */
#define ID_BLOCK 4096

#if !defined(EVT_CONTEXT_UCONTEXT)
/* See struct evt_co: what a wake touches fits its first cache line. */
_Static_assert(offsetof(struct evt_co, fn) == 64,
               "the wake path's fields fill the record's first line");
#endif

_Thread_local evt__sched_t *evt__tls_sched;
static atomic_uint_fast64_t id_blocks;
static pthread_key_t sched_key;
static pthread_once_t sched_key_once = PTHREAD_ONCE_INIT;

static size_t page_round(size_t n)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    return (n + ps - 1) & ~(ps - 1);
}

static uint64_t new_id(evt__sched_t *s)
{
    if (evt__unlikely(s->next_id % ID_BLOCK == 0))
        s->next_id = atomic_fetch_add(&id_blocks, 1) * ID_BLOCK;
    return s->next_id++;
}

static void sched_free(void *p)
{
    evt__sched_t *s = p;
    evt__wd_unregister(s);
    evt__tls_sched = NULL;
    evt__stack_thread_fini();
    /* Coroutines still alive at thread exit keep their stacks, and a
     * scheduler another thread will still post to stays: freeing either
     * would pull memory from under code that may still use it. */
    if ((s->loop_ops && s->loop_ops->fini(s) < 0) || s->live != 0)
        return;
    if (s->shared_stack.lo) {
        evt__san_co_fini(&s->switcher_co);
        evt__stack_put(&s->stacks, &s->shared_stack);
        evt__stack_put(&s->stacks, &s->switcher_co.stack);
    }
    evt__stack_pool_fini(&s->stacks);
    free(s);
}

/* A forked child starts with a fresh runtime: the scheduler of the thread
 * that forked is dropped (its fds closed, its memory left as it is, since
 * the child may be running on one of its stacks), and the child's first
 * evt_* call makes a new one, whose main coroutine is whatever context the
 * child then runs on. Schedulers of the parent's other threads are merely
 * unreachable: those threads do not exist in the child. */
static void after_fork_in_child(void)
{
    evt__sched_t *s = evt__tls_sched;
    if (!s)
        return;
    if (s->loop_ops)
        s->loop_ops->drop_fds(s);
    evt__tls_sched = NULL;
    pthread_setspecific(sched_key, NULL);
}

static void make_key(void)
{
    pthread_key_create(&sched_key, sched_free);
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

evt__sched_t *evt__sched_init(void)
{
    evt__sched_t *s = calloc(1, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    pthread_once(&sched_key_once, make_key);
    evt__stack_pool_init(&s->stacks, DEFAULT_STACK);
    s->budget = BUDGET;
    s->main.sched = s;
    s->main.state = EVT__RUNNING;
    s->main.deadline = -1;
    s->main.timer_slot = SIZE_MAX;
    s->main.stack.guarded = 1;
    s->next_id = atomic_fetch_add(&id_blocks, 1) * ID_BLOCK;
    s->main.id = s->next_id++;
    evt__san_co_init(&s->main, 1);
    s->current = &s->main;
    evt__stack_thread_init();
    evt__tls_sched = s;
    pthread_setspecific(sched_key, s);
    evt__wd_register(s);
    return s;
}

int evt_set_stack_size(size_t bytes)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    if (bytes < MIN_STACK || bytes > ((size_t)1 << 30)) {
        errno = EINVAL;
        return -1;
    }
    bytes = page_round(bytes);
    if (bytes == s->stacks.size)
        return 0;
    /* Stacks of the old size in use go back unpooled; see evt__co_release(). */
    if (s->stacks.free_count == 0 && s->stacks.slabs == NULL) {
        s->stacks.size = bytes;
        return 0;
    }
    errno = EBUSY;
    return -1;
}

/* --- switching ---------------------------------------------------------- */

/* The main coroutine's stack has lo NULL and counts as guarded: the thread's
 * own stack is the kernel's to guard. The switcher never comes here. */
static inline void check_stack(evt_co_t *self)
{
    const char *sp = __builtin_frame_address(0);
    if (evt__unlikely(sp < self->stack.lo + EVT__CANARY_BYTES ||
                      (!self->stack.guarded &&
                       !evt__stack_canary_ok(&self->stack)))) {
        evt__stack_overflow_report(self);
        abort();
    }
}

static void co_entry(void *p);

/* Work left by the coroutine that switched to us. */
static inline void after_switch(evt__sched_t *s, evt_co_t *self)
{
    evt__san_after(self, s->prev);
    if (evt__unlikely(s->release != NULL)) {
        evt_co_t *dead = s->release;
        s->release = NULL;
        evt__co_release(s, dead);
    }
}

/* Save the used part of the shared stack's owner and put to's frames on it.
 * Runs on a stack other than the shared one. */
static void shared_swap(evt__sched_t *s, evt_co_t *to)
{
    char *top = s->shared_stack.lo + s->shared_stack.size;
    evt_co_t *owner = s->shared_owner;
    if (owner && owner->state != EVT__DONE) {
        size_t used = (size_t)(top - (char *)owner->ctx.sp);
        if (used > owner->saved_cap) {
            /* Exactly what is used, no slack: a coroutine parks at about
             * the same depth each time, and a million parked coroutines
             * are mostly these buffers (fresh pages cost more to fault in
             * than an occasional realloc). */
            void *p = realloc(owner->saved, used);
            if (!p) {
                fputs("eventor: out of memory saving a shared stack\n",
                      stderr);
                abort();
            }
            owner->saved = p;
            owner->saved_cap = (uint32_t)used; /* a stack is < 4 GiB */
        }
#if defined(EVT_ASAN)
        /* The owner's frames hold redzones: copy them as plain bytes. */
        __asan_unpoison_memory_region(owner->ctx.sp, used);
#endif
        memcpy(owner->saved, owner->ctx.sp, used);
        owner->saved_len = (uint32_t)used;
    }
    if (to->fresh) {
        to->fresh = 0;
        evt__ctx_make(&to->ctx, s->shared_stack.lo, s->shared_stack.size,
                      co_entry, to);
    } else {
#if defined(EVT_ASAN)
        __asan_unpoison_memory_region(top - to->saved_len, to->saved_len);
#endif
        memcpy(top - to->saved_len, to->saved, to->saved_len);
    }
    s->shared_owner = to;
}

/* The switcher's body: each time it is switched to, move the shared stack
 * from switch_from to switch_to and resume the latter. */
static void switcher_main(void *p)
{
    evt__sched_t *s = p;
    for (;;) {
        evt__san_after(&s->switcher_co, s->prev);
        evt_co_t *to = s->switch_to;
        shared_swap(s, to);
        evt__san_set_prev(s, &s->switcher_co);
        evt__san_before(&s->switcher_co, to, 0);
        evt__ctx_switch(&s->switcher_co.ctx, &to->ctx);
    }
}

/* The switch itself, and the work the coroutine that switched back left. */
static inline __attribute__((always_inline)) void
jump(evt__sched_t *s, evt_co_t *self, evt_co_t *to, int dies)
{
    evt__san_set_prev(s, self);
    evt__san_before(self, to, dies);
    evt__ctx_switch(&self->ctx, &to->ctx);
    after_switch(s, self);
}

/* To a shared-stack coroutine whose frames are not on the shared stack. */
static __attribute__((noinline)) void
switch_shared(evt__sched_t *s, evt_co_t *self, evt_co_t *next, int dies)
{
    if (self->shared && s->shared_owner == self) {
        /* We stand on the shared stack: let the switcher move it. */
        s->switch_to = next;
        jump(s, self, &s->switcher_co, dies);
        return;
    }
    shared_swap(s, next);
    jump(s, self, next, dies);
}

/* Inlined into every switch: a switch is then one call deep (the asm). */
static inline __attribute__((always_inline)) void
switch_to(evt__sched_t *s, evt_co_t *self, evt_co_t *next)
{
    int dies = self->state == EVT__DONE;
    check_stack(self);
    evt__wd_tick(&s->wd_ticks);
    next->state = EVT__RUNNING;
    s->current = next;
    if (evt__unlikely(next->shared && s->shared_owner != next))
        switch_shared(s, self, next, dies);
    else
        jump(s, self, next, dies);
}

/* Fire the deadlines that have passed (some of them: see timer.c). */
static void expire_timers(evt__sched_t *s)
{
    if (s->timers.len)
        evt__timers_fire(&s->timers, evt_now());
}

static void deadlock(evt__sched_t *s)
{
    fprintf(stderr,
            "eventor: deadlock: every coroutine of this thread is parked "
            "and nothing can wake one (coroutine %llu was the last to run)\n",
            (unsigned long long)s->current->id);
    abort();
}

/* Look at IO through the reactor's hook. A thread that never made a
 * reactor has nothing but timers that can wake it: sleep until the next
 * one, or report that nothing ever will (-1). */
static int poll_loop(evt__sched_t *s, int timeout_ms)
{
    if (evt__likely(s->loop_ops != NULL))
        return s->loop_ops->poll(s, timeout_ms);
    if (timeout_ms < 0)
        return -1;
    evt__sleep_ms(timeout_ms);
    return 0;
}

/* Poll IO and fire deadlines (every BUDGET switches, or when nothing is
 * ready), then return the next ready coroutine, still queued. */
static __attribute__((noinline)) evt_co_t *poll_io(evt__sched_t *s)
{
    for (;;) {
        s->budget = BUDGET;
        int timeout = 0;
        if (!s->runq_head) {
            int64_t d = evt__timers_next(&s->timers);
            if (d >= 0) {
                int64_t left = d - evt_now();
                timeout = left <= 0 ? 0 : left > 3600000 ? 3600000 : (int)left;
            } else {
                timeout = -1;
            }
        }
        /* Waiting is not stalling: the watchdog skips an idle scheduler. */
        if (timeout)
            atomic_store_explicit(&s->wd.idle, 1, memory_order_relaxed);
        int rc = poll_loop(s, timeout);
        atomic_store_explicit(&s->wd.idle, 0, memory_order_relaxed);
        evt__wd_tick(&s->wd_ticks);
        if (rc < 0)
            deadlock(s);
        expire_timers(s);
        if (s->runq_head)
            return s->runq_head;
    }
}

/* Give the thread to the next ready coroutine. The caller has set its own
 * state (PARKED, DONE, or READY and queued); returns when it runs again.
 * Inline, with the polling out of line, so that a switch costs its
 * caller's frame only. */
static inline void schedule(evt__sched_t *s)
{
    evt_co_t *self = s->current, *next = s->runq_head;
    if (evt__likely(next != NULL) && evt__likely(s->budget > 1))
        s->budget--;
    else
        next = poll_io(s);
    s->runq_head = next->next;
    if (!s->runq_head)
        s->runq_tail = NULL;
    if (next == self) {
        self->state = EVT__RUNNING;
        return;
    }
    switch_to(s, self, next);
}

int evt__park(void)
{
    evt__sched_t *s = evt__tls_sched;
    evt_co_t *self = s->current;
    self->state = EVT__PARKED;
    schedule(s);
    return self->wake_rc;
}

void evt__unpark(evt_co_t *co, int rc)
{
    if (co->state != EVT__PARKED)
        return;
    co->wake_rc = rc;
    evt__runq_push(co->sched, co);
}

int evt__wait(int64_t deadline)
{
    evt__sched_t *s = evt__tls_sched;
    evt_co_t *self = s->current;
    if (evt__unlikely(self->cancelled))
        return ECANCELED;
    if (deadline == 0)
        return ETIMEDOUT;
    if (deadline > 0) {
        self->deadline = deadline;
        evt__timers_add(&s->timers, self);
    }
    int rc = evt__park();
    if (self->timer_slot != SIZE_MAX)
        evt__timers_remove(&s->timers, self);
    self->deadline = -1;
    return rc;
}

int evt_yield(void)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    evt_co_t *self = s->current;
    if (evt__unlikely(self->cancelled)) {
        errno = ECANCELED;
        return -1;
    }
    evt__runq_push(s, self);
    schedule(s);
    return 0;
}

/* --- life of a coroutine -------------------------------------------------- */

static void co_entry(void *p)
{
    evt_co_t *co = p;
    evt__sched_t *s = co->sched;
    after_switch(s, co);
    co->result = co->fn(co->arg);
    co->state = EVT__DONE;
    if (co->joiner)
        evt__unpark(co->joiner, 0);
    if (co->detached)
        s->release = co; /* freed by whoever runs next */
    schedule(s);
    abort(); /* a finished coroutine is never resumed */
}

void evt__co_release(evt__sched_t *s, evt_co_t *co)
{
    atomic_store_explicit(&s->wd.live, --s->live, memory_order_relaxed);
    evt__san_co_fini(co);
    if (co->shared) {
        if (s->shared_owner == co)
            s->shared_owner = NULL;
        free(co->saved);
        free(co);
        return;
    }
    evt__stack_t st = co->stack;
    evt__stack_put(&s->stacks, &st);
}

/* The shared stack and the switcher's stack, made on first need. */
static int shared_init(evt__sched_t *s)
{
    if (s->shared_stack.lo)
        return 0;
    if (evt__stack_get(&s->stacks, SHARED_STACK, &s->shared_stack))
        return ENOMEM;
    evt__stack_t *sw = &s->switcher_co.stack;
    if (evt__stack_get(&s->stacks, SWITCHER_STACK, sw)) {
        evt__stack_put(&s->stacks, &s->shared_stack);
        s->shared_stack.lo = NULL;
        return ENOMEM;
    }
    s->switcher_co.sched = s;
    s->switcher_co.id = UINT64_MAX;
    evt__san_co_init(&s->switcher_co, 0);
    evt__ctx_make(&s->switcher_co.ctx, sw->lo, sw->size, switcher_main, s);
    return 0;
}

evt_co_t *evt_spawn_attr(evt_fn fn, void *arg, const evt_co_attr_t *attr)
{
    evt__sched_t *s = evt__sched();
    if (!s)
        return NULL;
    if (evt__unlikely(!fn)) {
        errno = EINVAL;
        return NULL;
    }
    evt_co_t *co;
    if (attr && attr->shared_stack) {
        if (shared_init(s) || !(co = calloc(1, sizeof *co))) {
            errno = ENOMEM;
            return NULL;
        }
        co->shared = 1;
        co->fresh = 1;
        co->stack = s->shared_stack;
    } else {
        size_t size = s->stacks.size;
        if (attr && attr->stack_size) {
            size = page_round(attr->stack_size + sizeof *co + 64);
            if (size < MIN_STACK)
                size = MIN_STACK;
        }
        evt__stack_t st;
        if (evt__unlikely(evt__stack_get(&s->stacks, size, &st))) {
            errno = ENOMEM;
            return NULL;
        }
        /* The record sits in the stack's top page, cache-line aligned, at
         * one of 8 offsets (colours): stack tops all share one page offset,
         * and without colours their records would fight for the same few
         * cache sets. The colour comes from the address, so it is stable. */
        uintptr_t top = (uintptr_t)st.lo + st.size;
        uintptr_t colour = ((top >> 12) & 7) << 8;
        uintptr_t at = (top - colour - sizeof *co) & ~(uintptr_t)63;
        co = (evt_co_t *)at;
        co->stack = st;
        co->shared = 0;
        co->fresh = 0;
        co->saved = NULL;
        co->saved_len = co->saved_cap = 0;
        evt__ctx_make(&co->ctx, st.lo, (size_t)((char *)co - st.lo), co_entry,
                      co);
    }
    co->sched = s;
    co->fn = fn;
    co->arg = arg;
    co->result = NULL;
    co->id = new_id(s);
    co->joiner = NULL;
    co->deadline = -1;
    co->timer_slot = SIZE_MAX;
    co->wake_rc = 0;
    co->cancelled = 0;
    co->detached = 0;
    evt__san_co_init(co, 0);
    atomic_store_explicit(&s->wd.live, ++s->live, memory_order_relaxed);
    evt__runq_push(s, co);
    return co;
}

evt_co_t *evt_spawn(evt_fn fn, void *arg)
{
    return evt_spawn_attr(fn, arg, NULL);
}
