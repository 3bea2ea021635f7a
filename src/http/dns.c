/* Name lookups for libcurl without a thread per request: each host:port is
 * resolved once on the offload pool (evt__resolve), cached per thread for
 * a TTL, and handed to libcurl with CURLOPT_RESOLVE, so that 7.88's
 * threaded resolver (a thread and a socketpair per lookup) never runs. */
#define _GNU_SOURCE
#include "dns.h"

#include "../core/core.h"
#include "../io/io.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* getaddrinfo says nothing of a record's TTL: a fixed one, libcurl's own
 * DNS cache timeout; a name that failed is asked again sooner. */
#define TTL_MS 60000
#define NEG_TTL_MS 5000
#define BUCKETS 1024
#define ADDRS 512

typedef struct waiter {
    evt_co_t *co;
    struct waiter *next;
} waiter_t;

typedef struct entry {
    struct entry *next;     /* in its bucket */
    int64_t expires;        /* evt_now() ms; 0: never resolved */
    int err;                /* the lookup's errno, 0: addrs is good */
    int resolving;          /* a coroutine is looking it up */
    unsigned gen, loaded;   /* answers so far / the one libcurl has */
    waiter_t *waiters;      /* parked until the lookup ends */
    char addrs[ADDRS];      /* "host:port:a1,a2" for CURLOPT_RESOLVE */
    char key[];             /* "host:port" */
} entry_t;

static _Thread_local struct {
    entry_t *b[BUCKETS];
    size_t lookups;          /* evt__resolve calls (tests) */
    void *next_easy;         /* set by evt_curl_resolve for perform */
    struct curl_slist *next_list;
    entry_t *next_entry;
    unsigned next_gen;
} dns;

static entry_t *entry_get(const char *host, long port)
{
    char key[300];
    if (snprintf(key, sizeof key, "%s:%ld", host, port) >= (int)sizeof key) {
        errno = EINVAL;
        return NULL;
    }
    size_t h = 5381;
    for (const char *p = key; *p; p++)
        h = h * 33 + (unsigned char)*p;
    entry_t **slot = &dns.b[h % BUCKETS];
    for (entry_t *e = *slot; e; e = e->next)
        if (!strcmp(e->key, key))
            return e;
    entry_t *e = calloc(1, sizeof *e + strlen(key) + 1);
    if (!e)
        return NULL;
    strcpy(e->key, key);
    e->next = *slot;
    *slot = e;
    return e;
}

/* "host:port:a1,a2,..." from a lookup's answer. */
static void format_addrs(entry_t *e, struct addrinfo *res)
{
    size_t n = (size_t)snprintf(e->addrs, sizeof e->addrs, "%s:", e->key);
    int first = 1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char ip[INET6_ADDRSTRLEN];
        const void *src = a->ai_family == AF_INET6
            ? (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr
            : (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
            !inet_ntop(a->ai_family, src, ip, sizeof ip))
            continue;
        int w = snprintf(e->addrs + n, sizeof e->addrs - n,
                         a->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
                         first ? "" : ",", ip);
        if (w < 0 || (size_t)w >= sizeof e->addrs - n)
            break; /* the addresses that fit */
        n += (size_t)w;
        first = 0;
    }
    if (first)
        e->err = EADDRNOTAVAIL;
}

static int lookup(entry_t *e, const char *host, long port, int64_t deadline)
{
    e->resolving = 1;
    struct addrinfo *res = NULL;
    dns.lookups++;
    int rc = evt__resolve(host, (int)port, deadline, &res);
    int err = rc < 0 ? errno : 0;
    e->resolving = 0;
    if (err != ETIMEDOUT && err != ECANCELED) { /* an answer */
        e->err = err;
        if (!err)
            format_addrs(e, res);
        e->expires = evt_now() + (e->err ? NEG_TTL_MS : TTL_MS);
        e->gen++;
    }
    if (res)
        freeaddrinfo(res);
    /* Wake the others: they find the answer, or look it up themselves. */
    for (waiter_t *w = e->waiters; w; w = w->next)
        evt__unpark(w->co, 0);
    e->waiters = NULL;
    errno = err;
    return rc;
}

