/* eventor submit / worker / status / results / drop: a batch beyond one
 * machine on Redis Streams, through the public evt_redis_* calls. Shared
 * between broker.c (dispatch, submit, drop, errors), broker_help.c (the
 * --help pages), broker_worker.c and broker_status.c (status, results). */
#ifndef EVT_CLI_BROKER_H
#define EVT_CLI_BROKER_H

#include "cli.h"

#include <eventor.h>
#include <stdint.h>
#include <stdio.h>

#define BROKER_EXIT_UNSUPPORTED 2 /* built without Redis support */

/* The subcommands (argv[1]): 1 when argv[1] names one. */
int broker_requested(int argc, char **argv);
int broker_main(int argc, char **argv);

/* 0 when libeventor was built without Redis support; then
 * broker_unsupported says so and gives the exit status (2). */
int broker_supported(void);
int broker_unsupported(const char *sub);

/* broker_help.c: each subcommand's page (sub: "submit", "worker", ...). */
void broker_help(const char *sub, FILE *f);

/* One line on stderr naming url and what failed (errno, or Redis's own
 * words when it answered an error), as "eventor: URL: reason". */
void broker_fail(const char *url, int err);
/* Usage error of sub: one line, then the exit status to return (255). */
int broker_usage(const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* argv[*i] is --broker URL or --broker=URL: take it into *url (1), 0 when
 * it is another word, -1 after a usage line. */
int broker_url_opt(const char *sub, int argc, char **argv, int *i,
                   const char **url);
/* A non-negative number of seconds into ms (-1 after a usage line). */
int broker_secs(const char *sub, const char *flag, const char *val,
                int64_t *ms);
/* A whole number in [min, max] (-1 after a usage line). */
int broker_count(const char *sub, const char *flag, const char *val,
                 long min, long max, long *v);

/* broker_worker.c, broker_status.c: argv[1] is the subcommand. */
int broker_worker(int argc, char **argv);
int broker_status(int argc, char **argv);
int broker_results(int argc, char **argv);

/* The worker's command for item t in job slot slot (its template
 * expanded with t's seq as {#}), malloc'd into *cmd: 0, or -1. */
int worker_command(const evt_batch_task_t *t, int slot, char **cmd);

/* broker_joblog.c: the joblog of a Redis batch. bjob_init maps the notes
 * shared with worker processes (before any is forked; width: attempts at
 * once); bjob_note keeps an attempt's outcome (in the process that ran
 * it); bjob_record and bjob_stored are evt_redis_opts_t's record (the
 * delivery's line) and on_stored (the line into the worker's --joblog). */
int bjob_init(size_t width);
void bjob_note(uint64_t index, double start, double runtime, long long out,
               int exitval, int sig, int slot);
void *bjob_record(const evt_batch_task_t *t, int status, const void *res,
                  size_t rlen, size_t *len, void *user);
void bjob_stored(const void *rec, size_t len, void *user);
/* eventor results --joblog [+]PATH: exit status. */
int bjob_results(const char *url, const char *path);

#endif
