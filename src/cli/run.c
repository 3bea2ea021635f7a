/* Running the jobs: a producer coroutine turns input records into command
 * lines and starts each job in a coroutine of its own once one of the -j
 * slots is free (a semaphore); a job coroutine starts the process, waits for
 * its pidfd (with the --timeout deadline), retries, and hands the finished
 * job to the output. --halt and --delay are decided here; stopping jobs
 * (signals, --termseq, --memfree) in stop.c. */
#include "cli.h"
#include "misc.h"
#include "pipemore.h"
#include "perlexpr.h"
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <eventor.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct runner runner;

double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void job_free(struct job *j)
{
    free(j->cmd);
    free(j->remote);
    argv_free(j->argv);
    free(j->tag);
    free(j->in.data);
    free(j->res_path);
    free(j->held[0]);
    free(j->held[1]);
    free(j->out_name);
    for (size_t i = 0; i < j->nvals; i++)
        free(j->vals[i]);
    free(j->vals);
    if (j->cat_path)
        unlink(j->cat_path);
    free(j->cat_path);
    free(j->agrp);
    strv_free(&j->tmpl_files);
    free(j);
}

/* {%} numbers not in use are kept oldest first, as GNU parallel's queue. */
static void slot_put(int s)
{
    runner.free_slot[runner.nfree++] = s;
}

/* A job takes the number freed longest ago, or a new one when none is free
 * (so jobs one after another all get 1); with host groups, the oldest free
 * slot of a login in its groups, waiting for one. -1: the run stops. */
static int slot_take(const struct job *j)
{
    long k;
    if (!runner.nfree && !hostgroup_active())
        return ++runner.max_slot;
    while (hostgroup_active() && runner.max_slot < runner.o->jobs)
        slot_put(++runner.max_slot); /* every slot's login is a choice */
    while ((k = hostgroup_pick(j, runner.free_slot, runner.nfree)) < 0) {
        evt_event_clear(runner.ended);
        if ((k = hostgroup_pick(j, runner.free_slot, runner.nfree)) >= 0)
            break;
        if (runner.stop || (evt_event_wait(runner.ended, -1) < 0 &&
                            errno != ETIMEDOUT))
            return -1;
    }
    int slot = runner.free_slot[k]; /* the others keep their order */
    memmove(&runner.free_slot[k], &runner.free_slot[k + 1],
            (size_t)(runner.nfree - k - 1) * sizeof *runner.free_slot);
    runner.nfree--;
    return slot;
}

void run_write_failed(struct job *j, int spool)
{
    (void)j;
    runner.write_errors++;
    if (spool && runner.o->halt_given && runner.o->halt_when == HALT_NEVER)
        return;
    if (!runner.stop && running_count() > 0)
        fprintf(stderr, "eventor: Starting no more jobs. Waiting for %ld "
                        "jobs to finish.\n", running_count());
    runner.stop = 1;
    if (runner.producer)
        evt_cancel(runner.producer); /* it may wait on input or a slot */
}

static int is_limit(int e)
{
    return e == EAGAIN || e == EMFILE || e == ENFILE || e == ENOMEM;
}

/* A start failed on a system limit (errno e): wait for a running job to end
 * and try again, rather than fail the job (GNU parallel caps its slots to
 * the limits it finds). 0 to try again, -1 to give up. */
static int wait_limit(int e, int *tries)
{
    if (!is_limit(e) || ++*tries > 200 || runner.stop)
        return -1;
    if (runner.o->pipe_tee) /* --tee, --shard: none ends before all start */
        return -1;
    if (!runner.limit_warned) {
        runner.limit_warned = 1;
        fprintf(stderr, "eventor: Warning: Only enough %s to run %ld jobs in "
                        "parallel: %s.\n",
                e == EAGAIN ? "available processes" : "file handles",
                running_count() - 1, strerror(e));
    }
    evt_event_clear(runner.ended);
    /* one ends, or (none running but this) the limit may be someone else's */
    return evt_event_wait(runner.ended, evt_now() + 50) == 0 || errno == ETIMEDOUT
               ? 0 : -1;
}

/* Measured once per job: output, the joblog and the temp file pool use it. */
static long long file_size(int fd)
{
    off_t size = lseek(fd, 0, SEEK_END);
    return size > 0 ? size : 0;
}

/* Start one try of j (--line-buffer: its pipes first): 0, or -1 and
 * errno. */
