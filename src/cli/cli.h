/* The eventor command: types shared by its parts (options, input sources,
 * command templates, job running, output ordering, joblog, progress). Every
 * part runs on the main thread's scheduler; nothing here is thread-safe. */
#ifndef EVT_CLI_H
#define EVT_CLI_H

#include <eventor.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_EXIT_ERROR 255 /* GNU parallel's code for bad usage and IO */
#define CLI_JOBS_MAX 100000 /* -j 0: as many as possible, at most this */
/* GNU parallel's usable length of one command line on Linux: half of what
 * its probe finds below the 128 KiB a single argument (sh -c's) may have,
 * less 3000 for its wrapping: (130329 - 3000) / 2. */
#define CLI_MAX_LINE 63664
#define CLI_SPAWNERS_MAX 4 /* spawner threads (spawn.c) */
#define CLI_LIB_THREADS 8  /* the library's IO offload pool, at most */

/* A growable array of strings (owned). */
struct strv {
    char **v;
    size_t n, cap;
};
int strv_push(struct strv *s, char *str); /* takes str; -1 on ENOMEM */
/* v[0..n) joined by sep (malloc'd; NULL on ENOMEM). */
char *strv_join(char *const *v, size_t n, const char *sep);
void strv_free(struct strv *s);
/* Append each line of path ("-": stdin) to out, without its line end;
 * empty lines skipped, and with comments also lines that are blank or
 * start with '#' (leading blanks dropped). 0, or -1 and errno. */
int strv_read_lines(struct strv *out, const char *path, int comments);
/* The whole of path ("-": stdin), malloc'd and NUL-ended, its length in
 * *len unless len is NULL; NULL and errno. */
char *read_whole_file(const char *path, size_t *len);

/* Where items come from: a `:::` list, or a file (`::::`, -a, stdin). */
struct source {
    int is_file;
    const char *path;  /* file sources: "-" is stdin */
    struct strv items; /* `:::` items; file sources read into it when the
                          product needs them all */
    int linked;        /* `:::+` / `::::+`: zipped with the source before */
};

enum halt_when { HALT_NEVER, HALT_SOON, HALT_NOW };
enum halt_kind { HALT_FAIL, HALT_SUCCESS, HALT_DONE };

/* The replacement strings that -I, --er ... rename (spell.c). */
enum { TMPL_NAME_ARG, TMPL_NAME_NOEXT, TMPL_NAME_BASE, TMPL_NAME_DIR,
       TMPL_NAME_BASENOEXT, TMPL_NAME_SEQ, TMPL_NAME_SLOT, TMPL_NAMES };

