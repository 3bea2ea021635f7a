/* A connection to Redis on the calling thread's reactor: hiredis's
 * non-blocking context does the protocol, and the coroutine that sends a
 * command parks in evt_wait_fd until its reply comes, bounded by our own
 * deadline (hiredis 0.14 has no timeouts of its own for non-blocking IO).
 * Several commands may be in flight (pipelining). */
#define _GNU_SOURCE
#include "redis.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "[USER:]PASS@" of the URL into r (a ":PASS" alone is a password, as
 * redis-cli's -u takes it); 0 or -1. */
static int userinfo(evt__redis_t *r, const char *p, size_t n)
{
    const char *colon = memchr(p, ':', n);
    if (colon && colon > p)
        r->user = strndup(p, (size_t)(colon - p));
    const char *pw = colon ? colon + 1 : p;
    r->pass = strndup(pw, n - (size_t)(pw - p));
    return r->pass && (!colon || colon == p || r->user) ? 0 : -1;
}

evt__redis_t *evt__redis_open(const char *url, char **name)
{
    const char *p = url;
    if (name)
        *name = NULL;
    if (!url || strncmp(p, "redis://", 8) != 0) {
        errno = EINVAL;
        return NULL;
    }
    p += 8;
    const char *at = memrchr(p, '@', strcspn(p, "/"));
    const char *ui = p;
    if (at)
        p = at + 1;
    size_t hl = strcspn(p, ":/");
    int port = 6379;
    const char *q = p + hl;
    if (*q == ':') {
        char *end;
        long v = strtol(q + 1, &end, 10);
        if (end == q + 1 || v <= 0 || v > 65535 || (*end && *end != '/')) {
            errno = EINVAL;
            return NULL;
        }
        port = (int)v;
        q = end;
    }
    evt__redis_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->host = hl ? strndup(p, hl) : strdup("127.0.0.1");
    r->port = port;
    if (!r->host || (at && userinfo(r, ui, (size_t)(at - ui)) < 0))
        goto fail;
    if (name && *q == '/' && q[1]) {
        *name = strdup(q + 1);
        if (!*name)
            goto fail;
    }
    return r;
fail:
    free(r->host);
    free(r->user);
    free(r->pass);
    free(r);
    errno = ENOMEM;
    return NULL;
}

void evt__redis_drop(evt__redis_t *r)
{
    if (r->c) {
        if (r->c->fd >= 0)
            evt_fd_forget(r->c->fd);
        redisFree(r->c);
        r->c = NULL;
    }
    r->inflight = 0;
    r->authing = 0;
}

void evt__redis_close(evt__redis_t *r)
{
    if (!r)
        return;
    evt__redis_drop(r);
    free(r->host);
    free(r->user);
    free(r->pass);
    free(r);
}

/* A socket being connected takes the first write as its test: it fails
 * with the connect's error (ECONNREFUSED) or waits (EAGAIN) until done. */
static int ensure(evt__redis_t *r)
{
    if (r->c)
        return 0;
    r->c = redisConnectNonBlock(r->host, r->port);
    if (!r->c) {
        errno = ENOMEM;
        return -1;
    }
    if (r->c->err) {
        evt__redis_drop(r);
        errno = ECONNREFUSED;
        return -1;
    }
    if (r->pass) { /* its reply is taken by evt__redis_reply */
        const char *argv[] = {"AUTH", r->user ? r->user : r->pass, r->pass};
        size_t al[] = {4, strlen(argv[1]), strlen(r->pass)};
        if (redisAppendCommandArgv(r->c, r->user ? 3 : 2, argv, al) !=
            REDIS_OK) {
            evt__redis_drop(r);
            errno = ENOMEM;
            return -1;
        }
        r->authing = 1;
    }
    return 0;
}

int evt__redis_append(evt__redis_t *r, int argc, const char **argv,
                      const size_t *lens)
{
    if (ensure(r) < 0)
        return -1;
    if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK) {
        evt__redis_drop(r);
        errno = ENOMEM;
        return -1;
    }
    r->inflight++;
    return 0;
}

/* hiredis keeps the errno of its IO in c->err == REDIS_ERR_IO. */
static redisReply *fail(evt__redis_t *r, int err)
{
    if (r->c && r->c->err == REDIS_ERR_IO && errno)
        err = errno;
    else if (r->c && r->c->err == REDIS_ERR_EOF)
        err = ECONNRESET;
    evt__redis_drop(r);
    errno = err ? err : EPROTO;
    return NULL;
}

redisReply *evt__redis_reply(evt__redis_t *r, int64_t deadline)
{
    if (!r->c || r->inflight == 0)
        return fail(r, ENOTCONN);
    for (;;) {
        void *reply = NULL;
        if (redisGetReplyFromReader(r->c, &reply) != REDIS_OK)
            return fail(r, EPROTO);
        if (reply && r->authing) {
            r->authing = 0;
            redisReply *a = reply;
            int bad = a->type == REDIS_REPLY_ERROR ? evt__redis_failed(a) : 0;
            freeReplyObject(a);
            if (bad)
                return fail(r, errno == EPROTO ? EACCES : errno);
            continue;
        }
        if (reply) {
            r->inflight--;
            return reply;
        }
        int done = 0;
        errno = 0;
        if (redisBufferWrite(r->c, &done) != REDIS_OK)
            return fail(r, ECONNRESET);
        int ev = evt_wait_fd(r->c->fd, done ? EVT_IN : EVT_IN | EVT_OUT,
                             deadline);
        if (ev < 0)
            return fail(r, errno);
        errno = 0;
        if ((ev & EVT_IN) && redisBufferRead(r->c) != REDIS_OK)
            return fail(r, ECONNRESET);
    }
}

