/* Thread pool round trip: submit a trivial task and take its result, for
 * 1M tasks on 4 threads (as ThreadPoolExecutor(4) in the peer), in batches
 * of 10k submits followed by their 10k results. Prints the time per task.
 * Usage: bench_threadpool [-n TASKS] [-t THREADS] */
#include "bench_common.h"

#include <eventor.h>
#include <stdint.h>

enum { BATCH = 10000 };

static int task(void *arg, void **result)
{
    *result = arg;
    return 0;
}

int main(int argc, char **argv)
{
    long n = bench_arg_n(argc, argv, 1000000);
    long threads = 4;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "-t"))
            threads = strtol(argv[i + 1], NULL, 10);
    evt_threadpool_t *pool = evt_threadpool_new((size_t)threads, NULL);
    static evt_future_t *fs[BATCH];
    if (!pool)
        return 1;
    double t0 = bench_now_s();
    for (long done = 0; done < n; done += BATCH) {
        long b = n - done < BATCH ? n - done : BATCH;
        for (long i = 0; i < b; i++)
            if (!(fs[i] = evt_threadpool_submit(pool, task,
                                                (void *)(intptr_t)i)))
                return 1;
        for (long i = 0; i < b; i++) {
            if (evt_future_wait(fs[i], -1) < 0 ||
                evt_future_result(fs[i]) != (void *)(intptr_t)i)
                return 1;
            evt_future_free(fs[i]);
        }
    }
    double t = bench_now_s() - t0;
    evt_threadpool_free(pool);
    bench_print("threadpool_submit_us", t * 1e6 / (double)n, "us");
    return 0;
}
