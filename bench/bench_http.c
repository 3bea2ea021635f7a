/* http: GETs through evt_curl_perform (libcurl on the reactor) against
 * bench_http_server, C at once, the latency-bound figure of issue 14: with
 * the server holding each answer D ms, the nominal ideal wall time is
 * ceil(N/C) x D (bench_http_latency.sh measures the server-bound one).
 *
 *   bench_http --port P [--requests 20000] [--conc 200] [--delay-ms 10]
 *              [--threads 1] [--name http_latency]
 *
 * With --threads T, T threads of C/T workers each (every thread has its
 * own multi handle and connections), as the batch engine's -T runs them.
 *
 * Prints NAME_wall_s, NAME_vs_ideal (when D > 0), NAME_req_per_s and
 * NAME_cpu_us_per_req (this process's user+system CPU per request, the
 * connections' closing included).
 * Built again as bench_hook_http (BENCH_EASY_HOOKS, linked with
 * libeventor-hook): the same workers call plain curl_easy_perform, which
 * the hooks make cooperative, for the hooks-vs-native ratio. */
#include "bench_common.h"
#include "eventor.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

static char url[128];
static long requests = 20000;
static atomic_long next_req, ok;
static atomic_int failed;

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p, (void)user;
    return size * n;
}

/* One of C workers: its own easy handle, requests taken in turn. */
static void *worker(void *arg)
{
    (void)arg;
    CURL *e = curl_easy_init();
    if (!e) {
        failed = 1;
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    while (atomic_fetch_add(&next_req, 1) < requests && !failed) {
        long status = 0;
#if defined(BENCH_EASY_HOOKS)
        CURLcode cc = curl_easy_perform(e);
        if (cc != CURLE_OK) {
            fprintf(stderr, "bench_http: %s\n", curl_easy_strerror(cc));
#else
        if (evt_curl_perform(e, evt_now() + 30000) < 0) {
            fprintf(stderr, "bench_http: %s\n",
                    curl_easy_strerror(evt_curl_result()));
#endif
            failed = 1;
            break;
        }
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        ok += status == 200;
    }
    curl_easy_cleanup(e);
    return NULL;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One thread's share: n workers on its own multi handle. */
typedef struct share {
    int n;
    double end; /* when its last answer was in */
} share_t;

static void *thread_main(void *arg)
{
    share_t *sh = arg;
    evt_curl_set_max_transfers((size_t)sh->n);
    evt_group_t *g = evt_group_new();
    for (int i = 0; i < sh->n; i++)
        evt_group_spawn(g, worker, NULL);
    evt_group_join(g, -1);
    sh->end = bench_now_s();
    evt_group_free(g);
    evt_curl_cleanup();
    return NULL;
}

int main(int argc, char **argv)
{
    int port = -1, conc = 200, delay_ms = 10, threads = 1;
    const char *name = "http_latency";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--requests"))
            requests = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--conc"))
            conc = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--delay-ms"))
            delay_ms = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--name"))
            name = argv[i + 1];
    }
    if (port <= 0 || conc <= 0 || requests <= 0 || threads <= 0 ||
        threads > conc) {
        fputs("usage: bench_http --port P [--requests N] [--conc C] "
              "[--delay-ms D] [--threads T] [--name NAME]\n", stderr);
        return 2;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    /* At program start, as libcurl's documentation asks (TLS libraries
     * load here): like Go's runtime start, outside the clock, which runs
     * from the first request to the last answer, as the peers' clocks do
     * (the connections' closing after is not the batch's). */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t tid[threads];
    share_t sh[threads];
    for (int i = 0; i < threads; i++)
        sh[i] = (share_t){.n = i ? conc / threads
                                 : conc - (threads - 1) * (conc / threads)};
    double t0 = bench_now_s(), c0 = cpu_s();
    for (int i = 1; i < threads; i++)
        pthread_create(&tid[i], NULL, thread_main, &sh[i]);
    thread_main(&sh[0]);
    double end = sh[0].end;
    for (int i = 1; i < threads; i++) {
        pthread_join(tid[i], NULL);
        end = sh[i].end > end ? sh[i].end : end;
    }
    double wall = end - t0, cpu = cpu_s() - c0;
    if (failed || ok != requests) {
        fprintf(stderr, "bench_http: %ld of %ld answered 200\n",
                (long)ok, requests);
        return 1;
    }
    char key[160];
    snprintf(key, sizeof key, "%s_wall_s", name);
    bench_print(key, wall, "s");
    if (delay_ms > 0) {
        double ideal = (double)((requests + conc - 1) / conc) * delay_ms / 1000;
        snprintf(key, sizeof key, "%s_vs_ideal", name);
        bench_print(key, wall / ideal, "x");
    }
    snprintf(key, sizeof key, "%s_req_per_s", name);
    bench_print(key, (double)requests / wall, "req/s");
    snprintf(key, sizeof key, "%s_cpu_us_per_req", name);
    bench_print(key, cpu * 1e6 / (double)requests, "us");
    return 0;
}
