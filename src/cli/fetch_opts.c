/* eventor fetch: its options, its --help page, and the URL list (arguments,
 * -a FILE, :::: FILE, or stdin, one URL a line). Everything is checked
 * before the first request: a bad option or an unreadable list is one line
 * on stderr and exit 255. */
#include "fetch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void fetch_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("eventor fetch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char help_text[] =
"Usage: eventor fetch [OPTIONS] [URL...] [::: URL...] [:::: FILE...]\n"
"  or:  producer | eventor fetch [OPTIONS]\n"
"\n"
"Fetch every URL, many at once, through libcurl on eventor's reactor (one\n"
"thread, or -P processes, sharing keep-alive connections). URLs come from\n"
"the arguments, from FILEs given with -a or ::::, or from standard input\n"
"when neither is given: one URL a line, blank lines skipped. {#} below is a\n"
"URL's number in that list, from 1.\n"
"\n"
"Requests (curl's options, with curl's meaning):\n"
"  -X, --request METHOD  the method (default GET, or POST with -d)\n"
"  -d, --data DATA       send DATA as the body (application/x-www-form-\n"
"                        urlencoded, unless -H sets Content-Type); @FILE\n"
"                        sends FILE's text with its CRs and newlines taken\n"
"                        out, @- standard input's. Given more than once, in\n"
"                        any mix with the three below, the pieces are\n"
"                        joined with '&'\n"
"      --data-binary DATA\n"
"                        ... @FILE's bytes exactly as they are\n"
"      --data-raw DATA   ... with no special meaning for @\n"
"      --data-urlencode [NAME]=CONTENT | [NAME]@FILE | CONTENT\n"
"                        ... CONTENT (or FILE's bytes) percent-encoded,\n"
"                        after NAME= when NAME is given\n"
"  -G, --get             put the data in the URL's query string (after '?',\n"
"                        or '&' when it has one already) of a GET\n"
"  -I, --head            HEAD: the status and headers only\n"
"  -H, --header 'NAME: VALUE'\n"
"                        add a request header (may be repeated); 'NAME:'\n"
"                        removes one libcurl would send, 'NAME;' sends it\n"
"                        empty; @FILE adds each line of FILE\n"
"  -A, --user-agent UA   the User-Agent (default eventor-fetch/VERSION)\n"
"  -e, --referer URL     the Referer\n"
"  -u, --user USER:PASSWORD\n"
"                        HTTP Basic authentication\n"
"  -b, --cookie DATA|FILE\n"
"                        send cookies: 'NAME=VALUE; ...' as given, or\n"
"                        those of a Netscape/Mozilla cookie FILE (any\n"
"                        argument without '='), which also keeps the\n"
"                        cookies the server sets across a URL's redirects\n"
"      --compressed      ask for a compressed answer (every encoding\n"
"                        libcurl has) and decompress it\n"
"      --insecure        do not verify the server's TLS certificate or\n"
"                        name (-k is --keep-order, as in GNU parallel)\n"
"  -L, --location        follow redirects\n"
"      --max-redirs N    ... at most N of them (default 20, -1: no limit)\n"
"      --http2           ask for HTTP/2 (ALPN over TLS, an upgrade on\n"
"                        http://); refused where libcurl has no HTTP/2\n"
"      --http2-prior-knowledge\n"
"                        HTTP/2 on http:// without the upgrade (a server\n"
"                        that speaks only HTTP/2, as nghttpd --no-tls)\n"
"  -m, --max-time, --timeout SECS\n"
"                        give up an attempt after SECS (default: never)\n"
"      --connect-timeout SECS\n"
"                        give up connecting after SECS\n"
"      --retry, --retries N\n"
"                        try a URL up to N more times after a connection\n"
"                        error, a timeout, a 429 or a 5xx, waiting 100 ms,\n"
"                        then twice as long each time (at most 30 s), or\n"
"                        what the server's Retry-After says (at most 300 s)\n"
"\n"
"How many at once:\n"
"  -j, --jobs N          transfers at once (default 100), in each process\n"
"  -P, --procs N         run the transfers in N worker processes\n"
"      --rate R          start at most R URLs a second (R may be a fraction)\n"
"      --per-host N      at most N connections to any one host (with -P,\n"
"                        N shared among the processes, at least 1 each)\n"
"\n"
"Output (one of):\n"
"  (default)             the bodies on standard output, as they finish\n"
"  -k, --keep-order      ... in input order\n"
"  -o, --output-dir DIR  one file per URL in DIR, named by --name; a body is\n"
"                        written to a hidden temporary name in DIR and\n"
"                        renamed when it is complete, so a file under its\n"
"                        name is always whole; failed URLs leave no file\n"
"      --name TEMPLATE   file names under -o: {#} the URL's number, {} the\n"
"                        URL, {/} the last part of its path, each with every\n"
"                        character but [A-Za-z0-9._-] turned into '_'\n"
"                        (default {#})\n"
"      --jsonl           one JSON record per URL on standard output:\n"
"                        {\"seq\",\"url\",\"status\",\"bytes\",\"time\",\n"
"                        \"attempts\",\"error\"} (time in seconds, error null\n"
"                        or a message)\n"
"      --body            with --jsonl: the body too (\"body\", JSON-escaped)\n"
"\n"
"Joblog and resume (the format and meaning of eventor's and GNU parallel's):\n"
"      --joblog FILE     a line per finished URL, written after its output:\n"
"                        Exitval 0 for a success, the HTTP status for a\n"
"                        status >= 400, 1 for a transport error; Command is\n"
"                        the URL\n"
"      --resume          with --joblog: skip the URLs the log lists (after\n"
"                        kill -9 too: exactly the unfinished ones run)\n"
"      --resume-failed   ... and run again those that failed\n"
"\n"
"Progress and report:\n"
"      --bar, --eta      progress on standard error\n"
"  -q, --quiet           no final report (by default one on standard error:\n"
"                        counts by status class, bytes, requests a second,\n"
"                        latency p50 and p99 per URL, retries included)\n"
"  -a, --arg-file FILE   read URLs from FILE (\"-\": standard input)\n"
"  -h, --help            show this help and exit\n"
"\n"
"A URL fails when it got no response (a transport error: no such host,\n"
"connection refused, a timeout, a malformed URL...) or its last response\n"
"has a status of 400 or more; an invalid URL fails its line only, with a\n"
"line on standard error naming it (other transport errors too, unless\n"
"--jsonl or -q). SIGINT or SIGTERM stops starting URLs and lets those\n"
"running finish (a second one stops them too); the exit status is then 255.\n"
"\n"
"Exit status: 0 when every URL succeeded, else the number of failed URLs\n"
"(at most 101); 255 for bad usage, an unreadable list, or a signal.\n"
"\n"
"Examples:\n"
"  eventor fetch -o pages :::: urls.txt\n"
"  eventor fetch --jsonl --retries 3 --timeout 10 < urls.txt > results.jsonl\n"
"  eventor fetch -k -j 50 https://example.org/a https://example.org/b\n"
"  eventor fetch --joblog crawl.log --resume -o pages -a urls.txt\n";

