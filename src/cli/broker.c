/* eventor submit / worker / status / results / drop: the dispatch, the
 * options and error lines they share, and the two small ones, submit
 * (items from a file, stdin or ::: into the batch's stream, pipelined)
 * and drop (the batch's keys deleted). */
#include "broker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const subs[] = {"submit", "worker", "status", "results",
                                   "drop"};

int broker_requested(int argc, char **argv)
{
    for (size_t i = 0; argc > 1 && i < sizeof subs / sizeof *subs; i++)
        if (!strcmp(argv[1], subs[i]))
            return 1;
    return 0;
}

void broker_fail(const char *url, int err)
{
    const char *red = evt_redis_error();
    if (err == ENOTSUP)
        cli_error("%s: built without Redis support (hiredis)", url);
    else if (err == EINVAL)
        cli_error("%s: not a broker URL (redis://[[USER:]PASS@]HOST:PORT/"
                  "NAME)", url);
    else if (err == EACCES)
        cli_error("%s: authentication refused: %s", url,
                  red[0] ? red : strerror(err));
    else if (err == ENOENT)
        cli_error("%s: no such batch (nothing was submitted to it)", url);
    else if ((err == EPROTO || err == ENOMEM) && red[0])
        cli_error("%s: Redis answered: %s", url, red);
    else
        cli_error("%s: %s", url, evt_strerror(err));
}

int broker_usage(const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "eventor %s: ", sub);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see eventor %s --help)\n", sub);
    va_end(ap);
    return CLI_EXIT_ERROR;
}

int broker_url_opt(const char *sub, int argc, char **argv, int *i,
                   const char **url)
{
    const char *a = argv[*i];
    if (!strncmp(a, "--broker=", 9)) {
        *url = a + 9;
        return 1;
    }
    if (strcmp(a, "--broker") != 0)
        return 0;
    if (*i + 1 >= argc) {
        broker_usage(sub, "--broker needs a URL");
        return -1;
    }
    *url = argv[++*i];
    return 1;
}

int broker_secs(const char *sub, const char *flag, const char *val,
                int64_t *ms)
{
    if (!val || optval_secs(val, ms) < 0 || *ms < 0) {
        broker_usage(sub, "invalid value for %s: '%s'", flag,
                     val ? val : "");
        return -1;
    }
    return 0;
}

int broker_count(const char *sub, const char *flag, const char *val,
                 long min, long max, long *v)
{
    if (!val || optval_count(val, min, v) < 0 || *v > max) {
        broker_usage(sub, "invalid value for %s: '%s'", flag,
                     val ? val : "");
        return -1;
    }
    return 0;
}

/* The items to push, a window at a time. */
struct pushbuf {
    char **v;
    size_t n, cap;
    uint64_t total;
};

static int flush_items(const char *url, struct pushbuf *b)
{
    int rc = b->n ? evt_redis_submit(url, (const void *const *)b->v, NULL,
                                     b->n)
                  : 0;
    int err = errno;
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i]);
    b->total += rc == 0 ? b->n : 0;
    b->n = 0;
    errno = err;
    return rc;
}

/* A record's values joined by spaces, as one item. */
static char *join_record(const struct record *r)
{
    return strv_join(r->val, r->nval, " ");
}

#define PUSH_WINDOW 10000

/* Every record of the input into the batch, PUSH_WINDOW per call. */
static int push_all(const char *url, struct input *in, uint64_t *total)
{
    struct pushbuf b = {.v = malloc(PUSH_WINDOW * sizeof(char *)),
                        .cap = PUSH_WINDOW};
    struct record r;
    int got, rc = b.v ? 0 : -1;
    while (rc == 0 && (got = input_next(in, &r)) != 0) {
        if (got < 0) {
            rc = -2; /* input_next said why */
            break;
        }
        char *item = join_record(&r);
        record_free(&r);
        if (!item) {
            errno = ENOMEM;
            rc = -1;
            break;
        }
        b.v[b.n++] = item;
        if (b.n == b.cap)
            rc = flush_items(url, &b);
    }
    if (rc == 0)
        rc = flush_items(url, &b);
    int err = errno;
    for (size_t i = 0; i < b.n; i++)
        free(b.v[i]);
    free(b.v);
    *total = b.total;
    errno = err;
    return rc;
}