static int start_try(struct job *j, int *feed)
{
    if (runner.o->line_buffer &&
        linebuf_open(j, runner.o->color ? color_of(runner.o, j) : NULL) < 0)
        return -1;
    if (runner.o->verbose) /* -v: the command line with its output */
        dprintf(j->out_fd, "%s\n", j->cmd);
    /* --verbose: as it starts, on stderr (with -p, its question said it) */
    if (runner.o->verbose_stderr && !runner.o->interactive)
        fprintf(stderr, "%s\n", j->cmd);
    if (runner.o->pipe_tee)
        return pipetee_start(j, runner.o->shell, feed);
    return runner.o->pipe && !runner.o->pipe_cat && !runner.o->pipe_fifo
               ? pipe_start(j, runner.o->shell, feed)
                     : proc_start(&j->proc, j->remote ? NULL : j->argv,
                                  j->remote ? j->remote : j->cmd, runner.o->shell,
                                  j->out_fd, j->err_fd);
}

/* A try that did not start: what it wrote, and its pipes closed. */
static void linebuf_finish(struct job *j)
{
    if (j->lb) {
        linebuf_run(j);
        linebuf_end(j);
    }
}

/* Wait for j's process to end: 0, or -1 when it ran past its --timeout
 * (with N%, a deadline that moves as jobs succeed: looked at again every
 * 100 ms). */
static int wait_job(struct job *j, int64_t t0)
{
    for (;;) {
        int64_t dl = more_deadline(runner.o, t0), until = dl;
        if (runner.o->timeout_pct && until > evt_now() + 100)
            until = evt_now() + 100;
        if (proc_wait(&j->proc, until) == 0)
            return 0;
        if (dl >= 0 && evt_now() >= dl)
            return -1;
    }
}

/* GNU parallel's variables for job j (--hostgroups': its groups'; tmp:
 * its $PARALLEL_TMP; --process-slot-var's). */
static char **job_env(const struct job *j, const char *tmp)
{
    char *more[4] = {hostgroup_env(j, 0), hostgroup_env(j, 1), NULL, NULL};
    if (tmp && asprintf(&more[2], "PARALLEL_TMP=%s", tmp) < 0)
        more[2] = NULL;
    if (runner.o->slot_var && /* --process-slot-var */
        asprintf(&more[3], "%s=%d", runner.o->slot_var, j->slot - 1) < 0)
        more[3] = NULL;
    char **env = jobenv_build(j->seq, j->slot, more, 4);
    for (int i = 0; i < 4; i++)
        free(more[i]);
    return env;
}

/* Job j is over (its last try): accounted for, its slot given back, its
 * output handed on, and what --halt says of it said. */
