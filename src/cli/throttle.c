/* GNU parallel's --limit "command args" and --memsuspend SIZE. A job starts
 * only once the limit command exits 0 (run before each start as a shell
 * child watched through its pidfd, like the jobs, so the loop never waits
 * on it); a watch coroutine, on GNU parallel's cadence, kills the youngest
 * job when the command exits 2 and stops (SIGSTOP) the young jobs while
 * memory is short, resuming them (SIGCONT) as it comes back. */
#include "cli.h"
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <eventor.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

enum { LIM_CMD, LIM_IO, LIM_LOAD, LIM_MEM }; /* GNU's three built-ins */
static int kind;
static double lim_n;         /* a built-in's n */
static char **limit_env;     /* eventor's, with SSHLOGIN=: as GNU's */
static evt_sem_t *one;       /* one limit command at a time */
static double gate_ms = 0.2; /* the start gate's back-off, GNU's */
static uint64_t gate_ends;   /* jobs ended when the gate last looked */
static struct job **young;   /* the running jobs, oldest first */

/* n of a built-in: a size (K M G T P suffixes) or a plain number. */
static int builtin_n(const char *s, double *n)
{
    long v;
    char *end;
    if (optval_size(s, LONG_MAX, &v) == 0) {
        *n = (double)v;
        return 0;
    }
    *n = strtod(s, &end);
    return end != s && !*end && *n >= 0 ? 0 : -1;
}

int throttle_limit(struct opts *o, const char *val)
{
    const char *w = val + strspn(val, " \t");
    size_t len = strcspn(w, " \t");
    const char *arg = w + len + strspn(w + len, " \t");
    char n[64];
    snprintf(n, sizeof n, "%.*s", (int)strcspn(arg, " \t"), arg);
    kind = LIM_CMD;
    if (builtin_n(n, &lim_n) == 0) /* else a command of that name */
        kind = len == 2 && !strncmp(w, "io", 2)     ? LIM_IO
               : len == 4 && !strncmp(w, "load", 4) ? LIM_LOAD
               : len == 3 && !strncmp(w, "mem", 3)  ? LIM_MEM
                                                    : LIM_CMD;
    o->limit = *w ? val : NULL; /* "": none, as GNU's false value */
    return 0;
}

int throttle_init(const struct opts *o)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    young = calloc((size_t)o->jobs, sizeof *young);
    limit_env = calloc(n + 2, sizeof *limit_env);
    one = evt_sem_new(1);
    if (!young || !limit_env || !one)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "SSHLOGIN=", 9))
            limit_env[k++] = environ[i];
    limit_env[k] = "SSHLOGIN=:";
    return 0;
}

/* The busiest disk's %util (iostat -x's, what GNU's "io" reads) over the
 * last second or more; -1 until a second has been measured (GNU's is over
 * its limit until its first iostat is done). */
static double io_util(void)
{
    enum { DISKS = 128 };
    static struct disk { char name[32]; unsigned long long ticks; } was[DISKS];
    static int nwas;
    static int64_t t0;
    static double util = -1;
    int64_t now = evt_now();
    if (t0 && now - t0 < 1000)
        return util;
    FILE *f = fopen("/proc/diskstats", "re");
    if (!f)
        return util;
    struct disk d;
    char line[512];
    double most = 0;
    int n = 0;
    while (n < DISKS && fgets(line, sizeof line, f))
        if (sscanf(line, "%*u %*u %31s %*u %*u %*u %*u %*u %*u %*u %*u %*u %llu",
                   d.name, &d.ticks) == 2) {
            for (int i = 0; t0 && i < nwas; i++)
                if (!strcmp(was[i].name, d.name) && d.ticks >= was[i].ticks)
                    most = fmax(most, 100.0 * (double)(d.ticks - was[i].ticks) /
                                          (double)(now - t0));
            was[n++] = d;
        }
    fclose(f);
    if (t0)
        util = fmin(most, 100);
    nwas = n;
    t0 = now;
    return util;
}

/* The limit command's exit status (GNU's $? >> 8: 0 after a signal); a
 * command that cannot start says over the limit. */
static int run_limit(const struct opts *o)
{
    if (kind == LIM_MEM) {
        long free = gate_memfree();
        return free < lim_n / 2 ? 2 : free < lim_n;
    }
    if (kind == LIM_LOAD)
        return gate_load() > lim_n;
    if (kind == LIM_IO) {
        double util = io_util();
        return util < 0 || lim_n < util;
    }
    if (evt_sem_acquire(one, -1) < 0)
        return 1;
    struct proc p = {.envp = limit_env};
    int ev = 1, sig = 0;
    fflush(stdout);
    if (proc_start(&p, NULL, o->limit, o->shell, 1, 2) == 0) {
        if (proc_wait(&p, -1) < 0) /* cancelled: the run stops */
            kill(-p.pid, SIGKILL);
        proc_reap(&p, &ev, &sig);
    }
    evt_sem_release(one);
    return ev;
}