struct opts {
    long jobs;             /* -j: job slots */
    int jobs_given;        /* -j given (slots per ssh login; --semaphore's
                              default is 1) */
    int keep_order;        /* -k */
    int dry_run;           /* --dry-run */
    int tag;               /* --tag */
    int null_sep;          /* -0 */
    int have_colsep;       /* --colsep given */
    regex_t colsep;        /* compiled --colsep */
    const char *joblog;    /* --joblog FILE */
    int joblog_append;     /* --joblog +FILE */
    int verbose;           /* -v: print each command line with its output */
    int ungroup;           /* -u: jobs write to eventor's stdout, stderr */
    const char *tagstring; /* --tagstring STR (owned copy, escapes done) */
    int resume;            /* --resume */
    int resume_failed;     /* --resume-failed */
    long retries;          /* --retries: tries in all, 0 = forever */
    int64_t timeout_ms;    /* --timeout; 0 = none */
    int64_t delay_ms;      /* --delay */
    enum halt_when halt_when;
    int halt_given;        /* --halt given (--halt never: keep going past
                              write errors too) */
    enum halt_kind halt_kind;
    long halt_count;       /* fail=N / success=N / done=N */
    double halt_pct;       /* fail=P%: fraction, 0 when a count is used */
    int bar, eta;          /* --bar, --eta */
    char xmode;            /* 'X' (-X), 'm' (-m) or 0: one item a job */
    int spread;            /* -X or -m given: spread short input over slots */
    long max_args;         /* -n, -N, -L: items per command line */
    int no_args;           /* -N0: one item a job, none inserted */
    long max_chars;        /* -s: command line length limit, 0 = default */
    int line_continues;    /* -L: an item ending in a blank goes on */
    int quote_all;         /* -q */
    int shellquote;        /* --shellquote, how many times */
    /* -I, --er ...: new names of {} {.} {/} {//} {/.} {#} {%}
     * (TMPL_NAME_*), NULL: as is */
    const char *rpl_name[TMPL_NAMES];
    char *delim;           /* -d, -0: item separator (owned), NULL = \n */
    size_t delim_len;
    int no_empty;          /* -r: skip blank items */
    int context;           /* -L: repeat words as -X; 2: -N, even with -m */
    int xargs;             /* --xargs or -m: fill lines */
    int link;              /* --link: zip every source */
    const char *tmpdir;    /* --tmpdir or $TMPDIR or /tmp */
    const char *shell;     /* $PARALLEL_SHELL or /bin/sh */
    int pipe;              /* --pipe: blocks of input on each job's stdin;
                              2: --pipepart */
    long block;            /* --block bytes (0: not given; -N: --pipepart's
                              N blocks a job slot) */
    const char *recstart, *recend; /* --recstart, --recend (argv's) */
    int rrs;               /* --rrs: the separators out of each block */
    int64_t block_timeout; /* --block-timeout: ms, whole seconds as GNU's
                              (0: none; -1: under a second, refused) */
    const char *header;    /* --header REGEX, ':' or N (argv's) */
    /* gnu-results */
    const char *colsep_raw; /* --colsep as given (argv's) */
    char trim;             /* --trim, or --colsep's lr: 'n' 'l' 'r' 'b' */
    int csv;               /* --csv: each item is a CSV record */
    const char *results;   /* --results NAME (argv's) */
    int results_kind;      /* RES_* */
    int files;             /* --files: print output file names */
    int plus;              /* --plus: its replacement strings */
    int line_buffer;       /* --line-buffer */
    struct strv owned;     /* words rewritten by --header (owned) */
    struct strv cmd;       /* the command template's words (borrowed) */
    struct source *src;    /* input sources in command-line order */
    size_t nsrc;
    /* gnu-more */
    struct strv words;     /* the config files' and $PARALLEL's (owned) */
    char **rest;           /* the command and sources of all (owned array) */
    double timeout_pct;    /* --timeout N%: fraction of the median, or 0 */
    struct termstep { int sig, ms; } termseq[16]; /* --termseq */
    int ntermseq;          /* 0: GNU's default */
    int retry_failed;      /* --retry-failed */
    int shuf;              /* --shuf */
    int nice, have_nice;   /* --nice N: the jobs' niceness */
    long memfree;          /* --memfree bytes, 0 = none */
    double load_max;       /* --load: the most, 0 = none */
    const char *limit;     /* --limit "command args", NULL = none */
    long memsuspend;       /* --memsuspend bytes, 0 = none */
    const char *procfile;  /* -j FILE: the job count, re-read */
    int semaphore;         /* --semaphore, eventor sem */
    int sem_fg, sem_wait;  /* --fg, --wait */
    int pipe_cat;          /* --cat */
    const char *sem_id;    /* --id NAME */
    int64_t sem_timeout_ms; /* --semaphore-timeout: <0 give up, >0 go on */
    /* spelling (spell.c) */
    const char *arg_sep, *arg_file_sep; /* --arg-sep, --arg-file-sep */
    const char *eof_str;   /* -E: input ends at this item */
    int tty;               /* --tty: -j1 -u, jobs read the terminal */
    int interactive;       /* -p: each command asked for on the terminal */
    int progress;          /* --progress */
    int noswap;            /* --noswap: no start while the machine swaps */
    int verbose_stderr;    /* --verbose, -t: each job's command on stderr
                              as it starts (-v: on stdout, with its output) */
    const char *slot_var;  /* --process-slot-var NAME: {%} - 1 in $NAME */
    int silent, group;     /* --silent (no -v), --group (the default) */
    int color, color_failed; /* --color (--ctag...), --color-failed */
    long total_jobs;       /* --total-jobs N: --bar's, {##}'s total, not
                              counted (0: count when one is needed) */
    int skip_first_line;   /* --skip-first-line: of the first source */
    /* perl17 */
    const char *rpl[64];   /* --rpl 'TAG CODE' (argv's), in order */
    int nrpl;
    const char *parens;    /* --parens: {= and =} joined (argv's), or NULL */
    const char *filter[16]; /* --filter EXPR (argv's): a job runs only if
                              every one is true in perl */
    int nfilter;
    /* pipe-more: GNU parallel's --pipe extras (pipemore.c) */
    int pipe_regexp;       /* --regexp: --recstart/--recend are regexes */
    long pipe_lines;       /* --pipe -L N: a record is N lines */
    int pipe_rr;           /* --round-robin */
    int pipe_tee;          /* --tee: all the input to every job */
    int pipe_fifo;         /* --fifo: {} a named pipe with the block */
    const char *group_by;  /* --group-by COLUMN (argv's) */
    long group_col;        /* its column, from 1 (0: not a column) */
    const char *tee_file;  /* --pipepart --tee: the data (the first -a) */
    const char *shard_expr, *bin_expr; /* --shard, --bin SHARDEXPR (argv's) */
    int pipe_route;        /* either given: PIPE_ROUTE_SHARD or _BIN (with
                              --pipe pipe_tee is set too: the jobs run all
                              at once, pipetee.c feeds each line to one) */
    /* gnumisc (misc.h) */
    const char *tmpl_src[16];  /* --tmpl FILE=NAME: FILE (argv's) */
    const char *tmpl_name[16]; /* NAME, with placeholders */
    const char *tmpl_text[16]; /* FILE's contents (in owned) */
    int ntmpl;
    int pipe_argfiles;     /* --_pipe-means-argfiles: with --pipe, the
                              ::: words are files (--shebang-wrap's) */
    int open_tty;          /* -o, --open-tty: jobs' stdin is /dev/tty */
    int show_limits;       /* --show-limits: GNU's lines first */
    int compress;          /* --compress, or a --compress-program given */
    const char *compress_prg, *decompress_prg; /* argv's, or NULL */
};

