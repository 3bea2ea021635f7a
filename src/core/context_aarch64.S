/* Context switch for aarch64 (AAPCS64). Saves x19-x30 and d8-d15, the
 * registers the ABI makes callee-saved, on the outgoing stack, then swaps
 * stack pointers. */
#if defined(__aarch64__) && !defined(EVT_CONTEXT_UCONTEXT)
    .text
    .globl evt__ctx_switch
    .hidden evt__ctx_switch
    .type evt__ctx_switch, %function
    .p2align 4
/* void evt__ctx_switch(evt__ctx_t *from x0, evt__ctx_t *to x1) */
evt__ctx_switch:
    sub sp, sp, #160
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    ldr x9, [x1]
    mov sp, x9
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    ret
    .size evt__ctx_switch, .-evt__ctx_switch

/* First code a new context runs: entry in x20, its argument in x19. */
    .globl evt__ctx_trampoline
    .hidden evt__ctx_trampoline
    .type evt__ctx_trampoline, %function
    .p2align 4
evt__ctx_trampoline:
    mov x29, #0
    mov x0, x19
    blr x20
    brk #0
    .size evt__ctx_trampoline, .-evt__ctx_trampoline
#endif
    .section .note.GNU-stack,"",%progbits
