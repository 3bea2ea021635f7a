/* Option values of the eventor command, read as GNU parallel reads them:
 * job counts (-j +N, N%), seconds, --halt conditions, -d escapes, and the
 * --colsep regex, bounded before regcomp sees it. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int optval_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Seconds into milliseconds: a decimal number, or GNU parallel's time
 * units (1h30m, 2m, 0.1s; s m h d). */
int optval_secs(const char *s, int64_t *ms)
{
    double total = 0;
    int units = strpbrk(s, "smhdSMHD") != NULL;
    if (!*s)
        return -1;
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        if (!(*p >= '0' && *p <= '9') && *p != '.')
            return -1;
        double d = strtod(p, &end);
        if (errno || end == p || !(d >= 0))
            return -1;
        p = end;
        if (units) {
            const char *u = *p ? strchr("sSmMhHdD", *p) : NULL;
            if (!u)
                return -1;
            static const double mult[] = {1, 60, 3600, 86400};
            d *= mult[(u - "sSmMhHdD") / 2];
            p++;
        } else if (*p) {
            return -1;
        }
        total += d;
    }
    if (total > 1e9)
        return -1;
    *ms = (int64_t)(total * 1000 + 0.5);
    return 0;
}

/* A size: GNU parallel's multiply_binary_prefix (K M G T 1024^n, k m g t
 * 1000^n, Ki/ki... 1024^n), then int; from 1 to max. */
int optval_size(const char *s, long max, long *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || !(d >= 0) || (*s != '.' && (*s < '0' || *s > '9')))
        return -1;
    static const char units[] = "KMGTP", lower[] = "kmgtp";
    if (*end) {
        const char *u = strchr(units, *end), *l = strchr(lower, *end);
        if (!u && !l)
            return -1;
        int pow = (int)(u ? u - units : l - lower) + 1;
        double base = u || end[1] == 'i' || end[1] == 'I' ? 1024 : 1000;
        end += 1 + (end[1] == 'i' || end[1] == 'I');
        if (*end)
            return -1;
        while (pow--)
            d *= base;
    }
    if (d < 1 || d > (double)max)
        return -1;
    *v = (long)d;
    return 0;
}

int optval_long(const char *s, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *v = x;
    return 0;
}

/* s as "N%": 1 and N in *v; 0 when s does not end in '%'; -1 when what
 * comes before it is not a number. */
static int percent(const char *s, long *v)
{
    size_t len = strlen(s);
    char buf[32];
    if (len < 2 || s[len - 1] != '%')
        return 0;
    if (len > sizeof buf)
        return -1;
    memcpy(buf, s, len - 1);
    buf[len - 1] = 0;
    return optval_digits(buf) && optval_long(buf, v) == 0 ? 1 : -1;
}

/* More slots than this is "as many as possible": fds set the real bound. */

int optval_jobs(const char *s, long *jobs)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long v;
    if (cpus < 1)
        cpus = 1;
    int pct = percent(s, &v);
    if (pct < 0)
        return -1;
    if (pct) {
        v = v > CLI_JOBS_MAX * 100L ? CLI_JOBS_MAX : cpus * v / 100;
    } else if (s[0] == '+' || s[0] == '-') {
        if (!optval_digits(s + 1) || optval_long(s + 1, &v) < 0)
            return -1;
        if (v > CLI_JOBS_MAX)
            v = s[0] == '+' ? CLI_JOBS_MAX : 0;
        else
            v = s[0] == '+' ? cpus + v : cpus - v;
    } else {
        if (!optval_digits(s) || optval_long(s, &v) < 0)
            return -1;
        if (v == 0)
            v = CLI_JOBS_MAX;
    }
    *jobs = v < 1 ? 1 : v > CLI_JOBS_MAX ? CLI_JOBS_MAX : v;
    return 0;
}

/* The index of s[0..len) in the NULL-ended words, or -1. */
static int word_index(const char *s, size_t len, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == len && !strncmp(s, words[i], len))
            return i;
    return -1;
}

int optval_halt(struct opts *o, const char *s)
{
    if (!strcmp(s, "0") || !strcmp(s, "never")) {
        o->halt_when = HALT_NEVER;
        return 0;
    }
    if (!strcmp(s, "1") || !strcmp(s, "2")) {
        o->halt_when = s[0] == '1' ? HALT_SOON : HALT_NOW;
        o->halt_kind = HALT_FAIL;
        o->halt_count = 1;
        return 0;
    }
    static const char *const whens[] = {"", "soon", "now", NULL};
    static const char *const kinds[] = {"fail", "success", "done", NULL};
    const char *comma = strchr(s, ','), *eq = comma ? strchr(comma, '=') : 0;
    int when = comma ? word_index(s, (size_t)(comma - s), whens) : -1;
    int kind = eq ? word_index(comma + 1, (size_t)(eq - comma - 1), kinds)
                  : -1;
    if (when < 1 || kind < 0)
        return -1;
    o->halt_when = (enum halt_when)when; /* whens in enum halt_when order */
    o->halt_kind = (enum halt_kind)kind;
    const char *n = eq + 1;
    long v;
    int pct = percent(n, &v);
    if (pct < 0 || (pct && (v < 1 || v > 100)))
        return -1;
    if (pct) {
        o->halt_pct = v / 100.0;
        o->halt_count = 0;
    } else {
        if (!optval_digits(n) || optval_long(n, &v) < 0 || v < 1)
            return -1;
        o->halt_count = v;
    }
    return 0;
}

