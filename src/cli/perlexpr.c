/* GNU parallel's {= perl expression =}, {=N ... =}, --rpl, --parens and
 * --filter:
 * one perl coprocess for the whole run (perlexpr_pl.c's program), started
 * the first time a template holds one, that compiles each expression once
 * and evaluates it per job, so that its globals live on from job to job as
 * in GNU parallel's own interpreter. Requests and answers are framed by
 * lengths over a socket pair (MSG_NOSIGNAL: a perl that died is an error,
 * not a SIGPIPE). */
#include "cli.h"
#include "perlexpr.h"
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static struct {
    int fd, pid;
    int dead;              /* could not start, or ended: said why */
    char in[65536];        /* answers read ahead */
    size_t ipos, ilen;
    char *req;             /* the request being built */
    size_t rlen, rcap;
    int room;              /* out of memory while building it */
    char *ans;             /* the last answer's data */
    size_t acap;
    unsigned char *total;  /* per expression: it calls total_jobs */
    size_t ntotal;
    long njobs;            /* total_jobs() */
} px = {.fd = -1, .pid = -1};

/* The delimiters and --rpl tags of the options at hand (argv's). */
static struct {
    const struct opts *o;
    const char *l, *r;
    size_t ll, rl;
    char lbuf[64], rbuf[64];
    unsigned char first[256]; /* a --rpl tag starts with this byte */
} cfg;

int perl_option(struct opts *o, int which, const char *val)
{
    if (which == PERL_OPT_PARENS) {
        size_t n = strlen(val);
        if (n < 2 || n / 2 >= sizeof cfg.lbuf || n - n / 2 >= sizeof cfg.rbuf)
            return -1;
        o->parens = val;
        return 0;
    }
    if (which == PERL_OPT_FILTER) {
        if (!*val || o->nfilter == (int)(sizeof o->filter / sizeof o->filter[0]))
            return -1;
        o->filter[o->nfilter++] = val;
        return 0;
    }
    if (!*val || strchr(" \t\n\r\f\v", *val) ||
        o->nrpl == (int)(sizeof o->rpl / sizeof o->rpl[0]))
        return -1;
    o->rpl[o->nrpl++] = val;
    return 0;
}

void perl_set_total(long total)
{
    px.njobs = total;
}

void perl_help(FILE *f)
{
    fputs("\nPerl expressions (GNU parallel's; a perl coprocess runs them):\n"
"  {= PERL =}          the value after PERL has run on $_ (one perl for the\n"
"                      run: Q() uq() skip() seq() slot() total_jobs() @arg,\n"
"                      $job->seq(), yyyy_mm_dd() ...); {=N PERL =}: of value N\n"
"  --rpl 'TAG PERL'    TAG means {= PERL =}; TAG's (regexp) groups are $$1 ...\n"
"  --parens LR         LR's halves instead of {= and =}\n"
"  --filter PERL       run a job only if PERL, its placeholders replaced\n"
"                      by the values unquoted, is true under `use strict`\n"
"                      (GNU's eval; an error is false); a filtered job\n"
"                      counts as failed, as skip(); may be repeated\n", f);
}

void perl_plus(struct opts *o)
{
    static const char *const defs[] = { /* GNU parallel's own */
        "{choose_k} for $t (2..$#arg){ if($arg[$t-1] ge $arg[$t]) { skip() } }",
        "{uniq} if(::uniq(@arg) != @arg) { skip(); }"};
    const size_t nd = sizeof defs / sizeof defs[0];
    int need = 0;
    for (size_t i = 0; o->plus && i <= o->cmd.n; i++) {
        const char *w = i < o->cmd.n ? o->cmd.v[i] : o->tagstring;
        need |= w && (strstr(w, "choose_k}") || strstr(w, "uniq}"));
    }
    if (!need || o->nrpl + nd > sizeof o->rpl / sizeof o->rpl[0])
        return;
    memmove(o->rpl + nd, o->rpl, (size_t)o->nrpl * sizeof *o->rpl);
    memcpy(o->rpl, defs, sizeof defs); /* first: the user's --rpl win */
    o->nrpl += (int)nd;
}

