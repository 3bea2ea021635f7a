/* Tests of the spool directories of a file split between workers: a new
 * run removes the directory of a dead run (its lock free) with every file
 * in it, and those of runs killed while they made theirs (empty, or only a
 * free lock.new), and leaves alone a live run's (lock held, even by another
 * process), one with files but no lock (an older eventor's) and a symlink; remove takes a
 * directory and its files; a file run on processes and on threads leaves
 * nothing in $TMPDIR; results far longer than usual grow a spool. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

#include "broker/broker.h"

#include "../common/workers.h"

static char tmp[64];

static void setup(void)
{
    strcpy(tmp, "/tmp/spooltestXXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
    setenv("TMPDIR", tmp, 1);
}

/* Entries of dir (not . and ..); each directory among them emptied and
 * removed when rm. */
static int entries(const char *dir, int rm)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (rm && lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            entries(p, 1);
            rmdir(p);
        } else if (rm) {
            unlink(p);
        }
    }
    if (d)
        closedir(d);
    return n;
}

static void teardown(void)
{
    entries(tmp, 1);
    rmdir(tmp);
    unsetenv("TMPDIR");
}

TestSuite(spooldir, .init = setup, .fini = teardown);

static int exists(const char *dir, const char *name)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

/* A directory as a run leaves it: a lock file, a spool. */
static void make_run_dir(const char *name, int with_lock)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    cr_assert_eq(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/%s/123", tmp, name);
    int fd = open(p, O_WRONLY | O_CREAT, 0600);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "spool", 5), 5);
    close(fd);
    if (with_lock) {
        snprintf(p, sizeof p, "%s/%s/lock", tmp, name);
        fd = open(p, O_WRONLY | O_CREAT, 0600);
        cr_assert(fd >= 0);
        close(fd);
    }
}

/* A run killed while it made its directory: empty, or holding lock.new. */
static void make_half_made_dir(const char *name, int with_lock_new)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    cr_assert_eq(mkdir(p, 0700), 0);
    if (with_lock_new) {
        snprintf(p, sizeof p, "%s/%s/lock.new", tmp, name);
        int fd = open(p, O_WRONLY | O_CREAT, 0600);
        cr_assert(fd >= 0);
        close(fd);
    }
}

Test(spooldir, sweeps_dead_runs_only)
{
    make_run_dir("eventor-dead01", 1);
    make_half_made_dir("eventor-empty1", 0);
    make_half_made_dir("eventor-half01", 1);
    make_run_dir("eventor-nolock", 0);
    make_run_dir("eventor-alive1", 1);
    char p[256], target[256];
    snprintf(target, sizeof target, "%s/eventor-dead01", tmp);
    snprintf(p, sizeof p, "%s/eventor-link01", tmp);
    /* a symlink to a directory with a free lock: never followed */
    make_run_dir("victim", 1);
    snprintf(target, sizeof target, "%s/victim", tmp);
    cr_assert_eq(symlink(target, p), 0);
    /* a live run: its lock held by another process */
    int ready[2], hold[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(hold), 0);
    pid_t child = fork();
    if (child == 0) {
        snprintf(p, sizeof p, "%s/eventor-alive1/lock", tmp);
        int fd = open(p, O_RDONLY);
        char c;
        close(hold[1]);
        if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], "x", 1) != 1)
            _exit(1);
        (void)!read(hold[0], &c, 1); /* until it is killed */
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1); /* the lock is held */

    char dir[64];
    int lock = evt__spool_dir_new(dir, sizeof dir);
    cr_assert(lock >= 0);
    cr_assert_eq(strncmp(dir, tmp, strlen(tmp)), 0);
    cr_assert(!exists(tmp, "eventor-dead01"), "a dead run's directory stays");
    cr_assert(!exists(tmp, "eventor-empty1"), "an empty directory stays");
    cr_assert(!exists(tmp, "eventor-half01"), "a free lock.new stays");
    cr_assert(exists(tmp, "eventor-nolock"));
    cr_assert(exists(tmp, "eventor-alive1/123"));
    cr_assert(exists(tmp, "eventor-link01"));
    cr_assert(exists(tmp, "victim/123"));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    close(ready[0]);
    close(hold[1]);

    /* its lock dropped with its process: the next run sweeps it */
    char dir2[64];
    int lock2 = evt__spool_dir_new(dir2, sizeof dir2);
    cr_assert(lock2 >= 0);
    cr_assert(!exists(tmp, "eventor-alive1"));
    cr_assert(exists(dir, "lock"), "a run holding its lock was swept");
    evt__spool_dir_remove(dir, lock);
    evt__spool_dir_remove(dir2, lock2);
    struct stat st;
    cr_assert_neq(stat(dir, &st), 0);
    cr_assert_neq(stat(dir2, &st), 0);
}