void fetch_help(FILE *f)
{
    fputs(help_text, f);
}

enum {
    F_X = 1, F_D, F_H, F_L, F_HTTP2, F_TIMEOUT, F_CONNECT, F_RETRIES, F_J,
    F_P, F_RATE, F_PERHOST, F_K, F_O, F_NAME, F_JSONL, F_BODY, F_JOBLOG,
    F_RESUME, F_RESUME_FAILED, F_BAR, F_ETA, F_Q, F_A, F_HELP, F_H2PK,
    F_DATA_BINARY, F_DATA_RAW, F_DATA_URLENCODE, F_G, F_I, F_UA, F_REFERER,
    F_USER, F_COOKIE, F_COMPRESSED, F_INSECURE, F_MAX_REDIRS,
};

static const struct fopt {
    const char *lng;
    char shrt;
    int arg;
    int id;
} fopts[] = {
    {"request", 'X', 1, F_X},     {"data", 'd', 1, F_D},
    {"data-ascii", 0, 1, F_D},    {"data-binary", 0, 1, F_DATA_BINARY},
    {"data-raw", 0, 1, F_DATA_RAW},
    {"data-urlencode", 0, 1, F_DATA_URLENCODE},
    {"get", 'G', 0, F_G},         {"head", 'I', 0, F_I},
    {"user-agent", 'A', 1, F_UA}, {"referer", 'e', 1, F_REFERER},
    {"user", 'u', 1, F_USER},     {"cookie", 'b', 1, F_COOKIE},
    {"compressed", 0, 0, F_COMPRESSED}, {"insecure", 0, 0, F_INSECURE},
    {"max-redirs", 0, 1, F_MAX_REDIRS},
    {"header", 'H', 1, F_H},      {"location", 'L', 0, F_L},
    {"http2", 0, 0, F_HTTP2},     {"timeout", 'm', 1, F_TIMEOUT},
    {"max-time", 0, 1, F_TIMEOUT},
    {"http2-prior-knowledge", 0, 0, F_H2PK},
    {"connect-timeout", 0, 1, F_CONNECT}, {"retries", 0, 1, F_RETRIES},
    {"retry", 0, 1, F_RETRIES},
    {"jobs", 'j', 1, F_J},        {"procs", 'P', 1, F_P},
    {"rate", 0, 1, F_RATE},       {"per-host", 0, 1, F_PERHOST},
    {"keep-order", 'k', 0, F_K},  {"output-dir", 'o', 1, F_O},
    {"name", 0, 1, F_NAME},       {"jsonl", 0, 0, F_JSONL},
    {"body", 0, 0, F_BODY},       {"joblog", 0, 1, F_JOBLOG},
    {"resume", 0, 0, F_RESUME},   {"resume-failed", 0, 0, F_RESUME_FAILED},
    {"bar", 0, 0, F_BAR},         {"eta", 0, 0, F_ETA},
    {"quiet", 'q', 0, F_Q},       {"arg-file", 'a', 1, F_A},
    {"help", 'h', 0, F_HELP},
};

