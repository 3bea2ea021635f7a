/* eventor --plugin LIB.so:FN: the seed's run_with_file. Every line of a
 * file goes through a C function loaded from a shared object, in this
 * process (on coroutines), on worker threads or on worker processes, by
 * the batch engine; results come out in input order, one line each. */
#include "cli.h"
#include "eventor.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct plugin_opts {
    const char *spec;   /* LIB.so:FN */
    const char *file;   /* input, "-" = stdin */
    evt_batch_opts_t b;
    int failed_lines;   /* lines reported with an error */
    int unflushed;      /* results written to stdout's buffer since the
                           last flush */
    int write_err;      /* errno of a failed write to stdout, or 0 */
    int spool_full;     /* a line's result found no room in $TMPDIR */
    evt_co_t *runner;   /* the coroutine running the batch */
} plugin_opts_t;

/* Results of a slow stream (tail -f | eventor --plugin ...) must not wait
 * in stdout's buffer for the next 4 KiB: flush what is there this often,
 * while a fast run still writes whole buffers. */
#define FLUSH_MS 100

/* A result could not be written (a full disk): say so, and stop the batch
 * (cancelling the coroutine that runs it), since every later result would
 * be lost too. */
static void write_failed(plugin_opts_t *p, int e)
{
    if (p->write_err)
        return;
    p->write_err = e ? e : EIO;
    if (e != EPIPE) /* a reader that had enough (| head) is no error */
        cli_error("Error: cannot write to standard output: %s (results are "
                  "incomplete)", strerror(p->write_err));
    if (p->runner)
        evt_cancel(p->runner);
}

/* A line failed ENOSPC under -P/-T on a file: its result (and every later
 * one) finds no room in the spools in $TMPDIR, so say so once, naming the
 * directory, and stop the batch as for a failed write (exit 255). */
static int spool_full(plugin_opts_t *p, const evt_batch_task_t *t, int status)
{
    if (status != ENOSPC || !(p->b.processes || p->b.threads)
        || !strcmp(p->file, "-"))
        return 0;
    if (!p->spool_full) {
        const char *tmp = getenv("TMPDIR");
        fflush(stdout);
        cli_error("Error: line %llu: no space left on device for the results "
                  "spooled in %s ($TMPDIR): results are incomplete from this "
                  "line on (is the disk full? set TMPDIR to a larger one)",
                  (unsigned long long)t->index + 1,
                  tmp && *tmp ? tmp : "/tmp");
        p->spool_full = 1;
        if (p->runner)
            evt_cancel(p->runner);
    }
    return 1;
}

/* One result line; a failed item says so on stderr and is counted. */
static void print_result(const evt_batch_task_t *t, int status,
                         const void *res, size_t len, void *user)
{
    plugin_opts_t *p = user;
    if (p->write_err || p->spool_full)
        return; /* the batch is being stopped: nothing more is written */
    if (status == 0) {
        fwrite(res, 1, len, stdout);
        putchar('\n');
        p->unflushed = 1;
        if (ferror(stdout))
            write_failed(p, errno);
        return;
    }
    if (spool_full(p, t, status))
        return;
    p->failed_lines++;
    fflush(stdout); /* keep the error beside the results around it */
    fprintf(stderr, "eventor: line %llu: %s\n",
            (unsigned long long)t->index + 1, evt_strerror(status));
}

/* The value of flag, a number in [min, max]; -1 after saying why not. */
static int number(const char *flag, const char *val, double min, double max,
                  double *out)
{
    char *end;
    errno = 0;
    double d = val ? strtod(val, &end) : 0;
    if (!val || errno || end == val || *end || !(d >= min && d <= max)) {
        cli_error("invalid value for %s: '%s' (see eventor --help)", flag,
                  val ? val : "");
        return -1;
    }
    *out = d;
    return 0;
}

static int parse(plugin_opts_t *p, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->b.coroutines = 100;
    p->b.ordered = 1;
    p->b.on_result = print_result;
    p->b.user = p;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (!strcmp(a, "--plugin")) {
            if (!val) {
                cli_error("--plugin needs LIB.so:FN");
                return -1;
            }
            p->spec = val;
            i++;
        } else if (!strcmp(a, "-P") || !strcmp(a, "--processes")) {
            if (number(a, val, 0, 4096, &d) < 0)
                return -1;
            p->b.processes = (size_t)d;
            i++;
        } else if (!strcmp(a, "-T") || !strcmp(a, "--threads")) {
            if (number(a, val, 0, 1024, &d) < 0)
                return -1;
            p->b.threads = (size_t)d;
            i++;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--coroutines")) {
            if (number(a, val, 1, 1 << 24, &d) < 0)
                return -1;
            p->b.coroutines = (size_t)d;
            i++;
        } else if (!strcmp(a, "--unit")) {
            if (number(a, val, 0, 1e9, &d) < 0)
                return -1;
            p->b.unit = (size_t)d;
            i++;
        } else if (!strcmp(a, "--interval")) {
            if (number(a, val, 0, 1e9, &d) < 0)
                return -1;
            p->b.interval_ms = (int64_t)(d * 1000);
            i++;
        } else if (!strcmp(a, "--retries")) {
            if (number(a, val, 0, 1e9, &d) < 0)
                return -1;
            p->b.retries = (unsigned)d;
            i++;
        } else if (!strcmp(a, "--timeout")) {
            if (number(a, val, 0, 1e9, &d) < 0)
                return -1;
            p->b.task_timeout_ms = (int64_t)(d * 1000);
            i++;
        } else if (!strcmp(a, "--bar")) {
            p->b.progress = 1;
        } else if (a[0] == '-' && a[1]) {
            cli_error("unknown option in --plugin mode: %s (see eventor --help)",
                      a);
            return -1;
        } else if (p->file) {
            cli_error("--plugin takes one input file, got '%s' and '%s'",
                      p->file, a);
            return -1;
        } else {
            p->file = a;
        }
    }
    if (p->b.processes && p->b.threads) {
        cli_error("--processes and --threads are two shapes: give one");
        return -1;
    }
    if (!p->file)
        p->file = "-";
    p->b.processes = limits_workers(p->b.processes, "workers (-P)");
    p->b.threads = limits_workers(p->b.threads, "threads (-T)");
    return 0;
}