/* Runs that start together sweep each other's directories while those
 * are being made: each must still end with a directory of its own, locked,
 * that no other run takes from it. */
Test(spooldir, runs_starting_together_keep_their_directories)
{
    enum { RUNS = 6, ROUNDS = 300 };
    pid_t kids[RUNS];
    for (int k = 0; k < RUNS; k++) {
        kids[k] = fork();
        cr_assert(kids[k] >= 0);
        if (kids[k])
            continue;
        for (int i = 0; i < ROUNDS; i++) {
            char dir[64], p[128];
            int lock = evt__spool_dir_new(dir, sizeof dir);
            if (lock < 0)
                _exit(1);
            snprintf(p, sizeof p, "%s/%d", dir, i);
            int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
            if (fd < 0)
                _exit(2); /* another run took the directory */
            close(fd);
            if (!exists(dir, "lock"))
                _exit(3);
            evt__spool_dir_remove(dir, lock);
        }
        _exit(0);
    }
    for (int k = 0; k < RUNS; k++) {
        int st;
        cr_assert_eq(waitpid(kids[k], &st, 0), kids[k]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "run %d failed (status %#x)", k, st);
    }
    cr_assert_eq(entries(tmp, 0), 0, "directories left behind");
}

static int echo_fn(const evt_batch_task_t *t, void *out, size_t cap,
                   size_t *out_len, void *user)
{
    (void)user;
    *out_len = t->len < cap ? t->len : cap;
    memcpy(out, t->item, *out_len);
    return 0;
}

static void count_result(const evt_batch_task_t *t, int status,
                         const void *res, size_t len, void *user)
{
    (void)t;
    (void)res;
    (void)len;
    if (status == 0)
        ++*(int *)user;
}

Test(spooldir, file_runs_leave_nothing)
{
    char path[128];
    snprintf(path, sizeof path, "%s/lines.txt", tmp);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 20000; i++)
        fprintf(f, "%d\n", i);
    fclose(f);
    for (int shape = 0; shape < 2; shape++) {
        int ok = 0;
        evt_batch_opts_t o = {.coroutines = 4, .ordered = 1,
                              .on_result = count_result, .user = &ok};
        if (shape)
            o.threads = 2;
        else
            o.processes = 2;
        cr_assert_eq(evt_batch_run_file(&o, echo_fn, path, NULL), 0);
        cr_assert_eq(ok, 20000);
        /* only the input is left in TMPDIR */
        cr_assert_eq(entries(tmp, 0), 1, "shape %d left a spool behind", shape);
    }
}

/* A line "N" gives N bytes of 'x'. */
static int repeat_fn(const evt_batch_task_t *t, void *out, size_t cap,
                     size_t *out_len, void *user)
{
    (void)user;
    *out_len = (size_t)atol(t->item);
    if (*out_len <= cap)
        memset(out, 'x', *out_len);
    return 0;
}

/* Results whole and in order: counts of the good ones, or -1 on a bad. */
static void check_long(const evt_batch_task_t *t, int status,
                       const void *res, size_t len, void *user)
{
    int *good = user;
    size_t want = (size_t)atol(t->item), xs = 0;
    while (xs < len && ((const char *)res)[xs] == 'x')
        xs++;
    if (*good >= 0 && status == 0 && len == want && xs == len
        && t->index == (uint64_t)*good)
        ++*good;
    else
        *good = -1;
}

Test(spooldir, long_results_grow_the_spool)
{
    char path[128];
    snprintf(path, sizeof path, "%s/long.txt", tmp);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 300; i++) /* 10 MB of results from 1.3 KB of lines */
        fprintf(f, "%d\n", i % 3 ? i : 100000);
    fclose(f);
    for (int shape = 0; shape < 2; shape++) {
        int good = 0;
        evt_batch_opts_t o = {.coroutines = 4, .ordered = 1,
                              .max_result = 100000,
                              .on_result = check_long, .user = &good};
        if (shape)
            o.threads = 2;
        else
            o.processes = 2;
        cr_assert_eq(evt_batch_run_file(&o, repeat_fn, path, NULL), 0);
        cr_assert_eq(good, 300, "shape %d: results cut or lost", shape);
        cr_assert_eq(entries(tmp, 0), 1, "shape %d left a spool behind", shape);
    }
}
