/* Context switch for x86-64, System V ABI. Saves the callee-saved integer
 * registers and the MXCSR / x87 control words (callee-saved by the ABI) on
 * the outgoing stack, then swaps stack pointers. */
#if defined(__x86_64__) && !defined(EVT_CONTEXT_UCONTEXT)
    .text
    .globl evt__ctx_switch
    .hidden evt__ctx_switch
    .type evt__ctx_switch, @function
    .p2align 4
/* void evt__ctx_switch(evt__ctx_t *from %rdi, evt__ctx_t *to %rsi) */
evt__ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size evt__ctx_switch, .-evt__ctx_switch

/* First code a new context runs: evt__ctx_make left entry in %r13 and its
 * argument in %r12. The stack is 16-byte aligned here, as a call needs. */
    .globl evt__ctx_trampoline
    .hidden evt__ctx_trampoline
    .type evt__ctx_trampoline, @function
    .p2align 4
evt__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size evt__ctx_trampoline, .-evt__ctx_trampoline
#endif
    .section .note.GNU-stack,"",@progbits