/* Load FN from LIB.so (a path: "./x.so" for the current directory). */
static evt_batch_fn load(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || !colon[1]) {
        cli_error("--plugin wants LIB.so:FN, got '%s'", spec);
        return NULL;
    }
    char *lib = strndup(spec, (size_t)(colon - spec));
    if (!lib) {
        cli_error("out of memory");
        return NULL;
    }
    /* Kept loaded for the whole run (and by workers forked later). */
    void *h = dlopen(lib, RTLD_NOW);
    if (!h) {
        cli_error("cannot load plugin %s: %s", lib, dlerror());
        free(lib);
        return NULL;
    }
    void *fn = dlsym(h, colon + 1);
    if (!fn) {
        cli_error("plugin %s has no function %s", lib, colon + 1);
        free(lib);
        return NULL;
    }
    free(lib);
    evt_batch_fn f;
    memcpy(&f, &fn, sizeof f); /* dlsym's object pointer to a function */
    return f;
}

static void *flusher(void *arg)
{
    plugin_opts_t *p = arg;
    while (evt_sleep(evt_now() + FLUSH_MS) == 0)
        if (p->unflushed) {
            p->unflushed = 0;
            if (fflush(stdout) != 0)
                write_failed(p, errno);
        }
    return NULL;
}

/* The batch in a coroutine of its own, so that a failed write can stop it
 * (evt_cancel: it then cancels what runs and reports the rest). */
struct run_args {
    plugin_opts_t *p;
    evt_batch_fn fn;
    evt_batch_report_t *r;
    int rc, err;
};

static void *run_batch(void *arg)
{
    struct run_args *a = arg;
    a->rc = evt_batch_run_file(&a->p->b, a->fn, a->p->file, a->r);
    a->err = errno;
    return NULL;
}

/* fn, as a function that notes which line it runs, and a handler of the
 * crash signals that names that line on stderr before dying of it
 * (crashline.c). For plugins run in this process. */
evt_batch_fn crashline_guard(evt_batch_fn fn);

int plugin_requested(int argc, char **argv)
{
    return argc > 1 && !strcmp(argv[1], "--plugin");
}

int plugin_main(int argc, char **argv)
{
    plugin_opts_t p;
    if (parse(&p, argc, argv) < 0)
        return CLI_EXIT_ERROR;
    evt_batch_fn fn = load(p.spec);
    if (!fn)
        return CLI_EXIT_ERROR;
    p.b.stop_on_signals = 1;
    /* A closed stdout (| head) then fails a write, which stops the batch
     * and lets it clean up, rather than killing us mid-run. */
    signal(SIGPIPE, SIG_IGN);
    evt_batch_report_t r;
    evt_co_t *flush_co = evt_spawn(flusher, &p); /* NULL: flushed at the end */
    /* (after the first spawn: the core's overflow handler is in, and the
     * crash handler chains to it) A worker process's crash is isolated
     * and reported by the batch; here, it would kill us unnamed. */
    if (!p.b.processes)
        fn = crashline_guard(fn);
    struct run_args a = {&p, fn, &r, 0, 0};
    p.runner = evt_spawn(run_batch, &a);
    if (p.runner)
        evt_join(p.runner, -1, NULL);
    else
        run_batch(&a);
    p.runner = NULL;
    int rc = a.rc, err = a.err;
    if (flush_co) {
        evt_cancel(flush_co);
        evt_join(flush_co, -1, NULL);
    }
    if ((fflush(stdout) != 0 || ferror(stdout)) && !p.write_err)
        write_failed(&p, errno);
    if (p.write_err) /* EPIPE: as if SIGPIPE had ended us, but cleaned up */
        return p.write_err == EPIPE ? 128 + SIGPIPE : CLI_EXIT_ERROR;
    if (p.spool_full)
        return CLI_EXIT_ERROR;
    errno = err;
    if (rc < 0) {
        /* An unopenable file fails before any line is read. */
        cli_error("cannot read %s: %s", p.file, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (r.signal)
        return 128 + r.signal;
    return p.failed_lines > 100 ? 101 : p.failed_lines;
}
