/* spawn: spawn and join N no-op coroutines, in batches of 1000 spawned
 * then joined (as the Go peer does with a WaitGroup). */
#include "bench_common.h"
#include "eventor.h"

static void *noop(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    long n = bench_arg_n(argc, argv, 1000000);
    enum { BATCH = 1000 };
    evt_co_t *cos[BATCH];
    /* Warm the stack pool the way a long-running program has it. */
    for (int i = 0; i < BATCH; i++)
        cos[i] = evt_spawn(noop, NULL);
    for (int i = 0; i < BATCH; i++)
        evt_join(cos[i], -1, NULL);
    double t0 = bench_now_s();
    for (long done = 0; done < n; done += BATCH) {
        for (int i = 0; i < BATCH; i++)
            cos[i] = evt_spawn(noop, NULL);
        for (int i = 0; i < BATCH; i++)
            evt_join(cos[i], -1, NULL);
    }
    double t = bench_now_s() - t0;
    bench_print("spawn_join_ns", t * 1e9 / (double)n, "ns");
    return 0;
}