static void job_end(struct job *j)
{
    free(j->proc.envp);
    j->proc.envp = NULL;
    if (!runner.o->ungroup && !runner.o->line_buffer) { /* -u: nothing to copy */
        j->out_bytes = file_size(j->out_fd);
        j->err_bytes = file_size(j->err_fd);
    }
    struct halt_note n = {0};
    if (!j->killed)
        halt_account(j, &n);
    else
        runner.failed++; /* killed by --halt now or a second signal: not done */
    slot_put(j->slot);
    evt_sem_release(runner.slots);
    evt_event_set(runner.ended); /* a job waiting for its host group's slot */
    output_done(j);
    halt_say(&n);
    evt_wg_done(runner.jobs);
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    /* $PARALLEL_TMP: --cat's file, else a name removed after the job */
    char *tmp = j->cat_path ? NULL : jobenv_tmpname(runner.o->tmpdir);
    j->proc.envp = job_env(j, j->cat_path ? j->cat_path : tmp);
    int limit_tries = 0;
    for (long try = 1;; try++) {
        int64_t t0 = evt_now();
        j->start = wall_now();
        int feed = -1;
        j->dying = j->limit_killed = j->suspended = 0;
        if (j->argv && usershell_needed(j->argv)) { /* export -f name */
            argv_free(j->argv);
            j->argv = NULL;
        }
        if (start_try(j, &feed) < 0) {
            int e = errno;
            if (wait_limit(e, &limit_tries) == 0) {
                linebuf_finish(j);
                try--;
                continue;
            }
            dprintf(j->err_fd, "eventor: cannot start %s: %s\n", j->cmd,
                    strerror(e));
            if (runner.o->pipe_tee) /* not to be waited for */
                pipetee_feed(-1, j, 0);
            linebuf_finish(j);
            j->exitval = 255;
            j->sig = 0;
            break;
        }
        if (j->lb)
            linebuf_run(j);
        runner.running[j->slot - 1] = j;
        if (runner.killing) { /* started while --halt now was killing */
            j->killed = 1;
            kill(-j->proc.pid, SIGTERM);
        }
        int64_t deadline = more_deadline(runner.o, t0);
        int broken = feed >= 0 && (runner.o->pipe_rr ? piperr_feed(feed, j, deadline)
                                   : runner.o->pipe_tee ? pipetee_feed(feed, j, deadline)
                                   : pipe_feed(feed, j, deadline)) < 0;
        broken |= runner.o->pipe_fifo && pipefifo_feed(j, deadline) < 0;
        int timed_out = wait_job(j, t0) < 0;
        if (timed_out) {
            fprintf(stderr, "eventor: Warning: This job was killed because "
                            "it timed out:\neventor: Warning: %s\n", j->cmd);
            j->dying = 1;
            runner_signal(j, SIGCONT); /* --memsuspend's: let it end */
            proc_terminate(&j->proc);
        }
        runner.running[j->slot - 1] = NULL;
        proc_reap(&j->proc, &j->exitval, &j->sig);
        if (j->perl_skip) /* perl17 */
            j->exitval = -2, j->sig = 0;
        if (j->lb) /* --line-buffer: the rest of its lines */
            linebuf_end(j);
        evt_event_set(runner.ended);
        j->spool_lost = output_spool_lost(j);
        if (broken) { /* --pipe: its input left unread */
            j->exitval = 0;
            j->sig = SIGPIPE;
        }
        /* GNU: a killed job's own exit status stays */
        if ((timed_out || j->limit_killed) && !j->exitval)
            j->exitval = -1;
        j->runtime = (evt_now() - t0) / 1000.0;
        if (!(j->exitval || j->sig))
            more_succeeded(runner.o, j->runtime);
        if (!(j->exitval || j->sig) || j->perl_skip ||
            (runner.o->retries && try >= runner.o->retries) ||
            runner.stop)
            break;
        if (!runner.o->line_buffer && /* its lines are out already */
            (ftruncate(j->out_fd, 0) < 0 || ftruncate(j->err_fd, 0) < 0))
            break; /* keep this try's output rather than mix two */
        j->spool_epoch = output_spool_epoch();
    }
    compress_job(j); /* --compress: its output through the programs */
    tmplfile_remove(j); /* --tmpl --cleanup */
    if (tmp)
        unlink(tmp); /* what the job may have made there, as GNU's */
    free(tmp);
    job_end(j);
    return NULL;
}

/* --tag and --tagstring: the job's tag (values unquoted). */
static int job_tag(struct job *j, const struct record *recs, size_t n)
{
    char **argv = NULL;
    if (runner.tagt) {
        int rc = tmpl_expand(runner.tagt, recs, n, j->seq, j->slot, &j->tag, &argv);
        argv_free(argv);
        return rc;
    }
    if (runner.o->tag && !(j->tag = tmpl_tag(recs, n, runner.o->trim)))
        return -1;
    return 0;
}

/* The job's stdout and stderr: temp files, or with -u eventor's own. */
static int job_files(struct job *j)
{
    if (runner.o->line_buffer) /* pipes, made for each try (linebuf.c) */
        return 0;
    if (results_own_files()) /* gnu-results: the user's files */
        return results_files(j) < 0 ? (errno = 0, -1) : 0;
    if (!runner.o->ungroup)
        return output_tmpfiles(&j->out_fd, &j->err_fd);
    j->out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    j->err_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (j->out_fd >= 0 && j->err_fd >= 0)
        return 0;
    int e = errno;
    if (j->out_fd >= 0)
        close(j->out_fd);
    if (j->err_fd >= 0)
        close(j->err_fd);
    j->out_fd = j->err_fd = -1;
    errno = e;
    return -1;
}

/* perl17: a job a {= =} skip()ped runs `true` and fails with -2 in the
 * joblog, as in GNU parallel. */
static int perl_skip(struct job *j)
{
    argv_free(j->argv);
    free(j->remote);
    j->remote = NULL;
    j->perl_skip = 1;
    if (!(j->argv = calloc(2, sizeof *j->argv)) || !(j->argv[0] = strdup("true")))
        return -1;
    return 0;
}

/* Give job j a slot and its command line: 0, or 1 when it is done without
 * running (--resume, --dry-run), -1 when the run stops, -2 out of memory. */