/* Settle the delimiters and tags of o: 1 when the template may hold one. */
static int wanted(const struct opts *o, char *const *words, size_t n)
{
    const char *p = o->parens ? o->parens : "{==}";
    size_t len = strlen(p);
    cfg.o = o;
    cfg.ll = len / 2;
    cfg.rl = len - len / 2;
    memcpy(cfg.lbuf, p, cfg.ll);
    cfg.lbuf[cfg.ll] = 0;
    memcpy(cfg.rbuf, p + cfg.ll, cfg.rl + 1);
    cfg.l = cfg.lbuf;
    cfg.r = cfg.rbuf;
    memset(cfg.first, 0, sizeof cfg.first);
    for (int i = 0; i < o->nrpl; i++)
        cfg.first[(unsigned char)o->rpl[i][0]] = 1;
    int want = o->nrpl > 0;
    for (size_t i = 0; i < n && !want; i++)
        want = strstr(words[i], cfg.l) != NULL;
    return want;
}

/* s holds a left delimiter left open once every matched pair (the right
 * most left one first, as GNU parallel's merge_rpl_parts) is gone. */
static int unclosed(const char *s)
{
    char *c = strdup(s);
    if (!c)
        return -1;
    for (int again = 1; again;) {
        again = 0;
        for (char *q = c + strlen(c); q-- > c;) {
            char *r;
            if (!strncmp(q, cfg.l, cfg.ll) && (r = strstr(q + cfg.ll, cfg.r))) {
                memmove(q, r + cfg.rl, strlen(r + cfg.rl) + 1);
                again = 1;
                break;
            }
        }
    }
    int open = strstr(c, cfg.l) != NULL;
    free(c);
    return open;
}

static int merge(char *const *words, size_t n, char ***out, size_t *nout)
{
    char **v = calloc(n + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < n; i++) {
        char *s = strdup(words[i]);
        int open = 0;
        while (s && (open = unclosed(s)) == 1 && i + 1 < n) {
            char *j = malloc(strlen(s) + strlen(words[i + 1]) + 2);
            if (j)
                stpcpy(stpcpy(stpcpy(j, s), " "), words[++i]);
            free(s);
            s = j;
        }
        if (!s || open < 0) {
            free(s);
            for (size_t m = 0; m < k; m++)
                free(v[m]);
            free(v);
            v = NULL;
            break;
        }
        v[k++] = s;
    }
    *out = v;
    *nout = k;
    return v ? 0 : (errno = ENOMEM, -1);
}

int perl_words(const struct opts *o, char *const **words, size_t *n,
               char ***merged)
{
    *merged = NULL;
    if (!wanted(o, *words, *n))
        return 0;
    if (merge(*words, *n, merged, n) < 0)
        return -1;
    *words = *merged;
    return 1;
}

void perl_free_words(char **words, size_t n)
{
    for (size_t i = 0; words && i < n; i++)
        free(words[i]);
    free(words);
}

int perl_may_start(const struct tmpl *t, const char *p)
{
    (void)t;
    return !strncmp(p, cfg.l, cfg.ll) || cfg.first[(unsigned char)*p];
}

static void put(const char *s, size_t n)
{
    if (px.room)
        return;
    if (px.rlen + n > px.rcap) {
        size_t cap = px.rcap ? px.rcap : 256;
        while (px.rlen + n > cap)
            cap *= 2;
        char *r = realloc(px.req, cap);
        if (!r) {
            px.room = 1;
            return;
        }
        px.req = r;
        px.rcap = cap;
    }
    memcpy(px.req + px.rlen, s, n);
    px.rlen += n;
}

