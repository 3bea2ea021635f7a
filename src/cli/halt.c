/* --halt: after each job, GNU parallel's should_we_halt (stop starting
 * jobs, or kill the running ones, and the exit status then), and what it
 * says of the job, said after the job's own output as GNU says it. */
#include "cli.h"
#include "runner.h"

#include <eventor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void note(struct halt_note *n, const char *what, const char *cmd)
{
    n->what = what;
    n->cmd = strdup(cmd);
}

void halt_say(struct halt_note *n)
{
    if (n->what)
        fprintf(stderr, "eventor: %s\n%s\n", n->what, n->cmd ? n->cmd : "");
    if (n->waiting > 0)
        fprintf(stderr, "eventor: Starting no more jobs. Waiting for %ld "
                        "jobs to finish.\n", n->waiting);
    free(n->cmd);
}

/* Percentage of all jobs that failed, rounded up (GNU parallel's exit
 * status with fail=P%). */
static int pct_failed(void)
{
    return runner.total > 0 ? (int)((runner.failed * 100 + (uint64_t)runner.total - 1) /
                               (uint64_t)runner.total)
                       : 0;
}

void halt_account(struct job *j, struct halt_note *n)
{
    const struct opts *o = runner.o;
    int failed = j->exitval || j->sig;
    runner.done++;
    runner.failed += failed;
    progress_update(runner.done, runner.failed, (int)running_count() - 1);
    if (o->halt_when == HALT_NEVER)
        return;
    uint64_t limit;
    int have = 0;
    if (failed && o->halt_kind == HALT_FAIL) {
        note(n, "This job failed:", j->cmd);
        limit = runner.failed;
        have = 1;
    } else if (!failed && o->halt_kind == HALT_SUCCESS) {
        note(n, "This job succeeded:", j->cmd);
        limit = runner.done - runner.failed;
        have = 1;
    }
    if (o->halt_kind == HALT_DONE) {
        note(n, "This job finished:", j->cmd);
        limit = runner.done;
        have = 1;
    }
    if (!have)
        return;
    double count = o->halt_pct ? (double)runner.total * o->halt_pct
                               : (double)o->halt_count;
    if ((double)limit < count)
        return;
    if (o->halt_kind == HALT_SUCCESS) {
        runner.halt_exit = 0;
    } else if (runner.halt_exit < 0) {
        if (o->halt_pct)
            runner.halt_exit = pct_failed();
        else /* GNU parallel's min(undef, 101): 101 when none failed */
            runner.halt_exit = runner.failed > 101 || !runner.failed ? 101 : (int)runner.failed;
        if (o->halt_count == 1)
            runner.halt_exit = j->exitval ? j->exitval : j->sig ? j->sig + 128 : 0;
    }
    if (o->halt_when == HALT_SOON) {
        if (!runner.stop)
            n->waiting = running_count() - 1;
        runner.stop = 1;
    } else {
        runner_kill_all();
    }
}

int halt_status(void)
{
    if (runner.halt_exit >= 0)
        return runner.halt_exit;
    if (runner.o->halt_pct && runner.o->halt_kind == HALT_FAIL && runner.total > 0)
        return pct_failed();
    return runner.failed > 101 ? 101 : (int)runner.failed;
}
