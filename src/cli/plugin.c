/* eventor --plugin LIB.so:FN: the seed's run_with_file. Every line of a
 * file goes through a C function loaded from a shared object, in this
 * process (on coroutines), on worker threads or on worker processes, by
 * the batch engine; results come out in input order, one line each. */
#include "cli.h"
#include "eventor.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct plugin_opts {
    const char *spec;   /* LIB.so:FN */
    const char *file;   /* input, "-" = stdin */
    evt_batch_opts_t b;
    int align;          /* --align: a failed line writes an empty line */
    int tag;            /* --tag: the input line and a TAB before a result */
    int line_number;    /* --line-number: the line's number and a TAB */
    int bar_tty;        /* --bar on a terminal: an error line clears it */
    int bar_shared;     /* and stdout is one too: so does a result */
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

/* What comes before a result: --line-number's number, --tag's line. */
static void put_prefix(const plugin_opts_t *p, const evt_batch_task_t *t)
{
    if (p->line_number)
        printf("%llu\t", (unsigned long long)t->index + 1);
    if (p->tag) {
        fwrite(t->item, 1, t->len, stdout);
        putchar('\t');
    }
}

/* A failed line, on stderr with its number; under the bar on a terminal,
 * on a line of its own (the bar is drawn again after it). */
static void say_failed(const plugin_opts_t *p, const evt_batch_task_t *t,
                       int status)
{
    fflush(stdout); /* keep the error beside the results around it */
    if (p->bar_tty)
        fputs("\r\033[K", stderr);
    if (status == EMSGSIZE)
        fprintf(stderr, "eventor: line %llu: result longer than --max-result "
                        "(%zu bytes)%s\n",
                (unsigned long long)t->index + 1, p->b.max_result,
                p->b.max_result == EVT_MAX_RESULT_DEFAULT
                    ? ": raise it with --max-result SIZE (e.g. 1M)" : "");
    else
        fprintf(stderr, "eventor: line %llu: %s\n",
                (unsigned long long)t->index + 1, evt_strerror(status));
}

/* One result line; a failed item says so on stderr and is counted, and
 * with --align leaves an empty line (its prefix only) in its place. */