/* opts.c: parse argv into o. Returns 0, 1 when --help/--version was
 * handled (exit 0), or -1 after printing one line on stderr (exit 255). */
int opts_parse(struct opts *o, int argc, char **argv);
void opts_help(FILE *f);
void opts_free(struct opts *o);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* gnuopt.c (gnu-results): --results, --files, --trim, --csv, --plus,
 * --line-buffer. gr_option applies one (-1: bad value); gr_check settles
 * their defaults and refuses what cannot be done (-1 after an error line). */
enum { GR_OPT_RESULTS, GR_OPT_FILES, GR_OPT_TRIM, GR_OPT_CSV, GR_OPT_PLUS,
       GR_OPT_LINEBUF };
enum { RES_NONE, RES_DIR, RES_TMPL, RES_CSV, RES_TSV, RES_JSON };
int gr_option(struct opts *o, int which, const char *val);
int gr_check(struct opts *o);

/* header.c (gnu-results): --trim's span of v (*len bytes from the
 * pointer returned); --csv's fields of one line appended to r (-1 out of
 * memory, -2 not CSV: reported); --header's names: header_line takes a
 * source's first line, header_rewrite turns {NAME} into {N}, header_name
 * is column col's name (1-based; NULL: none). */
const char *trim_value(char trim, const char *v, size_t *len);
struct record;
int csv_split(const struct opts *o, const char *line, struct record *r);
int header_line(const struct opts *o, char *line);
int header_rewrite(struct opts *o);
const char *header_name(size_t col);
void header_free(void);

/* optval.c: option values; 0, or -1 for a bad one (optval_colsep: -2 when
 * it already said why). */
