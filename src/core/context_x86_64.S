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
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbp, 0
    pushq %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset rbx, 0
    pushq %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r12, 0
    pushq %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r13, 0
    pushq %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r14, 0
    pushq %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset r15, 0
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    /* The new stack has the same layout: the CFI above now describes the
     * frame of the context being resumed. */
    movq (%rsi), %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore r15
    popq %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore r14
    popq %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore r13
    popq %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore r12
    popq %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbx
    popq %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore rbp
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
