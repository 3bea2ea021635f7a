/* HTTP/2 without upgrade on http:// (prior knowledge), working around
 * libcurl 7.88's bug: every transfer that reuses a prior-knowledge
 * connection stacks one more HTTP/2 layer on it and fails with "Error in
 * the HTTP2 framing layer" (curl issue 10634, fixed in 8.0.0). */
#define _GNU_SOURCE
#include "h2c.h"

#include "eventor.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Only the transfer that opens an origin's connection asks for prior
 * knowledge; every other one asks for HTTP/2 (CURL_HTTP_VERSION_2_0) and
 * PIPEWAIT, which makes libcurl wait for that connection and multiplex on
 * it without a second switch. Should such a transfer find no connection
 * after all (it closed), libcurl sends an Upgrade: h2c request, which a
 * server that speaks only HTTP/2 answers with frames (CURLE_UNSUPPORTED_
 * PROTOCOL, "HTTP/0.9"): that attempt is made again with prior knowledge
 * (evt__h2c_end). Per thread, as the multi handle. */
#define MAX_ORIGINS 64

typedef struct origin {
    char *key;     /* "host:port", malloc'd */
    int socks;     /* sockets open for it (a connection, or one coming) */
    int opening;   /* prior-knowledge transfers in progress */
} origin_t;

static _Thread_local struct {
    origin_t o[MAX_ORIGINS];
    int n;
    void *next_easy;   /* marked by evt_curl_h2c for its next perform */
    int next_origin;
    unsigned char *fd_origin; /* origin + 1 by fd, 0: none */
    size_t nfd;
} h2;

/* host:port of an http:// URL (malloc'd), NULL for anything else. */
static char *origin_key(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *key = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        !strcmp(scheme, "http") &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK &&
        asprintf(&key, "%s:%s", host, port) < 0)
        key = NULL;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return key;
}

static int origin_of(char *key)
{
    for (int i = 0; i < h2.n; i++)
        if (!strcmp(h2.o[i].key, key)) {
            free(key);
            return i;
        }
    if (h2.n == MAX_ORIGINS) { /* forget one with nothing open */
        int i = 0;
        while (i < h2.n && (h2.o[i].socks || h2.o[i].opening))
            i++;
        if (i == h2.n) {
            free(key);
            errno = ENOMEM;
            return -1;
        }
        free(h2.o[i].key);
        h2.o[i] = h2.o[--h2.n];
    }
    h2.o[h2.n] = (origin_t){.key = key};
    return h2.n++;
}

int evt_curl_h2c(void *easy, const char *url)
{
    if (!easy || !url) {
        errno = EINVAL;
        return -1;
    }
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    char *key = origin_key(url);
    h2.next_easy = NULL;
    if (!key) /* https:// (ALPN is not hit by the bug), or not a URL */
        return 0;
    int i = origin_of(key);
    if (i < 0)
        return -1;
    h2.next_easy = easy;
    h2.next_origin = i;
    return 0;
}

int evt__h2c_begin(void *easy, int *pk)
{
    if (!h2.next_easy || h2.next_easy != easy)
        return -1;
    h2.next_easy = NULL;
    origin_t *o = &h2.o[h2.next_origin];
    *pk = !o->socks && !o->opening;
    o->opening += *pk;
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     *pk ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                         : (long)CURL_HTTP_VERSION_2_0);
    return h2.next_origin;
}

int evt__h2c_end(void *easy, int origin, int *pk, int code)
{
    if (*pk) {
        h2.o[origin].opening--;
        return 0;
    }
    if (code != CURLE_UNSUPPORTED_PROTOCOL && code != CURLE_WEIRD_SERVER_REPLY)
        return 0;
    /* The upgrade was refused before any body: once more, opening. */
    *pk = 1;
    h2.o[origin].opening++;
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    return 1;
}

void evt__h2c_opened(int fd, int origin)
{
    if (fd < 0 || origin < 0)
        return;
    if ((size_t)fd >= h2.nfd) {
        size_t n = h2.nfd ? h2.nfd : 64;
        while (n <= (size_t)fd)
            n *= 2;
        unsigned char *p = realloc(h2.fd_origin, n);
        if (!p)
            return; /* then it counts as not open: prior knowledge again */
        memset(p + h2.nfd, 0, n - h2.nfd);
        h2.fd_origin = p;
        h2.nfd = n;
    }
    h2.fd_origin[fd] = (unsigned char)(origin + 1);
    h2.o[origin].socks++;
}

void evt__h2c_closed(int fd)
{
    if (fd < 0 || (size_t)fd >= h2.nfd || !h2.fd_origin[fd])
        return;
    h2.o[h2.fd_origin[fd] - 1].socks--;
    h2.fd_origin[fd] = 0;
}

void evt__h2c_reset(void)
{
    for (int i = 0; i < h2.n; i++)
        free(h2.o[i].key);
    free(h2.fd_origin);
    memset(&h2, 0, sizeof h2);
}