int optval_digits(const char *s);               /* 1: only 0-9, not empty */
int optval_long(const char *s, long *v);
int optval_count(const char *s, long min, long *v); /* digits, >= min */
int optval_secs(const char *s, int64_t *ms);    /* seconds into ms */
int optval_size(const char *s, long max, long *v); /* 1M, 10k, 2Gi */
int optval_jobs(const char *s, long *jobs);     /* -j N, +N, -N, N%, 0 */
int optval_halt(struct opts *o, const char *s);
int optval_colsep(struct opts *o, const char *re);
int optval_delim(struct opts *o, const char *s); /* -d, with its escapes */
char *optval_escapes(const char *s, size_t *len); /* \t \n \r \NNN */
/* limits.c: before anything is started, raise the soft RLIMIT_NOFILE to
 * the hard one and cap o->jobs to what the fd and process limits allow
 * (one warning line, as GNU parallel). Returns 0, or -1 after an error
 * line. */
int limits_plan(struct opts *o);
/* The input has more jobs than the slots: say so if -j 0 was capped. */
void limits_more_jobs(void);
/* Below this many file handles (ulimit -n, after raising the soft limit to
 * the hard one) eventor's own loops, threads and workers do not fit: 0, or
 * -1 after saying so (GNU parallel also refuses to start). */
#define CLI_FDS_MIN 32
int limits_floor(void);
/* --plugin's -P/-T N capped to what the fd and process limits allow, with
 * GNU parallel's warning naming units ("workers (-P)"). */
size_t limits_workers(size_t asked, const char *units);
/* The fds the jobs may use in all (3 a running job, 2 a finished one that
 * waits for its turn with -k). */
long limits_fd_budget(void);

/* supervise.c: a process forked at start, before any thread, that kills
 * the process group of every job still running when eventor dies (even by
 * kill -9): the job's children die with it, not only the job. */
int supervise_start(void);
/* The fd the vfork child writes its own pid to before execve, or -1. */
int supervise_fd(void);
/* Before reaping job pid (its process group is still held): forget it. */
void supervise_forget(int pid);

/* --plugin mode (plugin.c): argv[1] is --plugin; run it to the end and
 * return the exit status. */
int plugin_requested(int argc, char **argv);
int plugin_main(int argc, char **argv);
/* FN loaded from LIB.so (spec "LIB.so:FN"), NULL after an error line. */
evt_batch_fn plugin_load(const char *spec);

/* input.c: items, one record at a time: a record is one value per source
 * (or per --colsep column). Files are read as they are needed, through
 * cooperative reads, so a slow producer on stdin never stalls the jobs. */
struct record {
    char **val;  /* nval strings, owned */
    size_t nval;
};
struct input;
/* Opens every file source (an unreadable one: an error line naming it and
 * NULL). */
struct input *input_open(const struct opts *o);
/* 1 with *r filled, 0 at end, -1 on a read error (already reported). */
int input_next(struct input *in, struct record *r);
/* Read everything now (--bar, --eta need the total). Returns the number of
 * records, or -1. */
long input_count_all(struct input *in);
void input_close(struct input *in);
void record_free(struct record *r);
/* Append a copy of [s, s + len) to r's values: 0, or -1 (ENOMEM). */
int record_push(struct record *r, const char *s, size_t len);

/* lines.c: the records of the next command line. */
enum { LINES_INPUT = 1, LINES_TOO_LONG }; /* lines.error */
struct lines {
    const struct opts *o;
    struct input *in;
    const struct tmpl *t;
    const int *stop;       /* a signal stopped the input: no error */
    int error;             /* LINES_*: what ended the input early */
    struct record *held;   /* read, not yet used (the look-ahead) */
    size_t nheld, held_cap;
    int eof, spread_done;
    long max_args;
    struct record *shuf;   /* --shuf: every record, handed out from the end */
    size_t nshuf, shuf_cap;
    int shuf_loaded;
};
/* The next line's records into *recs (grown as needed); 0 at the end. */
size_t lines_fill(struct lines *l, struct record **recs, size_t *cap);
void lines_free(struct lines *l);

/* template.c: a command template compiled once, expanded per job. */
struct tmpl;
struct tmpl *tmpl_compile(const struct opts *o);
/* --tagstring's template: expands to the tag (unquoted values). */
struct tmpl *tmpl_compile_tag(const struct opts *o);
/* The same for any text (--results NAME). */
struct tmpl *tmpl_compile_text(const struct opts *o, const char *text);
void tmpl_free(struct tmpl *t);
/* --plus's {##} or {0#}: the jobs must be counted first. */
int tmpl_needs_total(const struct tmpl *t);
void plus_set_counts(long total, long slots);
/* --plus's {slot} {host} {sshlogin} {hgrp} {agrp} at p: its length, *text
 * the shell variable it is (GNU's ${PARALLEL_...}); 0 when none. */
