/* Stopping the jobs: SIGINT, SIGTERM and SIGHUP (the first starts no more
 * jobs, the second kills the running ones), --halt now, --memfree's
 * youngest job, each signal after the first of --termseq. */
#include "cli.h"
#include "runner.h"

#include <errno.h>
#include <eventor.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

void runner_signal(struct job *j, int sig)
{
    if (kill(-j->proc.pid, sig) < 0 && errno == ESRCH) /* --tty: no group */
        kill(j->proc.pid, sig);
    if (j->suspended) {
        j->suspended = 0;
        if (kill(-j->proc.pid, SIGCONT) < 0 && errno == ESRCH)
            kill(j->proc.pid, SIGCONT);
    }
}

/* The rest of --termseq (GNU parallel's default: TERM after 200 ms, TERM
 * after 100 ms, KILL after 50 ms) for every job still running after the
 * first signal. */
static void *escalate(void *arg)
{
    int n;
    const struct termstep *seq = spawn_termseq(&n);
    (void)arg;
    for (int i = 0; i + 1 < n; i++) {
        evt_sleep(evt_now() + seq[i].ms);
        for (long s = 0; s < runner.o->jobs; s++)
            if (runner.running[s])
                runner_signal(runner.running[s], seq[i + 1].sig);
    }
    return NULL;
}

void runner_kill_all(void)
{
    int n;
    const struct termstep *seq = spawn_termseq(&n);
    runner.stop = 1;
    if (runner.killing)
        return;
    runner.killing = 1;
    for (long s = 0; s < runner.o->jobs; s++)
        if (runner.running[s]) {
            runner.running[s]->killed = runner.running[s]->dying = 1;
            runner_signal(runner.running[s], seq[0].sig);
        }
    evt_co_t *co = evt_spawn(escalate, NULL);
    if (co)
        evt_detach(co);
}

/* --memfree: with less than half of it free, the youngest job is sent
 * the next signal of --termseq each second (GNU parallel's). */
void *runner_watch_memory(void *arg)
{
    int n, step = 0;
    const struct termstep *seq = spawn_termseq(&n);
    uint64_t victim = 0;
    (void)arg;
    while (evt_sleep(evt_now() + 1000) == 0) {
        long avail = gate_memfree();
        if (avail < 0 || avail >= runner.o->memfree / 2)
            continue;
        struct job *young = NULL;
        for (long s = 0; s < runner.o->jobs; s++)
            if (runner.running[s] && (!young || runner.running[s]->seq > young->seq))
                young = runner.running[s];
        if (!young)
            continue;
        step = young->seq == victim && step + 1 < n ? step + 1 : 0;
        victim = young->seq;
        young->dying = 1;
        runner_signal(young, seq[step].sig);
    }
    return NULL;
}

/* SIGINT, SIGTERM, SIGHUP: the first stops new jobs, the second kills. */
void *runner_watch_signals(void *arg)
{
    int fd = *(int *)arg;
    struct signalfd_siginfo si;
    for (;;) {
        if (evt_read(fd, &si, sizeof si, -1) != (ssize_t)sizeof si)
            return NULL;
        const char *name = sigabbrev_np((int)si.ssi_signo);
        runner.interrupted |= si.ssi_signo != SIGHUP;
        if (++runner.signals == 1) {
            runner.stop = 1;
            if (runner.producer)
                evt_cancel(runner.producer); /* it may wait on input or a slot */
            fprintf(stderr, "eventor: SIG%s received. No new jobs will be "
                            "started.\n", name);
            fprintf(stderr, "eventor: Waiting for these %ld jobs to finish. "
                            "Send SIG%s again to stop now.\n",
                    running_count(), name);
            for (long s = 0; s < runner.o->jobs; s++)
                if (runner.running[s])
                    fprintf(stderr, "eventor: %s\n", runner.running[s]->cmd);
        } else {
            fprintf(stderr, "eventor: SIG%s received. Killing running jobs.\n",
                    name);
            runner_kill_all();
        }
    }
}
