/* eventor fetch: the run. The URL list goes through the batch engine (its
 * concurrency, processes, rate, order and signals); each URL's outcome is
 * written (stdout, --jsonl or the -o file's rename), then its joblog line,
 * so a crash leaves the log naming only URLs whose output is out. Ends with
 * the report on stderr and the job runner's exit status. */
#include "fetch.h"

#include <dirent.h>
#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct fetch_opts fo; /* global: worker processes are copies */

/* The run's tallies, for the report. */
static struct {
    uint64_t cls[6];    /* 0: transport errors, 2..5: by status class */
    uint64_t other;     /* 1xx, or no status at all */
    uint64_t failed, done;
    uint64_t requests;  /* attempts, retries included */
    long long bytes;
    double *lat;        /* seconds per URL */
    size_t nlat;
} st;

int fetch_requested(int argc, char **argv)
{
    return argc > 1 && !strcmp(argv[1], "fetch");
}

static int fetch_failed(const struct fetch_res *r)
{
    return r->err != 0 || r->status >= 400 || r->status == 0;
}

/* --per-host on the multi handle of the thread running the tasks (each
 * worker process has its own: N is shared among them). */
static void per_host_limit(void)
{
    static _Thread_local int done;
    if (done || !fo.per_host)
        return;
    done = 1;
    long n = fo.procs > 1 ? fo.per_host / fo.procs : fo.per_host;
    evt_curl_set_max_host_connections((size_t)(n > 0 ? n : 1));
}

/* An item is its seq (8 bytes) and the URL, NUL-terminated. */
static int fetch_task(const evt_batch_task_t *t, void *out, size_t cap,
                      size_t *out_len, void *user)
{
    (void)user;
    per_host_limit();
    uint64_t seq;
    memcpy(&seq, t->item, sizeof seq);
    struct fetch_res *r = out;
    if (cap < sizeof *r) {
        errno = EMSGSIZE;
        return -1;
    }
    int want_body = !fo.outdir && !fo.spool && (!fo.jsonl || fo.body);
    fetch_one(&fo, seq, (const char *)t->item + sizeof seq, want_body, r);
    *out_len = sizeof *r;
    return 0;
}

/* The list, less what --resume skips. */
struct src {
    size_t next;
    char *buf;
    size_t cap;
};

static int next_url(const void **item, size_t *len, void *arg)
{
    struct src *s = arg;
    while (s->next < fo.urls.n && joblog_skip(s->next + 1))
        s->next++;
    if (s->next >= fo.urls.n)
        return 0;
    uint64_t seq = ++s->next;
    const char *u = fo.urls.v[seq - 1];
    size_t n = sizeof seq + strlen(u) + 1;
    if (n > s->cap) {
        char *b = realloc(s->buf, n);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = n;
    }
    memcpy(s->buf, &seq, sizeof seq);
    memcpy(s->buf + sizeof seq, u, n - sizeof seq);
    *item = s->buf;
    *len = n;
    return 1;
}

/* Bodies of worker processes (-P without -o, where stdout or --body wants
 * them) come back as files: a worker's spool/<seq>, renamed into place when
 * whole, which on_result reads back and removes. What a dead worker or a
 * crash left is removed at the end. */
static char spool_dir[PATH_MAX];

static int spool_open(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(spool_dir, sizeof spool_dir, "%s/eventor-fetch.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(spool_dir)) {
        fetch_error("cannot make a directory in %s for the workers' bodies:"
                    " %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
        return -1;
    }
    fo.spool = spool_dir;
    return 0;
}

static void spool_close(void)
{
    if (!fo.spool)
        return;
    DIR *d = opendir(fo.spool);
    int dfd = d ? dirfd(d) : -1;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(dfd, e->d_name, 0);
    if (d)
        closedir(d);
    rmdir(fo.spool);
    fo.spool = NULL;
}

/* The body a worker left for seq into r->body, as in process. */
static void spool_take(uint64_t seq, struct fetch_res *r)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%llu", fo.spool, (unsigned long long)seq);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    unlink(path);
    struct stat sb;
    size_t n = 0;
    if (fstat(fd, &sb) == 0 && (r->body = malloc((size_t)sb.st_size + 1))) {
        for (ssize_t k; n < (size_t)sb.st_size; n += (size_t)k)
            if ((k = read(fd, r->body + n, (size_t)sb.st_size - n)) <= 0)
                break;
        r->body[n] = 0;
        r->bytes = (long long)n;
    }
    close(fd);
}

static void write_jsonl(uint64_t seq, const char *url,
                        const struct fetch_res *r)
{
    printf("{\"seq\":%llu,\"url\":", (unsigned long long)seq);
    json_string(stdout, url, strlen(url));
    printf(",\"status\":%d,\"bytes\":%lld,\"time\":%.6f,\"attempts\":%d,"
           "\"error\":", r->status, r->bytes, r->secs, r->attempts);
    if (r->msg[0])
        json_string(stdout, r->msg, strlen(r->msg));
    else
        fputs("null", stdout);
    if (fo.body) {
        fputs(",\"body\":", stdout);
        json_string(stdout, r->body ? r->body : "", (size_t)r->bytes);
    }
    fputs("}\n", stdout);
}

static void tally(const struct fetch_res *r, int failed)
{
    if (r->err)
        st.cls[0]++;
    else if (r->status >= 200 && r->status < 600)
        st.cls[r->status / 100]++;
    else
        st.other++;
    st.failed += (uint64_t)failed;
    st.done++;
    st.requests += (uint64_t)r->attempts;
    st.bytes += r->bytes;
    st.lat[st.nlat++] = r->secs;
}

