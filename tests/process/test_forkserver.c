/* Tests of when the fork server starts (src/process/forkserver.c): by
 * itself, before eventor's first own thread, so that a name lookup (which
 * starts the offload pool's threads) does not make a later process pool
 * fail with EDEADLK; not inside a worker that looks a name up; and,
 * as documented, not when the user's own threads already run. Each case
 * runs in a fresh process (this binary run again), since the test runner
 * has threads of its own. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

extern char **environ;

static int threads_here(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* A task that looks a name up in the worker (connection refused is fine:
 * the lookup ran on the worker's offload pool), then says whether the
 * worker has children: it must not have started a fork server. Where the
 * kernel does not list children, it answers as if it had none. */
static ssize_t lookup_in_worker(const void *in, size_t in_len, void *out,
                                size_t cap)
{
    (void)in, (void)in_len, (void)out, (void)cap;
    int fd = evt_tcp_connect("localhost", 9, evt_now() + 10000);
    if (fd >= 0)
        evt_close(fd);
    char path[64], buf[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    if (buf[0]) {
        errno = EEXIST;
        return -1;
    }
    return 0;
}

/* Connect to localhost (the lookup starts eventor's threads), then make a
 * process pool and run a task in it. */
static int lookup_then_pool(void)
{
    int lfd = evt_tcp_listen("127.0.0.1", 0, 16);
    if (lfd < 0)
        return 10;
    int fd = evt_tcp_connect("localhost", evt_local_port(lfd), evt_now() + 10000);
    if (fd < 0)
        return 11;
    if (threads_here() < 2)
        return 12; /* the lookup ran no thread: the trap was not set */
    evt_procpool_t *p = evt_procpool_new(2, NULL);
    if (!p)
        return errno == EDEADLK ? 13 : 14;
    char out[8];
    if (evt_procpool_apply(p, lookup_in_worker, "", 0, out, sizeof out,
                           evt_now() + 20000) != 0)
        return errno == EEXIST ? 15 : 16;
    evt_procpool_free(p);
    evt_close(fd);
    evt_close(lfd);
    return 0;
}

/* The server started early by hand: a worker's lookup must not start one
 * of its own in the worker either. */
static int started_by_hand(void)
{
    if (evt_forkserver_start() < 0)
        return 10;
    evt_procpool_t *p = evt_procpool_new(1, NULL);
    if (!p)
        return 11;
    char out[8];
    ssize_t n = evt_procpool_apply(p, lookup_in_worker, "", 0, out,
                                   sizeof out, evt_now() + 20000);
    evt_procpool_free(p);
    return n == 0 ? 0 : errno == EEXIST ? 12 : 13;
}

static void *idle_thread(void *arg)
{
    (void)read(*(int *)arg, &(char){0}, 1);
    return NULL;
}

/* The user's thread runs before eventor's first: too late for the server. */
static int user_thread_first(void)
{
    int fds[2];
    pthread_t t;
    if (pipe(fds) < 0 || pthread_create(&t, NULL, idle_thread, &fds[0]))
        return 10;
    evt_procpool_t *p = evt_procpool_new(1, NULL);
    int rc = !p && errno == EDEADLK ? 0 : 11;
    if (p)
        evt_procpool_free(p);
    (void)!write(fds[1], "x", 1);
    pthread_join(t, NULL);
    return rc;
}

/* In the process run again: the case named in the environment, then exit
 * with its result, before the test runner starts. */
__attribute__((constructor)) static void run_case(void)
{
    const char *c = getenv("EVT_TEST_FORKSERVER_CASE");
    if (!c)
        return;
    _exit(!strcmp(c, "lookup") ? lookup_then_pool()
          : !strcmp(c, "user")  ? user_thread_first()
          : !strcmp(c, "hand")  ? started_by_hand()
                                : 2);
}

static int run_fresh(const char *name)
{
    char var[64];
    snprintf(var, sizeof var, "EVT_TEST_FORKSERVER_CASE=%s", name);
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    cr_assert_not_null(env);
    memcpy(env, environ, n * sizeof *env);
    env[n] = var;
    char *argv[] = {"test_forkserver", NULL};
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, env), 0);
    free(env);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "case %s: status %d", name, status);
    return WEXITSTATUS(status);
}

Test(forkserver, starts_before_eventors_first_thread)
{
    cr_assert_eq(run_fresh("lookup"), 0);
}

Test(forkserver, a_workers_lookup_starts_no_server_there)
{
    cr_assert_eq(run_fresh("hand"), 0);
}

Test(forkserver, too_late_once_user_threads_run)
{
#if defined(EVT_TSAN)
    /* TSan makes a fork from a threaded process safe: no EDEADLK there. */
    cr_skip_test();
#endif
    cr_assert_eq(run_fresh("user"), 0);
}
