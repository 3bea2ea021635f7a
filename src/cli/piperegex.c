/* --pipe --regexp: where a block is cut when --recstart and --recend are
 * Perl regular expressions. The patterns are GNU parallel's own (its
 * spreadstdin's pass_regexp and pass_n_regexps, find_split_positions'
 * for --pipepart), with the same flags, matched by PCRE2 so that they
 * backtrack as Perl's do. */
#include "cli.h"
#include "pipemore.h"

#ifdef EVT_HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { RE_LAST, RE_N, RE_START, RE_GARBAGE, RE_PART, RE_SEPS, RE_LEAD,
       RE_TAIL, RE_COUNT };

static struct {
    char *rs, *re;     /* (?:(?-x:recstart)), (?:(?-x:recend)) */
    pcre2_code *code[RE_COUNT];
    pcre2_match_data *md;
    int garbage_done;  /* the first -N pass looked for a record's garbage */
} R;

/* Compile pat as pattern k (once): NULL after an error line. */
static pcre2_code *compile(int k, const char *pat, uint32_t flags)
{
    if (R.code[k])
        return R.code[k];
    int err;
    PCRE2_SIZE at;
    R.code[k] = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, flags,
                              &err, &at, NULL);
    if (!R.code[k]) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        cli_error("--regexp: --recstart/--recend is not a valid regular "
                  "expression: %s", (char *)msg);
        return NULL;
    }
    /* interpreted: JIT stacks overflow on the long backtracking */
    if (!R.md && !(R.md = pcre2_match_data_create(4, NULL))) {
        cli_error("out of memory");
        return NULL;
    }
    return R.code[k];
}

