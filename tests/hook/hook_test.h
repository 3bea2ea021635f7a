/* Helpers shared by the tests of src/hook: coroutine results, servers the
 * tests start on loopback (our bench HTTP server, redis-server) and stop,
 * and free ports. */
#ifndef EVT_TESTS_HOOK_TEST_H
#define EVT_TESTS_HOOK_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

extern char **environ;

#define CO_RESULT(err) ((void *)(intptr_t)(err))

/* Join co (a deadline keeps a broken test from hanging) and return its
 * result as an int. */
static inline int join_int(evt_co_t *co)
{
    void *r = NULL;
    cr_assert_eq(evt_join(co, evt_now() + 20000, &r), 0, "join: %s",
                 strerror(errno));
    return (int)(intptr_t)r;
}

/* A port nobody listens on now (bound, read, released). */
static inline int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A server process and the read end of its stdout. */
struct server {
    pid_t pid;
    FILE *out;
    int port;
};

/* Start argv with its stdout on a pipe (stderr kept), or fail the test. */
static inline void server_spawn(struct server *s, char *const argv[])
{
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    int rc = posix_spawnp(&s->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    cr_assert_eq(rc, 0, "cannot start %s: %s", argv[0], strerror(rc));
    s->out = fdopen(p[0], "r");
    cr_assert_not_null(s->out);
}

/* Read the server's stdout until a line holding `mark`; fail at its end. */
static inline void server_wait_line(struct server *s, const char *mark,
                                    char *line, size_t cap)
{
    while (fgets(line, (int)cap, s->out))
        if (strstr(line, mark))
            return;
    cr_assert_fail("server exited before printing \"%s\"", mark);
}

static inline void server_stop(struct server *s)
{
    kill(s->pid, SIGTERM);
    int st;
    waitpid(s->pid, &st, 0);
    fclose(s->out);
}

/* bench_http_server answering after delay_ms, on a free loopback port. */
static inline void http_server_start(struct server *s, int delay_ms)
{
    char delay[16], line[128];
    snprintf(delay, sizeof delay, "%d", delay_ms);
    char *argv[] = {EVT_HTTP_SERVER, "--port", "0", "--delay-ms", delay,
                    "--host", "127.0.0.1", NULL};
    server_spawn(s, argv);
    server_wait_line(s, "port ", line, sizeof line);
    s->port = atoi(line + 5);
    cr_assert_gt(s->port, 0);
}

/* Wait until thread tid of this process sleeps in system call nr or nr2
 * (as /proc shows it), up to the deadline: 1 when it does, else 0. */
static inline int wait_in_syscall(pid_t tid, long nr, long nr2,
                                  int64_t deadline)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    while (evt_now() < deadline) {
        FILE *f = fopen(path, "r");
        long got = -1;
        if (f) {
            if (fscanf(f, "%ld", &got) != 1)
                got = -1;
            fclose(f);
        }
        if (got == nr || got == nr2)
            return 1;
        sched_yield();
    }
    return 0;
}

#endif
