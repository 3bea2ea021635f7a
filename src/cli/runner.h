/* The job runner's state, shared by run.c (which starts and accounts for
 * the jobs) and stop.c (which stops them). Internal to the CLI. */
#ifndef EVT_CLI_RUNNER_H
#define EVT_CLI_RUNNER_H

#include "cli.h"

#include <eventor.h>
#include <stdint.h>

struct runner {
    struct opts *o;
    struct input *in;
    struct tmpl *t;
    evt_sem_t *slots;      /* free -j slots */
    int *free_slot;        /* {%} numbers not in use, oldest first (run.c) */
    long nfree;
    int max_slot;          /* the highest {%} number given so far */
    evt_wg_t *jobs;        /* job coroutines not finished */
    struct job **running;  /* jobs with a live process, by slot */
    long total;            /* number of jobs when known (--bar, --eta, %) */
    uint64_t done, failed; /* finished jobs (with their last try) */
    uint64_t started;
    int stop;              /* start no more jobs */
    int killing;           /* running jobs are being killed */
    int halt_exit;         /* exit status decided by --halt, or -1 */
    int signals;           /* SIGINT/SIGTERM/SIGHUP received */
    int interrupted;       /* a SIGINT or SIGTERM among them */
    int input_error;
    uint64_t write_errors; /* jobs whose output could not be all written */
    evt_event_t *ended;    /* set each time a job's process ends */
    int limit_warned;
    evt_co_t *producer;
    struct tmpl *tagt;     /* --tagstring's template */
};
extern struct runner runner;

/* halt.c: what --halt says of a job that ended (halt_say, after the job's
 * own output, as GNU parallel says it), and halt_account: GNU parallel's
 * should_we_halt after job j finished, what to say of it into *n. */
struct halt_note {
    const char *what; /* "This job failed:", or NULL: nothing */
    char *cmd;        /* the job's command line (a copy: the job is gone) */
    long waiting;     /* > 0: "Starting no more jobs", with this many left */
};

void halt_account(struct job *j, struct halt_note *n);
void halt_say(struct halt_note *n);
/* The run's exit status as GNU parallel's, once every job is done. */
int halt_status(void);

/* Jobs holding a slot now. */
static inline long running_count(void)
{
    return runner.max_slot - runner.nfree;
}

/* Kill every running job (--termseq's first signal, then the rest) and
 * start no more. */
void runner_kill_all(void);
/* Send sig to job j's process group; a job --memsuspend stopped is
 * resumed after it, so that it can act on it (and end). */
void runner_signal(struct job *j, int sig);
/* Coroutines: --memfree's watch (arg unused), the signals read from the
 * signalfd *arg. */
void *runner_watch_memory(void *arg);
void *runner_watch_signals(void *arg);

#endif
