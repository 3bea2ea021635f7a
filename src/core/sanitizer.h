/* Telling AddressSanitizer and ThreadSanitizer about stack switches, so
 * that both follow coroutines; empty in ordinary builds. */
#ifndef EVT_CORE_SANITIZER_H
#define EVT_CORE_SANITIZER_H

#include "core.h"

#if defined(EVT_ASAN)
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                     const void **bottom_old,
                                     size_t *size_old);
#endif
#if defined(EVT_TSAN)
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/* Remember who switches, for the fiber API's bounds of the thread's own
 * stack; nothing to do without ASan. */
static inline void evt__san_set_prev(evt__sched_t *s, evt_co_t *from)
{
#if defined(EVT_ASAN)
    s->prev = from;
#endif
    (void)s, (void)from;
}

/* Before switching from `from` to `to`; from_dies when from never resumes.
 * Always inlined: were it a call of its own (as at -O0), TSan would record
 * its return on the fiber switched to, and a fresh fiber's shadow stack
 * would underflow. */
static inline __attribute__((always_inline)) void evt__san_before(evt_co_t *from, evt_co_t *to, int from_dies)
{
#if defined(EVT_ASAN)
    __sanitizer_start_switch_fiber(from_dies ? NULL : &from->asan_fake,
                                   to->asan_bottom, to->asan_size);
#endif
#if defined(EVT_TSAN)
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)from, (void)to, (void)from_dies;
}

/* First thing in `self` after a switch brought it back (or started it). */
static inline void evt__san_after(evt_co_t *self, evt_co_t *from)
{
#if defined(EVT_ASAN)
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(self->asan_fake, &bottom, &size);
    /* The thread's own stack has no known bounds until it is left once. */
    if (from && !from->asan_bottom) {
        from->asan_bottom = bottom;
        from->asan_size = size;
    }
#endif
    (void)self, (void)from;
}

static inline void evt__san_co_init(evt_co_t *co, int is_main)
{
#if defined(EVT_ASAN)
    co->asan_fake = NULL;
    co->asan_bottom = is_main ? NULL : co->stack.lo;
    co->asan_size = is_main ? 0 : co->stack.size;
#endif
#if defined(EVT_TSAN)
    co->tsan_fiber = is_main ? __tsan_get_current_fiber()
                             : __tsan_create_fiber(0);
#endif
    (void)co, (void)is_main;
}

static inline void evt__san_co_fini(evt_co_t *co)
{
#if defined(EVT_TSAN)
    __tsan_destroy_fiber(co->tsan_fiber);
#endif
    (void)co;
}

#endif
