/* The --pipe extras' entry points (pipemore.c, piperegex.c, piperr.c,
 * pipetee.c, pipeshard.c, pipecol.c, pipegroup.c, pipefifo.c). Internal
 * to the CLI. */
#ifndef EVT_CLI_PIPEMORE_H
#define EVT_CLI_PIPEMORE_H

#include "cli.h"

/* pipemore.c (pipe-more): --regexp, --round-robin, --tee, --group-by,
 * --fifo, --shard, --bin. pipex_option applies one (-1: a bad value, -2 reported);
 * pipex_check, before the other checks, settles what they imply and
 * refuses what cannot be done (-1 after an error line). */
enum { PIPEX_OPT_REGEXP, PIPEX_OPT_RR, PIPEX_OPT_TEE, PIPEX_OPT_GROUP_BY,
       PIPEX_OPT_FIFO, PIPEX_OPT_SHARD, PIPEX_OPT_BIN };
/* opts.pipe_route; _TEE: --tee without --pipe (only -j's check, as GNU's) */
enum { PIPE_ROUTE_SHARD = 1, PIPE_ROUTE_BIN, PIPE_ROUTE_TEE };
int pipex_option(struct opts *o, int which, const char *val);
int pipex_check(struct opts *o);
void pipex_help(FILE *f);

/* piperegex.c (pipe-more): --regexp's patterns over a buffer, each the
 * length of the chunk to cut (GNU's $1), -1 when none, -2 after an error
 * line. pipere_last: the last record end in buf (no -N); pipere_n: N
 * records (the text before a first recstart once, alone); pipere_part:
 * --pipepart's first boundary (the last in buf, as GNU's greedy .*);
 * pipere_strip: --rrs, the separators out of buf (its new length). */
int pipere_open(const char *recstart, const char *recend);
long pipere_last(const char *buf, size_t len);
long pipere_n(const char *buf, size_t len, long n);
long pipere_part(const char *buf, size_t len);
long pipere_strip(char *buf, size_t len);
void pipere_close(void);

/* piperr.c (pipe-more): --round-robin. piperr_next is pipe_next for it
 * (1 only for a new job; later blocks go to running jobs from here);
 * piperr_feed is pipe_feed for it: j's first block, then what it is
 * handed until the end (j->in.len: the bytes it got). */
int piperr_next(const struct opts *o, struct pipe_block *b);
int piperr_feed(int feed, struct job *j, int64_t deadline);
void piperr_close(void);
/* pipetee.c (pipe-more): --tee, --shard, --bin. pipetee_init, once the
 * values are counted (total), refuses more than -j and with --pipe starts
 * the feeder: the number of jobs, -1 after an error line. pipetee_pad:
 * with --shard and --bin, once the values are out, the record of job
 * seq + 1 (one empty value; 1), 0 when none comes. pipetee_started: the
 * run has started n jobs in all, the feeder waits for no more.
 * pipetee_failed: the feeding ended on an error (said). pipetee_feed is
 * pipe_feed for it (feed -1: the job did not start); returns when the
 * input is done, or at the job's deadline. */
long pipetee_init(const struct opts *o, long total);
size_t pipetee_pad(struct record **recs, size_t *cap, uint64_t seq);
void pipetee_started(uint64_t n);
int pipetee_failed(void);
int pipetee_feed(int feed, struct job *j, int64_t deadline);
/* pipe_start for it (with --pipepart the file is the job's stdin). */
int pipetee_start(struct job *j, const char *shell, int *feed);
void pipetee_close(void);
/* pipegroup.c (pipe-more): --group-by. pipegroup_open reads the header
 * line when there is one (*header, *hlen: malloc'd) and starts the filter:
 * the fd pipe.c reads, *sep the separator it puts between the groups; -1
 * after an error line. */
int pipegroup_open(const struct opts *o, char **header, size_t *hlen,
                   const char **sep);
void pipegroup_close(void);
/* pipeshard.c (pipe-more): --shard, --bin. pipeshard_open reads the
 * SHARDEXPR of o, for n jobs (a column's name: the header line out of
 * stdin, what was read past it left in *buf, *len) and compiles its perl
 * (-1 after an error line); pipeshard_route: the job (0..n-1) of each of
 * the nl lines of buf, line k at [at[k], at[k + 1]), buf having a byte of
 * room after the last (-1: the perl expression died, said why). */
int pipeshard_open(const struct opts *o, long n, char **buf, size_t *len);
int pipeshard_route(char *buf, const size_t *at, size_t nl, long *job);
void pipeshard_close(void);
/* pipecol.c (pipe-more): the columns of a line for --group-by, --shard,
 * --bin. pipecol_value: column c->col (from 1) of line[0, len) (line[len]
 * a NUL), its line end kept on the last one ("" if none); pipecol_header:
 * the first line of stdin (*buf holds what was read before, and then
 * after it) as *header (malloc'd, NUL-ended); pipecol_name: c->col of the
 * column name[0, nlen) in header h (-1 after an error line). */
struct pipecol {
    const struct opts *o;
    char dflt;  /* the separator without --colsep */
    long col;
};
void pipecol_value(const struct pipecol *c, const char *line, size_t len,
                   const char **v, size_t *vlen);
int pipecol_header(char **buf, size_t *len, char **header, size_t *hlen);
int pipecol_name(struct pipecol *c, const char *name, size_t nlen,
                 const char *h, size_t hlen);
/* pipesep.c: pipesep_skip_line reads fd past its first line (its length,
 * -1 after an error line); pipesep_drop takes every sep out of p[0, len),
 * pipesep_strip (--rrs; sep: recend, end_len long, then recstart) every
 * recend+recstart, a first recstart and a last recend; both return the
 * length left. */
int64_t pipesep_skip_line(int fd);
size_t pipesep_drop(char *p, size_t len, const char *sep, size_t sep_len);
size_t pipesep_strip(char *p, size_t len, const char *sep, size_t sep_len,
                     size_t end_len);
/* pipefifo.c (pipe-more): --fifo. pipefifo_make makes j's fifo (as
 * j->cat_path; 0, -1 after an error line, -2 ENOMEM); pipefifo_feed,
 * once j runs, writes its block into the fifo when j opens it (-1: as
 * pipe_feed). */
int pipefifo_make(const struct opts *o, struct job *j);
int pipefifo_feed(struct job *j, int64_t deadline);

#endif