static void begin(char cmd, size_t nfields)
{
    char h[32];
    px.rlen = 0;
    px.room = 0;
    put(h, (size_t)snprintf(h, sizeof h, "%c %zu\n", cmd, nfields));
}

static void field(const char *s, size_t n)
{
    char h[32];
    put(h, (size_t)snprintf(h, sizeof h, "%zu\n", n));
    put(s, n);
}

static void field_num(long long v)
{
    char num[32];
    field(num, (size_t)snprintf(num, sizeof num, "%lld", v));
}

/* perl is gone: say so unless it did (a die in an expression). */
static int ended(void)
{
    int st = 0;
    if (!px.dead && px.pid > 0) {
        while (waitpid(px.pid, &st, 0) < 0 && errno == EINTR)
            ;
        px.pid = -1;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 255)
            cli_error("perl for {= =} ended (status %d)", st);
    }
    px.dead = 1;
    errno = EINVAL;
    return -1;
}

static int fill(void)
{
    ssize_t n;
    while ((n = read(px.fd, px.in, sizeof px.in)) < 0 && errno == EINTR)
        ;
    if (n <= 0)
        return -1;
    px.ipos = 0;
    px.ilen = (size_t)n;
    return 0;
}

/* The next n bytes of the answers into dst. */
static int take(char *dst, size_t n)
{
    while (n) {
        if (px.ipos == px.ilen && fill() < 0)
            return -1;
        size_t k = px.ilen - px.ipos < n ? px.ilen - px.ipos : n;
        memcpy(dst, px.in + px.ipos, k);
        px.ipos += k;
        dst += k;
        n -= k;
    }
    return 0;
}

/* Send the request built, read its answer: its status into st (NUL
 * terminated), its data into px.ans (*len bytes, NUL terminated). */
