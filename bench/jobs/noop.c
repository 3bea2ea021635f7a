/* The cheapest job there is: a static program that only exits 0. No
 * dynamic loader and no libc start-up, so it skips the CPU probes that make
 * `true` cost about 0.9 ms on a VM (`cpuid` traps to the hypervisor). With
 * it, a command runner's jobs/s measures the runner and the kernel's
 * fork/exec/exit, not the job. Built -nostdlib -static (see CMakeLists). */
#if defined(__x86_64__)
__attribute__((naked, noreturn)) void _start(void)
{
    __asm__("mov $60, %eax\n\t" /* exit(0) */
            "xor %edi, %edi\n\t"
            "syscall");
}
#elif defined(__aarch64__)
__attribute__((naked, noreturn)) void _start(void)
{
    __asm__("mov x8, #93\n\t" /* exit(0) */
            "mov x0, #0\n\t"
            "svc #0");
}
#else
#error "bench/jobs/noop.c: add this architecture's exit system call"
#endif
