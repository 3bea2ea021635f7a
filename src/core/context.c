/* Building the first frame of a new context, for each switch implementation:
 * the frame evt__ctx_switch pops when it resumes a context for the first time.
 */
#include "context.h"

#include <stdint.h>
#include <string.h>

#if defined(EVT_ASAN)
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

/* The memory of a new context holds dead frames of whatever ran there before
 * (a finished coroutine of a pooled stack, the last owner of the shared
 * stack): forget their ASan redzones, or writing the first frame and the
 * frames to come would be reported as overflows. */
static inline void fresh_stack(void *lo, size_t size)
{
#if defined(EVT_ASAN)
    __asan_unpoison_memory_region(lo, size);
#else
    (void)lo, (void)size;
#endif
}

#if defined(EVT_CONTEXT_UCONTEXT)

/* makecontext passes int arguments only: split the pointers in two (64-bit
 * halves, so that the shifts stay defined where pointers have 32 bits). */
static void uc_entry(unsigned fhi, unsigned flo, unsigned ahi, unsigned alo)
{
    void (*entry)(void *);
    uintptr_t f = (uintptr_t)(((uint64_t)fhi << 32) | flo);
    uintptr_t a = (uintptr_t)(((uint64_t)ahi << 32) | alo);
    memcpy(&entry, &f, sizeof entry);
    entry((void *)a);
}

void evt__ctx_make(evt__ctx_t *ctx, void *lo, size_t size,
                   void (*entry)(void *), void *arg)
{
    uintptr_t f;
    uint64_t f64, a64 = (uintptr_t)arg;
    memcpy(&f, &entry, sizeof f);
    f64 = f;
    fresh_stack(lo, size);
    ctx->sp = (char *)lo + size;
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, (void (*)(void))uc_entry, 4,
                (unsigned)(f64 >> 32), (unsigned)f64, (unsigned)(a64 >> 32),
                (unsigned)a64);
}

/* Store an address inside this function's own frame: it lies below the
 * stack pointer of its caller, so below everything the caller's frame (and
 * the frames above it) hold. noinline keeps it a frame of its own. */
static __attribute__((noinline)) void mark_stack(uintptr_t *out)
{
    volatile char here = 0;
    *out = (uintptr_t)&here;
    __asm__ volatile("" : : "r"(&here) : "memory");
}

void evt__ctx_switch(evt__ctx_t *from, evt__ctx_t *to)
{
    /* Shared-stack coroutines keep only [sp, top) of their stack while
     * suspended: sp must be at or below the stack pointer swapcontext saves
     * (ours at the call, or our caller's when it is a tail call).
     * swapcontext itself keeps the registers in from->uc, not on the stack. */
    uintptr_t sp;
    mark_stack(&sp);
    from->sp = (void *)(sp & ~(uintptr_t)15);
    swapcontext(&from->uc, &to->uc);
}

#elif defined(__x86_64__)

void evt__ctx_trampoline(void);

void evt__ctx_make(evt__ctx_t *ctx, void *lo, size_t size,
                   void (*entry)(void *), void *arg)
{
    /* From the saved sp up: control words, r15, r14, r13, r12, rbx, rbp,
     * return address; after the pop of the return address the stack must be
     * 16-byte aligned for the trampoline's call. */
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top - 10;
    fresh_stack(lo, size);
    uint32_t mxcsr;
    uint16_t fpucw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    memset(sp, 0, 10 * sizeof *sp);
    sp[0] = (uint64_t)mxcsr | ((uint64_t)fpucw << 32);
    sp[3] = (uint64_t)(uintptr_t)entry; /* r13 */
    sp[4] = (uint64_t)(uintptr_t)arg;   /* r12 */
    sp[7] = (uint64_t)(uintptr_t)evt__ctx_trampoline;
    ctx->sp = sp;
}

#elif defined(__aarch64__)

void evt__ctx_trampoline(void);

void evt__ctx_make(evt__ctx_t *ctx, void *lo, size_t size,
                   void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 160);
    fresh_stack(lo, size);
    memset(sp, 0, 160);
    sp[0] = (uint64_t)(uintptr_t)arg;                 /* x19 */
    sp[1] = (uint64_t)(uintptr_t)entry;               /* x20 */
    sp[11] = (uint64_t)(uintptr_t)evt__ctx_trampoline; /* x30 */
    ctx->sp = sp;
}

#else
#error "no context switch for this architecture: configure with -DEVT_CONTEXT=ucontext"
#endif
