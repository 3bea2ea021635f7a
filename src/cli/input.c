/* Input sources of the eventor command: `:::` lists and files (`::::`, -a,
 * stdin), combined as GNU parallel does: groups of linked sources (:::+ or
 * --link) are zipped, groups are multiplied, the last varying fastest. The
 * first group streams when it is a single source; the others are read
 * whole. Reads go through evt_read so a slow producer parks only the main
 * coroutine, never the jobs' bookkeeping. */
#include "cli.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct reader {
    int fd;
    const char *name;
    char *buf;
    size_t start, end, cap;
    int eof;
};

struct input {
    const struct opts *o;
    size_t nsrc;
    struct source *src;     /* the sources (o->src, or one stdin source) */
    struct reader *rd;      /* one per source; fd -1 for `:::` lists */
    size_t ngroup;
    size_t *gfirst, *gcount; /* group g = sources gfirst[g] .. +gcount[g] */
    size_t *idx, *len;      /* position and length of each group */
    int streaming;          /* group 0 is read item by item */
    char *cur;              /* streaming: the current item of group 0 */
    int started;
    struct source stdin_src;
};

void record_free(struct record *r)
{
    for (size_t i = 0; i < r->nval; i++)
        free(r->val[i]);
    free(r->val);
    r->val = NULL;
    r->nval = 0;
}