static void on_result(const evt_batch_task_t *t, int status,
                      const void *res, size_t len, void *user)
{
    (void)user;
    uint64_t seq;
    memcpy(&seq, t->item, sizeof seq);
    const char *url = (const char *)t->item + sizeof seq;
    struct fetch_res r;
    if (status == 0 && len == sizeof r) {
        memcpy(&r, res, sizeof r);
        if (fo.spool)
            spool_take(seq, &r);
    } else { /* the engine's own failure: a worker died, a halt */
        memset(&r, 0, sizeof r);
        r.err = status ? status : EIO;
        snprintf(r.msg, sizeof r.msg, "%s", evt_strerror(r.err));
        r.start = wall_now();
    }
    int failed = fetch_failed(&r);
    if (r.err == EINVAL || (r.err && r.err != ECANCELED && fo.quiet == 0 &&
                            !fo.jsonl))
        fetch_error("%s (#%llu '%s')", r.msg, (unsigned long long)seq, url);
    progress_hide();
    if (fo.jsonl)
        write_jsonl(seq, url, &r);
    else if (!fo.outdir && r.body && !failed)
        fwrite(r.body, 1, (size_t)r.bytes, stdout);
    if (!fo.outdir)
        fflush(stdout);
    free(r.body);
    tally(&r, failed);
    progress_show();
    progress_update(st.done, st.failed, 0);
    if (r.err == ECANCELED)
        return; /* never started or stopped: not finished, not logged */
    struct job j = {.seq = seq, .cmd = (char *)url, .start = r.start,
                    .runtime = r.secs, .out_bytes = r.bytes,
                    .exitval = r.err ? 1 : r.status >= 400 ? r.status : 0};
    joblog_write(&j);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double p)
{
    if (!st.nlat)
        return 0;
    size_t i = (size_t)(p * (double)(st.nlat - 1) + 0.5);
    return st.lat[i] * 1000.0;
}

static void report(double secs, uint64_t skipped)
{
    qsort(st.lat, st.nlat, sizeof *st.lat, cmp_double);
    fprintf(stderr,
            "eventor fetch: %llu URLs: 2xx %llu, 3xx %llu, 4xx %llu, "
            "5xx %llu, errors %llu", (unsigned long long)st.done,
            (unsigned long long)st.cls[2], (unsigned long long)st.cls[3],
            (unsigned long long)st.cls[4], (unsigned long long)st.cls[5],
            (unsigned long long)st.cls[0]);
    if (st.other)
        fprintf(stderr, ", other %llu", (unsigned long long)st.other);
    if (skipped)
        fprintf(stderr, ", skipped (--resume) %llu",
                (unsigned long long)skipped);
    fprintf(stderr, "; %lld bytes in %.3f s, %.0f requests/s; latency "
            "p50 %.1f ms, p99 %.1f ms\n", st.bytes, secs,
            secs > 0 ? (double)st.requests / secs : 0.0, pct(0.50),
            pct(0.99));
}

/* Resume's joblog and the progress bar, through the job runner's code. */
static int start_joblog(uint64_t *skipped)
{
    static struct opts jo;
    jo.joblog = fo.joblog;
    jo.resume = fo.resume;
    jo.resume_failed = fo.resume_failed;
    jo.bar = fo.bar;
    jo.eta = fo.eta;
    jo.jobs = fo.jobs * (fo.procs ? fo.procs : 1);
    if (joblog_open(&jo) < 0)
        return -1;
    *skipped = 0;
    for (size_t i = 0; i < fo.urls.n; i++)
        *skipped += (uint64_t)joblog_skip(i + 1);
    progress_start(&jo, (long)(fo.urls.n - *skipped));
    return 0;
}

static int run(void)
{
    uint64_t skipped;
    if (fo.outdir) {
        struct stat sb;
        if (stat(fo.outdir, &sb) < 0 && mkdir(fo.outdir, 0777) < 0) {
            fetch_error("cannot make %s: %s", fo.outdir, strerror(errno));
            return CLI_EXIT_ERROR;
        }
    }
    if (fo.procs && !fo.outdir && (!fo.jsonl || fo.body) && spool_open() < 0)
        return CLI_EXIT_ERROR;
    if (!(st.lat = malloc((fo.urls.n + 1) * sizeof *st.lat)) ||
        start_joblog(&skipped) < 0)
        return CLI_EXIT_ERROR;
    evt_curl_set_max_transfers((size_t)fo.jobs);
    evt_batch_opts_t bo = {
        .coroutines = (size_t)fo.jobs, .processes = (size_t)fo.procs,
        .rate = fo.rate, .ordered = fo.keep_order,
        .max_result = sizeof(struct fetch_res), .stop_on_signals = 1,
        .on_result = on_result};
    struct src s = {0};
    evt_batch_report_t rep;
    int64_t t0 = evt_now();
    int rc = evt_batch_run(&bo, fetch_task, next_url, &s, &rep);
    int e = errno;
    free(s.buf);
    progress_end();
    if (rc < 0) {
        fetch_error("%s", evt_strerror(e));
        return CLI_EXIT_ERROR;
    }
    if (!fo.quiet)
        report((double)(evt_now() - t0) / 1000.0, skipped);
    if (rep.signal) /* as the job runner: a SIGINT or SIGTERM is 255 */
        return CLI_EXIT_ERROR;
    return st.failed > 101 ? 101 : (int)st.failed;
}

int fetch_main(int argc, char **argv)
{
    int rc = fetch_opts_parse(&fo, argc, argv);
    if (rc == 0 && fetch_global_init() < 0) {
        fetch_error("cannot initialise libcurl");
        rc = -1;
    }
    if (rc == 0)
        rc = run();
    else
        rc = rc > 0 ? 0 : CLI_EXIT_ERROR;
    spool_close();
    joblog_close();
    free(st.lat);
    fetch_opts_free(&fo);
    return rc;
}