static void print_result(const evt_batch_task_t *t, int status,
                         const void *res, size_t len, void *user)
{
    plugin_opts_t *p = user;
    if (p->write_err || p->spool_full)
        return; /* the batch is being stopped: nothing more is written */
    if (status != 0) {
        if (spool_full(p, t, status))
            return;
        p->failed_lines++;
        say_failed(p, t, status);
        if (!p->align)
            return;
        len = 0;
    }
    if (p->bar_shared) /* (the bar is drawn again below it) */
        fputs("\r\033[K", stderr);
    put_prefix(p, t);
    if (len) /* (a failed line has no result at all: res may be NULL) */
        fwrite(res, 1, len, stdout);
    putchar('\n');
    p->unflushed = 1;
    if (ferror(stdout))
        write_failed(p, errno);
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

/* --max-result SIZE: bytes, or with K M G (powers of 1024) or k m g
 * (powers of 1000), as GNU parallel's sizes; -1 after saying why not. */
static int size_value(const char *flag, const char *val, size_t *out)
{
    static const char sfx[] = "kKmMgG";
    char *end = NULL;
    errno = 0;
    double d = val ? strtod(val, &end) : 0;
    const char *u = end && *end ? strchr(sfx, *end) : NULL;
    if (u) {
        size_t k = (size_t)(u - sfx);
        for (size_t i = 0; i <= k / 2; i++)
            d *= k % 2 ? 1024 : 1000;
        end++;
    }
    if (!val || errno || end == val || *end || !(d >= 1)
        || d > (double)EVT_MAX_RESULT_MAX) {
        cli_error("invalid value for %s: '%s' (a size from 1 to %zu bytes, "
                  "K M G suffixes; see eventor --help)", flag, val ? val : "",
                  EVT_MAX_RESULT_MAX);
        return -1;
    }
    *out = (size_t)d;
    return 0;
}

/* The options that take a number, and what each sets. */
enum { N_PROC, N_THREADS, N_CO, N_UNIT, N_INTERVAL, N_RETRIES, N_TIMEOUT };
static const struct numopt {
    const char *name, *alias;
    double min, max;
    int what;
} numopts[] = {
    {"-P", "--processes", 0, 4096, N_PROC},
    {"-T", "--threads", 0, 1024, N_THREADS},
    {"-c", "--coroutines", 1, 1 << 24, N_CO},
    {"--unit", NULL, 0, 1e9, N_UNIT},
    {"--interval", NULL, 0, 1e9, N_INTERVAL},
    {"--retries", NULL, 0, 1e9, N_RETRIES},
    {"--timeout", NULL, 0, 1e9, N_TIMEOUT},
};

static void set_number(evt_batch_opts_t *b, int what, double d)
{
    switch (what) {
    case N_PROC: b->processes = (size_t)d; break;
    case N_THREADS: b->threads = (size_t)d; break;
    case N_CO: b->coroutines = (size_t)d; break;
    case N_UNIT: b->unit = (size_t)d; break;
    case N_INTERVAL: b->interval_ms = (int64_t)(d * 1000); break;
    /* Tries in all, as the job runner's (GNU parallel's) --retries: 0
     * is until it succeeds; the engine counts the tries after the first. */
    case N_RETRIES: b->retries = d == 0 ? UINT_MAX : (unsigned)d - 1; break;
    case N_TIMEOUT: b->task_timeout_ms = (int64_t)(d * 1000); break;
    }
}

/* The option at argv[*i] (its value after it): 0 when taken (*i moved
 * past what it used), 1 when it is no option, -1 after saying why not. */
static int option(plugin_opts_t *p, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    for (size_t k = 0; k < sizeof numopts / sizeof *numopts; k++) {
        const struct numopt *n = &numopts[k];
        if (strcmp(a, n->name) && !(n->alias && !strcmp(a, n->alias)))
            continue;
        double d;
        if (number(a, val, n->min, n->max, &d) < 0)
            return -1;
        set_number(&p->b, n->what, d);
        return ++*i, 0;
    }
    int *flag = !strcmp(a, "--align")         ? &p->align
                : !strcmp(a, "--tag")         ? &p->tag
                : !strcmp(a, "--line-number") ? &p->line_number
                : !strcmp(a, "--bar")         ? &p->b.progress
                                              : NULL;
    if (flag)
        return *flag = 1, 0;
    if (!strcmp(a, "--max-result"))
        return size_value(a, val, &p->b.max_result) < 0 ? -1 : (++*i, 0);
    if (!strcmp(a, "--plugin")) {
        if (!val)
            return cli_error("--plugin needs LIB.so:FN"), -1;
        p->spec = val;
        return ++*i, 0;
    }
    if (a[0] == '-' && a[1]) {
        cli_error("unknown option in --plugin mode: %s (see eventor --help)",
                  a);
        return -1;
    }
    return 1;
}

static int parse(plugin_opts_t *p, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->b.coroutines = 100;
    p->b.ordered = 1;
    p->b.max_result = EVT_MAX_RESULT_DEFAULT;
    p->b.on_result = print_result;
    p->b.user = p;
    for (int i = 1; i < argc; i++) {
        int rc = option(p, argc, argv, &i);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        if (p->file) {
            cli_error("--plugin takes one input file, got '%s' and '%s'",
                      p->file, argv[i]);
            return -1;
        }
        p->file = argv[i];
    }
    if (p->b.processes && p->b.threads) {
        cli_error("--processes and --threads are two shapes: give one");
        return -1;
    }
    if (!p->file)
        p->file = "-";
    p->bar_tty = p->b.progress && isatty(2);
    p->bar_shared = p->bar_tty && isatty(1);
    p->b.processes = limits_workers(p->b.processes, "workers (-P)");
    p->b.threads = limits_workers(p->b.threads, "threads (-T)");
    return 0;
}

/* Load FN from LIB.so (a path: "./x.so" for the current directory). */
evt_batch_fn plugin_load(const char *spec)
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

int plugin_requested(int argc, char **argv)
{
    return argc > 1 && !strcmp(argv[1], "--plugin");
}

int plugin_main(int argc, char **argv)
{
    plugin_opts_t p;
    if (parse(&p, argc, argv) < 0)
        return CLI_EXIT_ERROR;
    evt_batch_fn fn = plugin_load(p.spec);
    if (!fn)
        return CLI_EXIT_ERROR;
    p.b.stop_on_signals = 1;
    /* A closed stdout (| head) then fails a write, which stops the batch
     * and lets it clean up, rather than killing us mid-run. */
    signal(SIGPIPE, SIG_IGN);
    evt_batch_report_t r;
    evt_co_t *flush_co = evt_spawn(flusher, &p); /* NULL: flushed at the end */
    /* A line that crashes the plugin in this process kills us: the batch
     * engine names it first ("eventor: item N crashed (signal S)"); in a
     * worker process it is isolated and reported as failed. */
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
    if (rc < 0 && errno == ENOMEM) {
        size_t w = p.b.processes ? p.b.processes : p.b.threads ? p.b.threads : 1;
        cli_error("out of memory (%zu lines at once, each with a --max-result "
                  "buffer of %zu bytes)", w * p.b.coroutines, p.b.max_result);
        return CLI_EXIT_ERROR;
    }
    if (rc < 0) {
        /* An unopenable file fails before any line is read. */
        cli_error("cannot read %s: %s", p.file, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (r.signal)
        return 128 + r.signal;
    return p.failed_lines > 100 ? 101 : p.failed_lines;
}