static int open_reader(struct reader *rd, const char *path)
{
    rd->name = strcmp(path, "-") ? path : "standard input";
    rd->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    struct stat st;
    if (rd->fd < 0 || fstat(rd->fd, &st) < 0) {
        cli_error("cannot read %s: %s", rd->name, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error("cannot read %s: %s", rd->name, strerror(EISDIR));
        return -1;
    }
    return 0;
}

/* An item as a string (malloc'd): a NUL in it (which a command line cannot
 * carry) becomes the two characters \0, with GNU parallel's warning once. */
static char *nul_free(const char *p, size_t len)
{
    static int warned;
    size_t nuls = 0;
    for (const char *q = p; (q = memchr(q, 0, len - (size_t)(q - p))); q++)
        nuls++;
    if (!nuls)
        return strndup(p, len);
    if (!warned++)
        fputs("eventor: Warning: A NUL character in the input was replaced "
              "with \\0.\neventor: Warning: NUL cannot be passed through in "
              "the argument list.\neventor: Warning: Did you mean to use the "
              "--null option?\n", stderr);
    char *s = malloc(len + nuls + 1), *o = s;
    for (size_t i = 0; s && i < len; i++)
        if (p[i]) {
            *o++ = p[i];
        } else {
            *o++ = '\\';
            *o++ = '0';
        }
    if (s)
        *o = 0;
    return s;
}

/* The next item of rd into *item (malloc'd), up to the delimiter d (dlen
 * bytes): 1, 0 at end, -1 on error. */
static int read_raw(struct reader *rd, const char *d, size_t dlen,
                    char **item)
{
    size_t scan = rd->start;
    for (;;) {
        char *nl = rd->end >= scan + dlen
                       ? dlen == 1 ? memchr(rd->buf + scan, *d, rd->end - scan)
                                   : memmem(rd->buf + scan, rd->end - scan, d,
                                            dlen)
                       : NULL;
        if (nl || (rd->eof && rd->end > rd->start)) {
            size_t stop = nl ? (size_t)(nl - rd->buf) : rd->end;
            *item = nul_free(rd->buf + rd->start, stop - rd->start);
            if (!*item) {
                cli_error("out of memory");
                return -1;
            }
            rd->start = nl ? stop + dlen : stop;
            return 1;
        }
        if (rd->eof)
            return 0;
        /* a delimiter may straddle what is read next */
        scan = rd->end >= rd->start + dlen ? rd->end - dlen + 1 : rd->start;
        if (rd->start > 0) { /* slide the partial item to the front */
            memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
            scan -= rd->start;
            rd->end -= rd->start;
            rd->start = 0;
        }
        if (rd->end == rd->cap) {
            size_t cap = rd->cap ? rd->cap * 2 : 65536;
            char *b = realloc(rd->buf, cap);
            if (!b) {
                cli_error("out of memory");
                return -1;
            }
            rd->buf = b;
            rd->cap = cap;
        }
        ssize_t n = evt_read(rd->fd, rd->buf + rd->end, rd->cap - rd->end, -1);
        if (n < 0) {
            if (errno != ECANCELED) /* ECANCELED: a signal stopped the input */
                cli_error("cannot read %s: %s", rd->name, strerror(errno));
            return -1;
        }
        if (n == 0)
            rd->eof = 1;
        rd->end += (size_t)n;
    }
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\n\r\f\v", *s))
            return 0;
    return 1;
}

/* An item as GNU parallel's read_arg_from_fh takes it: -E's string ends
 * the input, -r skips blank items, with -L one that ends in a blank goes on
 * with the next. Returns 1 and *item (malloc'd), 0 to read on, ITEM_LAST
 * (*item the last one) or ITEM_END (none) at -E's string, -1 out of
 * memory. */
enum { ITEM_LAST = 2, ITEM_END = 3 };

static int filter_item(const struct opts *o, char **acc, char *it,
                       char **item)
{
    if (o->eof_str && !strcmp(it, o->eof_str)) { /* -E: the rest is unread */
        free(it);
        *item = *acc; /* a -L line it ended, or nothing */
        *acc = NULL;
        return *item ? ITEM_LAST : ITEM_END;
    }
    if (*acc) {
        size_t a = strlen(*acc);
        char *j = realloc(*acc, a + strlen(it) + 1);
        if (!j) {
            free(it);
            return -1;
        }
        strcpy(j + a, it);
        free(it);
        it = j;
        *acc = NULL;
    }
    if (o->no_empty && blank(it)) {
        free(it);
        return 0;
    }
    size_t len = strlen(it);
    if (o->line_continues && len && strchr(" \t\n\r\f\v", it[len - 1])) {
        *acc = it;
        return 0;
    }
    *item = it;
    return 1;
}

static int read_item(const struct input *in, struct reader *rd, char **item)
{
    const struct opts *o = in->o;
    char *acc = NULL, *it;
    for (;;) {
        int rc = read_raw(rd, o->delim ? o->delim : "\n",
                          o->delim ? o->delim_len : 1, &it);
        if (rc <= 0) {
            if (rc == 0 && acc) {
                *item = acc;
                return 1;
            }
            free(acc);
            return rc;
        }
        rc = filter_item(o, &acc, it, item);
        if (rc == ITEM_LAST || rc == ITEM_END) { /* read no more of it */
            rd->eof = 1;
            rd->start = rd->end;
            return rc == ITEM_LAST;
        }
        if (rc) {
            if (rc < 0)
                cli_error("out of memory");
            free(acc);
            return rc;
        }
    }
}

/* GNU parallel writes a `:::` list to a file, each item followed by the
 * delimiter, and reads it back: an item holding the delimiter is several. */
static int split_list(const struct opts *o, struct strv *items)
{
    const char *d = o->delim ? o->delim : "\n";
    size_t dl = o->delim ? o->delim_len : 1, extra = 0;
    if (dl == 0 || memchr(d, 0, dl)) /* (no C string holds it: -0) */
        return 0;
    for (size_t i = 0; i < items->n; i++)
        for (const char *p = items->v[i]; (p = strstr(p, d)); p += dl)
            extra++;
    if (!extra)
        return 0;
    struct strv out = {0};
    for (size_t i = 0; i < items->n; i++) {
        for (const char *p = items->v[i];;) {
            const char *e = strstr(p, d);
            char *piece = strndup(p, e ? (size_t)(e - p) : strlen(p));
            if (!piece || strv_push(&out, piece) < 0) {
                free(piece);
                strv_free(&out);
                return -1;
            }
            if (!e)
                break;
            p = e + dl;
        }
    }
    strv_free(items);
    *items = out;
    return 0;
}

/* -r and -L on a `:::` list, as GNU parallel reads it from a file. */
static int filter_list(const struct opts *o, struct strv *items)
{
    if (split_list(o, items) < 0)
        goto nomem;
    if ((!o->no_empty && !o->line_continues && !o->eof_str) || !items->n)
        return 0; /* (an empty list has no vector to cut) */
    size_t w = 0;
    char *acc = NULL, *item;
    size_t i = 0;
    while (i < items->n) {
        int rc = filter_item(o, &acc, items->v[i], &item);
        items->v[i++] = NULL;
        if (rc < 0)
            goto nomem;
        if (rc == 1 || rc == ITEM_LAST)
            items->v[w++] = item;
        if (rc == ITEM_LAST || rc == ITEM_END)
            break;
    }
    for (; i < items->n; i++) { /* after -E's string */
        free(items->v[i]);
        items->v[i] = NULL;
    }
    if (acc)
        items->v[w++] = acc;
    items->n = w;
    items->v[w] = NULL;
    return 0;
nomem:
    cli_error("out of memory");
    return -1;
}

/* Read the rest of source s into its items. */
static int slurp(struct input *in, size_t s)
{
    char *item;
    int rc;
    while ((rc = read_item(in, &in->rd[s], &item)) > 0)
        if (strv_push(&in->src[s].items, item) < 0) {
            free(item);
            cli_error("out of memory");
            return -1;
        }
    return rc;
}

/* GNU parallel's lengths: an empty source is one empty value (unless every
 * source is empty); --link wraps the shorter sources, :::+ stops at the
 * shortest. */
static void group_lengths(struct input *in)
{
    int all_empty = 1;
    for (size_t s = 0; s < in->nsrc; s++)
        all_empty &= in->src[s].items.n == 0 && !(s == 0 && in->streaming);
    for (size_t g = 0; g < in->ngroup; g++) {
        in->len[g] = all_empty ? 0 : in->o->link ? 1 : SIZE_MAX;
        for (size_t k = 0; k < in->gcount[g] && !all_empty; k++) {
            size_t n = in->src[in->gfirst[g] + k].items.n;
            n = n ? n : 1;
            if (in->o->link ? n > in->len[g] : n < in->len[g])
                in->len[g] = n;
        }
    }
}

/* Source s's first item, taken off it (NULL: none): 0, or -1. */
static int take_first(struct input *in, size_t s, char **line)
{
    struct strv *items = &in->src[s].items;
    *line = NULL;
    if (s == 0 && in->streaming)
        return read_item(in, &in->rd[0], line) < 0 ? -1 : 0;
    if (items->n) {
        *line = items->v[0];
        memmove(items->v, items->v + 1, items->n-- * sizeof *items->v);
    }
    return 0;
}

/* --header (gnu-results): each source's first item names its columns;
 * before it, --skip-first-line drops the first source's first line. */
static int read_headers(struct input *in)
{
    const struct opts *o = in->o;
    char *line;
    if (o->skip_first_line) {
        if (take_first(in, 0, &line) < 0)
            return -1;
        free(line);
    }
    if (!o->header || o->pipe || !strcmp(o->header, "0"))
        return 0;
    for (size_t s = 0; s < in->nsrc; s++) {
        if (take_first(in, s, &line) < 0)
            return -1;
        int rc = line ? header_line(o, line) : 0;
        free(line);
        if (rc < 0)
            return -1;
    }
    return 0;
}

struct input *input_open(const struct opts *o)
{
    struct input *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->o = o;
    in->src = o->src;
    in->nsrc = o->nsrc;
    if (in->nsrc == 0) {
        in->stdin_src.is_file = 1;
        in->stdin_src.path = "-";
        in->src = &in->stdin_src;
        in->nsrc = 1;
    }
    in->rd = calloc(in->nsrc, sizeof *in->rd);
    in->gfirst = calloc(in->nsrc, sizeof *in->gfirst);
    in->gcount = calloc(in->nsrc, sizeof *in->gcount);
    in->idx = calloc(in->nsrc, sizeof *in->idx);
    in->len = calloc(in->nsrc, sizeof *in->len);
    if (!in->rd || !in->gfirst || !in->gcount || !in->idx || !in->len) {
        cli_error("out of memory");
        goto fail;
    }
    for (size_t s = 0; s < in->nsrc; s++) {
        in->rd[s].fd = -1;
        if (s == 0 || !(in->src[s].linked || o->link)) {
            in->gfirst[in->ngroup] = s;
            in->ngroup++;
        }
        in->gcount[in->ngroup - 1]++;
    }
    /* Open every file first: an unreadable one is reported before any
     * job runs or any output (joblog included) is touched. */
    for (size_t s = 0; s < in->nsrc; s++)
        if (in->src[s].is_file && open_reader(&in->rd[s], in->src[s].path) < 0)
            goto fail;
    in->streaming = in->gcount[0] == 1 && in->src[0].is_file;
    for (size_t s = in->streaming ? 1 : 0; s < in->nsrc; s++)
        if (in->src[s].is_file ? slurp(in, s) < 0
                               : filter_list(o, &in->src[s].items) < 0)
            goto fail;
    if (read_headers(in) < 0)
        goto fail;
    group_lengths(in);
    return in;
fail:
    input_close(in);
    return NULL;
}

long input_count_all(struct input *in)
{
    if (in->streaming) {
        if (slurp(in, 0) < 0)
            return -1;
        in->streaming = 0;
        group_lengths(in);
    }
    long total = 1;
    for (size_t g = 0; g < in->ngroup; g++) {
        if (in->len[g] && (size_t)total > (size_t)LONG_MAX / in->len[g]) {
            cli_error("the input sources combine into more than %ld jobs",
                      LONG_MAX);
            return -1;
        }
        total *= (long)in->len[g];
    }
    return total;
}

/* Append value v (split at --colsep) to r. */
static int push_value(const struct input *in, struct record *r, const char *v)
{
    if (in->o->csv && *v) /* gnu-results: -2 when v is not CSV (reported) */
        return csv_split(in->o, v, r);
    for (;;) {
        regmatch_t m;
        size_t len = strlen(v);
        int hit = in->o->have_colsep &&
                  regexec(&in->o->colsep, v, 1, &m, 0) == 0 && m.rm_eo > 0;
        if (hit)
            len = (size_t)m.rm_so;
        if (record_push(r, v, len) < 0)
            return -1;
        if (!hit)
            return 0;
        v += m.rm_eo;
    }
}

static int others_have_items(const struct input *in)
{
    for (size_t s = 1; s < in->nsrc; s++)
        if (in->src[s].items.n)
            return 1;
    return 0;
}

int input_next(struct input *in, struct record *r)
{
    memset(r, 0, sizeof *r);
    for (size_t g = 0; g < in->ngroup; g++)
        if (g > 0 || !in->streaming)
            if (in->len[g] == 0)
                return 0;
    size_t g = in->ngroup;
    if (in->started) { /* the odometer over groups 1.. */
        while (--g >= 1) {
            if (++in->idx[g] < in->len[g])
                break;
            in->idx[g] = 0;
        }
    }
    if (!in->started || g == 0) {
        if (in->streaming) {
            free(in->cur);
            in->cur = NULL;
            int rc = read_item(in, &in->rd[0], &in->cur);
            if (rc == 0 && !in->started && others_have_items(in)) {
                /* an empty first source is one empty value, as GNU's */
                if (!(in->cur = strdup("")))
                    return -1;
                rc = 1;
            }
            if (rc <= 0)
                return rc;
        } else if (in->started && ++in->idx[0] >= in->len[0]) {
            return 0;
        }
        in->started = 1;
    }
    for (g = 0; g < in->ngroup; g++) {
        for (size_t k = 0; k < in->gcount[g]; k++) {
            const struct strv *items = &in->src[in->gfirst[g] + k].items;
            const char *v = g == 0 && in->streaming ? in->cur
                            : items->n ? items->v[in->idx[g] % items->n]
                                       : "";
            int rc = push_value(in, r, v);
            if (rc < 0) {
                record_free(r);
                if (rc == -1)
                    cli_error("out of memory");
                return -1;
            }
        }
    }
    return 1;
}

void input_close(struct input *in)
{
    if (!in)
        return;
    for (size_t s = 0; in->rd && s < in->nsrc; s++) {
        if (in->rd[s].fd > 0)
            evt_close(in->rd[s].fd);
        free(in->rd[s].buf);
    }
    strv_free(&in->stdin_src.items);
    free(in->cur);
    free(in->rd);
    free(in->gfirst);
    free(in->gcount);
    free(in->idx);
    free(in->len);
    free(in);
}