/* The job runner's input options (-0, -d, -a, :::, ::::) go to opts_parse
 * as they are, and a bare FILE or - becomes -a FILE. */
static int submit_args(int argc, char **argv, const char **url,
                       struct strv *pass)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int u = broker_url_opt("submit", argc, argv, &i, url);
        if (u < 0)
            return -1;
        if (u)
            continue;
        if (!strcmp(a, "--help")) {
            broker_help("submit", stdout);
            return 1;
        }
        if (!strcmp(a, ":::") || !strcmp(a, "::::")) {
            for (; i < argc; i++)
                strv_push(pass, argv[i]);
            break;
        }
        if (!strcmp(a, "-0") || !strcmp(a, "-r") || !strcmp(a, "--null")) {
            strv_push(pass, argv[i]);
        } else if ((!strcmp(a, "-d") || !strcmp(a, "-a")) && i + 1 < argc) {
            strv_push(pass, argv[i]);
            strv_push(pass, argv[++i]);
        } else if (a[0] == '-' && a[1]) {
            broker_usage("submit", "unknown option %s", a);
            return -1;
        } else {
            strv_push(pass, "-a");
            strv_push(pass, argv[i]);
        }
    }
    if (!*url) {
        broker_usage("submit", "--broker URL is needed");
        return -1;
    }
    return 0;
}

static int submit_main(int argc, char **argv)
{
    const char *url = NULL;
    struct strv pass = {0};
    strv_push(&pass, "eventor"); /* no command: the input options only */
    int rc = submit_args(argc, argv, &url, &pass);
    static struct opts o;
    if (rc > 0) {
        free(pass.v);
        return 0;
    }
    if (rc == 0 && opts_parse(&o, (int)pass.n, pass.v) != 0)
        rc = -1;
    struct input *in = rc == 0 ? input_open(&o) : NULL;
    uint64_t total = 0;
    if (in) {
        int r = push_all(url, in, &total);
        if (r == -1)
            broker_fail(url, errno);
        rc = r ? -1 : 0;
        if (r == -1 && total)
            cli_error("%s: %llu items were submitted before the failure",
                      url, (unsigned long long)total);
    } else if (rc == 0) {
        rc = -1;
    }
    input_close(in);
    opts_free(&o);
    free(pass.v); /* the words are argv's */
    return rc < 0 ? CLI_EXIT_ERROR : 0;
}

static int drop_main(int argc, char **argv)
{
    const char *url = NULL;
    for (int i = 2; i < argc; i++) {
        int u = broker_url_opt("drop", argc, argv, &i, &url);
        if (u < 0)
            return CLI_EXIT_ERROR;
        if (u)
            continue;
        if (!strcmp(argv[i], "--help")) {
            broker_help("drop", stdout);
            return 0;
        }
        return broker_usage("drop", "unknown argument %s", argv[i]);
    }
    if (!url)
        return broker_usage("drop", "--broker URL is needed");
    if (evt_redis_drop(url) < 0) {
        broker_fail(url, errno);
        return CLI_EXIT_ERROR;
    }
    return 0;
}

/* Built without hiredis, every call fails at once with ENOTSUP. */
int broker_supported(void)
{
    evt_redis_stat_t st;
    return !(evt_redis_stat(NULL, &st) < 0 && errno == ENOTSUP);
}

int broker_unsupported(const char *sub)
{
    fprintf(stderr, "eventor %s: built without Redis support (hiredis was "
                    "not found when eventor was built)\n", sub);
    return BROKER_EXIT_UNSUPPORTED;
}

int broker_main(int argc, char **argv)
{
    const char *sub = argv[1];
    /* (the worker's command may have a --help of its own: it looks) */
    for (int i = 2; strcmp(sub, "worker") && i < argc; i++)
        if (!strcmp(argv[i], "--help")) {
            broker_help(sub, stdout);
            return 0;
        }
    if (!strcmp(sub, "worker"))
        return broker_worker(argc, argv);
    if (!broker_supported()) {
        return broker_unsupported(sub);
    }
    if (!strcmp(sub, "submit"))
        return submit_main(argc, argv);
    if (!strcmp(sub, "status"))
        return broker_status(argc, argv);
    if (!strcmp(sub, "results"))
        return broker_results(argc, argv);
    return drop_main(argc, argv);
}
