/* --pipe --shard SHARDEXPR and --bin BINEXPR: which job each line goes to
 * (pipetee.c feeds them). SHARDEXPR is GNU's: a column (a number, or a
 * name looked up in the first line, which then goes to no job; none or 0:
 * the whole line), then optionally a perl expression run with $_ = the
 * column's value, the $_ it leaves being the key. --shard: a hash of the
 * key modulo the jobs (GNU's is perl's B::hash with a random seed, so only
 * that equal keys go to one job is promised); --bin: the key as a Perl
 * number, Perl's % the jobs, 0 being the last job. */
#include "cli.h"
#include "perlexpr.h"
#include "pipemore.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct {
    struct pipecol col;     /* col 0: the whole line */
    int bin;
    long n;
    int pexpr;              /* the perl expression's index, -1 none */
    struct perl_val *vals;  /* a batch's values, then their keys */
    size_t cap;
} S = {.pexpr = -1};

/* The column part of e: its length (GNU's column_perlexpr) and where the
 * perl expression starts; *name set when it is a header's name. */
static size_t column_word(const char *e, const char **rest, int *name)
{
    size_t w = strspn(e, "-_0123456789abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    *name = 0;
    *rest = e;
    if (!w || (e[w] && !isspace((unsigned char)e[w])))
        return 0; /* a perl expression on the whole line */
    size_t d = strspn(e + (*e == '-'), "0123456789") + (*e == '-');
    if (d == w && d > (size_t)(*e == '-')) {
        *rest = e + w + !!e[w];
    } else if (!memchr(e, '-', w)) {
        *name = 1;
        for (*rest = e + w; isspace((unsigned char)**rest);)
            (*rest)++;
    } else {
        return 0;
    }
    return w;
}

int pipeshard_open(const struct opts *o, long n, char **buf, size_t *len)
{
    const char *e = o->shard_expr, *rest;
    int name;
    size_t w = column_word(e, &rest, &name);
    S.col = (struct pipecol){.o = o, .dflt = ',', .col = name ? 0 : atol(e)};
    S.bin = o->pipe_route == PIPE_ROUTE_BIN;
    S.n = n;
    if (S.col.col < 0) {
        cli_error("%s %s: a column from the end is not supported",
                  S.bin ? "--bin" : "--shard", e);
        return -1;
    }
    if (name) {
        char *h = NULL;
        size_t hlen = 0;
        if (pipecol_header(buf, len, &h, &hlen) < 0) {
            free(h);
            cli_error("out of memory");
            return -1;
        }
        int rc = pipecol_name(&S.col, e, w, h, hlen);
        free(h);
        if (rc < 0)
            return -1;
    }
    if (rest[strspn(rest, " \t\n\r\f\v")] && (S.pexpr = perl_compile(rest)) < 0)
        return -1; /* it said why */
    return 0;
}

/* FNV-1a, 64 bits. */
static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t k = 0; k < len; k++)
        h = (h ^ (unsigned char)s[k]) * 1099511628211ULL;
    return h;
}

/* s as Perl numifies a string (blanks, a sign, digits, a fraction, an
 * exponent; anything else ends it; none: 0), Perl's % n (>= 0). */
static uint64_t perl_mod(const char *s, size_t len, uint64_t n)
{
    const char *p = s, *end = s + len;
    while (p < end && isspace((unsigned char)*p))
        p++;
    int neg = p < end && *p == '-';
    p += p < end && (*p == '-' || *p == '+');
    const char *num = p;
    uint64_t mag = 0;
    int exact = 1;
    for (; p < end && isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        exact &= mag <= (UINT64_MAX - d) / 10;
        mag = mag * 10 + d;
    }
    size_t int_digits = (size_t)(p - num);
    if (p < end && *p == '.' && (int_digits || (p + 1 < end && isdigit((unsigned char)p[1])))) {
        exact = 0;
        for (p++; p < end && isdigit((unsigned char)*p); p++)
            ;
    } else if (!int_digits) {
        return 0; /* not a number (nor Perl's Inf and NaN here) */
    }
    const char *x = p + (p < end && (*p == 'e' || *p == 'E'));
    x += x > p && x < end && (*x == '-' || *x == '+');
    if (x > p && x < end && isdigit((unsigned char)*x)) {
        exact = 0;
        for (p = x; p < end && isdigit((unsigned char)*p); p++)
            ;
    }
    uint64_t r;
    if (exact) {
        r = mag % n;
    } else {
        char tmp[64];
        size_t l = (size_t)(p - num) < sizeof tmp - 1 ? (size_t)(p - num)
                                                        : sizeof tmp - 1;
        memcpy(tmp, num, l);
        tmp[l] = 0;
        double d = strtod(tmp, NULL);
        if (!isfinite(d))
            return 0; /* as a non-number: GNU's cannot place them */
        r = d < 18446744073709551616.0 ? (uint64_t)d % n
                                       : (uint64_t)fmod(floor(d + 0.5), (double)n);
    }
    return neg && r ? n - r : r;
}

/* The job of key (0 .. n-1, in seq order). */
static long job_of(const char *key, size_t len)
{
    if (!S.bin)
        return (long)(hash(key, len) % (uint64_t)S.n);
    uint64_t r = perl_mod(key, len, (uint64_t)S.n);
    return r ? (long)r - 1 : S.n - 1; /* GNU's bin 0 is the last fifo */
}

int pipeshard_route(char *buf, const size_t *at, size_t nl, long *job)
{
    if (nl > S.cap) {
        struct perl_val *v = realloc(S.vals, nl * sizeof *v);
        if (!v) {
            cli_error("out of memory");
            return -1;
        }
        S.vals = v;
        S.cap = nl;
    }
    for (size_t k = 0; k < nl; k++) {
        char *line = buf + at[k];
        size_t len = at[k + 1] - at[k];
        char keep = line[len];
        line[len] = 0; /* for regexec: the byte after it has room */
        if (S.col.col)
            pipecol_value(&S.col, line, len, &S.vals[k].s, &S.vals[k].len);
        else
            S.vals[k] = (struct perl_val){line, len};
        line[len] = keep;
    }
    if (S.pexpr >= 0 && perl_map(S.pexpr, S.vals, nl, S.vals) < 0)
        return -1; /* perl said why */
    for (size_t k = 0; k < nl; k++)
        job[k] = job_of(S.vals[k].s, S.vals[k].len);
    return 0;
}

void pipeshard_close(void)
{
    free(S.vals);
    memset(&S, 0, sizeof S);
    S.pexpr = -1;
}
