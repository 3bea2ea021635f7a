/* Two figures of the Redis broker that are times, not rates: the latency
 * of one item at low load (submit, then its result seen by the submitter,
 * one item at a time, with a worker waiting), and the time to recover a
 * SIGKILLed worker's items (the kill to the last of them stored by another
 * worker) next to the visibility timeout. Workers are this program run
 * again (`--worker MODE URL VIS_MS`), so each is a clean process.
 * Usage: bench_redis_lat [--url redis://HOST:PORT] [-n ITEMS] [-k K]
 *        [-v VIS_MS]   (no --url: a redis-server of its own) */
#define EVT_REDIS_SERVER "redis-server"
#include "../tests/broker/redis_server.h"

#include "bench_common.h"

/* --- the workers ---------------------------------------------------------- */

/* "hold": the item that keeps the batch open while the latency items come
 * one by one; it returns when stdin closes (the bench is done). */
static int lat_fn(const evt_batch_task_t *t, void *out, size_t cap,
                  size_t *len, void *user)
{
    (void)user;
    if (t->len == 4 && memcmp(t->item, "hold", 4) == 0)
        while (evt_wait_fd(0, EVT_IN, -1) >= 0) {
            char b[64];
            if (read(0, b, sizeof b) <= 0)
                break;
        }
    *len = t->len < cap ? t->len : cap;
    memcpy(out, t->item, *len);
    return 0;
}

/* The worker to be killed: holds every item it takes. */
static int hang_fn(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *len, void *user)
{
    (void)t, (void)out, (void)cap, (void)len, (void)user;
    evt_sleep(-1);
    return -1;
}

static int worker(const char *mode, const char *url, const char *vis)
{
    int hang = strcmp(mode, "hang") == 0;
    evt_batch_opts_t o = {.coroutines = hang ? 1000 : 8};
    evt_redis_opts_t ro = {.count = hang ? 1000 : 0,
                           .visibility_ms = atol(vis)};
    ro.consumer = mode;
    evt_batch_report_t rep;
    return evt_batch_run_redis(&o, hang ? hang_fn : lat_fn, url, &ro,
                               &rep) < 0 ? 1 : 0;
}

/* Run `self --worker MODE URL VIS`; *in (when asked) is its stdin. */
static pid_t spawn(const char *mode, const char *url, int vis, int *in)
{
    int p[2];
    if (in && pipe(p) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* none outlives the bench */
        if (in) {
            dup2(p[0], 0);
            close(p[0]), close(p[1]);
        }
        char v[24];
        snprintf(v, sizeof v, "%d", vis);
        execl("/proc/self/exe", "bench_redis_lat", "--worker", mode, url, v,
              (char *)NULL);
        _exit(127);
    }
    if (in) {
        close(p[0]);
        *in = p[1];
    }
    return pid;
}

/* --- the submitter's side ------------------------------------------------- */

static long long int_of(redisContext *c, const char *fmt, const char *key)
{
    redisReply *r = redisCommand(c, fmt, key);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
             r->element[0]->type == REDIS_REPLY_INTEGER)
        v = r->element[0]->integer; /* XPENDING's summary */
    if (r)
        freeReplyObject(r);
    return v;
}

/* Poll (every 100 us) until the command's integer reaches want; the time
 * it took in ms, or -1 past the deadline. */
static double wait_for(redisContext *c, const char *fmt, const char *key,
                       long long want, int64_t deadline)
{
    double t0 = bench_now_s();
    while (int_of(c, fmt, key) < want) {
        if (evt_now() > deadline)
            return -1;
        nanosleep(&(struct timespec){0, 100000}, NULL); /* poll */
    }
    return (bench_now_s() - t0) * 1000.0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* n items submitted one at a time, each once the one before has its
 * result, while the worker waits (it holds the "hold" item, so that the
 * batch is not over between two items). */
static int latency(const char *url, redisContext *c, int n, int vis)
{
    const char *res = "eventor:{lat}:results", *items = "eventor:{lat}:items";
    const void *hold[] = {"hold"};
    int in;
    if (evt_redis_submit(url, hold, NULL, 1) < 0)
        return -1;
    pid_t w = spawn("lat", url, vis, &in);
    int64_t dl = evt_now() + 30000;
    if (w < 0 || wait_for(c, "XPENDING %s eventor", items, 1, dl) < 0)
        return -1;
    double *ms = malloc((size_t)n * sizeof *ms);
    for (int i = 0; ms && i < n; i++) {
        char b[24];
        snprintf(b, sizeof b, "%d", i);
        const void *one[] = {b};
        double t0 = bench_now_s();
        if (evt_redis_submit(url, one, NULL, 1) < 0 ||
            wait_for(c, "HLEN %s", res, i + 1, evt_now() + 10000) < 0)
            return -1;
        ms[i] = (bench_now_s() - t0) * 1000.0;
    }
    close(in);
    int st;
    if (!ms || waitpid(w, &st, 0) != w || st != 0)
        return -1;
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    printf("redis_latency_p50_ms %.2f ms\n", ms[n / 2]);
    printf("redis_latency_p99_ms %.2f ms\n", ms[n * 99 / 100]);
    printf("redis_latency_visibility_ms %d ms\n", vis);
    free(ms);
    return 0;
}

/* The idle time (ms) of the oldest pending item of the group, or -1. */
static long long idle_of(redisContext *c, const char *items)
{
    redisReply *r = redisCommand(c, "XPENDING %s eventor - + 1", items);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->elements >= 3)
        v = r->element[0]->element[2]->integer;
    if (r)
        freeReplyObject(r);
    return v;
}

