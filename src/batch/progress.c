/* What a batch shows while it runs and when it ends: done/failed/retried
 * counts, rate, ETA when the total is known, and p50/p99 of attempt times
 * from a log-scale histogram. */
#define _GNU_SOURCE
#include "ctl.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* 2^SUB_BITS buckets per power of two, each as wide as 1/32 of its octave's
 * start (3% of its values or less), found from the leading zeros: a log
 * per attempt cost more than the rest of a trivial attempt's bookkeeping. */
#define SUB_BITS 5
#define SUBS (1u << SUB_BITS)

void evt__hist_add(evt__hist_t *h, int64_t us)
{
    uint64_t v = us < 1 ? 1 : (uint64_t)us;
    unsigned octave = 63u - (unsigned)__builtin_clzll(v);
    uint64_t sub = octave >= SUB_BITS ? v >> (octave - SUB_BITS)
                                      : v << (SUB_BITS - octave);
    size_t b = (size_t)octave * SUBS + (size_t)(sub & (SUBS - 1));
    if (b >= EVT__HIST_BUCKETS)
        b = EVT__HIST_BUCKETS - 1;
    h->count[b]++;
    h->total++;
}

void evt__hist_merge(evt__hist_t *h, const evt__hist_t *from)
{
    for (size_t b = 0; b < EVT__HIST_BUCKETS; b++)
        h->count[b] += from->count[b];
    h->total += from->total;
}

double evt__hist_quantile(const evt__hist_t *h, double q)
{
    if (h->total == 0)
        return 0;
    double want = q * (double)h->total;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;
    uint64_t seen = 0;
    size_t b = 0;
    while (b < EVT__HIST_BUCKETS - 1 && (seen += h->count[b]) < rank)
        b++;
    /* The bucket's middle, in ms. */
    double mid = (double)(SUBS + b % SUBS) + 0.5;
    int shift = (int)(b / SUBS) - SUB_BITS;
    return (shift >= 0 ? mid * (double)((uint64_t)1 << shift)
                       : mid / (double)((uint64_t)1 << -shift))
           / 1000.0;
}

void evt__progress_init(evt__progress_t *p, int fd, uint64_t total)
{
    p->fd = fd;
    p->tty = isatty(fd);
    p->start_ms = evt_now();
    p->next_ms = p->start_ms + evt__progress_period(p);
    p->total = total;
}

int64_t evt__progress_period(const evt__progress_t *p)
{
    return p->tty ? 200 : 1000;
}

static void put(const evt__progress_t *p, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(p->fd, s, n);
        if (w <= 0)
            return; /* progress is best effort: never fail the batch */
        s += w;
        n -= (size_t)w;
    }
}

/* n bytes for a person: 12.3M (powers of 1024, as --max-result takes). */
static void human(uint64_t n, char *out, size_t cap)
{
    static const char units[] = "BKMGTP";
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units - 1) {
        v /= 1024;
        u++;
    }
    snprintf(out, cap, u ? "%.1f%c" : "%.0f%c", v, units[u]);
}

/* "[####....]  42% " and the count of it, where the end is known: items
 * (an array), or else bytes (a file); 0 when neither is. */
static int draw_done(const evt__progress_t *p, const evt_batch_report_t *r,
                     char *out, size_t cap, double *frac)
{
    uint64_t fin = r->ok + r->failed;
    char bar[33], done[16], all[16];
    if (p->total)
        *frac = (double)fin / (double)p->total;
    else if (r->bytes_total)
        *frac = (double)r->bytes_done / (double)r->bytes_total;
    else
        return 0;
    if (*frac > 1) /* (a file that grew as it was read) */
        *frac = 1;
    size_t fill = (size_t)(32 * *frac);
    memset(bar, '#', fill);
    memset(bar + fill, '.', 32 - fill);
    bar[32] = 0;
    if (p->total)
        return snprintf(out, cap, "[%s] %3u%% %llu/%llu", bar,
                        (unsigned)(100 * *frac), (unsigned long long)fin,
                        (unsigned long long)p->total);
    human(r->bytes_done, done, sizeof done);
    human(r->bytes_total, all, sizeof all);
    return snprintf(out, cap, "[%s] %3u%% %s/%s %llu done", bar,
                    (unsigned)(100 * *frac), done, all,
                    (unsigned long long)fin);
}

void evt__progress_draw(evt__progress_t *p, const evt_batch_report_t *r,
                        uint64_t running)
{
    int64_t now = evt_now();
    p->next_ms = now + evt__progress_period(p);
    double secs = (double)(now - p->start_ms) / 1000.0;
    uint64_t fin = r->ok + r->failed;
    double rate = secs > 0 ? (double)fin / secs : 0, frac = 0;
    char line[256], head[96], eta[32] = "";
    if (draw_done(p, r, head, sizeof head, &frac) <= 0)
        snprintf(head, sizeof head, "%llu done:", (unsigned long long)fin);
    else if (frac > 0) /* the time so far, for what is left at this pace */
        snprintf(eta, sizeof eta, " ETA %.0fs", secs * (1 - frac) / frac);
    else
        snprintf(eta, sizeof eta, " ETA ?");
    int n = snprintf(line, sizeof line,
                     "%s%s ok %llu failed %llu retried %llu running %llu"
                     " %.1f/s%s%s",
                     p->tty ? "\r" : "", head, (unsigned long long)r->ok,
                     (unsigned long long)r->failed,
                     (unsigned long long)r->retried,
                     (unsigned long long)running, rate, eta,
                     p->tty ? "\033[K" : "\n");
    if (n > 0)
        put(p, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void evt__progress_final(evt__progress_t *p, const evt_batch_report_t *r)
{
    double secs = (double)r->wall_ms / 1000.0;
    uint64_t fin = r->ok + r->failed;
    char line[256];
    int n = snprintf(line, sizeof line,
                     "%s%llu items: %llu ok, %llu failed, %llu retried%s in"
                     " %.2f s (%.1f/s), p50 %.2f ms, p99 %.2f ms\n",
                     p->tty ? "\r\033[K" : "", (unsigned long long)fin,
                     (unsigned long long)r->ok, (unsigned long long)r->failed,
                     (unsigned long long)r->retried,
                     r->halted ? ", halted" : "", secs,
                     secs > 0 ? (double)fin / secs : 0.0, r->p50_ms,
                     r->p99_ms);
    if (n > 0)
        put(p, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}