long plus_var_at(const char *p, const char **text);
/* Expand for records r[0..n) of job seq in slot: *cmd gets the command
 * line as GNU parallel builds it (shell-quoted values; for the joblog,
 * --dry-run and messages), *argv a NULL-terminated vector to run without a
 * shell, or NULL when the command needs the shell. Both are the caller's
 * (free argv with argv_free). 0; 1 when a {= =} called skip() (perl17);
 * -1 on ENOMEM, or EINVAL when the perl of {= =} died (it said why). */
int tmpl_expand(const struct tmpl *t, const struct record *r, size_t n,
                uint64_t seq, int slot, char **cmd, char ***argv);
/* To fill lines with -X/-m: the length one more record adds to the
 * expansion (exact, but for {N}). */
size_t tmpl_record_length(const struct tmpl *t, const struct record *r);
/* The exact length of the command line of records r[0..n) (0: no memory). */
size_t tmpl_line_length(const struct tmpl *t, const struct record *r,
                        size_t n);
/* The --tag text of records r[0..n): values (--trim'd) joined with
 * spaces. */
char *tmpl_tag(const struct record *r, size_t n, char trim);
void argv_free(char **argv);
/* shell.c: GNU parallel's shell quoting of one value (malloc'd). */
char *shell_quote(const char *s);
/* c needs the shell to mean what it says: | & ; < > ( ) $ ... */
int shell_is_meta(char c);
/* The command word w (len bytes) is a shell keyword or builtin. */
int shell_is_word(const char *w, size_t len);
/* A line without shell syntax split into its words: *argv (NULL-terminated,
 * free with argv_free), or NULL when it needs the shell. -1 on ENOMEM. */
int shell_split(const char *line, char ***argv);
/* The words quoted and joined by spaces (malloc'd, NULL on ENOMEM). */
char *shell_join(char **argv);

/* spawn.c: start a command in a process group of its own, stdin from
 * /dev/null, stdout and stderr to the given fds, killed if eventor dies. */
struct proc {
    int pid;
    int pidfd;
    char **envp; /* the job's environment (jobenv_build), NULL: eventor's */
    int in_fd;   /* the job's stdin; 0: /dev/null */
};
int proc_start(struct proc *p, char **argv, const char *cmd,
               const char *shell, int out_fd, int err_fd);
/* The executable a command name runs ($PATH's first, remembered; a name
 * with a slash as it is), or NULL when $PATH has none. */
const char *proc_which(const char *name);
/* Wait for exit until deadline: 0 (exited), -1 and ETIMEDOUT. */
int proc_wait(struct proc *p, int64_t deadline);
/* Reap it: *exitval and *sig as the joblog wants them. */
void proc_reap(struct proc *p, int *exitval, int *sig);
/* GNU parallel's --termseq default: TERM, 200 ms, TERM, 100 ms, TERM, 50 ms,
 * KILL, 25 ms, to the whole process group, until it exits. */
void proc_terminate(struct proc *p);
/* gnu-more: --termseq (for proc_terminate and kill_all) and --nice. */
void spawn_set(const struct opts *o);
const struct termstep *spawn_termseq(int *n);
/* Before the first proc_start: takes the signal mask the jobs will get and
 * makes the spawner threads (at most one per job slot). 0, or -1 and errno. */
int spawn_init(long jobs);

/* jobenv.c: eventor's environment (read once, at start) with GNU
 * parallel's PARALLEL_SEQ, PARALLEL_JOBSLOT(0) and PARALLEL_PID for job seq
 * in slot: one allocation, free() it. NULL on ENOMEM. */
int jobenv_init(void);
/* ... with the more[0..nmore) "NAME=VALUE"s (NULL ones skipped), copied. */
char **jobenv_build(uint64_t seq, int slot, char *const *more, size_t nmore);
/* GNU's $PARALLEL_TMP for a job: DIR/parXXXXX (malloc'd; NULL on ENOMEM),
 * a name only (GNU's tmpname), removed after the job as GNU's add_rm. */
