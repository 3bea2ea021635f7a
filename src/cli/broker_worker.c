/* eventor worker: takes the items of a Redis batch and runs, per item,
 * the job runner's command (its template and spawn code: the same
 * placeholders, the command's stdout is the item's result) or a plugin's
 * function, on the batch engine (-P processes x -j coroutines), until the
 * whole batch is done (or for ever with --follow). */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESULT_MAX (256 << 10) /* a command's stdout kept as its result */

struct wopts {
    const char *url;
    evt_batch_opts_t b;
    evt_redis_opts_t ro;
    const char *plugin;     /* --plugin LIB.so:FN, or NULL */
    const char *joblog;     /* --joblog [+]FILE, or NULL */
    int64_t keep_ms;        /* --keep: the finished batch's lifetime */
    int quiet;              /* -q: no report line */
    int cmd_at;             /* argv index of the command's first word */
};

/* Command mode: set before the batch starts (worker processes are copies
 * of this process from then). */
static struct tmpl *cmd_tmpl;
static const char *cmd_shell;
static int slot_used[CLI_JOBS_MAX + 1]; /* {%}: job slots of a process */
static long slots_max;
static pid_t spawn_pid; /* the process whose spawner threads are made */

/* The plugin's function, and a newline after each result: `eventor
 * results` then prints what `eventor --plugin` prints. */
static evt_batch_fn plugin_fn;

static int plugin_line(const evt_batch_task_t *t, void *out, size_t cap,
                       size_t *len, void *user)
{
    if (cap == 0 || plugin_fn(t, out, cap - 1, len, user) < 0)
        return -1;
    ((char *)out)[(*len)++] = '\n';
    return 0;
}

static int take_slot(void)
{
    for (long i = 1; i <= slots_max; i++)
        if (!slot_used[i]) {
            slot_used[i] = 1;
            return (int)i;
        }
    return 1;
}

/* The command's stdout into out (what goes past cap is read and
 * dropped: the attempt then fails with EMSGSIZE). 0, or -1 and errno. */
static int read_all(int fd, char *out, size_t cap, size_t *len)
{
    char sink[4096];
    size_t n = 0;
    int big = 0;
    for (;;) {
        ssize_t r = n < cap ? evt_read(fd, out + n, cap - n, -1)
                            : evt_read(fd, sink, sizeof sink, -1);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        if (n < cap)
            n += (size_t)r;
        else
            big = 1;
    }
    *len = n;
    if (big)
        errno = EMSGSIZE;
    return big ? -1 : 0;
}

int worker_command(const evt_batch_task_t *t, int slot, char **cmd)
{
    char *val = strndup(t->item, t->len), **argv = NULL;
    struct record r = {&val, 1};
    *cmd = NULL;
    int rc = val ? tmpl_expand(cmd_tmpl, &r, 1, t->seq, slot, cmd, &argv)
                 : -1;
    if (rc < 0) {
        free(*cmd);
        *cmd = NULL;
    }
    argv_free(argv);
    free(val);
    return rc < 0 ? -1 : 0;
}

/* Start the command of item t with its stdout on a pipe read into out;
 * its outcome is noted for the joblog ({#} and the joblog's Seq: the
 * item's input number, as the local runner numbers it). */
static int run_command(const evt_batch_task_t *t, void *out, size_t cap,
                       size_t *len, void *user)
{
    (void)user;
    if (spawn_pid != getpid()) { /* a worker process: its own spawners */
        if (spawn_init(slots_max) < 0)
            return -1;
        spawn_pid = getpid();
    }
    char *val = strndup(t->item, t->len), *cmd = NULL, **argv = NULL;
    struct record r = {&val, 1};
    int slot = take_slot(), fds[2] = {-1, -1}, rc = -1, err = ENOMEM;
    int exitval = 255, sig = 0; /* as the local runner: cannot start */
    double start = wall_now();
    int64_t t0 = evt_now();
    *len = 0;
    struct proc p = {.pidfd = -1};
    if (!val || tmpl_expand(cmd_tmpl, &r, 1, t->seq, slot, &cmd,
                            &argv) < 0)
        goto out;
    p.envp = jobenv_build(t->seq, slot, NULL, 0);
    if (pipe2(fds, O_CLOEXEC) < 0 ||
        proc_start(&p, argv, cmd, cmd_shell, fds[1], 2) < 0) {
        err = errno;
        goto out;
    }
    close(fds[1]);
    fds[1] = -1;
    int rd = read_all(fds[0], out, cap, len);
    err = errno;
    /* A cancel (--timeout, a second signal) ends the command too. */
    if ((rd < 0 && err != EMSGSIZE) || proc_wait(&p, -1) < 0)
        proc_terminate(&p);
    exitval = 0;
    proc_reap(&p, &exitval, &sig);
    if (rd == 0 && (exitval || sig))
        err = sig ? EVT_ESIGNALED(sig) : EVT_EEXITED(exitval);
    rc = rd == 0 && !exitval && !sig ? 0 : -1;
out:
    bjob_note(t->index, start, (evt_now() - t0) / 1000.0, (long long)*len,
              exitval, sig, slot);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            evt_close(fds[i]);
    slot_used[slot] = 0;
    free(p.envp);
    free(val);
    free(cmd);
    argv_free(argv);
    errno = err;
    return rc;
}

