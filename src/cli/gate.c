/* Whether another job may start now, besides a free -j slot: -j PROCFILE
 * (the job count read from a file, again when it changes, at most once a
 * second, as GNU parallel), --load (the processes running or waiting for
 * the disk, this instant, as GNU counts them), --limit's command
 * (throttle.c) and --memfree (GNU's free memory: MemFree + Buffers +
 * Cached + SwapCached; --memsuspend's SIZE added to it, as GNU's). */
#include "cli.h"
#include "spell.h"

#include <eventor.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static long file_jobs = -1;   /* -j PROCFILE: the count it said */
static struct timespec file_mtime;
static int64_t file_checked;  /* evt_now() of the last look */

/* The count the file holds, as -j reads it (ceil'd, at least 1): 0, or -1
 * when it cannot be read or parsed. */
static int read_jobs(const char *path, long *jobs)
{
    char buf[64];
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    while (n && strchr(" \t\r\n", buf[n - 1])) /* Perl's $ before a \n */
        buf[--n] = 0;
    return optval_jobs(buf, jobs);
}

int gate_procfile(struct opts *o, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return -1; /* not a file: a bad -j value */
    if (read_jobs(path, &file_jobs) < 0) {
        cli_error("-j %s: the file holds no job count (N, +N, -N, N%%)",
                  path);
        return -2;
    }
    file_mtime = st.st_mtim;
    file_checked = evt_now();
    o->procfile = path;
    o->jobs = CLI_JOBS_MAX; /* the slots' bound: limits_plan caps it */
    return 0;
}

/* Re-read the file when it changed (at most once a second). */
static long procfile_jobs(const struct opts *o)
{
    int64_t now = evt_now();
    struct stat st;
    if (now - file_checked >= 1000 && stat(o->procfile, &st) == 0) {
        file_checked = now;
        if (st.st_mtim.tv_sec != file_mtime.tv_sec ||
            st.st_mtim.tv_nsec != file_mtime.tv_nsec) {
            long v;
            file_mtime = st.st_mtim;
            if (read_jobs(o->procfile, &v) == 0)
                file_jobs = v;
        }
    }
    return file_jobs;
}

/* /proc/stat's procs_running + procs_blocked, less this reader; -1. */
double gate_load(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return -1;
    char line[256];
    long run = -1, blocked = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "procs_running ", 14))
            run = atol(line + 14);
        else if (!strncmp(line, "procs_blocked ", 14))
            blocked = atol(line + 14);
    }
    fclose(f);
    if (run < 0 || blocked < 0)
        return -1;
    return (double)(run - 1 + blocked);
}

long gate_memfree(void)
{
    /* the tests' stand-in for memory they cannot take from the system */
    const char *path = getenv("EVENTOR_TEST_MEMINFO");
    FILE *f = fopen(path && *path ? path : "/proc/meminfo", "re");
    if (!f)
        return -1;
    char line[256];
    long kb = 0, v;
    char name[64];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%63[^:]: %ld", name, &v) == 2 &&
            (!strcmp(name, "MemFree") || !strcmp(name, "Buffers") ||
             !strcmp(name, "Cached") || !strcmp(name, "SwapCached")))
            kb += v;
    fclose(f);
    return kb * 1024;
}

int64_t gate_wait_ms(const struct opts *o, long running)
{
    if (o->procfile && running >= procfile_jobs(o))
        return 1000 - (evt_now() - file_checked);
    if (o->load_max) {
        double load = gate_load();
        if (load < 0 || load >= o->load_max) /* unknown: too high, as GNU */
            return 1000;
    }
    if (o->noswap && spell_swapping())
        return 1000;
    int64_t ms = o->limit ? throttle_gate(o) : 0; /* GNU's order */
    if (ms > 0)
        return ms;
    if ((o->memfree || o->memsuspend) && /* GNU's: the two summed */
        gate_memfree() < o->memfree + o->memsuspend)
        return 1000;
    return 0;
}
