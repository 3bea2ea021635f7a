/* Process pool figures: map of N trivial tasks over 2 workers with chunks
 * of 1 and with the automatic chunk size, and N/10 apply_async round trips
 * (all submitted, then all awaited); microseconds (nanoseconds for the
 * automatic chunk size) per task. Peer:
 * bench/peers/procpool_bench.py (multiprocessing.Pool(2)). */
#include "bench_common.h"

#include <eventor.h>

static ssize_t inc(const void *in, size_t len, void *out, size_t cap)
{
    (void)cap;
    int x;
    memcpy(&x, in, sizeof x);
    x++;
    memcpy(out, &x, sizeof x);
    return (ssize_t)len;
}

static double map_us(evt_procpool_t *p, const int *in, int *out, size_t n,
                     size_t chunksize)
{
    double t = bench_now_s();
    if (evt_procpool_map(p, inc, in, sizeof *in, n, out, sizeof *out, NULL,
                         NULL, chunksize) < 0) {
        perror("bench_procpool: map");
        exit(1);
    }
    t = bench_now_s() - t;
    for (size_t i = 0; i < n; i++)
        if (out[i] != (int)i + 1) {
            fprintf(stderr, "bench_procpool: bad result at %zu\n", i);
            exit(1);
        }
    return t * 1e6 / (double)n;
}

static double apply_async_us(evt_procpool_t *p, const int *in, int *out,
                             size_t n)
{
    evt_future_t **fs = malloc(n * sizeof *fs);
    double t = bench_now_s();
    for (size_t i = 0; i < n; i++)
        if (!(fs[i] = evt_procpool_apply_async(p, inc, &in[i], sizeof *in,
                                               &out[i], sizeof *out, NULL,
                                               NULL, NULL))) {
            perror("bench_procpool: apply_async");
            exit(1);
        }
    for (size_t i = 0; i < n; i++) {
        evt_future_wait(fs[i], -1);
        if (evt_future_err(fs[i]) || out[i] != (int)i + 1) {
            fprintf(stderr, "bench_procpool: bad result at %zu\n", i);
            exit(1);
        }
    }
    t = bench_now_s() - t;
    for (size_t i = 0; i < n; i++)
        evt_future_free(fs[i]);
    free(fs);
    return t * 1e6 / (double)n;
}

int main(int argc, char **argv)
{
    size_t n = (size_t)bench_arg_n(argc, argv, 1000000);
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    int *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    if (!p || !in || !out) {
        perror("bench_procpool");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        in[i] = (int)i;
    map_us(p, in, out, n / 100, 1); /* workers up and warm */
    bench_print("procpool_map_c1_us", map_us(p, in, out, n, 1), "us");
    /* Nanoseconds: a few per task. */
    bench_print("procpool_map_auto_ns", 1e3 * map_us(p, in, out, n, 0), "ns");
    bench_print("procpool_apply_async_us",
                apply_async_us(p, in, out, n / 10), "us");
    evt_procpool_free(p);
    free(in);
    free(out);
    return 0;
}
