/* Which input records make the next command line: one a job, or with -X,
 * -m, -n, -N, -L and -s as many as the limits allow, looking one record
 * ahead so that -X and -m spread the last ones over the job slots as GNU
 * parallel does. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --shuf: every record read first, then handed out in a random order
 * (GNU parallel's Fisher-Yates on its records, before lines are made). */
static int shuffled(struct lines *l, struct record *r)
{
    if (!l->shuf_loaded) {
        l->shuf_loaded = 1;
        struct record x;
        int rc;
        while ((rc = input_next(l->in, &x)) > 0) {
            struct record *v = l->nshuf < l->shuf_cap ? l->shuf
                : realloc(l->shuf, (l->shuf_cap = l->shuf_cap * 2 + 64) *
                                       sizeof *v);
            if (!v) {
                record_free(&x);
                rc = -1;
                break;
            }
            l->shuf = v;
            l->shuf[l->nshuf++] = x;
        }
        if (rc < 0 && !*l->stop)
            l->error = LINES_INPUT;
        srandom((unsigned)(getpid() ^ (long)wall_now()));
        for (size_t i = l->nshuf; i > 1; i--) {
            size_t k = (size_t)random() % i;
            struct record t = l->shuf[i - 1];
            l->shuf[i - 1] = l->shuf[k];
            l->shuf[k] = t;
        }
    }
    if (!l->nshuf)
        return 0;
    *r = l->shuf[--l->nshuf];
    return 1;
}

static int next_record(struct lines *l, struct record *r)
{
    if (l->o->shuf && !l->nheld) {
        int got = shuffled(l, r);
        l->eof = !l->nshuf;
        return got;
    }
    if (l->nheld) {
        *r = l->held[0];
        memmove(l->held, l->held + 1, --l->nheld * sizeof *l->held);
        return 1;
    }
    if (l->eof)
        return 0;
    int rc = input_next(l->in, r);
    if (rc < 0 && !*l->stop) /* not an error when a signal stopped it */
        l->error = LINES_INPUT;
    if (rc <= 0)
        l->eof = 1;
    return rc > 0;
}

static int unget_record(struct lines *l, struct record *r)
{
    if (l->nheld == l->held_cap) {
        size_t cap = l->held_cap ? l->held_cap * 2 : 64;
        struct record *h = realloc(l->held, cap * sizeof *h);
        if (!h)
            return -1;
        l->held = h;
        l->held_cap = cap;
    }
    memmove(l->held + 1, l->held, l->nheld * sizeof *l->held);
    l->held[0] = *r;
    l->nheld++;
    return 0;
}

/* The first record of a line alone may not exceed -s: GNU's error (its
 * input number is always 0; the values cut at 50 bytes). */
static int too_long(struct lines *l, struct record *r, size_t len,
                    size_t limit)
{
    char *v = tmpl_tag(r, 1, 'n');
    int cut = v && strlen(v) > 50;
    cli_error("Error: Command line too long (%zu >= %zu) at input 0: %.50s%s",
              len, limit, v ? v : "", cut ? "..." : "");
    free(v);
    record_free(r);
    l->error = LINES_TOO_LONG;
    return 0;
}

/* -X/-m at the end of the input: spread what there is over the job slots.
 * A full line looks one record ahead for the end, as GNU parallel's. */
static size_t spread(struct lines *l, struct record *recs, size_t n)
{
    const struct opts *o = l->o;
    if (!l->eof && l->nheld == 0 && n > 1) {
        struct record peek;
        if (next_record(l, &peek))
            unget_record(l, &peek);
    }
    if (l->eof && l->nheld == 0 && n > 1) {
        l->spread_done = 1;
        long per = (long)((n + (size_t)o->jobs - 1) / (size_t)o->jobs);
        if (!o->max_args || per < l->max_args)
            l->max_args = per;
        while (n > (size_t)l->max_args)
            if (unget_record(l, &recs[--n]) < 0)
                break;
    }
    return n;
}

size_t lines_fill(struct lines *l, struct record **recs, size_t *cap)
{
    const struct opts *o = l->o;
    size_t n = 0, len = 0, limit = o->max_chars ? (size_t)o->max_chars
                                                : CLI_MAX_LINE;
    if (!l->max_args)
        l->max_args = o->xmode ? o->max_args : 1;
    for (; !l->max_args || n < (size_t)l->max_args; n++) {
        if (n == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            struct record *v = realloc(*recs, c * sizeof *v);
            if (!v)
                break;
            *recs = v;
            *cap = c;
        }
        struct record *r = &(*recs)[n];
        if (!next_record(l, r))
            break;
        if (n == 0 && (o->xmode || o->max_chars)) {
            len = tmpl_line_length(l->t, r, 1);
            if (o->max_chars && len >= limit)
                return too_long(l, r, len, limit);
        } else if (n > 0) {
            size_t add = tmpl_record_length(l->t, r);
            if (len + add >= limit) {
                unget_record(l, r);
                break;
            }
            len += add;
        }
    }
    return o->spread && !l->spread_done ? spread(l, *recs, n) : n;
}

void lines_free(struct lines *l)
{
    for (size_t k = 0; k < l->nheld; k++)
        record_free(&l->held[k]);
    free(l->held);
    l->held = NULL;
    for (size_t k = 0; k < l->nshuf; k++)
        record_free(&l->shuf[k]);
    free(l->shuf);
    l->shuf = NULL;
    l->nshuf = 0;
    l->nheld = l->held_cap = 0;
}
