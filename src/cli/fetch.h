/* eventor fetch: many URLs through libcurl on the reactor, with the batch
 * engine's controls. Shared between fetch.c (the run and its output),
 * fetch_opts.c (options, --help) and fetch_xfer.c (one URL, its retries). */
#ifndef EVT_CLI_FETCH_H
#define EVT_CLI_FETCH_H

#include "cli.h"

#include <stddef.h>
#include <stdint.h>

struct fetch_opts {
    const char *method;      /* -X, NULL: GET (POST with -d) */
    char *data;              /* the -d/--data-* pieces joined (owned),
                                NULL: no body */
    size_t data_len;
    int get;                 /* -G: the data goes in the query string */
    int head;                /* -I: HEAD, no body */
    struct strv headers;     /* -H lines (owned copies) */
    const char *user_agent;  /* -A, NULL: eventor-fetch/VERSION */
    const char *referer;     /* -e */
    const char *userpwd;     /* -u USER:PASSWORD */
    const char *cookie;      /* -b NAME=VALUE;... or a cookie file */
    int compressed;          /* --compressed */
    int insecure;            /* --insecure */
    long max_redirs;         /* --max-redirs with -L, default 20, -1 any */
    long jobs;               /* -j: transfers at once */
    long procs;              /* -P: worker processes, 0 = none */
    double rate;             /* --rate: URLs started per second */
    long per_host;           /* --per-host: connections per host, 0 = any */
    int64_t timeout_ms;      /* --timeout, per attempt; 0 = none */
    int64_t connect_ms;      /* --connect-timeout; 0 = libcurl's */
    long retries;            /* --retries: attempts after the first */
    int follow;              /* -L */
    int http2;               /* --http2: 1, --http2-prior-knowledge: 2 */
    const char *outdir;      /* -o DIR */
    const char *name_tmpl;   /* --name TEMPLATE, default "{#}" */
    int jsonl;               /* --jsonl */
    int body;                /* --body: the body in each JSON record */
    int keep_order;          /* -k */
    const char *joblog;      /* --joblog FILE */
    int resume;              /* --resume */
    int resume_failed;       /* --resume-failed */
    int bar, eta;            /* --bar, --eta */
    int quiet;               /* -q: no final report */
    struct strv urls;        /* every URL, in input order (owned) */
    const char *spool;       /* -P with bodies for the parent: a worker
                                writes each body, whatever the outcome, to
                                spool/<seq> for on_result to take (fetch.c) */
};

/* What one URL came to: the result the batch engine carries back (a fixed
 * size, so it crosses from worker processes as bytes). */
struct fetch_res {
    int status;          /* HTTP status of the last response, 0 if none */
    int err;             /* 0, or an errno: transport failure */
    int attempts;        /* requests made */
    double secs;         /* from the first attempt's start to the end */
    double start;        /* wall clock of the first start (joblog) */
    long long bytes;     /* body bytes of the last response */
    char *body;          /* in process only: the body (malloc'd), for
                            stdout or --body; the result hook frees it */
    char msg[256];       /* what went wrong, in words ("" if nothing) */
};

/* fetch_opts.c: 0, 1 after --help (exit 0), or -1 after one line on
 * stderr. URLs from arguments, -a FILE, :::: FILE or stdin are read here. */
int fetch_opts_parse(struct fetch_opts *o, int argc, char **argv);
void fetch_opts_free(struct fetch_opts *o);
void fetch_help(FILE *f);
void fetch_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fetch_data.c: add one -d (ASCII), --data-binary, --data-raw or
 * --data-urlencode value to o's body; -1 after one line on stderr (an
 * unreadable @FILE) or on ENOMEM. */
enum fetch_data {
    FETCH_DATA_ASCII, FETCH_DATA_BINARY, FETCH_DATA_RAW, FETCH_DATA_URLENCODE,
};
int fetch_data_add(struct fetch_opts *o, enum fetch_data kind, const char *val);
/* -G: url with the body as its query (malloc'd), NULL on ENOMEM. */
char *fetch_get_url(const struct fetch_opts *o, const char *url);

/* fetch_xfer.c: fetch url (seq is {#}) with its retries into *r. With -o
 * the body goes to its file (renamed into place once whole), with
 * o->spool to spool/<seq> (renamed too, kept after a failure as well); with
 * want_body it is kept in r->body. Never fails as a call: the outcome is
 * in *r. */
void fetch_one(const struct fetch_opts *o, uint64_t seq, const char *url,
               int want_body, struct fetch_res *r);
/* The file name for seq and url under -o (malloc'd), NULL on ENOMEM. */
char *fetch_name(const char *tmpl, uint64_t seq, const char *url);
/* libcurl can do HTTP/2. */
int fetch_have_http2(void);
int fetch_global_init(void);

/* fetch.c: eventor fetch ... (argv[1] is "fetch"); the exit status. */
int fetch_requested(int argc, char **argv);
int fetch_main(int argc, char **argv);

#endif
