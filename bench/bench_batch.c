/* batch_sleep: the seed's scenario at scale. N items, each sleeping D ms,
 * through the batch engine with C items at once, in this process or in
 * each of P worker processes (-p) or T worker threads (-t); the ideal wall
 * time is ceil(N/(P x C)) x D. Prints batch_sleep_wall_s and
 * batch_sleep_vs_ideal (batch_sleep_procs_* with -p, batch_sleep_threads_*
 * with -t; the wall time includes starting the workers).
 *
 *   bench_batch [-n 100000] [-c 1000] [-d 10] [-p 0 | -t 0]
 */
#include "bench_common.h"
#include "eventor.h"

#include <stdint.h>

static long delay_ms;

static int sleeper(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *len, void *user)
{
    (void)t, (void)out, (void)cap, (void)len, (void)user;
    return evt_sleep(evt_now() + delay_ms);
}

typedef struct counter {
    long at, n;
} counter_t;

static int next_item(const void **item, size_t *len, void *src)
{
    counter_t *c = src;
    if (c->at == c->n)
        return 0;
    c->at++;
    *item = "x";
    *len = 1;
    return 1;
}

static long arg(int argc, char **argv, const char *flag, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], flag))
            return atol(argv[i + 1]);
    return def;
}

int main(int argc, char **argv)
{
    long n = arg(argc, argv, "-n", 100000);
    long c = arg(argc, argv, "-c", 1000);
    long p = arg(argc, argv, "-p", 0);
    long t = arg(argc, argv, "-t", 0);
    delay_ms = arg(argc, argv, "-d", 10);
    counter_t src = {0, n};
    evt_batch_opts_t o = {.coroutines = (size_t)c, .processes = (size_t)p,
                          .threads = (size_t)t, .ordered = 1};
    evt_batch_report_t r;
    double t0 = bench_now_s();
    if (evt_batch_run(&o, sleeper, next_item, &src, &r) < 0 || r.ok != (uint64_t)n) {
        perror("bench_batch");
        return 1;
    }
    double wall = bench_now_s() - t0;
    long width = c * (p ? p : t ? t : 1);
    double ideal = (double)((n + width - 1) / width) * (double)delay_ms / 1000.0;
    const char *name = p   ? "batch_sleep_procs"
                       : t ? "batch_sleep_threads"
                           : "batch_sleep";
    printf("%s_wall_s %.3f s\n", name, wall);
    printf("%s_vs_ideal %.3f x\n", name, wall / ideal);
    return 0;
}
