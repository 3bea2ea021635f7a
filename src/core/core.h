/* Internal interface of the coroutine core: the coroutine record, the
 * per-thread scheduler, and the park/unpark primitive every blocking call of
 * the upper layers is built on. */
#ifndef EVT_CORE_CORE_H
#define EVT_CORE_CORE_H

#include "context.h"
#include "stack.h"
#include "timer.h"
#include "watchdog.h"
#include "eventor.h"

#include <stdint.h>

#if defined(__GNUC__)
#define evt__likely(x) __builtin_expect(!!(x), 1)
#define evt__unlikely(x) __builtin_expect(!!(x), 0)
#else
#define evt__likely(x) (x)
#define evt__unlikely(x) (x)
#endif

enum evt__co_state {
    EVT__READY,   /* in the run queue */
    EVT__RUNNING, /* the current coroutine of its scheduler */
    EVT__PARKED,  /* waiting for evt__unpark */
    EVT__DONE     /* returned; waiting to be joined or released */
};

struct evt__sched;

/* The hook through which the scheduler reaches the thread's reactor
 * (src/loop) without calling up: the core offers it, the loop fills it in
 * the scheduler when it makes the thread's reactor. Without one, only
 * timers can wake the thread. */
typedef struct evt__loop_ops {
    /* Wait for IO at most timeout_ms (0 = just look, -1 = until something
     * happens) and unpark what became ready. The scheduler calls it when
     * no coroutine is ready, and every few dozen switches so that IO is
     * never starved. Returns 0, or -1 when timeout_ms is -1 and nothing at
     * all could wake the thread (a deadlock). */
    int (*poll)(struct evt__sched *s, int timeout_ms);
    /* Release the reactor (thread exit). Returns -1, releasing nothing,
     * while another thread still holds s to post to it: then s must be
     * leaked rather than freed under that thread. */
    int (*fini)(struct evt__sched *s);
    /* In a forked child: close the reactor's fds (the epoll set and
     * eventfd are shared with the parent) and touch nothing else. */
    void (*drop_fds)(struct evt__sched *s);
} evt__loop_ops_t;

/* A coroutine. Pooled stacks hold it in their topmost bytes, so that a
 * parked coroutine costs one page of memory. The first 64 bytes (one cache
 * line: the record is line-aligned) hold all that arming a deadline, firing
 * it and queueing the coroutine touch: a million sleepers wake with one
 * cache miss each for their record, not two. */
struct evt_co {
    evt__ctx_t ctx;          /* saved registers while not running */
    struct evt_co *next;     /* link in the run queue */
    struct evt__sched *sched; /* the scheduler (thread) it belongs to */
    int64_t deadline;        /* absolute deadline of the current park, -1 none */
    size_t timer_slot;       /* its list in the timer wheel, SIZE_MAX when
                                unarmed */
    struct evt_co *timer_next;   /* next in that list */
    struct evt_co **timer_pprev; /* what points at it in that list */
    int wake_rc;             /* what evt__park returns: 0 or an errno value */
    unsigned char state;     /* enum evt__co_state */
    unsigned char cancelled; /* evt_cancel was called: blocking calls fail */
    unsigned char detached;  /* release by itself when DONE */
    unsigned char shared;    /* runs on the scheduler's shared stack */
    /* Second line: the body, and what finishing and joining touch. */
    evt_fn fn;               /* body */
    void *arg;               /* its argument */
    void *result;            /* its return value, once DONE */
    uint64_t id;             /* evt_co_id */
    evt__stack_t stack;      /* its own stack; for shared-stack coroutines the
                                shared stack while running */
    struct evt_co *joiner;   /* coroutine parked in evt_join on this one */
    uint64_t crash_item;     /* the item it runs, from 1, named if it
                                crashes (the batch engine's); 0 none */
    unsigned char fresh;     /* shared: has never run, no frame to restore */
    void *saved;             /* shared: copy of the used stack while parked */
    uint32_t saved_len;      /* shared: bytes in saved */
    uint32_t saved_cap;      /* shared: capacity of saved */
#if defined(EVT_ASAN)
    void *asan_fake;         /* ASan fake stack of the suspended context */
    const void *asan_bottom; /* bounds of the stack, for ASan's fiber API */
    size_t asan_size;
#endif
#if defined(EVT_TSAN)
    void *tsan_fiber;        /* TSan's fiber for this coroutine */
#endif
};