redisReply *evt__redis_command(evt__redis_t *r, int64_t deadline,
                               const char *fmt, ...)
{
    if (ensure(r) < 0)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAppendCommand(r->c, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK)
        return fail(r, ENOMEM);
    r->inflight++;
    /* Replies of commands appended before this one are not ours. */
    while (r->inflight > 1) {
        redisReply *old = evt__redis_reply(r, deadline);
        if (!old)
            return NULL;
        freeReplyObject(old);
    }
    return evt__redis_reply(r, deadline);
}

/* Errors of a server that is starting or busy: the command may be tried
 * again as if the connection had failed. */
static int transient(redisReply **rep)
{
    static const char *const words[] = {"LOADING", "BUSY ", "TRYAGAIN",
                                        "MASTERDOWN"};
    if (!*rep || (*rep)->type != REDIS_REPLY_ERROR)
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strncmp((*rep)->str, words[i], strlen(words[i])) == 0) {
            freeReplyObject(*rep);
            *rep = NULL;
            errno = EAGAIN;
            return 1;
        }
    return 0;
}

redisReply *evt__redis_retry(evt__redis_t *r, int64_t try_ms,
                             int64_t give_up, int argc, const char **argv,
                             const size_t *lens)
{
    int64_t backoff = 10;
    for (;;) {
        int64_t dl = evt_now() + try_ms;
        if (give_up >= 0 && dl > give_up)
            dl = give_up;
        redisReply *rep = NULL;
        if (evt__redis_append(r, argc, argv, lens) == 0) {
            while (r->inflight > 1 && (rep = evt__redis_reply(r, dl)))
                freeReplyObject(rep);
            rep = r->inflight ? evt__redis_reply(r, dl) : NULL;
        }
        if (rep && !transient(&rep))
            return rep;
        /* A refused AUTH does not pass with time. */
        if (errno == ECANCELED || errno == EACCES || evt_cancelled())
            return NULL;
        int err = errno;
        if (give_up >= 0 && evt_now() + backoff >= give_up) {
            errno = err == 0 ? ETIMEDOUT : err;
            return NULL;
        }
        if (evt_sleep(evt_now() + backoff) < 0)
            return NULL;
        backoff = backoff * 2 > 1000 ? 1000 : backoff * 2;
    }
}

/* The text of the last error reply on this thread (evt_redis_error). */
static _Thread_local char last_error[256];

const char *evt_redis_error(void)
{
    return last_error;
}

int evt__redis_failed(const redisReply *rep)
{
    int err = EPROTO;
    if (rep && rep->type == REDIS_REPLY_ERROR) {
        snprintf(last_error, sizeof last_error, "%.*s", (int)rep->len,
                 rep->str);
        if (!strncmp(rep->str, "NOAUTH", 6) ||
            !strncmp(rep->str, "WRONGPASS", 9) ||
            !strncmp(rep->str, "NOPERM", 6))
            err = EACCES;
        else if (!strncmp(rep->str, "OOM", 3))
            err = ENOMEM;
    } else {
        snprintf(last_error, sizeof last_error, "unexpected reply type %d",
                 rep ? rep->type : -1);
    }
    errno = err;
    return -1;
}

static int load(evt__redis_t *r, evt__redis_script_t *sc, int64_t try_ms,
                int64_t give_up)
{
    const char *argv[] = {"SCRIPT", "LOAD", sc->src};
    size_t al[] = {6, 4, strlen(sc->src)};
    redisReply *rep = evt__redis_retry(r, try_ms, give_up, 3, argv, al);
    if (!rep)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_STRING && rep->len < sizeof sc->sha)
        memcpy(sc->sha, rep->str, rep->len + 1);
    else
        rc = evt__redis_failed(rep);
    freeReplyObject(rep);
    return rc;
}

redisReply *evt__redis_eval(evt__redis_t *r, evt__redis_script_t *sc,
                            int64_t try_ms, int64_t give_up, int argc,
                            const char **argv, const size_t *lens)
{
    const char **av = malloc((size_t)(argc + 2) * sizeof *av);
    size_t *al = malloc((size_t)(argc + 2) * sizeof *al);
    redisReply *rep = NULL;
    if (!av || !al) {
        errno = ENOMEM;
        goto out;
    }
    memcpy(av + 2, argv, (size_t)argc * sizeof *av);
    memcpy(al + 2, lens, (size_t)argc * sizeof *al);
    av[0] = "EVALSHA", al[0] = 7;
    for (int tries = 0; tries < 3; tries++) {
        if (!sc->sha[0] && load(r, sc, try_ms, give_up) < 0)
            break;
        av[1] = sc->sha, al[1] = strlen(sc->sha);
        rep = evt__redis_retry(r, try_ms, give_up, argc + 2, av, al);
        if (!rep || rep->type != REDIS_REPLY_ERROR ||
            strncmp(rep->str, "NOSCRIPT", 8) != 0 || tries == 2)
            break;
        freeReplyObject(rep); /* a restarted server: load it again */
        rep = NULL;
        sc->sha[0] = 0;
    }
out:
    free(av);
    free(al);
    return rep;
}