static int admit(struct job *j, const struct record *recs, size_t n,
                 int64_t *last_start)
{
    const struct opts *o = runner.o;
    if (j->seq == (uint64_t)o->jobs + 1 && !o->procfile)
        limits_more_jobs();
    if (o->joblog && joblog_skip(j->seq)) {
        j->skip = 1;
        return 1;
    }
    if (output_wait_room(j->seq) < 0 || evt_sem_acquire(runner.slots, -1) < 0)
        return -1;
    for (int64_t ms; !runner.stop && (ms = gate_wait_ms(o, running_count())) > 0;) {
        evt_event_clear(runner.ended); /* -j FILE, --load, --memfree */
        if (evt_event_wait(runner.ended, evt_now() + ms) < 0 && errno != ETIMEDOUT)
            break;
    }
    if (runner.stop || (o->delay_ms && *last_start &&
                   evt_sleep(*last_start + o->delay_ms) < 0)) {
        evt_sem_release(runner.slots);
        return -1;
    }
    if ((j->slot = slot_take(j)) < 0) {
        evt_sem_release(runner.slots);
        return -1;
    }
    *last_start = evt_now();
    int x = tmpl_expand(runner.t, recs, n, j->seq, j->slot, &j->cmd, &j->argv);
    if (x < 0 || job_tag(j, recs, n) < 0 || results_prepare(j, recs, n) < 0 ||
        remote_prepare(j, recs, n) < 0) {
        slot_put(j->slot);
        evt_sem_release(runner.slots);
        if (x < 0 && errno == EINVAL) /* perl17: its perl died, said why */
            return runner.input_error = 1, -1;
        return -2;
    }
    int pass = o->nfilter ? perl_filters(o, recs, n, j->seq, j->slot) : 1;
    if (pass == -1) /* its perl died, said why */
        return runner.input_error = 1, -1;
    if ((x == 1 || !pass) && perl_skip(j) < 0) /* skip(), --filter */
        return -2;
    int yes = o->interactive && !j->perl_skip ? more_ask(j->cmd) : 1;
    if (yes < 0) /* no terminal, said so */
        return runner.input_error = 1, -1;
    if (!yes && perl_skip(j) < 0) /* -p: the answer was no */
        return -2;
    if (tmplfile_fill(j, recs, n) < 0) { /* --tmpl: even for --dry-run */
        slot_put(j->slot);
        evt_sem_release(runner.slots);
        return errno == EINVAL ? (runner.input_error = 1, -1) : -2;
    }
    if (!o->dry_run)
        return 0;
    tmplfile_remove(j);
    runner.failed += j->perl_skip; /* GNU parallel counts it as failed */
    slot_put(j->slot);
    evt_sem_release(runner.slots);
    return 1;
}

/* Start admitted job j in a coroutine of its own: 0, -1 when its output
 * files cannot be made (the run stops), -2 out of memory. */
static int start(struct job *j)
{
    int tries = 0, rc, e = 0;
    while ((rc = job_files(j)) < 0 && wait_limit(e = errno, &tries) == 0)
        ;
    j->spool_epoch = output_spool_epoch();
    if (rc < 0) {
        if (results_own_files())
            ; /* results_files said why */
        else if (runner.o->ungroup)
            cli_error("cannot give a job eventor's stdout and stderr: %s",
                      strerror(e));
        else
            cli_error("cannot create a temporary file in %s: %s",
                      runner.o->tmpdir, strerror(e));
        runner.input_error = 1;
        slot_put(j->slot);
        evt_sem_release(runner.slots);
        j->skip = 1;
        output_done(j);
        return -1;
    }
    evt_wg_add(runner.jobs, 1);
    runner.started++;
    evt_co_t *co = evt_spawn(job_main, j);
    if (!co) {
        evt_wg_done(runner.jobs);
        return -2;
    }
    evt_detach(co);
    return 0;
}

