/* eventor status (a batch's counts, its workers, rate and ETA; --bar
 * redraws them until the batch is done) and eventor results (the results
 * in input order, or as they come with --follow; --jsonl records). */
#include "broker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSUMERS_SHOWN 64
#define POLL_MS 200

/* Every item has its result or is dead, and none is in flight. */
static int complete(const evt_redis_stat_t *st)
{
    return st->items > 0 && st->results + st->dead >= st->items &&
           st->pending == 0;
}

static uint64_t finished(const evt_redis_stat_t *st)
{
    return st->results + st->dead;
}

static void print_counts(const char *url, const evt_redis_stat_t *st)
{
    printf("batch %s\n", url);
    printf("  items          %llu\n", (unsigned long long)st->items);
    printf("  done           %llu\n", (unsigned long long)st->results);
    printf("  in flight      %llu\n", (unsigned long long)st->pending);
    printf("  failed         %llu (in flight again after a failed try or "
           "a lost worker)\n", (unsigned long long)st->retried);
    printf("  waiting        %llu\n", (unsigned long long)st->waiting);
    printf("  dead-lettered  %llu\n", (unsigned long long)st->dead);
}

static int print_workers(const char *url)
{
    static evt_redis_consumer_t c[CONSUMERS_SHOWN];
    int n = evt_redis_consumers(url, c, CONSUMERS_SHOWN);
    if (n < 0)
        return -1;
    printf("  workers        %d\n", n);
    for (int i = 0; i < n && i < CONSUMERS_SHOWN; i++)
        printf("    %-30s %llu in flight, last read %.1f s ago\n", c[i].name,
               (unsigned long long)c[i].pending, c[i].idle_ms / 1000.0);
    if (n > CONSUMERS_SHOWN)
        printf("    ... and %d more\n", n - CONSUMERS_SHOWN);
    return 0;
}

/* Items finished per second between two counts dt ms apart. */
static double rate_of(const evt_redis_stat_t *a, const evt_redis_stat_t *b,
                      int64_t dt)
{
    uint64_t fa = finished(a), fb = finished(b);
    return dt > 0 && fb > fa ? (double)(fb - fa) * 1000.0 / (double)dt : 0;
}

static void eta_text(const evt_redis_stat_t *st, double rate, char *buf,
                     size_t len)
{
    uint64_t left = st->items > finished(st) ? st->items - finished(st) : 0;
    if (left == 0)
        snprintf(buf, len, "done");
    else if (rate <= 0)
        snprintf(buf, len, "ETA unknown (nothing finished meanwhile)");
    else
        snprintf(buf, len, "ETA %.0f s", (double)left / rate);
}

/* One line of --bar: on a terminal redrawn in place. */
static void bar_line(const evt_redis_stat_t *st, double rate, int tty)
{
    char eta[64];
    eta_text(st, rate, eta, sizeof eta);
    double pct = st->items ? 100.0 * (double)finished(st) /
                                 (double)st->items : 0;
    int fill = (int)(pct / 5);
    fprintf(stderr, "%s[%.*s%*s] %3.0f%% %llu/%llu done, %llu in flight, "
                    "%llu dead, %.0f/s, %s%s",
            tty ? "\r\033[K" : "", fill, "====================", 20 - fill,
            "", pct, (unsigned long long)finished(st),
            (unsigned long long)st->items, (unsigned long long)st->pending,
            (unsigned long long)st->dead, rate, eta, tty ? "" : "\n");
    fflush(stderr);
}

static int bar_loop(const char *url, int64_t every_ms)
{
    evt_redis_stat_t prev, st;
    if (evt_redis_stat(url, &prev) < 0)
        return -1;
    int64_t t_prev = evt_now();
    int tty = isatty(2);
    double rate = 0;
    bar_line(&prev, 0, tty);
    while (!complete(&prev)) {
        if (evt_sleep(evt_now() + every_ms) < 0 ||
            evt_redis_stat(url, &st) < 0)
            return -1;
        int64_t now = evt_now();
        double r = rate_of(&prev, &st, now - t_prev);
        rate = rate > 0 && r > 0 ? 0.7 * rate + 0.3 * r : r;
        bar_line(&st, rate, tty);
        prev = st, t_prev = now;
    }
    if (tty)
        fputc('\n', stderr);
    return 0;
}

static int status_once(const char *url, int64_t every_ms)
{
    evt_redis_stat_t a, b;
    if (evt_redis_stat(url, &a) < 0)
        return -1;
    int64_t t0 = evt_now();
    b = a;
    if (!complete(&a) && a.items > 0 &&
        (evt_sleep(t0 + every_ms) < 0 || evt_redis_stat(url, &b) < 0))
        return -1;
    print_counts(url, &b);
    if (print_workers(url) < 0)
        return -1;
    double rate = rate_of(&a, &b, evt_now() - t0);
    char eta[64];
    eta_text(&b, rate, eta, sizeof eta);
    printf("  rate           %.1f items/s, %s\n", rate, eta);
    return fflush(stdout) == 0 ? 0 : -1;
}