/* Build a pattern with asprintf and compile it as k: NULL after an error. */
static pcre2_code *make(int k, uint32_t flags, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pcre2_code *make(int k, uint32_t flags, const char *fmt, ...)
{
    if (R.code[k])
        return R.code[k];
    va_list ap;
    va_start(ap, fmt);
    char *pat = NULL;
    int rc = vasprintf(&pat, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        cli_error("out of memory");
        return NULL;
    }
    pcre2_code *c = compile(k, pat, flags);
    free(pat);
    return c;
}

/* A match that failed with rc, reported: -2. */
static long failed(int rc)
{
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(rc, msg, sizeof msg);
    cli_error("--regexp: matching a block failed: %s", (char *)msg);
    return -2;
}

/* Match c on buf: the end of group 1 (the chunk's length), -1 when there
 * is no match, -2 after an error line. */
static long group1(pcre2_code *c, const char *buf, size_t len)
{
    if (!c)
        return -2;
    int rc = pcre2_match(c, (PCRE2_SPTR)buf, len, 0, 0, R.md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return -1;
    if (rc < 0)
        return failed(rc);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(R.md);
    return rc > 1 ? (long)ov[3] : -1;
}

/* GNU's recstartrecend with --regexp: the defaults, then each wrapped so
 * that a '|' stays inside it. */
int pipere_open(const char *recstart, const char *recend)
{
    const char *rs = recstart ? recstart : "";
    const char *re = recend ? recend : recstart ? "" : "\n";
    if (!recstart && recend && !*recend)
        re = "(?s:.)"; /* --regexp --recend '': any character */
    if (asprintf(&R.rs, "(?:(?-x:%s))", rs) < 0 ||
        asprintf(&R.re, "(?:(?-x:%s))", re) < 0) {
        cli_error("out of memory");
        return -1;
    }
    const char *e = R.re, *s = R.rs;
    /* the last recend followed by recstart ((?s:.)* backtracks from the
     * end; GNU's /m: ^ and $ at every line), -N's record and the text
     * before a first recstart, --pipepart's m:^(.*$recend)$recstart:os */
    int ok = make(RE_LAST, PCRE2_MULTILINE, "^((?s:.)*%s)%s(?s:.)*?$", e, s) &&
             make(RE_N, PCRE2_MULTILINE, "%s(?:(?!%s%s)(?s:.))*?%s(?=%s)", s, e,
                  s, e, s) &&
             make(RE_START, 0, "^%s", s) &&
             make(RE_GARBAGE, PCRE2_MULTILINE,
                  "(?s:^)((?:(?:(?!%s%s)(?s:.))*?%s))(?=%s)", e, s, e, s) &&
             make(RE_PART, PCRE2_DOTALL, "^(.*%s)%s", e, s) &&
             /* --rrs: GNU's s/$recend$recstart//gom, s/^$recstart//os,
              * s/$recend$//os ($: the end, or before a last newline) */
             make(RE_SEPS, PCRE2_MULTILINE, "%s%s", e, s) &&
             make(RE_LEAD, PCRE2_DOTALL, "^%s", s) &&
             make(RE_TAIL, PCRE2_DOTALL, "%s$", e);
    return ok ? 0 : -1;
}

long pipere_last(const char *buf, size_t len)
{
    return group1(R.code[RE_LAST], buf, len);
}

long pipere_n(const char *buf, size_t len, long n)
{
    if (!R.garbage_done) {
        /* text before the first recstart is one record of its own */
        R.garbage_done = 1;
        if (pcre2_match(R.code[RE_START], (PCRE2_SPTR)buf, len, 0, 0, R.md,
                        NULL) < 0) {
            long g = group1(R.code[RE_GARBAGE], buf, len);
            if (g > 0 || g == -2) /* GNU's: a garbage record not empty */
                return g;
        }
    }
    /* GNU's (?:record){N}(?=recstart), a record at a time (PCRE2 would
     * copy the group N times): each ends where recend meets recstart */
    size_t at = 0;
    for (long k = 0; k < n; k++) {
        int rc = pcre2_match(R.code[RE_N], (PCRE2_SPTR)buf, len, at,
                             PCRE2_ANCHORED, R.md, NULL);
        if (rc < 0)
            return rc == PCRE2_ERROR_NOMATCH ? -1 : failed(rc);
        at = pcre2_get_ovector_pointer(R.md)[1];
    }
    return (long)at;
}

long pipere_part(const char *buf, size_t len)
{
    return group1(R.code[RE_PART], buf, len);
}

/* Take the first match of c from at on out of buf[0, *len): 1 when one
 * was, 0 none, -2 after an error line. */
static int take_match(pcre2_code *c, char *buf, size_t *len, size_t at)
{
    int rc = pcre2_match(c, (PCRE2_SPTR)buf, *len, at, 0, R.md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return (int)failed(rc);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(R.md);
    memmove(buf + ov[0], buf + ov[1], *len - ov[1]);
    *len -= ov[1] - ov[0];
    return 1;
}

long pipere_strip(char *buf, size_t len)
{
    /* every recend+recstart, each matched where the last one ended, as a
     * global s/// does: on a copy, since a match may look behind */
    char *in = malloc(len + 1);
    if (!in) {
        cli_error("out of memory");
        return -2;
    }
    memcpy(in, buf, len);
    size_t r = 0, w = 0;
    while (r <= len) {
        int rc = pcre2_match(R.code[RE_SEPS], (PCRE2_SPTR)in, len, r, 0,
                             R.md, NULL);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
            free(in);
            return failed(rc);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(R.md);
        size_t from = rc < 0 ? len : ov[0], to = rc < 0 ? len : ov[1];
        memcpy(buf + w, in + r, from - r);
        w += from - r;
        if (rc < 0)
            break;
        if (to == from) { /* an empty match: keep the next byte */
            if (to < len)
                buf[w++] = in[to];
            to++;
        }
        r = to;
    }
    free(in);
    int rc = take_match(R.code[RE_LEAD], buf, &w, 0);
    if (rc >= 0)
        rc = take_match(R.code[RE_TAIL], buf, &w, 0);
    return rc < 0 ? rc : (long)w;
}

void pipere_close(void)
{
    for (int k = 0; k < RE_COUNT; k++)
        pcre2_code_free(R.code[k]);
    pcre2_match_data_free(R.md);
    free(R.rs);
    free(R.re);
    memset(&R, 0, sizeof R);
}

#else /* without PCRE2, pipex_check refuses --regexp */
int pipere_open(const char *recstart, const char *recend)
{
    (void)recstart;
    (void)recend;
    return -1;
}
long pipere_last(const char *buf, size_t len) { (void)buf; (void)len; return -2; }
long pipere_n(const char *buf, size_t len, long n)
{
    (void)buf;
    (void)len;
    (void)n;
    return -2;
}
long pipere_part(const char *buf, size_t len) { (void)buf; (void)len; return -2; }
long pipere_strip(char *buf, size_t len) { (void)buf; (void)len; return -2; }
void pipere_close(void) {}
#endif