char *jobenv_tmpname(const char *dir);

/* --pipe's input of one job: data (owned: the block, or --pipepart's
 * header), then part_len bytes of the file from part_off. */
struct pipe_block {
    char *data;
    size_t len;
    int64_t part_off;
    size_t part_len;
    size_t unsent;  /* what the joblog's Send leaves out (--group-by's
                       header, as GNU's) */
};

/* A job: one command line, from start to its output being written. */
struct job {
    uint64_t seq;        /* {#}, joblog Seq */
    int slot;            /* {%} */
    char *cmd;           /* command line (joblog, messages) */
    char **argv;         /* NULL: run through the shell */
    char *remote;        /* sshlogin: the shell line run instead of cmd */
    char *tag;           /* --tag prefix, or NULL */
    int out_fd, err_fd;  /* temp files holding the output */
    double start;        /* wall clock seconds, joblog Starttime */
    double runtime;      /* seconds */
    int exitval, sig;    /* joblog Exitval and Signal */
    long long out_bytes; /* joblog Receive: bytes of standard output */
    long long err_bytes; /* bytes of standard error */
    int skip;            /* --resume: nothing to run nor print */
    int killed;          /* stopped by --halt now / a second signal */
    int dying;           /* this try is being killed: left running */
    int limit_killed;    /* this try killed by --limit's 2 (Exitval -1) */
    int suspended;       /* SIGSTOPped by --memsuspend */
    uint64_t spool_epoch; /* output_spool_epoch() when its try started */
    int spool_lost;      /* its spool hit a full --tmpdir: output lost */
    struct proc proc;    /* while running */
    struct pipe_block in; /* --pipe: what goes to its stdin */
    /* gnu-results */
    char *res_path;      /* --results: its directory (ending in /) or file */
    char *out_name;      /* --results, --files: the stdout file's name */
    char **vals;         /* --results .csv/.json: the values, untrimmed */
    size_t nvals;
    struct linebuf *lb;  /* --line-buffer: its pipes' readers */
    char *held[2];       /* --line-buffer -k: lines of stdout, stderr */
    size_t held_len[2];  /* waiting for the job's turn */
    char *cat_path;      /* --cat: its block's file (removed with it) */
    int perl_skip;       /* perl17: a {= =} called skip(): `true` runs */
    char *agrp;          /* --hostgroups: its value's groups, '+'-joined;
                            NULL: any login */
    struct strv tmpl_files; /* --tmpl --cleanup: the files it wrote */
};
void job_free(struct job *j);

/* pipe.c, pipeopts.c: --pipe. pipe_option applies one of its options (-1:
 * bad value), pipe_check refuses what --pipe cannot do (after an error
 * line). */
enum { PIPE_OPT_PIPE, PIPE_OPT_BLOCK, PIPE_OPT_RECSTART, PIPE_OPT_RECEND,
       PIPE_OPT_HEADER, PIPE_OPT_PIPEPART, PIPE_OPT_RRS, PIPE_OPT_BT };
int pipe_option(struct opts *o, int which, const char *val);
int pipe_check(struct opts *o);
/* Opens the input and reads the --header (-1 after an error line). */
int pipe_open(const struct opts *o);
/* The next job's input into *b: 1, 0 at end, -1. */
int pipe_next(const struct opts *o, struct pipe_block *b);
void pipe_close(void);
/* proc_start with the job's stdin a pipe; *feed its write end. */
int pipe_start(struct job *j, const char *shell, int *feed);
/* Write j's block into feed (until deadline), then close it; -1 when the
 * job must count as killed by SIGPIPE (GNU's). */
int pipe_feed(int feed, const struct job *j, int64_t deadline);
/* The whole block into fd (a regular file): 0, or -1 and errno. */
int pipe_write_block(int fd, const struct pipe_block *b);
/* pipe.c: the --header's length (0: none). */
size_t pipe_header_len(void);

/* pipecat.c: --cat: j's block into a file of --tmpdir, named by the one
 * record *recs gets (n = 1): 0, -1 (reported), -2 out of memory. */