int64_t throttle_gate(const struct opts *o)
{
    uint64_t ends = runner.done + runner.failed;
    if (ends != gate_ends) /* GNU's sleep halves when a job ends */
        gate_ms = gate_ms / 2 + 0.001;
    gate_ends = ends;
    if (run_limit(o) == 0) {
        gate_ms = gate_ms / 2 + 0.001;
        return 0;
    }
    int64_t ms = (int64_t)ceil(gate_ms);
    if (gate_ms < 1000) /* 1.1 times longer each time, to 1 s */
        gate_ms *= 1.1;
    return ms;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = (*(struct job *const *)a)->seq, y = (*(struct job *const *)b)->seq;
    return x < y ? -1 : x > y;
}

/* The running jobs not being killed, oldest first, into young: how many. */
static long running_jobs(void)
{
    long n = 0;
    for (long s = 0; s < runner.o->jobs; s++)
        if (runner.running[s] && !runner.running[s]->dying)
            young[n++] = runner.running[s];
    qsort(young, (size_t)n, sizeof *young, by_seq);
    return n;
}

/* GNU's kill_sleep_seq for one job: each signal of --termseq, then up to
 * its time for the job to end. */
static void terminate(struct job *j)
{
    int n;
    const struct termstep *seq = spawn_termseq(&n);
    long s = j->slot - 1;
    uint64_t id = j->seq;
    int pid = j->proc.pid;
    j->dying = j->limit_killed = 1;
    for (int i = 0; i < n; i++) {
        runner_signal(j, seq[i].sig);
        int64_t dl = evt_now() + seq[i].ms;
        while (runner.running[s] == j && j->seq == id && j->proc.pid == pid) {
            evt_event_clear(runner.ended);
            if (evt_event_wait(runner.ended, dl) < 0)
                break;
        }
        if (runner.running[s] != j || j->seq != id || j->proc.pid != pid)
            return;
    }
}

/* --limit's 2: the youngest job killed (GNU's kill_youngest_if_over_limit;
 * like GNU's, it is not started again unless --retries says so). */
static void kill_youngest(const struct opts *o)
{
    if (!running_jobs() || run_limit(o) != 2)
        return;
    long n = running_jobs(); /* the command ran: some may have ended */
    if (n && !runner.killing)
        terminate(young[n - 1]);
}

static void suspend(struct job *j, int stop)
{
    if (j->suspended == stop)
        return;
    int sig = stop ? SIGSTOP : SIGCONT;
    if (kill(-j->proc.pid, sig) < 0 && errno == ESRCH) /* --tty: no group */
        kill(j->proc.pid, sig);
    j->suspended = stop;
}

/* --memsuspend SIZE, GNU's suspend_young_if_not_enough_mem: below 2*SIZE
 * free, only the oldest 1/(2 - free/SIZE) jobs run (one below SIZE), the
 * others stopped; above, one stopped job a look is resumed. */
static void suspend_young(const struct opts *o)
{
    long n = running_jobs(), free = gate_memfree();
    double lim = (double)o->memsuspend;
    if (!n || free < 0)
        return;
    if (free < 2 * lim) {
        double r = 1 / (2 - (double)free / lim);
        long run = r > (double)n ? n - 1 : (long)r;
        for (long i = 0; i < n; i++)
            suspend(young[i], i > run);
        return;
    }
    for (long i = 0; i < n; i++)
        if (young[i]->suspended) {
            suspend(young[i], 0);
            return;
        }
}

void *throttle_watch(void *arg)
{
    const struct opts *o = runner.o;
    double ms = 0.2; /* GNU's reap_usleep: halved when a job ends, else
                        1.1 times longer, to 1 s; looks when none ended */
    (void)arg;
    for (;;) {
        evt_event_clear(runner.ended);
        if (evt_event_wait(runner.ended, evt_now() + (int64_t)ceil(ms)) == 0) {
            ms = ms / 2 + 0.001;
            continue;
        }
        if (errno != ETIMEDOUT)
            return NULL;
        if (o->memsuspend)
            suspend_young(o);
        if (o->limit)
            kill_youngest(o);
        if (ms < 1000)
            ms *= 1.1;
    }
}
