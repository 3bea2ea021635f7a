/* A redis-server of a test's own: a free loopback port, AOF on in a
 * directory of its own, started and waited for (PING, with a deadline),
 * restarted on the same port and files, and shut down. Plain hiredis. */
#ifndef EVT_TEST_REDIS_SERVER_H
#define EVT_TEST_REDIS_SERVER_H

#include <eventor.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct srv {
    int port;
    pid_t pid;
    char dir[64];
    char url[96];
} srv_t;

static inline int srv_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static inline redisContext *srv_conn(const srv_t *s)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Start (or start again) the server and wait for its PING; 0 or -1. */
static inline int srv_start(srv_t *s)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", 1);
        dup2(null, 1);
        execlp(EVT_REDIS_SERVER, EVT_REDIS_SERVER, "--port", port,
               "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
               "--dir", s->dir, (char *)NULL);
        _exit(127);
    }
    int64_t deadline = evt_now() + 10000;
    while (evt_now() < deadline) {
        redisContext *c = srv_conn(s);
        redisReply *r = c ? redisCommand(c, "PING") : NULL;
        int ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (c)
            redisFree(c);
        if (ok)
            return 0;
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
            return -1;
        nanosleep(&(struct timespec){0, 10 * 1000000}, NULL); /* poll */
    }
    return -1;
}

static inline int srv_new(srv_t *s, const char *name)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/evt-redis-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    s->port = srv_free_port();
    snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d/%s", s->port,
             name);
    return s->port > 0 ? srv_start(s) : -1;
}

/* SHUTDOWN (the AOF is written) and wait for the server's exit. */
static inline void srv_stop(srv_t *s)
{
    redisContext *c = srv_conn(s);
    if (c) {
        redisReply *r = redisCommand(c, "SHUTDOWN");
        if (r)
            freeReplyObject(r);
        redisFree(c);
    } else {
        kill(s->pid, SIGKILL);
    }
    waitpid(s->pid, NULL, 0);
}

static inline void srv_free(srv_t *s)
{
    srv_stop(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

/* One integer reply of a command; -1 on failure. */
static inline long long srv_int(const srv_t *s, const char *cmd)
{
    redisContext *c = srv_conn(s);
    redisReply *r = c ? redisCommand(c, cmd) : NULL;
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return v;
}

#endif
