/* Name lookups that park only the asking coroutine: getaddrinfo runs on a
 * thread of its own and its answer is posted back to the asking thread.
 * One thread per lookup until the thread pool (issue 3) takes this over. */
#define _GNU_SOURCE
#include "io.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

evt__getaddrinfo_fn evt__getaddrinfo = getaddrinfo;

/* One lookup. The asking thread makes it; the lookup thread fills in the
 * answer and posts it home, after which it belongs to the asking thread
 * again: to the asker if it still waits, else to lookup_home, which frees
 * it. Nothing is shared while both threads run but the post itself. */
struct lookup {
    evt__post_t post;      /* brings the answer home */
    evt__sched_t *sched;   /* the asking thread */
    evt_co_t *co;          /* the parked asker; NULL once it gave up */
    int done;              /* the answer is home (asking thread only) */
    int rc;                /* what getaddrinfo returned */
    int err;               /* errno after it, for EAI_SYSTEM */
    struct addrinfo *res;  /* the answer, owned by the lookup until taken */
    char serv[8];          /* the port, in decimal */
    char host[];           /* the name to look up */
};

int evt__gai_errno(int rc, int err)
{
    switch (rc) {
    case 0:
        return 0;
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
    case EAI_FAIL:
        return EADDRNOTAVAIL;
    case EAI_AGAIN:
        return EAGAIN;
    case EAI_MEMORY:
        return ENOMEM;
    case EAI_SYSTEM:
        return err ? err : EIO;
    default:
        return EINVAL;
    }
}

static const struct addrinfo tcp_hints = {
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_STREAM,
    .ai_flags = AI_NUMERICSERV,
};

static void *lookup_main(void *arg)
{
    struct lookup *lk = arg;
    lk->rc = evt__getaddrinfo(lk->host, lk->serv, &tcp_hints, &lk->res);
    lk->err = errno;
    evt__post(lk->sched, &lk->post); /* lk is not ours from here on */
    return NULL;
}

/* On the asking thread, in its look at IO. */
static void lookup_home(void *arg)
{
    struct lookup *lk = arg;
    evt__loop_unhold(lk->sched->loop);
    lk->done = 1;
    if (lk->co) {
        evt__unpark(lk->co, 0);
        return;
    }
    if (lk->res)
        freeaddrinfo(lk->res);
    free(lk);
}

/* Start lk's thread with every signal blocked, so that signals meant for
 * the process are never handled on it. 0 or an errno value. */
static int lookup_start(struct lookup *lk)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_t t;
    int rc = pthread_attr_init(&attr);
    if (rc)
        return rc;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&t, &attr, lookup_main, lk);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}

int evt__resolve(const char *host, int port, int64_t deadline,
                 struct addrinfo **res)
{
    char serv[8];
    snprintf(serv, sizeof serv, "%d", port);
    struct addrinfo hints = tcp_hints;
    hints.ai_flags |= AI_NUMERICHOST;
    int rc = getaddrinfo(host, serv, &hints, res);
    if (rc != EAI_NONAME) {
        if (rc == 0)
            return 0;
        errno = evt__gai_errno(rc, errno);
        return -1;
    }
    /* A name: look it up on another thread. */
    evt__sched_t *s = evt__sched();
    evt__loop_t *l = s ? evt__loop_get(s) : NULL;
    if (!l)
        return -1;
    if (evt__unlikely(s->current->cancelled)) {
        errno = ECANCELED;
        return -1;
    }
    if (deadline == 0) { /* no lookup answers in no time */
        errno = ETIMEDOUT;
        return -1;
    }
    size_t hlen = strlen(host);
    struct lookup *lk = malloc(sizeof *lk + hlen + 1);
    if (!lk) {
        errno = ENOMEM;
        return -1;
    }
    lk->post.fn = lookup_home;
    lk->post.arg = lk;
    lk->sched = s;
    lk->co = s->current;
    lk->done = 0;
    lk->rc = 0;
    lk->err = 0;
    lk->res = NULL;
    memcpy(lk->serv, serv, sizeof serv);
    memcpy(lk->host, host, hlen + 1);
    /* The post we expect keeps the scheduler from taking a lone wait for
     * it for a deadlock. */
    evt__loop_hold(l);
    rc = lookup_start(lk);
    if (rc) {
        evt__loop_unhold(l);
        free(lk);
        errno = rc;
        return -1;
    }
    do
        rc = evt__wait(deadline);
    while (rc == 0 && !lk->done);
    if (rc && !lk->done) {
        lk->co = NULL; /* lookup_home frees it when the answer comes */
        errno = rc;
        return -1;
    }
    /* The answer is home. It may have come in the same look at IO as the
     * deadline or the cancel that woke us: then they decide, as they would
     * have a moment later. */
    int grc = lk->rc, gerr = lk->err;
    *res = lk->res;
    free(lk);
    if (rc || grc) {
        if (grc == 0)
            freeaddrinfo(*res);
        *res = NULL;
        errno = rc ? rc : evt__gai_errno(grc, gerr);
        return -1;
    }
    return 0;
}