/* Wait for e's lookup by another coroutine. */
static int wait_lookup(entry_t *e, int64_t deadline)
{
    waiter_t w = {.co = evt__sched()->current, .next = e->waiters};
    e->waiters = &w;
    int rc = evt__wait(deadline);
    if (rc) { /* still listed: take it out */
        for (waiter_t **p = &e->waiters; *p; p = &(*p)->next)
            if (*p == &w) {
                *p = w.next;
                break;
            }
        errno = rc;
        return -1;
    }
    return 0;
}

/* The cached answer for host:port, looked up when missing or stale. */
static entry_t *resolve(const char *host, long port, int64_t deadline)
{
    entry_t *e = entry_get(host, port);
    if (!e)
        return NULL;
    while (!e->expires || evt_now() >= e->expires) {
        if (!e->resolving ? lookup(e, host, port, deadline) < 0 &&
                                (errno == ETIMEDOUT || errno == ECANCELED)
                          : wait_lookup(e, deadline) < 0)
            return NULL;
    }
    if (e->err) {
        errno = e->err;
        return NULL;
    }
    return e;
}

int evt_curl_resolve(void *easy, const char *url, int64_t deadline)
{
    if (!easy || !url || !evt__sched()) {
        errno = easy && url ? EPERM : EINVAL;
        return -1;
    }
    curl_easy_setopt(easy, CURLOPT_RESOLVE, NULL);
    dns.next_easy = NULL;
    CURLU *u = curl_url();
    char *host = NULL;
    curl_off_t port = 0;
    char *ps = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &ps, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out; /* libcurl says what is wrong with it */
    port = strtol(ps, NULL, 10);
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a6) == 1 || host[0] == '[')
        goto out; /* a number: nothing to look up */
    entry_t *e = resolve(host, (long)port, deadline);
    if (!e) {
        rc = -1;
        evt__curl_set_result(errno == ETIMEDOUT   ? CURLE_OPERATION_TIMEDOUT
                             : errno == ECANCELED ? CURLE_ABORTED_BY_CALLBACK
                             : errno == ENOMEM    ? CURLE_OUT_OF_MEMORY
                                                  : CURLE_COULDNT_RESOLVE_HOST);
        goto out;
    }
    if (e->loaded == e->gen) /* libcurl's cache has it already */
        goto out;
    struct curl_slist *l = curl_slist_append(NULL, e->addrs);
    if (!l) {
        errno = ENOMEM;
        rc = -1;
        goto out;
    }
    curl_easy_setopt(easy, CURLOPT_RESOLVE, l);
    dns.next_easy = easy;
    dns.next_list = l;
    dns.next_entry = e;
    dns.next_gen = e->gen;
out:
    curl_free(host);
    curl_free(ps);
    curl_url_cleanup(u);
    return rc;
}

void *evt__dns_take(void *easy, unsigned *gen, void **entry)
{
    if (!dns.next_easy || dns.next_easy != easy)
        return NULL;
    dns.next_easy = NULL;
    *gen = dns.next_gen;
    *entry = dns.next_entry;
    return dns.next_list;
}

void evt__dns_done(void *easy, void *list, void *entry, unsigned gen,
                   int loaded)
{
    curl_easy_setopt(easy, CURLOPT_RESOLVE, NULL);
    curl_slist_free_all(list);
    entry_t *e = entry;
    if (loaded && e->gen == gen)
        e->loaded = gen;
}

void evt__dns_forget(int release)
{
    int busy = 0;
    for (size_t i = 0; i < BUCKETS; i++)
        for (entry_t *e = dns.b[i]; e; e = e->next) {
            e->loaded = 0; /* the new multi handle's cache is empty */
            busy |= e->resolving || e->waiters;
        }
    if (!release || busy) /* a lookup in progress keeps its entry */
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        for (entry_t *e = dns.b[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
        dns.b[i] = NULL;
    }
}

size_t evt__dns_lookups(void)
{
    return dns.lookups;
}