/* Options that take a value: the value's argv index, or -1. */
static int value_of(const char *sub, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        broker_usage(sub, "%s needs a value", argv[*i]);
        return -1;
    }
    return ++*i;
}

/* One option at argv[*i]: 0, or -1 after a usage line. */
static int worker_opt(struct wopts *w, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    long v;
    int64_t ms;
    int at = -1;
    if (!strcmp(a, "--follow") || !strcmp(a, "-f"))
        return w->ro.follow = 1, 0;
    if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
        return w->quiet = 1, 0;
    if ((at = value_of("worker", argc, argv, i)) < 0)
        return -1;
    const char *val = argv[at];
    if (!strcmp(a, "-P") || !strcmp(a, "--processes")) {
        if (broker_count("worker", a, val, 0, 4096, &v) < 0)
            return -1;
        w->b.processes = (size_t)v;
    } else if (!strcmp(a, "-T") || !strcmp(a, "--threads")) {
        if (broker_count("worker", a, val, 0, 1024, &v) < 0)
            return -1;
        w->b.threads = (size_t)v;
    } else if (!strcmp(a, "-j") || !strcmp(a, "-c") ||
               !strcmp(a, "--jobs") || !strcmp(a, "--coroutines")) {
        if (broker_count("worker", a, val, 1, CLI_JOBS_MAX, &v) < 0)
            return -1;
        w->b.coroutines = (size_t)v;
    } else if (!strcmp(a, "--retries")) {
        if (broker_count("worker", a, val, 1, 1000000, &v) < 0)
            return -1;
        w->b.retries = (unsigned)(v - 1);
    } else if (!strcmp(a, "--max-deliveries")) {
        if (broker_count("worker", a, val, 1, 1000000, &v) < 0)
            return -1;
        w->ro.max_deliveries = (unsigned)v;
    } else if (!strcmp(a, "--count")) {
        if (broker_count("worker", a, val, 1, 100000, &v) < 0)
            return -1;
        w->ro.count = (size_t)v;
    } else if (!strcmp(a, "--timeout") || !strcmp(a, "--visibility") ||
               !strcmp(a, "--keep") || !strcmp(a, "--down")) {
        if (broker_secs("worker", a, val, &ms) < 0)
            return -1;
        if (!strcmp(a, "--timeout"))
            w->b.task_timeout_ms = ms;
        else if (!strcmp(a, "--visibility"))
            w->ro.visibility_ms = ms < 1 ? 1 : ms;
        else if (!strcmp(a, "--keep"))
            w->keep_ms = ms;
        else
            w->ro.down_ms = ms;
    } else if (!strcmp(a, "--plugin")) {
        w->plugin = val;
    } else if (!strcmp(a, "--joblog")) {
        if (!val[0] || (val[0] == '+' && !val[1]))
            return broker_usage("worker", "--joblog needs a FILE"), -1;
        w->joblog = val;
    } else if (!strcmp(a, "--consumer")) {
        w->ro.consumer = val;
    } else {
        broker_usage("worker", "unknown option %s", a);
        return -1;
    }
    return 0;
}

#define USAGE(...) (broker_usage("worker", __VA_ARGS__), -1)

/* 0, 1 after --help, -1 after a usage line. */
static int worker_parse(struct wopts *w, int argc, char **argv)
{
    memset(w, 0, sizeof *w);
    w->b.coroutines = 0;
    w->keep_ms = 7 * 86400 * 1000LL;
    int i = 2;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || !a[1])
            break;
        if (!strcmp(a, "--help")) {
            broker_help("worker", stdout);
            return 1;
        }
        int u = broker_url_opt("worker", argc, argv, &i, &w->url);
        if (u < 0 || (!u && worker_opt(w, argc, argv, &i) < 0))
            return -1;
    }
    w->cmd_at = i;
    if (!w->url)
        return USAGE("--broker URL is needed");
    if (w->plugin && i < argc)
        return USAGE("--plugin and a command (%s): give "
                            "one", argv[i]);
    if (!w->plugin && i == argc)
        return USAGE("a command or --plugin LIB.so:FN is "
                            "needed");
    if (w->plugin && w->joblog)
        return USAGE("--joblog logs commands (a plugin has no exit status "
                     "nor command line to log)");
    if (w->b.processes && w->b.threads)
        return USAGE("-P and -T are two shapes: give "
                            "one");
    if (w->b.threads && !w->plugin)
        return USAGE("-T is for --plugin (commands run "
                            "as processes: -P, -j)");
    if (!w->b.coroutines)
        w->b.coroutines = w->plugin ? 100 : (size_t)sysconf(
                                                _SC_NPROCESSORS_ONLN);
    return 0;
}

/* Command mode: the template (the job runner's), and the spawners of
 * this process when the commands start here. */
