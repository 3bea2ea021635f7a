/* Machine context switch: the one primitive every coroutine switch goes
 * through. Callee-saved registers (and the FP control words on x86-64) live
 * on the suspended stack; the context itself is just its stack pointer. */
#ifndef EVT_CORE_CONTEXT_H
#define EVT_CORE_CONTEXT_H

#include <stddef.h>

#if defined(EVT_CONTEXT_UCONTEXT)
#include <ucontext.h>
typedef struct evt__ctx {
    void *sp;      /* while suspended: an address at or below the lowest byte
                      of its stack that resuming needs (the scheduler copies
                      [sp, top) of shared stacks); set by evt__ctx_switch */
    ucontext_t uc; /* the portable fallback: slower (a syscall per switch) */
} evt__ctx_t;
#else
typedef struct evt__ctx {
    void *sp; /* stack pointer of the suspended context */
} evt__ctx_t;
#endif

/* Prepare ctx so that the first switch to it calls entry(arg) on the stack
 * [lo, lo + size). entry must never return. */
void evt__ctx_make(evt__ctx_t *ctx, void *lo, size_t size,
                   void (*entry)(void *), void *arg);

/* Save the running context in from and resume to. */
void evt__ctx_switch(evt__ctx_t *from, evt__ctx_t *to);

#endif
