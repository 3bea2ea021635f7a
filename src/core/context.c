/* Building the first frame of a new context, for each switch implementation:
 * the frame evt__ctx_switch pops when it resumes a context for the first time.
 */
#include "context.h"

#include <stdint.h>
#include <string.h>

#if defined(EVT_CONTEXT_UCONTEXT)

/* makecontext passes int arguments only: split the pointers in two. */
static void uc_entry(unsigned fhi, unsigned flo, unsigned ahi, unsigned alo)
{
    void (*entry)(void *);
    uintptr_t f = ((uintptr_t)fhi << 32) | flo;
    uintptr_t a = ((uintptr_t)ahi << 32) | alo;
    memcpy(&entry, &f, sizeof entry);
    entry((void *)a);
}

void evt__ctx_make(evt__ctx_t *ctx, void *lo, size_t size,
                   void (*entry)(void *), void *arg)
{
    uintptr_t f, a = (uintptr_t)arg;
    memcpy(&f, &entry, sizeof f);
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    makecontext(&ctx->uc, (void (*)(void))uc_entry, 4,
                (unsigned)(f >> 32), (unsigned)f, (unsigned)(a >> 32),
                (unsigned)a);
}

void evt__ctx_switch(evt__ctx_t *from, evt__ctx_t *to)
{
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
    memset(sp, 0, 160);
    sp[0] = (uint64_t)(uintptr_t)arg;                 /* x19 */
    sp[1] = (uint64_t)(uintptr_t)entry;               /* x20 */
    sp[11] = (uint64_t)(uintptr_t)evt__ctx_trampoline; /* x30 */
    ctx->sp = sp;
}

#else
#error "no context switch for this architecture: configure with -DEVT_CONTEXT=ucontext"
#endif
