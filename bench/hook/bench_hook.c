/* hook: what a hooked read/write costs when it does not block, next to
 * libc's own on the same fds: off a coroutine (a thread with no scheduler)
 * and on one (the hooks made the fds non-blocking and take the parking
 * path's checks). Each call moves one byte through a pipe whose other
 * end has it ready: a successful call that never waits.
 *
 *   bench_hook [-n N]
 *
 * Rounds of each figure are taken in turn with the others, so that a busy
 * machine's noise does not land on one of them; each figure is the median
 * of ROUNDS rounds (min and max printed too). Prints hook_rw_libc_ns,
 * hook_rw_off_co_ns, hook_rw_on_co_ns (ns per read or write) and the two
 * differences (hook_extra_off_co_ns, hook_extra_on_co_ns). */
#define _GNU_SOURCE
#include "../bench_common.h"
#include "eventor.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*write_fn)(int, const void *, size_t);

#define ROUNDS 9

static long n = 100000;
static int sv[2]; /* a pipe: [0] read end, [1] write end */
static read_fn libc_read;
static write_fn libc_write;

/* ns per call: n writes of a byte to one end, each read back at once. */
static double per_call_ns(read_fn rd, write_fn wr)
{
    char c = 'x';
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++)
        if (wr(sv[1], &c, 1) != 1 || rd(sv[0], &c, 1) != 1)
            abort();
    return (bench_now_s() - t0) * 1e9 / (2.0 * (double)n);
}

/* On a thread with no scheduler: libc's figure there first, then ours,
 * since a new thread's system calls need not cost what main's do. */
static void *off_co(void *arg)
{
    double *d = arg;
    d[0] = per_call_ns(libc_read, libc_write);
    d[1] = per_call_ns(read, write);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[ROUNDS], printed with its range. */
static double report(const char *name, double *v)
{
    qsort(v, ROUNDS, sizeof *v, cmp);
    char lo[64], hi[64];
    snprintf(lo, sizeof lo, "%s_min", name);
    snprintf(hi, sizeof hi, "%s_max", name);
    bench_print(name, v[ROUNDS / 2], "ns");
    bench_print(lo, v[0], "ns");
    bench_print(hi, v[ROUNDS - 1], "ns");
    return v[ROUNDS / 2];
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "-n"))
        n = atol(argv[2]);
    /* libc's own calls, behind the hooks that the program's are. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    libc_read = libc ? (read_fn)dlsym(libc, "read") : NULL;
    libc_write = libc ? (write_fn)dlsym(libc, "write") : NULL;
    if (!libc_read || !libc_write ||
        pipe(sv) < 0) {
        fprintf(stderr, "bench_hook: no libc read/write or pipe\n");
        return 1;
    }
    double base[ROUNDS], tbase[ROUNDS], off[ROUNDS], on[ROUNDS];
    double xoff[ROUNDS], xon[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double o[2];
        pthread_t th;
        pthread_create(&th, NULL, off_co, o);
        pthread_join(th, NULL);
        base[r] = per_call_ns(libc_read, libc_write);
        evt_yield(); /* this thread has a scheduler: calls take the hooks */
        on[r] = per_call_ns(read, write);
        tbase[r] = o[0];
        off[r] = o[1];
        xoff[r] = o[1] - o[0];
        xon[r] = on[r] - base[r];
    }
    report("hook_rw_libc_ns", base);
    report("hook_rw_libc_thread_ns", tbase);
    report("hook_rw_off_co_ns", off);
    report("hook_rw_on_co_ns", on);
    report("hook_extra_off_co_ns", xoff);
    report("hook_extra_on_co_ns", xon);
    return 0;
}
