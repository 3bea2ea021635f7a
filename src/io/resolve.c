/* Name lookups that park only the asking coroutine: getaddrinfo runs on
 * the IO layer's thread pool, and the asker waits for its future. */
#define _GNU_SOURCE
#include "io.h"
#include "../thread/future.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

evt__getaddrinfo_fn evt__getaddrinfo = getaddrinfo;

static atomic_size_t lookups_live;

/* One lookup, shared by the asker and the pool thread that runs it; the
 * last of the two to let go frees it (the asker may give up first). */
struct lookup {
    atomic_int owners;     /* 2, then 1, then freed */
    int rc;                /* what getaddrinfo returned */
    int err;               /* errno after it, for EAI_SYSTEM */
    struct addrinfo *res;  /* the answer, until the asker takes it */
    char serv[8];          /* the port, in decimal */
    char host[];           /* the name to look up */
};

static void lookup_drop(struct lookup *lk)
{
    if (atomic_fetch_sub(&lk->owners, 1) != 1)
        return;
    if (lk->res)
        freeaddrinfo(lk->res);
    free(lk);
    atomic_fetch_sub(&lookups_live, 1);
}

size_t evt__lookups_live(void)
{
    return atomic_load(&lookups_live);
}

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

static int lookup_task(void *arg, void **result)
{
    struct lookup *lk = arg;
    (void)result;
    lk->rc = evt__getaddrinfo(lk->host, lk->serv, &tcp_hints, &lk->res);
    lk->err = errno;
    if (lk->rc)
        lk->res = NULL;
    lookup_drop(lk);
    return 0;
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
    /* A name: look it up on the IO pool. */
    evt__sched_t *s = evt__sched();
    if (!s)
        return -1;
    if (evt__unlikely(s->current->cancelled)) {
        errno = ECANCELED;
        return -1;
    }
    if (deadline == 0) { /* no lookup answers in no time */
        errno = ETIMEDOUT;
        return -1;
    }
    evt_threadpool_t *pool = evt__io_pool();
    if (!pool)
        return -1;
    size_t hlen = strlen(host);
    struct lookup *lk = malloc(sizeof *lk + hlen + 1);
    if (!lk) {
        errno = ENOMEM;
        return -1;
    }
    atomic_init(&lk->owners, 2);
    atomic_fetch_add(&lookups_live, 1);
    lk->rc = 0;
    lk->err = 0;
    lk->res = NULL;
    memcpy(lk->serv, serv, sizeof serv);
    memcpy(lk->host, host, hlen + 1);
    evt_future_t *f = evt_threadpool_submit(pool, lookup_task, lk);
    if (!f) {
        int err = errno;
        atomic_store(&lk->owners, 1);
        lookup_drop(lk);
        errno = err;
        return -1;
    }
    int err = evt__future_wait(f, deadline, 1);
    /* Given up: a lookup still queued is withdrawn, one running finishes
     * on its pool thread and lets go of lk there. */
    if (err && evt_future_cancel(f) == 0)
        lookup_drop(lk);
    evt_future_free(f);
    if (!err && lk->rc)
        err = evt__gai_errno(lk->rc, lk->err);
    if (!err) {
        *res = lk->res;
        lk->res = NULL;
    }
    lookup_drop(lk);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
