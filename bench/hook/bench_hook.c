/* hook: what a hooked read costs when it does not block, next to libc's
 * own read on the same fd: off a coroutine (a thread with no scheduler)
 * and on one (the hooks made the fd non-blocking and take the parking
 * path's checks). A 0-byte read of a pipe: the system call alone.
 *
 *   bench_hook [-n N]
 *
 * Each figure is the best of ROUNDS rounds, taken in turn with the
 * others, so that a busy machine's noise does not land on one of them.
 * Prints hook_read_libc_ns, hook_read_off_co_ns, hook_read_on_co_ns and
 * the two differences (hook_extra_off_co_ns, hook_extra_on_co_ns). */
#define _GNU_SOURCE
#include "../bench_common.h"
#include "eventor.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

typedef ssize_t (*read_fn)(int, void *, size_t);

#define ROUNDS 7

static long n = 300000;
static int fds[2];
static read_fn libc_read;

static double per_call_ns(read_fn fn)
{
    char c;
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++)
        if (fn(fds[0], &c, 0) != 0)
            abort();
    return (bench_now_s() - t0) * 1e9 / (double)n;
}

/* On a thread with no scheduler: libc's figure there first, then ours,
 * since a new thread's system calls need not cost what main's do. */
static void *off_co(void *arg)
{
    double *d = arg;
    d[0] = per_call_ns(libc_read);
    d[1] = per_call_ns(read);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "-n"))
        n = atol(argv[2]);
    /* libc's own read, behind the hooks that the program's `read` is. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    libc_read = libc ? (read_fn)dlsym(libc, "read") : NULL;
    if (!libc_read || pipe(fds) < 0) {
        fprintf(stderr, "bench_hook: no libc read or pipe\n");
        return 1;
    }
    double base = 1e18, tbase = 1e18, off = 1e18, on = 1e18;
    for (int r = 0; r < ROUNDS; r++) {
        double b = per_call_ns(libc_read), o[2];
        pthread_t th;
        pthread_create(&th, NULL, off_co, o);
        pthread_join(th, NULL);
        evt_yield(); /* this thread has a scheduler: calls take the hooks */
        double c = per_call_ns(read);
        base = b < base ? b : base;
        tbase = o[0] < tbase ? o[0] : tbase;
        off = o[1] < off ? o[1] : off;
        on = c < on ? c : on;
    }
    bench_print("hook_read_libc_ns", base, "ns");
    bench_print("hook_read_off_co_ns", off, "ns");
    bench_print("hook_read_on_co_ns", on, "ns");
    bench_print("hook_extra_off_co_ns", off - tbase, "ns");
    bench_print("hook_extra_on_co_ns", on - base, "ns");
    return 0;
}