/* Append the URLs of path (one a line) to o->urls. */
static int read_list(struct fetch_opts *o, const char *path)
{
    if (strv_read_lines(&o->urls, path, 0) == 0)
        return 0;
    fetch_error("cannot read URL list %s: %s", path, strerror(errno));
    return -1;
}

static int bad_value(const char *name, const char *val)
{
    fetch_error("invalid value for %s: '%s' (see eventor fetch --help)", name,
                val);
    return -1;
}

/* -H 'NAME: VALUE', 'NAME:' (removes it), 'NAME;' (sends it empty), or
 * @FILE: each line of FILE (strv_read_lines drops blank ones and CRLF
 * ends), one of those. */
static int add_header(struct fetch_opts *o, const char *name, const char *val)
{
    if (val[0] == '@') {
        struct strv lines = {0};
        if (strv_read_lines(&lines, val + 1, 0) < 0) {
            fetch_error("cannot read %s: %s", val + 1, strerror(errno));
            return -1;
        }
        int rc = 0;
        for (size_t i = 0; i < lines.n && rc == 0; i++)
            rc = add_header(o, name, lines.v[i]);
        strv_free(&lines);
        return rc;
    }
    size_t n = strcspn(val, ":;");
    if (!n || !val[n] || (val[n] == ';' && val[n + 1]))
        return bad_value(name, val);
    char *s = strdup(val);
    if (!s || strv_push(&o->headers, s) < 0) {
        free(s);
        return -1;
    }
    return 0;
}

/* Apply option id with its value val (NULL when it takes none). */
static int apply(struct fetch_opts *o, int id, const char *name,
                 const char *val, struct strv *lists)
{
    char *end, *s;
    switch (id) {
    case F_X: o->method = val; break;
    case F_D: return fetch_data_add(o, FETCH_DATA_ASCII, val);
    case F_DATA_BINARY: return fetch_data_add(o, FETCH_DATA_BINARY, val);
    case F_DATA_RAW: return fetch_data_add(o, FETCH_DATA_RAW, val);
    case F_DATA_URLENCODE: return fetch_data_add(o, FETCH_DATA_URLENCODE, val);
    case F_G: o->get = 1; break;
    case F_I: o->head = 1; break;
    case F_H: return add_header(o, name, val);
    case F_UA: o->user_agent = val; break;
    case F_REFERER: o->referer = val; break;
    case F_USER: o->userpwd = val; break;
    case F_COOKIE: o->cookie = val; break;
    case F_COMPRESSED: o->compressed = 1; break;
    case F_INSECURE: o->insecure = 1; break;
    case F_MAX_REDIRS:
        errno = 0;
        o->max_redirs = strtol(val, &end, 10);
        if (errno || end == val || *end || o->max_redirs < -1)
            return bad_value(name, val);
        break;
    case F_L: o->follow = 1; break;
    case F_HTTP2:
    case F_H2PK:
        if (!fetch_have_http2()) {
            fetch_error("%s: this libcurl has no HTTP/2 support", name);
            return -1;
        }
        o->http2 = id == F_H2PK ? 2 : 1;
        break;
    case F_TIMEOUT:
        if (optval_secs(val, &o->timeout_ms) < 0)
            return bad_value(name, val);
        break;
    case F_CONNECT:
        if (optval_secs(val, &o->connect_ms) < 0)
            return bad_value(name, val);
        break;
    case F_RETRIES:
        if (optval_count(val, 0, &o->retries) < 0 || o->retries > 1000)
            return bad_value(name, val);
        break;
    case F_J:
        if (optval_count(val, 1, &o->jobs) < 0 || o->jobs > 65536)
            return bad_value(name, val);
        break;
    case F_P:
        if (optval_count(val, 0, &o->procs) < 0 || o->procs > 4096)
            return bad_value(name, val);
        break;
    case F_RATE:
        errno = 0;
        o->rate = strtod(val, &end);
        if (errno || end == val || *end || !(o->rate > 0))
            return bad_value(name, val);
        break;
    case F_PERHOST:
        if (optval_count(val, 1, &o->per_host) < 0 || o->per_host > 100000)
            return bad_value(name, val);
        break;
    case F_K: o->keep_order = 1; break;
    case F_O: o->outdir = val; break;
    case F_NAME: o->name_tmpl = val; break;
    case F_JSONL: o->jsonl = 1; break;
    case F_BODY: o->body = 1; break;
    case F_JOBLOG: o->joblog = val; break;
    case F_RESUME: o->resume = 1; break;
    case F_RESUME_FAILED: o->resume_failed = 1; break;
    case F_BAR: o->bar = 1; break;
    case F_ETA: o->eta = 1; break;
    case F_Q: o->quiet = 1; break;
    case F_A:
        if (!(s = strdup(val)) || strv_push(lists, s) < 0)
            return -1;
        break;
    case F_HELP: fetch_help(stdout); return 1;
    }
    return 0;
}

