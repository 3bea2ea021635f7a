/* hook_pq: libpq through libeventor-hook. Q `SELECT 1` over C connections
 * from C coroutines of one thread (the hooks make PQexec park only its
 * coroutine), next to the same over C threads (libpq as it is), against a
 * PostgreSQL bench/run.sh starts (scripts/pg-temp.sh).
 *
 *   bench_hook_pq CONNINFO [--conns 50] [--queries 10000]
 *
 * Rounds alternate the two shapes. Prints hook_pq_{co,threads}_wall_s and
 * _cpu_us_per_query (medians of ROUNDS), and their ratios co / threads. */
#define _GNU_SOURCE
#include "../bench_common.h"
#include "eventor.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#define ROUNDS 3

static const char *conninfo;
static int conns = 50;
static long queries = 10000;
static atomic_long next_q;
static atomic_int failed;

/* One connection: queries taken from the shared count until none is left. */
static void *client(void *arg)
{
    (void)arg;
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_hook_pq: %s", PQerrorMessage(c));
        atomic_store(&failed, 1);
    }
    while (!atomic_load(&failed) && atomic_fetch_add(&next_q, 1) < queries) {
        PGresult *r = PQexec(c, "SELECT 1");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "bench_hook_pq: %s", PQerrorMessage(c));
            atomic_store(&failed, 1);
        }
        PQclear(r);
    }
    PQfinish(c);
    return NULL;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One run of a shape: wall s in w[0], CPU us per query in w[1]. */
static void run(int on_threads, double *w)
{
    atomic_store(&next_q, 0);
    double t0 = bench_now_s(), c0 = cpu_s();
    if (on_threads) {
        pthread_t th[conns];
        for (int i = 0; i < conns; i++)
            pthread_create(&th[i], NULL, client, NULL);
        for (int i = 0; i < conns; i++)
            pthread_join(th[i], NULL);
    } else {
        evt_group_t *g = evt_group_new();
        for (int i = 0; i < conns; i++)
            evt_group_spawn(g, client, NULL);
        evt_group_join(g, -1);
        evt_group_free(g);
    }
    w[0] = bench_now_s() - t0;
    w[1] = (cpu_s() - c0) * 1e6 / (double)queries;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, ROUNDS, sizeof *v, cmp);
    return v[ROUNDS / 2];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: bench_hook_pq CONNINFO [--conns C] [--queries Q]\n",
              stderr);
        return 2;
    }
    conninfo = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--conns"))
            conns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--queries"))
            queries = atol(argv[i + 1]);
    }
    double cw[ROUNDS], cc[ROUNDS], tw[ROUNDS], tc[ROUNDS], w[2];
    for (int r = 0; r < ROUNDS && !atomic_load(&failed); r++) {
        run(0, w);
        cw[r] = w[0], cc[r] = w[1];
        run(1, w);
        tw[r] = w[0], tc[r] = w[1];
    }
    if (atomic_load(&failed))
        return 1;
    double a = median(cw), b = median(cc), c = median(tw), d = median(tc);
    bench_print("hook_pq_co_wall_s", a, "s");
    bench_print("hook_pq_threads_wall_s", c, "s");
    bench_print("hook_pq_co_cpu_us_per_query", b, "us");
    bench_print("hook_pq_threads_cpu_us_per_query", d, "us");
    bench_print("hook_pq_co_vs_threads_wall", a / c, "x");
    bench_print("hook_pq_co_vs_threads_cpu", b / d, "x");
    return 0;
}