int pipecat_file(const struct opts *o, struct job *j, struct record **recs,
                 size_t *cap, size_t *n);

/* output.c: temp files and grouped output, in input order with -k. */
int output_init(const struct opts *o);
int output_tmpfiles(int *out_fd, int *err_fd);
/* The job is finished (or skipped): write its output now, or when every
 * earlier one has been written (-k). Takes j. */
void output_done(struct job *j);
/* The full --tmpdir test: an epoch that moves each time it is seen full,
 * and whether j's spool may have lost output since j->spool_epoch. */
uint64_t output_spool_epoch(void);
int output_spool_lost(struct job *j);
/* -k: the seq whose output is written next (0 without -k). */
uint64_t output_head(void);
/* write(2) all of buf to eventor's fd (which may be non-blocking). */
int output_write(int fd, const char *buf, size_t len);
/* color.c: what --color, --color-failed make of job j's lines: its colour
 * (and GNU's clear-to-end-of-line), "" (coloured mode, no colour), or NULL
 * (not coloured). */
const char *color_of(const struct opts *o, const struct job *j);
/* Copy the whole of file src (from its start) to fd: 0, or -1 and errno. */
int output_copy_file(int src, int fd);
/* s (len bytes) as a JSON string, quotes included (results.c). */
void json_string(FILE *f, const char *s, size_t len);
/* Park until fewer than the reorder window wait behind the oldest. */
int output_wait_room(uint64_t next_seq);
void output_finish(void);

/* results.c (gnu-results): --results and --files. results_init opens a
 * .csv/.tsv/.json (-1 after an error line); results_prepare decides where
 * job j's files go from its records (-1: ENOMEM); results_files opens
 * them as j's out_fd/err_fd (-1 after an error line); results_emit
 * prints j's file name (--files) or its record (0, or -1 and errno);
 * results_own_files: jobs' files are not temp files to reuse. */
int results_init(const struct opts *o);
int results_prepare(struct job *j, const struct record *r, size_t n);
int results_files(struct job *j);
int results_emit(struct job *j);
int results_own_files(void);
void results_finish(void);

/* linebuf.c (gnu-results): --line-buffer. linebuf_open makes j's stdout
 * and stderr pipes (j->out_fd, j->err_fd their write ends; -1 and errno);
 * linebuf_run, once the job is started (or failed to), closes them here
 * and reads them on the loop, writing each line as it comes (coloured
 * with color as GNU's --lb --color when it is not NULL); linebuf_end
 * waits for their end and counts j's bytes. */
int linebuf_open(struct job *j, const char *color); /* color_of's or NULL */
void linebuf_run(struct job *j);
void linebuf_end(struct job *j);
/* -k: write what j's lines held while it waited its turn (0, or -1). */
int linebuf_flush(struct job *j);

/* joblog.c */
extern const char joblog_header[]; /* "Seq\tHost\t...\tCommand\n" */
int joblog_open(const struct opts *o);
/* --resume / --resume-failed: 1 when seq must not run again. */
int joblog_skip(uint64_t seq);
/* Before j's output is written: make sure its line will fit (a full disk
 * then keeps the job from being printed at all). 0, or -1 (reported). */
int joblog_reserve(const struct job *j);
/* After: its line. 0, or -1 (reported; the log takes no more lines). */
int joblog_write(const struct job *j);
/* The Host column of every line from now (eventor worker: its name in
 * the batch); NULL: the job's --sshlogin, or ':'. */
void joblog_host(const char *host);
/* j's line, malloc'd (*len bytes, the newline included; NULL: no memory),
 * its room in the open log reserved: eventor worker stores it in Redis,
 * then writes it with joblog_put. */
char *joblog_line(const struct job *j, size_t *len);
/* Write a line made by joblog_line (0 when no log is open), in one
 * write(). 0, or -1 (reported; the log takes no more lines). */
int joblog_put(const char *l, size_t len);
void joblog_close(void);
/* --onall: a login's joblog (fd, read from its start) after its header,
 * appended to the open joblog: 0, or -1 after an error line. */
int joblog_append_file(int fd);