/* Per-thread scheduler, created on first use. */
typedef struct evt__sched {
    evt_co_t *current;       /* running coroutine */
    evt_co_t *runq_head;     /* ready coroutines, FIFO */
    evt_co_t *runq_tail;
    _Atomic uint64_t wd_ticks; /* switches and looks at IO, for the
                                  blocking detector (watchdog.c) */
    evt_co_t main;           /* the thread's own stack, as a coroutine */
    evt__stack_pool_t stacks; /* stacks of the default size */
    uint64_t next_id;        /* next coroutine id */
    unsigned budget;         /* switches left before IO is polled again */
    size_t live;             /* coroutines spawned and not yet released */
    evt_co_t *release;       /* finished detached coroutine whose stack goes
                                back to the pool after the switch away */
    /* Shared-stack mode. */
    evt__stack_t shared_stack; /* the stack shared coroutines run on */
    evt_co_t *shared_owner;  /* whose frames are on it now */
    evt_co_t *switch_to;     /* the switcher's job: resume this one */
    evt_co_t *prev;          /* the coroutine the last switch came from */
    evt_co_t switcher_co;    /* the switcher as a coroutine (sanitizers) */
    evt__timers_t timers;    /* deadlines of parked coroutines */
    void *loop;              /* the reactor of this thread (src/loop) */
    const evt__loop_ops_t *loop_ops; /* how to reach it; NULL until made */
    evt__wd_t wd;            /* the blocking detector's record */
} evt__sched_t;

extern _Thread_local evt__sched_t *evt__tls_sched;

/* Write "coroutine N overflowed its stack" to stderr; async-signal-safe. */
void evt__stack_overflow_report(const evt_co_t *co);

evt__sched_t *evt__sched_init(void);

/* The scheduler of the calling thread, created on first use; NULL and
 * ENOMEM when it cannot be. */
static inline evt__sched_t *evt__sched(void)
{
    evt__sched_t *s = evt__tls_sched;
    return evt__likely(s != NULL) ? s : evt__sched_init();
}

/* Suspend the current coroutine until evt__unpark. Returns the rc given to
 * evt__unpark (0 or an errno value). The caller has registered itself where
 * a waker will find it. */
int evt__park(void);

/* Park the current coroutine until evt__unpark or the deadline (absolute
 * ms, -1 none, 0 do not park at all). Returns 0 or what evt__unpark gave;
 * ETIMEDOUT at the deadline; ECANCELED at once when the coroutine is
 * cancelled. The caller registers itself with its waker before, and
 * unregisters after when the return is not the waker's doing. */
int evt__wait(int64_t deadline);

/* Make a parked co ready; evt__park will return rc. Does nothing when co is
 * not parked (it was woken already). */
void evt__unpark(evt_co_t *co, int rc);

/* Give a finished coroutine's stack back (to s's pool) and forget it. */
void evt__co_release(evt__sched_t *s, evt_co_t *co);

/* Append x to the singly linked FIFO head..tail (linked through next),
 * for every such queue of records in the layers (head and tail are
 * lvalues, evaluated more than once). */
#define EVT__FIFO_PUSH(head, tail, x)                                        \
    do {                                                                     \
        (x)->next = NULL;                                                    \
        if (tail)                                                            \
            (tail)->next = (x);                                              \
        else                                                                 \
            (head) = (x);                                                    \
        (tail) = (x);                                                        \
    } while (0)

/* Put a ready coroutine in the run queue. */
static inline void evt__runq_push(evt__sched_t *s, evt_co_t *co)
{
    co->state = EVT__READY;
    EVT__FIFO_PUSH(s->runq_head, s->runq_tail, co);
}

#endif
