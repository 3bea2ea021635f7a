/* --onall and --nonall, as GNU parallel runs them: eventor again for each
 * login (the same arguments; SSH_ONALL_ENV names the login, which runs the
 * jobs one at a time), -j logins at once (default all), each child's
 * output written whole when it ends, in the logins' sorted order with -k.
 * The exit status is the number of logins whose run failed. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct child {
    int pid;
    int out, err; /* temp files of its stdout and stderr */
    int done, status;
    int log;      /* --joblog: its own joblog (logpath), or -1 */
    char logpath[4096];
};

static const char *const *sort_names;

static int by_name(const void *a, const void *b)
{
    return strcmp(sort_names[*(const int *)a], sort_names[*(const int *)b]);
}

/* Standard input copied to an unlinked temp file, when a child reads it
 * (no source, or `:::: -`): -1 when none is needed or on error. */
static int stdin_copy(const struct opts *o)
{
    int need = !o->nsrc;
    for (size_t i = 0; i < o->nsrc; i++)
        need |= o->src[i].is_file && !strcmp(o->src[i].path, "-");
    if (!need)
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/eventor-onall-XXXXXX", o->tmpdir);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -1;
    unlink(path);
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n)
            break;
    return fd;
}

static int temp_fd(const struct opts *o)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/eventor-onall-XXXXXX", o->tmpdir);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* Start eventor again for login idx, its stdin from in (or /dev/null). */
static int start_child(struct child *c, char **argv, int idx, int in,
                       const struct opts *o)
{
    size_t n = 0;
    c->log = -1;
    while (environ[n])
        n++;
    char **env = malloc((n + 3) * sizeof *env), var[64], logvar[4200];
    if (!env)
        return -1;
    memcpy(env, environ, n * sizeof *env);
    snprintf(var, sizeof var, "%s=%zu", SSH_ONALL_ENV, SSH.login[idx].at);
    env[n] = var;
    env[n + 1] = NULL;
    if (o->joblog) { /* GNU: a joblog each, appended when all are done */
        snprintf(c->logpath, sizeof c->logpath, "%s/eventor-onall-XXXXXX",
                 o->tmpdir);
        c->log = mkostemp(c->logpath, O_CLOEXEC);
        snprintf(logvar, sizeof logvar, "%s=%s", SSH_ONALL_JOBLOG, c->logpath);
        env[n + 1] = logvar;
        env[n + 2] = NULL;
    }
    c->out = temp_fd(o);
    c->err = temp_fd(o);
    char inpath[64];
    snprintf(inpath, sizeof inpath, "/proc/self/fd/%d", in); /* own offset */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in >= 0 ? inpath : "/dev/null",
                                     O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, c->out, 1);
    posix_spawn_file_actions_adddup2(&fa, c->err, 2);
    pid_t pid = -1;
    int rc = c->out < 0 || c->err < 0 ? errno
             : posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    c->pid = pid;
    errno = rc;
    return rc ? -1 : 0;
}

/* Write the outputs that may go now: with -k only in order. */
static void flush(struct child *c, size_t n, size_t *next, int keep)
{
    for (size_t i = keep ? *next : 0; i < n; i++) {
        if (!c[i].done) {
            if (keep)
                break;
            continue;
        }
        if (c[i].done == 1) {
            output_copy_file(c[i].out, 1);
            output_copy_file(c[i].err, 2);
            close(c[i].out);
            close(c[i].err);
            c[i].done = 2;
        }
        if (keep)
            *next = i + 1;
    }
}

int onall_main(struct opts *o, int argc, char **argv)
{
    (void)argc;
    size_t n = SSH.nlogin;
    int *order = malloc(n * sizeof *order);
    const char **names = malloc(n * sizeof *names);
    struct child *c = calloc(n, sizeof *c);
    if (!order || !names || !c) {
        cli_error("out of memory");
        free(order), free(names), free(c);
        return CLI_EXIT_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = (int)i;
        names[i] = SSH.login[i].str;
    }
    sort_names = names;
    qsort(order, n, sizeof *order, by_name); /* GNU's sort keys %host */
    if (joblog_open(o) < 0) {
        free(order), free(names), free(c);
        return CLI_EXIT_ERROR;
    }
    basefile_send(); /* here, not in each login's eventor */
    int in = stdin_copy(o), failed = 0;
    long at_once = o->jobs_given && o->jobs < (long)n ? o->jobs : (long)n;
    size_t started = 0, next = 0, running = 0;
    while (started < n || running) {
        while (started < n && (long)running < at_once) {
            if (start_child(&c[started], argv, order[started], in, o) < 0) {
                cli_error("cannot start eventor for %s: %s",
                          names[order[started]], strerror(errno));
                c[started].done = 2;
                failed++;
            } else {
                running++;
            }
            started++;
        }
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        for (size_t i = 0; i < started; i++)
            if (c[i].pid == pid && !c[i].done) {
                c[i].done = 1;
                failed += !WIFEXITED(st) || WEXITSTATUS(st);
                running--;
            }
        flush(c, started, &next, o->keep_order);
    }
    if (in >= 0)
        close(in);
    for (size_t i = 0; i < started; i++) /* in the logins' sorted order */
        if (c[i].log >= 0) {
            failed += joblog_append_file(c[i].log) < 0;
            close(c[i].log);
            unlink(c[i].logpath);
        }
    free(order), free(names), free(c);
    joblog_close();
    return failed > 101 ? 101 : failed;
}