/* glibc's regcomp takes time and memory in the size of the pattern with
 * its repetitions expanded ("a+++++...", "((a{99}){99}){99}"): refuse those
 * (Perl refuses stacked quantifiers too), deep nesting and long patterns
 * before compiling. The size is an estimate: each repetition multiplies the
 * atom or group before it by its bound, * + ? by two. */
#define COLSEP_MAX_SIZE 20000

static const char *colsep_too_complex(const char *re)
{
    size_t stack[32], depth = 0, cur = 0, last = 0;
    int run = 0;
    if (strlen(re) > 1000)
        return "longer than 1000 characters";
    for (const char *p = re; *p; p++) {
        size_t mult = 0;
        if (*p == '\\' && p[1]) {
            p++;
            last = 1;
        } else if (*p == '(') {
            if (depth == sizeof stack / sizeof stack[0])
                return "groups nested too deep";
            stack[depth++] = cur;
            cur = last = 0;
            run = 0;
            continue;
        } else if (*p == ')' && depth) {
            last = cur;
            cur = stack[--depth];
        } else if (*p == '[') { /* a bracket expression is one atom */
            const char *q = p + 1 + (p[1] == '^');
            q += *q == ']';
            while (*q && *q != ']')
                q++;
            p = *q ? q : p;
            last = 1;
        } else if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
            char *end;
            mult = strtoul(p + 1, &end, 10);
            if (*end == ',')
                mult = end[1] >= '0' && end[1] <= '9'
                           ? strtoul(end + 1, &end, 10) : mult + 1;
            if (mult > 255)
                return "a repetition count above 255";
            p = *end == '}' ? end : p;
        } else if (strchr("*+?", *p)) {
            mult = 2;
        } else {
            last = 1;
        }
        run = mult ? run + 1 : 0;
        if (run > 2)
            return "nested quantifiers";
        if (mult) {
            cur -= last < cur ? last : cur;
            last *= mult ? mult : 1;
        }
        cur += last;
        if (cur > COLSEP_MAX_SIZE || last > COLSEP_MAX_SIZE)
            return "too complex (repetitions expand it too much)";
    }
    return NULL;
}

int optval_colsep(struct opts *o, const char *re)
{
    /* GNU parallel takes a Perl regex; translate the escapes people use. */
    size_t len = strlen(re);
    const char *why = colsep_too_complex(re);
    if (why) {
        cli_error("--colsep '%.40s%s': %s", re, len > 40 ? "..." : "", why);
        return -2;
    }
    char *buf = malloc(len * 6 + 1), *w = buf; /* \s grows sixfold */
    if (!buf)
        return -1;
    for (const char *p = re; *p; p++) {
        if (p[0] == '\\' && p[1] == 't') {
            *w++ = '\t';
            p++;
        } else if (p[0] == '\\' && p[1] == 's') {
            w = stpcpy(w, "[[:space:]]");
            p++;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    int rc = regcomp(&o->colsep, buf, REG_EXTENDED);
    free(buf);
    if (rc)
        return -1;
    o->have_colsep = 1;
    return 0;
}

/* GNU parallel's unquote_printf (for -d and --tagstring): \t \n \r,
 * octal \NNN and \N; malloc'd, its length in *len. */
char *optval_escapes(const char *s, size_t *len)
{
    char *d = malloc(strlen(s) + 1), *w = d;
    if (!d) {
        cli_error("out of memory");
        return NULL;
    }
    for (const char *p = s; *p; p++) {
        if (p[0] != '\\' || !p[1]) {
            *w++ = *p;
        } else if (strchr("tnr", p[1])) {
            *w++ = p[1] == 't' ? '\t' : p[1] == 'n' ? '\n' : '\r';
            p++;
        } else if (p[1] >= '0' && p[1] <= '9') {
            int k = p[2] >= '0' && p[2] <= '9' && p[3] >= '0' && p[3] <= '9'
                        ? 3 : 1, v = 0;
            for (int i = 1; i <= k; i++)
                v = v * 8 + (p[i] - '0');
            *w++ = (char)v;
            p += k;
        } else {
            *w++ = *p;
        }
    }
    *w = 0;
    if (len)
        *len = (size_t)(w - d);
    return d;
}

int optval_delim(struct opts *o, const char *s)
{
    size_t len;
    char *d = optval_escapes(s, &len);
    if (!d)
        return -1;
    free(o->delim);
    o->delim = d;
    o->delim_len = len;
    return 0;
}

/* A count for -N, -L, -s: a decimal number from min. */
int optval_count(const char *s, long min, long *v)
{
    return optval_digits(s) && optval_long(s, v) == 0 && *v >= min ? 0 : -1;
}