int broker_status(int argc, char **argv)
{
    const char *url = NULL;
    int bar = 0;
    int64_t every_ms = 1000;
    for (int i = 2; i < argc; i++) {
        int u = broker_url_opt("status", argc, argv, &i, &url);
        if (u < 0)
            return CLI_EXIT_ERROR;
        if (u)
            continue;
        if (!strcmp(argv[i], "--bar"))
            bar = 1;
        else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
            if (broker_secs("status", argv[i], argv[i + 1], &every_ms) < 0)
                return CLI_EXIT_ERROR;
            i++;
            every_ms = every_ms < 10 ? 10 : every_ms;
        } else
            return broker_usage("status", "unknown argument %s", argv[i]);
    }
    if (!url)
        return broker_usage("status", "--broker URL is needed");
    if ((bar ? bar_loop(url, every_ms) : status_once(url, every_ms)) < 0) {
        int err = errno;
        broker_fail(url, err);
        return err == ENOENT ? 1 : CLI_EXIT_ERROR; /* no such batch: 1 */
    }
    return 0;
}

/* eventor results */
struct rctx {
    int jsonl, keep_order, follow;
    const char *joblog; /* --joblog [+]FILE: the batch's joblog there */
    uint64_t next;     /* -k --follow: the first item not printed */
    uint8_t *printed;  /* --follow without -k: one bit an item */
    size_t printed_len;
    uint64_t dead;     /* items dead-lettered (of the last walk) */
    int err;           /* a write failed */
};

static void print_one(struct rctx *c, uint64_t index, const void *item,
                      size_t len, const void *res, size_t rlen)
{
    if (!c->jsonl) {
        if (res)
            fwrite(res, 1, rlen, stdout);
        return;
    }
    printf("{\"seq\":%llu,\"item\":", (unsigned long long)index + 1);
    json_string(stdout, item, len);
    if (res) {
        fputs(",\"status\":\"done\",\"result\":", stdout);
        json_string(stdout, res, rlen);
    } else {
        fputs(",\"status\":\"dead\"", stdout);
    }
    fputs("}\n", stdout);
}

/* 1 when item index was printed before, and marks it. */
static int seen_before(struct rctx *c, uint64_t index)
{
    size_t byte = (size_t)(index / 8);
    if (byte >= c->printed_len) {
        size_t n = c->printed_len ? c->printed_len : 1024;
        while (n <= byte)
            n *= 2;
        uint8_t *p = realloc(c->printed, n);
        if (!p)
            return 0;
        memset(p + c->printed_len, 0, n - c->printed_len);
        c->printed = p, c->printed_len = n;
    }
    int was = c->printed[byte] >> (index % 8) & 1;
    c->printed[byte] |= (uint8_t)(1u << (index % 8));
    return was;
}

static int on_result(uint64_t index, const void *item, size_t len,
                     const void *res, size_t rlen, void *user)
{
    struct rctx *c = user;
    int dead = !res && rlen == EVT_REDIS_DEAD;
    c->dead += dead;
    if (!res && !dead) { /* not done yet: -k --follow waits for it */
        return c->follow && c->keep_order;
    }
    if (c->follow && c->keep_order) {
        if (index < c->next)
            return 0;
        c->next = index + 1;
    } else if (c->follow && seen_before(c, index)) {
        return 0;
    }
    print_one(c, index, item, len, res, dead ? 0 : rlen);
    if (ferror(stdout)) {
        c->err = 1;
        return 1;
    }
    return 0;
}

static int results_args(int argc, char **argv, const char **url,
                        struct rctx *c)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int u = broker_url_opt("results", argc, argv, &i, url);
        if (u < 0)
            return -1;
        if (u)
            continue;
        if (!strcmp(a, "--jsonl"))
            c->jsonl = 1;
        else if (!strcmp(a, "-k") || !strcmp(a, "--keep-order"))
            c->keep_order = 1;
        else if (!strcmp(a, "--follow") || !strcmp(a, "-f"))
            c->follow = 1;
        else if (!strcmp(a, "--joblog") && i + 1 < argc && argv[i + 1][0] &&
                 strcmp(argv[i + 1], "+"))
            c->joblog = argv[++i];
        else {
            broker_usage("results", "unknown argument %s", a);
            return -1;
        }
    }
    if (!*url) {
        broker_usage("results", "--broker URL is needed");
        return -1;
    }
    return 0;
}

/* The walks of --follow: until a walk that started with the batch
 * complete. */
static int follow_walks(const char *url, struct rctx *c)
{
    for (;;) {
        evt_redis_stat_t st;
        if (evt_redis_stat(url, &st) < 0 && errno != ENOENT)
            return -1; /* (no such batch yet: it may come) */
        c->dead = 0;
        if (evt_redis_results(url, on_result, c) < 0)
            return -1;
        fflush(stdout);
        if (c->err || complete(&st))
            return 0;
        if (evt_sleep(evt_now() + POLL_MS) < 0)
            return -1;
    }
}

int broker_results(int argc, char **argv)
{
    const char *url = NULL;
    struct rctx c = {0};
    if (results_args(argc, argv, &url, &c) < 0)
        return CLI_EXIT_ERROR;
    int rc = c.follow ? follow_walks(url, &c)
                      : evt_redis_results(url, on_result, &c);
    int err = errno;
    free(c.printed);
    if (fflush(stdout) != 0 || c.err) {
        cli_error("cannot write to standard output: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (rc < 0) {
        broker_fail(url, err);
        return CLI_EXIT_ERROR;
    }
    if (c.joblog && bjob_results(url, c.joblog) != 0)
        return CLI_EXIT_ERROR;
    if (c.dead && !c.jsonl)
        fprintf(stderr, "eventor results: %llu items were dead-lettered "
                        "(no result; eventor results --jsonl lists them)\n",
                (unsigned long long)c.dead);
    return c.dead > 101 ? 101 : (int)c.dead;
}
