/* switch: two coroutines hand the thread to each other N times through
 * evt_yield (the scheduler's full path), next to the bare asm switch between
 * two contexts, so the ratio is measured on the same machine. */
#include "bench_common.h"
#include "core/context.h"
#include "eventor.h"

#include <stdint.h>
#include <sys/mman.h>

static long rounds;

static void *pinger(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++)
        evt_yield();
    return NULL;
}

static evt__ctx_t main_ctx, peer_ctx;

/* Both sides switch from this same loop, as the two pingers both yield from
 * the same place: the CPU then predicts every return, in both measures. */
__attribute__((noinline)) static void bare_loop(evt__ctx_t *self,
                                                evt__ctx_t *other)
{
    for (long i = 0; i < rounds; i++)
        evt__ctx_switch(self, other);
}

static void bare_peer(void *arg)
{
    (void)arg;
    bare_loop(&peer_ctx, &main_ctx);
    for (;;)
        evt__ctx_switch(&peer_ctx, &main_ctx);
}

/* This VM's neighbours steal time in bursts: each measure is the best of
 * REPEATS runs of rounds / REPEATS round trips. */
#define REPEATS 5

static double yield_run(void)
{
    /* Both coroutines yield `rounds` times: 2 * rounds switches. */
    evt_co_t *a = evt_spawn(pinger, NULL), *b = evt_spawn(pinger, NULL);
    double t0 = bench_now_s();
    evt_join(a, -1, NULL);
    evt_join(b, -1, NULL);
    return (bench_now_s() - t0) * 1e9 / (2.0 * (double)rounds);
}

static double bare_run(void *stack, size_t len)
{
    evt__ctx_make(&peer_ctx, stack, len, bare_peer, NULL);
    double t0 = bench_now_s();
    bare_loop(&main_ctx, &peer_ctx);
    return (bench_now_s() - t0) * 1e9 / (2.0 * (double)rounds);
}

int main(int argc, char **argv)
{
    rounds = bench_arg_n(argc, argv, 10000000) / REPEATS;
    size_t len = 64 * 1024;
    void *stack = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    double yield_ns = 1e9, bare_ns = 1e9;
    for (int i = 0; i < REPEATS; i++) {
        double y = yield_run(), b = bare_run(stack, len);
        yield_ns = y < yield_ns ? y : yield_ns;
        bare_ns = b < bare_ns ? b : bare_ns;
    }
    bench_print("switch_ns", yield_ns, "ns");
    bench_print("bare_switch_ns", bare_ns, "ns");
    bench_print("switch_vs_bare", yield_ns / bare_ns, "x");
    return 0;
}