/* progress.c: --bar and --eta on stderr. */
void progress_start(const struct opts *o, long total);
void progress_update(uint64_t done, uint64_t failed, int running);
void progress_end(void);
/* Around a job's output: erase the bar (on a terminal), draw it again. */
void progress_hide(void);
void progress_show(void);

/* run.c: run jobs from the input to the end, watching sigfd (a signalfd of
 * SIGINT, SIGTERM, SIGHUP, or -1). Returns the exit code. */
int run_all(struct opts *o, struct input *in, struct tmpl *t, int sigfd);
/* Job j's output or joblog line could not be all written (reported): it
 * counts as failed, exit 255, and the run halts (as --halt soon), unless
 * spool is 1 (its --tmpdir spool lost output, which the next job may not)
 * and --halt never was given. */
void run_write_failed(struct job *j, int spool);

#include "ssh.h" /* -S, --slf, remote jobs, --onall */

double wall_now(void);

/* gnu-more */
/* profile.c: the words of the config files (or of the --profile files
 * prof[0..nprof)) then of $PARALLEL into o->words, nothing with --plain;
 * *nfile: how many are the files'. 0, or -1 on ENOMEM. */
int profile_read(struct opts *o, char **prof, size_t nprof, int plain,
                 size_t *nfile);
/* usershell.c: the jobs' shell, as GNU parallel picks it (static). */
const char *usershell_pick(void);
/* argv, runnable directly, names a bash function exported with export -f
 * (the shell is bash): 1, it must run through the shell. */
int usershell_needed(char *const *argv);
/* more.c: its options (0, -1 a bad value, -2 reported), checks after all
 * are parsed (-1 reported), and --timeout N%: a job that succeeded, and
 * the deadline of a job started at t0 (-1: none). */
enum { MORE_OPT_PROFILE, MORE_OPT_PLAIN, MORE_OPT_TERMSEQ,
       MORE_OPT_RETRY_FAILED, MORE_OPT_SHUF, MORE_OPT_NICE, MORE_OPT_MEMFREE,
       MORE_OPT_LOAD, MORE_OPT_TIMEOUT_PCT, MORE_OPT_PROCFILE,
       MORE_OPT_SEMAPHORE, MORE_OPT_FG, MORE_OPT_BG, MORE_OPT_WAIT,
       MORE_OPT_ID, MORE_OPT_SEM_TIMEOUT, MORE_OPT_CAT, MORE_OPT_INTERACTIVE,
       MORE_OPT_LIMIT, MORE_OPT_MEMSUSPEND };
int more_option(struct opts *o, int which, const char *val);
/* -p: ask on the terminal whether to run cmd: 1 yes, 0 no, -1 when there
 * is no terminal (after an error line). */
int more_ask(const char *cmd);
int more_check(struct opts *o);
void more_help(FILE *f);
void more_succeeded(const struct opts *o, double runtime);
int64_t more_deadline(const struct opts *o, int64_t t0);
/* gate.c: -j PROCFILE (as more_option), free memory in bytes (-1), and
 * how long to wait before asking again whether a job may start while
 * `running` run (0: now). */
int gate_procfile(struct opts *o, const char *path);
long gate_memfree(void);
/* Processes running or waiting for the disk now (--load's), or -1. */
double gate_load(void);
/* throttle.c: --limit's value (as more_option), the state it and
 * --memsuspend need (after limits_plan; -1 out of memory), whether the
 * limit command lets a job start now (0) or how long to wait before
 * asking again, and the coroutine that kills the youngest job on the
 * command's 2 and suspends jobs for --memsuspend (arg unused). */
int throttle_limit(struct opts *o, const char *val);
int throttle_init(const struct opts *o);
int64_t throttle_gate(const struct opts *o);
void *throttle_watch(void *arg);
int64_t gate_wait_ms(const struct opts *o, long running);
/* sem.c: --semaphore: run the command once holding a slot of the
 * semaphore --id (exit status). sem_argv: argv as `eventor --semaphore`
 * when eventor is run as sem or `eventor sem` (argv is static then). */
int sem_main(struct opts *o);
char **sem_argv(int *argc, char **argv);

#endif