/* One option at argv[*i]: --long, --long=value, -x, -xVALUE, -x VALUE. */
static int parse_one(struct fetch_opts *o, int argc, char **argv, int *i,
                     struct strv *lists)
{
    const char *a = argv[*i], *val = NULL;
    const size_t nf = sizeof fopts / sizeof fopts[0];
    const struct fopt *f = NULL;
    char sname[3] = {'-', a[1], 0};
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        for (size_t k = 0; k < nf && !f; k++)
            if (strlen(fopts[k].lng) == len && !strncmp(fopts[k].lng, a + 2, len))
                f = &fopts[k];
        if (f && eq)
            val = eq + 1;
    } else {
        for (size_t k = 0; k < nf && !f; k++)
            if (fopts[k].shrt == a[1])
                f = &fopts[k];
        if (f && a[2] && f->arg)
            val = a + 2;
        else if (f && a[2])
            f = NULL; /* bundles of flags: not taken, to keep messages clear */
    }
    if (!f) {
        fetch_error("unknown option: %s (see eventor fetch --help)", a);
        return -1;
    }
    if (f->arg && !val) {
        if (*i + 1 >= argc) {
            fetch_error("option %s needs a value", a);
            return -1;
        }
        val = argv[++*i];
    } else if (!f->arg && val) {
        fetch_error("option --%s takes no value", f->lng);
        return -1;
    }
    return apply(o, f->id, a[1] == '-' ? a : sname, val, lists);
}

int fetch_opts_parse(struct fetch_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->jobs = 100;
    o->max_redirs = 20;
    o->name_tmpl = "{#}";
    struct strv lists = {0};
    int rc = 0, files = 0, i;
    for (i = 2; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (!strcmp(a, ":::") ) {
            continue;
        } else if (!strcmp(a, "::::")) {
            files = 1;
        } else if (files || (a[0] != '-' || !a[1])) {
            char *s = strdup(a);
            if (!s || (files ? strv_push(&lists, s) : strv_push(&o->urls, s)) < 0)
                rc = -1;
        } else if (!strcmp(a, "--")) {
            files = 0;
        } else {
            rc = parse_one(o, argc, argv, &i, &lists);
        }
    }
    if (rc == 0 && (o->resume || o->resume_failed) && !o->joblog) {
        fetch_error("--resume needs --joblog FILE");
        rc = -1;
    }
    if (rc == 0 && o->head && o->data && !o->get) {
        fetch_error("-I and a body (-d...): choose one, or add -G");
        rc = -1;
    }
    if (rc == 0 && o->body && !o->jsonl) {
        fetch_error("--body goes with --jsonl");
        rc = -1;
    }
    if (rc == 0 && o->outdir && o->jsonl) {
        fetch_error("-o DIR and --jsonl: choose one");
        rc = -1;
    }
    for (size_t k = 0; rc == 0 && k < lists.n; k++)
        rc = read_list(o, lists.v[k]);
    if (rc == 0 && !lists.n && !o->urls.n)
        rc = read_list(o, "-");
    strv_free(&lists);
    return rc;
}

void fetch_opts_free(struct fetch_opts *o)
{
    free(o->data);
    strv_free(&o->headers);
    strv_free(&o->urls);
}
