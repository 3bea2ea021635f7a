/* Name lookups for a coroutine: getaddrinfo and gethostbyname(_r) run the
 * real libc call on a small thread pool of the hooks while only the caller
 * parks (hooking under them would be useless: glibc's resolver calls its
 * own internal socket and poll). Numeric hosts and calls off a coroutine
 * stay on the calling thread. */
#define _GNU_SOURCE
#include "hook.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define POOL_THREADS 4

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
                      struct addrinfo **);
typedef int (*ghbn_r_fn)(const char *, struct hostent *, char *, size_t,
                         struct hostent **, int *);

static gai_fn real_gai;
static ghbn_r_fn real_ghbn_r;
static evt_threadpool_t *pool;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* A forked child has none of the pool's threads: it makes its own. */
static void child_drops_pool(void)
{
    pool = NULL;
    pthread_mutex_init(&pool_lock, NULL);
}

static void find_real(void)
{
    real_gai = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    real_ghbn_r = (ghbn_r_fn)dlsym(RTLD_NEXT, "gethostbyname_r");
    pthread_atfork(NULL, NULL, child_drops_pool);
}

static evt_threadpool_t *lookup_pool(void)
{
    pthread_mutex_lock(&pool_lock);
    if (!pool)
        pool = evt_threadpool_new(POOL_THREADS, NULL);
    evt_threadpool_t *p = pool;
    pthread_mutex_unlock(&pool_lock);
    return p;
}

/* One lookup, shared by the asker and the pool thread; the last of the two
 * to let go frees it (a cancelled asker goes first). */
struct lookup {
    atomic_int owners;
    int byname;                /* gethostbyname_r, else getaddrinfo */
    int rc, err, h_err;
    struct addrinfo hints, *res;
    int has_hints;
    struct hostent he, *hres;  /* gethostbyname_r's answer, in buf */
    char *buf;
    size_t buflen;
    char *serv;                /* NULL or into names */
    char names[];              /* host, then serv */
};

static void lookup_drop(struct lookup *lk)
{
    if (atomic_fetch_sub(&lk->owners, 1) != 1)
        return;
    if (lk->res)
        freeaddrinfo(lk->res);
    if (lk->byname)
        free(lk->buf);
    free(lk);
}

static int lookup_task(void *arg, void **result)
{
    struct lookup *lk = arg;
    (void)result;
    if (lk->byname)
        lk->rc = real_ghbn_r(lk->names, &lk->he, lk->buf, lk->buflen,
                             &lk->hres, &lk->h_err);
    else
        lk->rc = real_gai(lk->names, lk->serv,
                          lk->has_hints ? &lk->hints : NULL, &lk->res);
    lk->err = errno;
    lookup_drop(lk);
    return 0;
}

static struct lookup *lookup_new(const char *host, const char *serv)
{
    size_t hl = strlen(host) + 1, sl = serv ? strlen(serv) + 1 : 0;
    struct lookup *lk = calloc(1, sizeof *lk + hl + sl);
    if (!lk)
        return NULL;
    atomic_init(&lk->owners, 2);
    memcpy(lk->names, host, hl);
    if (serv) {
        lk->serv = lk->names + hl;
        memcpy(lk->serv, serv, sl);
    }
    return lk;
}

/* Run lk on the pool and wait: 0, or an errno value (then lk is no
 * longer the caller's: freed, or freed by its pool thread). */
static int lookup_run(struct lookup *lk)
{
    if (evt_cancelled()) { /* a name lookup always waits */
        atomic_store(&lk->owners, 1);
        lookup_drop(lk);
        return ECANCELED;
    }
    evt_threadpool_t *p = lookup_pool();
    evt_future_t *f = p ? evt_threadpool_submit(p, lookup_task, lk) : NULL;
    if (!f) {
        int err = errno;
        atomic_store(&lk->owners, 1);
        lookup_drop(lk);
        return err;
    }
    int err = evt_future_wait(f, -1) < 0 ? errno : 0;
    if (err && evt_future_cancel(f) == 0)
        lookup_drop(lk); /* never started: the task's share too */
    evt_future_free(f);
    if (err)
        lookup_drop(lk);
    return err;
}

static int numeric(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int getaddrinfo(const char *host, const char *serv, const struct addrinfo *hints,
                struct addrinfo **res)
{
    pthread_once(&once, find_real);
    if (!host || numeric(host) || !evt__hook_on())
        return real_gai(host, serv, hints, res);
    struct lookup *lk = lookup_new(host, serv);
    if (!lk)
        return EAI_MEMORY;
    if (hints) {
        lk->has_hints = 1;
        lk->hints.ai_flags = hints->ai_flags;
        lk->hints.ai_family = hints->ai_family;
        lk->hints.ai_socktype = hints->ai_socktype;
        lk->hints.ai_protocol = hints->ai_protocol;
    }
    int saved = errno, err = lookup_run(lk);
    if (err) {
        errno = err; /* ECANCELED: the caller was cancelled */
        return EAI_SYSTEM;
    }
    int rc = lk->rc;
    if (rc == 0) {
        *res = lk->res;
        lk->res = NULL;
        errno = saved;
    } else if (rc == EAI_SYSTEM) {
        errno = lk->err;
    }
    lookup_drop(lk);
    return rc;
}

/* Move p, a pointer into from[0..len), to the same place in to. */
static void *rebase(void *p, const char *from, size_t len, char *to)
{
    const char *c = p;
    return c >= from && c < from + len ? to + (c - from) : p;
}

/* The pool thread's answer, built in lk->buf, into the caller's buf. */
static void hostent_move(struct lookup *lk, struct hostent *ret, char *buf)
{
    const char *from = lk->buf;
    size_t len = lk->buflen;
    memcpy(buf, from, len);
    *ret = lk->he;
    ret->h_name = rebase(ret->h_name, from, len, buf);
    ret->h_aliases = rebase(ret->h_aliases, from, len, buf);
    ret->h_addr_list = rebase(ret->h_addr_list, from, len, buf);
    for (char **a = ret->h_aliases; a && *a; a++)
        *a = rebase(*a, from, len, buf);
    for (char **a = ret->h_addr_list; a && *a; a++)
        *a = rebase(*a, from, len, buf);
}

int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
                    size_t buflen, struct hostent **result, int *h_errnop)
{
    pthread_once(&once, find_real);
    if (!name || numeric(name) || !evt__hook_on())
        return real_ghbn_r(name, ret, buf, buflen, result, h_errnop);
    /* The pool thread answers into a buffer of its own, so that a caller
     * who gives up (cancelled) leaves nothing behind that it writes to. */
    struct lookup *lk = lookup_new(name, NULL);
    char *own = lk ? malloc(buflen ? buflen : 1) : NULL;
    if (!own) {
        free(lk);
        return ENOMEM;
    }
    lk->byname = 1;
    lk->buf = own;
    lk->buflen = buflen;
    int err = lookup_run(lk);
    if (err) {
        *result = NULL;
        return err;
    }
    int rc = lk->rc;
    *h_errnop = lk->h_err;
    *result = NULL;
    if (rc == 0 && lk->hres) {
        hostent_move(lk, ret, buf);
        *result = ret;
    }
    lookup_drop(lk);
    return rc;
}

/* Like glibc's, one answer per thread, overwritten by the next call. */
struct hostent *gethostbyname(const char *name)
{
    static __thread struct hostent he;
    static __thread char buf[8192];
    struct hostent *res = NULL;
    int herr = 0;
    if (gethostbyname_r(name, &he, buf, sizeof buf, &res, &herr) != 0 || !res) {
        h_errno = herr;
        return NULL;
    }
    return res;
}