static long long clients(redisContext *c)
{
    redisReply *r = redisCommand(c, "INFO clients");
    const char *p = r && r->type == REDIS_REPLY_STRING
                        ? strstr(r->str, "connected_clients:") : NULL;
    long long v = p ? atoll(p + 18) : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

/* k items taken by a worker that holds them; a second worker waits (it
 * has joined the group); the first is SIGKILLed: the time until the
 * second has stored every result, and the part of it past the moment the
 * leases lapsed (the killed worker renewed them every third of vis). */
static int recovery(const char *url, redisContext *c, int k, int vis)
{
    const char *items = "eventor:{rec}:items";
    char (*b)[24] = malloc((size_t)k * sizeof *b);
    const void **its = malloc((size_t)k * sizeof *its);
    for (int i = 0; b && its && i < k; i++) {
        snprintf(b[i], sizeof b[i], "%d", i);
        its[i] = b[i];
    }
    if (!b || !its || evt_redis_submit(url, its, NULL, (size_t)k) < 0)
        return -1;
    free(b), free(its);
    int64_t dl = evt_now() + 30000;
    pid_t a = spawn("hang", url, vis, NULL);
    if (a < 0 || wait_for(c, "XPENDING %s eventor", items, k, dl) < 0)
        return -1;
    /* The second worker is up once its reader has connected (Redis 7.0
     * adds a consumer to the group only once it has read an entry). */
    long long before = clients(c);
    pid_t t = spawn("take", url, vis, NULL);
    while (t > 0 && clients(c) <= before) {
        if (evt_now() > dl)
            return -1;
        nanosleep(&(struct timespec){0, 100000}, NULL); /* poll */
    }
    kill(a, SIGKILL);
    double t0 = bench_now_s();
    long long idle = idle_of(c, items);
    waitpid(a, NULL, 0);
    if (wait_for(c, "HLEN %s", "eventor:{rec}:results", k,
                 evt_now() + 10L * vis + 30000) < 0)
        return -1;
    double ms = (bench_now_s() - t0) * 1000.0;
    int st;
    if (waitpid(t, &st, 0) != t || st != 0)
        return -1;
    printf("redis_recover_items %d items\n", k);
    printf("redis_recover_visibility_ms %d ms\n", vis);
    printf("redis_recover_ms %.1f ms\n", ms);
    printf("redis_recover_vs_visibility %.2f ratio\n", ms / vis);
    if (idle >= 0)
        printf("redis_recover_past_lapse_ms %.1f ms\n",
               ms - (double)(vis - idle));
    return 0;
}

static const char *opt(int argc, char **argv, const char *name,
                       const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--worker") == 0)
        return worker(argv[2], argv[3], argv[4]);
    srv_t s;
    const char *base = opt(argc, argv, "--url", NULL);
    if (!base && srv_new(&s, "x") < 0)
        return 1;
    char host[96], lat[128], rec[128];
    snprintf(host, sizeof host, "%s", base ? base : s.url);
    char *slash = strchr(host + 8, '/');
    if (slash)
        *slash = 0;
    snprintf(lat, sizeof lat, "%s/lat", host);
    snprintf(rec, sizeof rec, "%s/rec", host);
    srv_t at = {.port = atoi(strrchr(host, ':') + 1)};
    redisContext *c = srv_conn(&at);
    int vis = atoi(opt(argc, argv, "-v", "1000"));
    int rc = !c || evt_redis_drop(lat) < 0 || evt_redis_drop(rec) < 0 ||
             latency(lat, c, atoi(opt(argc, argv, "-n", "200")),
                     atoi(opt(argc, argv, "--lat-vis", "30000"))) < 0 ||
             recovery(rec, c, atoi(opt(argc, argv, "-k", "100")), vis) < 0;
    if (rc)
        fprintf(stderr, "bench_redis_lat: failed\n");
    evt_redis_drop(lat);
    evt_redis_drop(rec);
    if (c)
        redisFree(c);
    if (!base)
        srv_free(&s);
    return rc;
}