static int command_setup(struct wopts *w, int argc, char **argv,
                         struct opts *o)
{
    struct strv words = {0};
    strv_push(&words, "eventor");
    strv_push(&words, "--");
    for (int i = w->cmd_at; i < argc; i++)
        strv_push(&words, argv[i]);
    int rc = opts_parse(o, (int)words.n, words.v);
    free(words.v);
    if (rc != 0)
        return -1;
    cmd_shell = o->shell;
    slots_max = (long)w->b.coroutines;
    cmd_tmpl = tmpl_compile(o);
    if (!cmd_tmpl || jobenv_init() < 0) {
        cli_error("out of memory");
        return -1;
    }
    w->b.max_result = RESULT_MAX;
    if (w->b.processes == 0) {
        /* Commands start here: a supervisor first (before any thread),
         * then the spawner threads. In worker processes they are made
         * there, at their first item, without a supervisor. */
        if (supervise_start() < 0)
            fprintf(stderr, "eventor: Warning: no supervisor (%s)\n",
                    strerror(errno));
        if (spawn_init(slots_max) < 0) {
            cli_error("cannot start: %s", strerror(errno));
            return -1;
        }
        spawn_pid = getpid();
    }
    return 0;
}

/* Command mode: each delivery's joblog line is stored with its result
 * (results --joblog), and with --joblog written here once Redis has it.
 * Host is this worker's name in the batch (the one status shows), which
 * the library would give it by itself otherwise ("HOSTNAME-PID"). */
static int joblog_setup(struct wopts *w, struct opts *o)
{
    static char name[128];
    if (!w->ro.consumer) {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(name, sizeof name, "%s-%d", host, (int)getpid());
        w->ro.consumer = name;
    }
    w->ro.record = bjob_record;
    if (!w->joblog)
        return 0;
    o->joblog_append = w->joblog[0] == '+';
    o->joblog = w->joblog + o->joblog_append;
    joblog_host(w->ro.consumer);
    w->ro.on_stored = bjob_stored;
    return joblog_open(o);
}

/* A failed delivery, in one line (not the ones a signal stopped). */
static void on_failed(const evt_batch_task_t *t, int status, const void *res,
                      size_t len, void *user)
{
    (void)res, (void)len;
    const struct wopts *w = user;
    if (status == 0 || status == ECANCELED || w->quiet)
        return;
    fprintf(stderr, "eventor worker: item '%.*s': %s (delivered again "
                    "later, or dead-lettered past --max-deliveries)\n",
            (int)(t->len > 200 ? 200 : t->len), (const char *)t->item,
            status == ETIMEDOUT ? "ran past --timeout" : evt_strerror(status));
}

static void report(const struct wopts *w, const evt_batch_report_t *r)
{
    if (w->quiet)
        return;
    fprintf(stderr, "eventor worker: %s: %llu items taken, %llu done, "
                    "%llu failed here (left to be delivered again)\n",
            w->url, (unsigned long long)r->read, (unsigned long long)r->ok,
            (unsigned long long)r->failed);
}

int broker_worker(int argc, char **argv)
{
    static struct wopts w;
    int rc = worker_parse(&w, argc, argv);
    if (rc)
        return rc > 0 ? 0 : CLI_EXIT_ERROR;
    if (!broker_supported())
        return broker_unsupported("worker");
    size_t width = (w.b.processes ? w.b.processes : 1) * w.b.coroutines;
    if (!w.plugin && bjob_init(width) < 0) { /* before any fork */
        cli_error("cannot start: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    evt_redis_stat_t st; /* a broker that is not there: say so now */
    if (evt_redis_stat(w.url, &st) < 0 && errno != ENOENT) {
        broker_fail(w.url, errno);
        return CLI_EXIT_ERROR;
    }
    static struct opts o;
    evt_batch_fn fn = run_command;
    if (w.plugin) {
        if (!(plugin_fn = plugin_load(w.plugin)))
            return CLI_EXIT_ERROR;
        fn = plugin_line;
    } else if (command_setup(&w, argc, argv, &o) < 0 ||
               joblog_setup(&w, &o) < 0) {
        tmpl_free(cmd_tmpl);
        opts_free(&o);
        return CLI_EXIT_ERROR;
    }
    signal(SIGPIPE, SIG_IGN);
    w.b.stop_on_signals = 1;
    w.b.on_result = on_failed;
    w.b.user = &w;
    evt_batch_report_t r;
    rc = evt_batch_run_redis(&w.b, fn, w.url, &w.ro, &r);
    int err = errno;
    joblog_close();
    tmpl_free(cmd_tmpl);
    opts_free(&o);
    if (rc < 0 && !r.signal) {
        broker_fail(w.url, err);
        return CLI_EXIT_ERROR;
    }
    report(&w, &r);
    if (r.signal)
        return 128 + r.signal;
    if (!w.ro.follow && w.keep_ms > 0 &&
        evt_redis_expire(w.url, (w.keep_ms + 999) / 1000) < 0) {
        broker_fail(w.url, errno);
        return CLI_EXIT_ERROR;
    }
    return 0;
}