static void *produce(void *arg)
{
    const struct opts *o = runner.o;
    struct lines lines = {.o = o, .in = runner.in, .t = runner.t, .stop = &runner.stop};
    struct record *recs = NULL;
    size_t cap = 0, n = 0;
    uint64_t seq = 0;
    int64_t last_start = 0;
    struct pipe_block blk = {0};
    int prc = 0, rc = 0;
    (void)arg;
    while (!runner.stop && (o->pipe && !o->pipe_tee ? (prc = o->pipe_rr ? piperr_next(o, &blk)
                                                        : pipe_next(o, &blk)) > 0
                               : (n = lines_fill(&lines, &recs, &cap)) > 0 ||
                                     (n = pipetee_pad(&recs, &cap, seq)) > 0)) {
        struct job *j = calloc(1, sizeof *j);
        if (!j) {
            rc = -2;
            break;
        }
        j->in = blk; /* --pipe's, or nothing */
        blk.data = NULL;
        j->seq = ++seq;
        j->out_fd = j->err_fd = -1;
        if ((o->pipe_cat || o->pipe_fifo) &&
            (rc = pipecat_file(o, j, &recs, &cap, &n)) < 0) {
            runner.input_error |= rc == -1;
            job_free(j);
            break;
        }
        rc = hostgroup_take(j, recs, n); /* --hostgroups: @G off */
        if (rc < 0) {
            runner.input_error = 1;
            runner.stop = 1;
            rc = rc == -1 ? -2 : 0;
            job_free(j);
            break;
        }
        rc = admit(j, recs, n, &last_start);
        for (size_t k = 0; k < n; k++)
            record_free(&recs[k]);
        n = 0;
        if (rc < 0) {
            job_free(j);
            break;
        }
        if (rc == 1)
            output_done(j);
        else if ((rc = start(j)) < 0)
            break;
    }
    if (prc < 0 || lines.error) /* already reported */
        runner.input_error = 1;
    if (lines.error == LINES_TOO_LONG)
        runner.stop = 1;
    if (rc == -2) {
        cli_error("out of memory");
        runner.input_error = 1;
        runner.stop = 1;
    }
    for (size_t k = 0; k < n; k++) /* a line not started */
        record_free(&recs[k]);
    lines_free(&lines);
    free(recs);
    free(blk.data);
    return NULL;
}

int run_all(struct opts *o, struct input *in, struct tmpl *t, int sigfd)
{
    runner.o = o;
    runner.in = in;
    runner.t = t;
    runner.halt_exit = -1;
    runner.slots = evt_sem_new((unsigned)o->jobs);
    runner.jobs = evt_wg_new();
    runner.free_slot = malloc((size_t)o->jobs * sizeof *runner.free_slot);
    runner.running = calloc((size_t)o->jobs, sizeof *runner.running);
    runner.ended = evt_event_new();
    if (!runner.slots || !runner.jobs || !runner.free_slot || !runner.running || !runner.ended) {
        cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    if (o->tagstring && !(runner.tagt = tmpl_compile_tag(o))) {
        cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    if (jobenv_init() < 0) {
        cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    if (tmplfile_init(o) < 0) { /* EINVAL: a {= =} of it said why */
        if (errno != EINVAL)
            cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    if (o->total_jobs > 0 && !o->pipe_tee && !o->pipe_route)
        runner.total = o->total_jobs; /* --total-jobs: none counted */
    else if ((!o->pipe || o->pipe_tee) &&
             (o->bar || o->eta || o->halt_pct || o->pipe_tee || o->pipe_route ||
              tmpl_needs_total(t))) {
        runner.total = input_count_all(in);
        if (runner.total >= 0 && (o->pipe_tee || o->pipe_route))
            runner.total = pipetee_init(o, runner.total); /* all at once */
        if (runner.total < 0)
            return CLI_EXIT_ERROR;
    }
    plus_set_counts(runner.total, o->jobs); /* {##} {0#} {0%} */
    perl_set_total(runner.total);            /* perl17: total_jobs() */
    progress_start(o, runner.total);
    evt_co_t *sig = sigfd >= 0 ? evt_spawn(runner_watch_signals, &sigfd) : NULL;
    if (sig)
        evt_detach(sig);
    evt_co_t *mem = o->memfree ? evt_spawn(runner_watch_memory, NULL) : NULL;
    if (mem)
        evt_detach(mem);
    if ((o->limit || o->memsuspend) && throttle_init(o) < 0) {
        cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    evt_co_t *lim = o->limit || o->memsuspend ? evt_spawn(throttle_watch, NULL) : NULL;
    if (lim)
        evt_detach(lim);
    runner.producer = evt_spawn(produce, NULL);
    if (!runner.producer) {
        cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    evt_join(runner.producer, -1, NULL);
    runner.producer = NULL;
    if (o->pipe_tee)
        pipetee_started(runner.started);
    evt_wg_wait(runner.jobs, -1);
    runner.input_error |= o->pipe_tee && pipetee_failed();
    progress_end();
    if (runner.signals) {
        fprintf(stderr, "eventor: %llu jobs finished (%llu failed), %s.\n",
                (unsigned long long)runner.done, (unsigned long long)runner.failed,
                runner.killing ? "the running ones killed, no more started"
                          : "no more started");
    }
    tmpl_free(runner.tagt);
    tmplfile_finish();
    if (runner.input_error || runner.interrupted || runner.write_errors)
        return CLI_EXIT_ERROR; /* GNU parallel's status after INT, TERM */
    return halt_status();
}