static int ask(char *st, size_t stcap, size_t *len)
{
    if (px.room)
        return errno = ENOMEM, -1;
    for (size_t off = 0; off < px.rlen;) {
        ssize_t w = send(px.fd, px.req + off, px.rlen - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ended();
        off += (size_t)w;
    }
    char head[64];
    size_t h = 0;
    for (; h + 1 < sizeof head; h++)
        if (take(head + h, 1) < 0 || head[h] == '\n')
            break;
    head[h] = 0;
    char *sp = strchr(head, ' ');
    if (h + 1 >= sizeof head || !sp || (size_t)(sp - head) >= stcap)
        return ended();
    memcpy(st, head, (size_t)(sp - head));
    st[sp - head] = 0;
    *len = strtoull(sp + 1, NULL, 10);
    if (*len + 1 > px.acap) {
        char *a = realloc(px.ans, *len + 1);
        if (!a)
            return errno = ENOMEM, -1;
        px.ans = a;
        px.acap = *len + 1;
    }
    if (take(px.ans, *len) < 0)
        return ended();
    px.ans[*len] = 0;
    return 0;
}

static void stop(void)
{
    if (px.fd >= 0)
        close(px.fd);
    px.fd = -1;
    if (px.pid > 0)
        while (waitpid(px.pid, NULL, 0) < 0 && errno == EINTR)
            ;
    px.pid = -1;
    free(px.req);
    free(px.ans);
    free(px.total);
}

/* --rpl's tags, as perl matches them. */
static int define_tags(void)
{
    char st[16];
    size_t len;
    for (int i = 0; cfg.o && i < cfg.o->nrpl; i++) {
        const char *d = cfg.o->rpl[i];
        size_t tl = strcspn(d, " \t\n\r\f\v");
        begin('D', 2);
        field(d, tl);
        field(d[tl] ? d + tl + 1 : "", d[tl] ? strlen(d + tl + 1) : 0);
        if (ask(st, sizeof st, &len) < 0)
            return -1;
    }
    return 0;
}

static int start(void)
{
    if (px.fd >= 0 || px.dead)
        return px.dead ? (errno = EINVAL, -1) : 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    char *argv[] = {"perl", "-e", (char *)perl_script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "perl", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        cli_error("{= perl expression =} needs perl: %s", strerror(rc));
        px.dead = 1;
        return errno = EINVAL, -1;
    }
    px.fd = sv[0];
    px.pid = pid;
    atexit(stop);
    return define_tags();
}

/* Compile code[0..n) (after GNU's position and blanks): its index. */
static int compile_code(const char *code, size_t n)
{
    char st[16];
    size_t len;
    if (start() < 0)
        return -1;
    begin('C', 1);
    field(code, n);
    if (ask(st, sizeof st, &len) < 0)
        return -1;
    if (strcmp(st, "ok")) { /* GNU parallel's message, $@ and all */
        fprintf(stderr, "eventor: Error: %s\n", px.ans);
        return errno = EINVAL, -1;
    }
    long idx = strtol(px.ans, NULL, 10);
    if ((size_t)idx >= px.ntotal) {
        size_t cap = px.ntotal ? px.ntotal * 2 : 16;
        while (cap <= (size_t)idx)
            cap *= 2;
        unsigned char *t = realloc(px.total, cap);
        if (!t)
            return errno = ENOMEM, -1;
        memset(t + px.ntotal, 0, cap - px.ntotal);
        px.total = t;
        px.ntotal = cap;
    }
    px.total[idx] = memmem(code, n, "total_jobs", 10) != NULL;
    return (int)idx;
}

int perl_needs_total(int idx)
{
    return idx >= 0 && (size_t)idx < px.ntotal && px.total[idx];
}

/* The text between the delimiters (or a --rpl's code) as GNU parallel
 * reads it: digits first are the position ("0": none), then GNU's
 * s/^(-?\d+)? +// (blanks: spaces) before it is compiled. */
static int take_code(const char *c, size_t n, struct tok *tk)
{
    size_t i = 0, d;
    int neg = n > 1 && c[0] == '-' && c[1] >= '0' && c[1] <= '9';
    long v = 0;
    for (d = i = (size_t)neg; i < n && c[i] >= '0' && c[i] <= '9'; i++)
        v = v < 100000 ? v * 10 + (c[i] - '0') : v;
    i = i > d ? i : 0;
    tk->col = i == 0 || (v == 0 && !neg) ? 0 : v == 0 ? POS_NONE
              : (int)(neg ? -v : v);
    size_t j = i + (i < n && c[i] == '-'), k = j;
    while (k < n && c[k] >= '0' && c[k] <= '9')
        k++;
    i = k > j ? k : i;
    while (i < n && c[i] == ' ')
        i++;
    tk->kind = T_PERL;
    tk->pexpr = compile_code(c + i, n - i);
    return tk->pexpr < 0 ? -1 : 1;
}

/* A --rpl tag at p (perl matches its regexp): 1 and the token. */
static int rpl_at(const char *p, const char *end, struct tok *tk,
                  size_t *used)
{
    char st[32];
    size_t len;
    if (start() < 0)
        return -1;
    begin('M', 1);
    field(p, (size_t)(end - p));
    if (ask(st, sizeof st, &len) < 0)
        return -1;
    if (st[0] != 'm')
        return 0;
    *used = strtoull(st + 1, NULL, 10);
    char *code = strndup(px.ans, len); /* px.ans is reused by compiling */
    if (!code)
        return errno = ENOMEM, -1;
    int rc = take_code(code, len, tk);
    free(code);
    return rc;
}

int perl_placeholder(const struct tmpl *t, const char *p, struct tok *tk,
                     size_t *used)
{
    const char *end = t->word_end;
    if ((size_t)(end - p) >= cfg.ll + cfg.rl && !strncmp(p, cfg.l, cfg.ll)) {
        /* the shortest {= ... =} holding no {= (GNU parallel's regexp) */
        for (const char *q = p + cfg.ll; q + cfg.rl <= end; q++) {
            if (!strncmp(q, cfg.r, cfg.rl)) {
                *used = (size_t)(q + cfg.rl - p);
                return take_code(p + cfg.ll, (size_t)(q - p - cfg.ll), tk);
            }
            if (q + cfg.ll <= end && !strncmp(q, cfg.l, cfg.ll))
                break;
        }
    }
    if (cfg.o && cfg.o->nrpl && cfg.first[(unsigned char)*p])
        return rpl_at(p, end, tk, used);
    return 0;
}

int perl_eval(int idx, const char *v, size_t vlen, const char **flat,
              size_t n, uint64_t seq, int slot, char **out, int *flags)
{
    char st[16];
    size_t len;
    if (px.fd < 0)
        return errno = EINVAL, -1;
    begin('E', 5 + n);
    field_num(idx);
    field_num((long long)seq);
    field_num(slot);
    field_num(px.njobs);
    field(v, vlen);
    for (size_t k = 0; k < n; k++)
        field(flat[k], strlen(flat[k]));
    if (ask(st, sizeof st, &len) < 0)
        return -1;
    *flags = atoi(st);
    *out = malloc(len + 1);
    if (!*out)
        return errno = ENOMEM, -1;
    memcpy(*out, px.ans, len + 1);
    return 0;
}

int perl_compile(const char *code)
{
    return compile_code(code, strlen(code));
}

/* --shard, --bin's values: one field, each "(N/a)" as perl packs it. */
static void packed(const struct perl_val *in, size_t n)
{
    size_t all = 0;
    char h[32];
    for (size_t k = 0; k < n; k++)
        all += 4 + in[k].len;
    put(h, (size_t)snprintf(h, sizeof h, "%zu\n", all));
    for (size_t k = 0; k < n; k++) {
        uint32_t l = (uint32_t)in[k].len;
        unsigned char be[4] = {l >> 24, l >> 16 & 255, l >> 8 & 255, l & 255};
        put((const char *)be, 4);
        put(in[k].s, in[k].len);
    }
}

int perl_map(int idx, const struct perl_val *in, size_t n,
             struct perl_val *out)
{
    char st[16];
    size_t len;
    if (px.fd < 0)
        return errno = EINVAL, -1;
    begin('V', 2);
    field_num(idx);
    packed(in, n);
    if (ask(st, sizeof st, &len) < 0)
        return -1;
    const unsigned char *p = (const unsigned char *)px.ans, *end = p + len;
    for (size_t k = 0; k < n; k++) {
        if (end - p < 4)
            return ended();
        size_t l = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (l > (size_t)(end - p - 4))
            return ended();
        out[k].s = (const char *)p + 4;
        out[k].len = l;
        p += 4 + l;
    }
    return 0;
}

/* One --filter, expanded: is it true in perl? */
static int filter_true(const char *expr)
{
    char st[16];
    size_t len;
    if (start() < 0)
        return -1;
    begin('F', 1);
    field(expr, strlen(expr));
    if (ask(st, sizeof st, &len) < 0)
        return -1;
    return st[0] == '1';
}

int perl_filters(const struct opts *o, const struct record *recs, size_t n,
                 uint64_t seq, int slot)
{
    static struct tmpl *t[sizeof o->filter / sizeof o->filter[0]];
    int pass = 1;
    for (int i = 0; i < o->nfilter && pass == 1; i++) {
        char *expr, **argv = NULL;
        /* values unquoted, as GNU parallel puts them in (compiled once,
         * kept for the run) */
        if ((!t[i] && !(t[i] = tmpl_compile_text(o, o->filter[i]))) ||
            tmpl_expand(t[i], recs, n, seq, slot, &expr, &argv) < 0)
            return -2;
        argv_free(argv);
        pass = filter_true(expr);
        free(expr);
    }
    return pass;
}
