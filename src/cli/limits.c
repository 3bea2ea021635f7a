/* The job slots planned against the process's limits before anything
 * starts, as GNU parallel does: raise the soft RLIMIT_NOFILE to the hard
 * one, then cap -j to what the fds (3 a running job: its two spool files
 * and its pidfd; 5 when all run at once, fed by one, as --tee and --shard)
 * and RLIMIT_NPROC allow, with a warning. What the plan
 * misses (another process's use, a shell job's own children) run.c meets
 * by waiting for a slot to end and starting again. --plugin's -P/-T are
 * capped the same way; below CLI_FDS_MIN fds eventor does not start. */
#include "cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define FDS_A_JOB 3

static long budget = 1024; /* fds the jobs may use */

long limits_fd_budget(void)
{
    return budget;
}

static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 16;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n; /* counts d's own fd: one of margin */
}

/* Tasks (threads count against RLIMIT_NPROC) of real user uid. */
static long user_tasks(uid_t uid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    long tasks = 0;
    char path[64], buf[2048];
    for (struct dirent *e; (e = readdir(d));) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        snprintf(path, sizeof path, "/proc/%.20s/status", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        const char *u = strstr(buf, "\nUid:"), *t = strstr(buf, "\nThreads:");
        if (u && t && strtoul(u + 5, NULL, 10) == uid)
            tasks += strtol(t + 9, NULL, 10);
    }
    closedir(d);
    return tasks;
}

/* Slots RLIMIT_NPROC leaves for jobs (one process each), or -1: no bound. */
static long proc_slots(long jobs)
{
    struct rlimit rl;
    if (geteuid() == 0 || getrlimit(RLIMIT_NPROC, &rl) < 0 ||
        rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)jobs + 65536)
        return -1; /* root is not held to it; a far limit needs no count */
    long used = user_tasks(getuid());
    if (used < 0)
        return -1;
    /* our own threads to come, and two to spare, as GNU parallel */
    return (long)rl.rlim_cur - used - (CLI_SPAWNERS_MAX + CLI_LIB_THREADS + 2);
}

static void warn_of(long n, const char *what, const char *units,
                    const char *flag)
{
    fprintf(stderr,
            "eventor: Warning: Only enough %s to run %ld %s in parallel.\n"
            "eventor: Warning: Try increasing 'ulimit -%s' (try: ulimit -%s "
            "`ulimit -H%s`)\n",
            what, n, units, flag, flag, flag);
}

static void warn(long n, const char *what, const char *flag)
{
    warn_of(n, what, "jobs", flag);
}

/* A cap that -j 0 met: said only once there are more jobs than it. */
static const char *pending_what, *pending_flag;
static long pending_jobs;

void limits_more_jobs(void)
{
    if (pending_what)
        warn(pending_jobs, pending_what, pending_flag);
    pending_what = NULL;
}

/* GNU parallel warns of a cap on an explicit -j N at once, and on -j 0
 * only when the input holds more jobs than the cap. */
static void capped(int asked, long jobs, const char *what, const char *flag)
{
    if (asked) {
        warn(jobs, what, flag);
    } else {
        pending_what = what;
        pending_flag = flag;
        pending_jobs = jobs;
    }
}

int limits_plan(struct opts *o)
{
    struct rlimit rl;
    long fds = 1 << 20;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur < (rlim_t)fds)
            fds = (long)rl.rlim_cur;
    }
    /* Besides the jobs: what is open now, a loop (epoll, eventfd) for the
     * main thread, each spawner thread and each IO thread, the signalfd,
     * /dev/null, the supervisor, the joblog, input files, and a margin. */
    long reserve = open_fds() + 2 * (1 + CLI_SPAWNERS_MAX + CLI_LIB_THREADS) +
                   (long)o->nsrc + 16;
    budget = fds - reserve;
    long jobs = o->jobs;
    int asked = jobs < CLI_JOBS_MAX; /* not -j 0, nor past the cap */
    /* all at once, fed by one (--tee, --shard): + its stdin pipe, and a
     * margin for the pipes of those being started */
    long per = FDS_A_JOB + 2 * (o->pipe_tee != 0);
    if (budget / per < jobs) {
        jobs = budget / per > 1 ? budget / per : 1;
        capped(asked, jobs, "file handles", "n");
    }
    long procs = proc_slots(jobs);
    if (procs >= 0 && procs < jobs) {
        jobs = procs > 1 ? procs : 1;
        capped(asked, jobs, "available processes", "u");
    }
    if (budget < per * jobs)
        budget = per * jobs; /* one slot at least, come what may */
    o->jobs = jobs;
    return 0;
}

int limits_floor(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= CLI_FDS_MIN)
        return 0;
    cli_error("Error: only %ld file handles (ulimit -n); eventor needs at "
              "least %d (try: ulimit -n `ulimit -Hn`)",
              (long)rl.rlim_cur, CLI_FDS_MIN);
    return -1;
}

/* What one worker of --plugin -P/-T costs in fds, besides eventor's own
 * (measured: 2 a thread, its loop; 3 a process in the parent, 1 in the
 * fork server), with room for a chunk's file and spool being opened. */
#define FDS_A_WORKER 4
#define FDS_PLUGIN_OWN 24

size_t limits_workers(size_t asked, const char *units)
{
    struct rlimit rl;
    long n = (long)asked;
    if (asked && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
        rl.rlim_cur != RLIM_INFINITY) {
        long fit = ((long)rl.rlim_cur - FDS_PLUGIN_OWN) / FDS_A_WORKER;
        if (fit < n) {
            n = fit > 1 ? fit : 1;
            warn_of(n, "file handles", units, "n");
        }
    }
    long procs = asked ? proc_slots(n) : -1;
    if (procs >= 0 && procs < n) {
        n = procs > 1 ? procs : 1;
        warn_of(n, "available processes", units, "u");
    }
    return (size_t)n;
}
