/* The convenience API over evt_curl_perform: one call makes a request
 * (method, URL, headers, body) and fills a response (status, headers, a
 * bounded body, or the body streamed to an fd or a file) with an error
 * that says what went wrong, by kind. */
#define _GNU_SOURCE
#include "eventor.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (8u << 20)

_Static_assert(sizeof(((evt_http_resp_t *)0)->message) >= CURL_ERROR_SIZE,
               "message holds libcurl's error buffer");

/* A growing buffer; one byte more than len stays free for a NUL. */
typedef struct buf {
    char *p;
    size_t len, cap;
} buf_t;

static int buf_add(buf_t *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

typedef struct req {
    evt_http_resp_t *resp;
    buf_t body, heads; /* heads: "name\0value\0" of the last response */
    size_t nheads, max_body;
    int too_big, no_mem;
    int fd;            /* streaming: the body goes here, else -1 */
    int write_err;     /* errno of a failed write to fd */
    size_t written;    /* bytes written to fd */
    const char *url;
} req_t;

static size_t to_fd(req_t *c, const char *p, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t w = write(c->fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            c->write_err = errno;
            return 0;
        }
        off += (size_t)w;
    }
    c->written += len;
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    req_t *c = user;
    size_t len = size * n;
    if ((c->fd >= 0 ? c->written : c->body.len) + len > c->max_body) {
        c->too_big = 1;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    if (c->fd >= 0)
        return to_fd(c, p, len);
    if (buf_add(&c->body, p, len) < 0) {
        c->no_mem = 1;
        return 0;
    }
    return len;
}

/* Header lines of every response come here (redirects, 100 Continue):
 * a status line starts over, so the last response's headers stay. */
static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    req_t *c = user;
    size_t len = size * n, end = len;
    if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
        c->heads.len = 0;
        c->nheads = 0;
        return len;
    }
    while (end && (p[end - 1] == '\n' || p[end - 1] == '\r'))
        end--;
    const char *colon = memchr(p, ':', end);
    if (!colon)
        return len;
    size_t v = (size_t)(colon - p) + 1;
    while (v < end && (p[v] == ' ' || p[v] == '\t'))
        v++;
    if (buf_add(&c->heads, p, (size_t)(colon - p)) < 0 ||
        buf_add(&c->heads, "", 1) < 0 || buf_add(&c->heads, p + v, end - v) < 0 ||
        buf_add(&c->heads, "", 1) < 0) {
        c->no_mem = 1;
        return 0;
    }
    c->nheads++;
    return len;
}

static int kind_of(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return EVT_HTTP_OK;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return EVT_HTTP_EURL;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return EVT_HTTP_EDNS;
    case CURLE_COULDNT_CONNECT:
        return EVT_HTTP_ECONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return EVT_HTTP_ETLS;
    case CURLE_OPERATION_TIMEDOUT:
        return EVT_HTTP_ETIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        return EVT_HTTP_ECANCELED;
    case CURLE_TOO_MANY_REDIRECTS:
        return EVT_HTTP_EREDIRECT;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return EVT_HTTP_EPEER;
    default:
        return EVT_HTTP_EOTHER;
    }
}

const char *evt_http_error_name(int error)
{
    static const char *const names[] = {
        [EVT_HTTP_OK] = "ok",           [EVT_HTTP_EURL] = "url",
        [EVT_HTTP_EDNS] = "dns",        [EVT_HTTP_ECONNECT] = "connect",
        [EVT_HTTP_ETLS] = "tls",        [EVT_HTTP_ETIMEOUT] = "timeout",
        [EVT_HTTP_ECANCELED] = "canceled", [EVT_HTTP_ETOOBIG] = "too big",
        [EVT_HTTP_EREDIRECT] = "redirects", [EVT_HTTP_EPEER] = "peer",
        [EVT_HTTP_EOTHER] = "other"};
    if (error < 0 || (size_t)error >= sizeof names / sizeof *names)
        return "unknown";
    return names[error];
}

/* Configure e for req; 0, or -1 when libcurl lacks memory for it. */
static int setup(CURL *e, const evt_http_req_t *req, req_t *c,
                 struct curl_slist **hl)
{
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->resp->message);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (req->max_redirects > 0) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)req->max_redirects);
    }
    if (req->connect_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    if (req->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    }
    if (req->method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    for (const char *const *h = req->headers; h && *h; h++) {
        struct curl_slist *n = curl_slist_append(*hl, *h);
        if (!n)
            return -1;
        *hl = n;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hl);
    return 0;
}

/* Fill resp after the transfer; returns what evt_http_request returns. */
static int conclude(CURL *e, req_t *c, int rc, int err)
{
    evt_http_resp_t *r = c->resp;
    long status = 0, redirects = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
    r->status = (int)status;
    r->redirects = (int)redirects;
    r->curl_code = evt_curl_result();
    r->body = c->body.p ? c->body.p : calloc(1, 1);
    r->body_len = c->fd >= 0 ? c->written : c->body.len;
    r->headers = c->heads.p;
    r->headers_len = c->heads.len;
    r->nheaders = c->nheads;
    if (rc == 0)
        return 0;
    r->error = kind_of((CURLcode)r->curl_code);
    if (c->too_big) {
        r->error = EVT_HTTP_ETOOBIG;
        err = EFBIG;
        snprintf(r->message, sizeof r->message, "body longer than %zu bytes",
                 c->max_body);
    } else if (c->no_mem) {
        err = ENOMEM;
    } else if (c->write_err) {
        r->error = EVT_HTTP_EOTHER;
        err = c->write_err;
        snprintf(r->message, sizeof r->message, "cannot write the body: %s",
                 strerror(err));
    } else if (r->error == EVT_HTTP_EREDIRECT) {
        err = ELOOP;
    }
    if (r->error == EVT_HTTP_EDNS && !r->message[0])
        snprintf(r->message, sizeof r->message, "could not resolve host "
                 "of %.200s", c->url);
    else if (err == ECANCELED || err == ETIMEDOUT) /* ours, not libcurl's */
        snprintf(r->message, sizeof r->message, "%s", strerror(err));
    else if (!r->message[0])
        snprintf(r->message, sizeof r->message, "%s",
                 curl_easy_strerror((CURLcode)r->curl_code));
    errno = err;
    return -1;
}

/* Where a streamed body goes: the caller's fd, or body_path opened. */
static int open_sink(const evt_http_req_t *req, req_t *c)
{
    if (req->body_to_fd) {
        c->fd = req->body_fd;
    } else if (req->body_path &&
               (c->fd = open(req->body_path, O_WRONLY | O_CREAT | O_TRUNC |
                             O_CLOEXEC, 0666)) < 0) {
        c->resp->error = EVT_HTTP_EOTHER;
        snprintf(c->resp->message, sizeof c->resp->message, "cannot open "
                 "%s: %s", req->body_path, strerror(errno));
        return -1;
    }
    if (req->body_to_fd && c->fd < 0) {
        c->resp->error = EVT_HTTP_EOTHER;
        snprintf(c->resp->message, sizeof c->resp->message, "bad body_fd");
        errno = EBADF;
        return -1;
    }
    return 0;
}

int evt_http_request(const evt_http_req_t *req, evt_http_resp_t *resp,
                     int64_t deadline)
{
    if (!resp) {
        errno = EINVAL;
        return -1;
    }
    memset(resp, 0, sizeof *resp);
    if (!req || !req->url) {
        resp->error = EVT_HTTP_EURL;
        snprintf(resp->message, sizeof resp->message, "no URL");
        errno = EINVAL;
        return -1;
    }
    int stream = req->body_to_fd || req->body_path;
    req_t c = {.resp = resp, .fd = -1, .url = req->url,
               .max_body = req->max_body ? req->max_body
                           : stream      ? SIZE_MAX
                                         : DEFAULT_MAX_BODY};
    if (open_sink(req, &c) < 0)
        return -1;
    CURL *e = curl_easy_init();
    struct curl_slist *hl = NULL;
    int rc = -1, err = ENOMEM;
    if (e && setup(e, req, &c, &hl) == 0) {
        rc = evt_curl_resolve(e, req->url, deadline) < 0
                 ? -1 : evt_curl_perform(e, deadline);
        err = errno;
    } else {
        c.no_mem = 1;
    }
    if (e) {
        rc = conclude(e, &c, rc, err);
        curl_easy_cleanup(e);
    } else {
        errno = ENOMEM;
    }
    curl_slist_free_all(hl);
    if (!e)
        snprintf(resp->message, sizeof resp->message, "out of memory");
    if (req->body_path && !req->body_to_fd) {
        int keep = errno;
        close(c.fd);
        if (rc < 0) /* no file that looks like a whole body */
            unlink(req->body_path);
        errno = keep;
    }
    return rc;
}

int evt_http_get(const char *url, evt_http_resp_t *resp, int64_t deadline)
{
    evt_http_req_t req = {.url = url, .max_redirects = 10};
    return evt_http_request(&req, resp, deadline);
}

const char *evt_http_header(const evt_http_resp_t *resp, const char *name)
{
    const char *p = resp->headers;
    for (size_t i = 0; p && i < resp->nheaders; i++) {
        const char *value = p + strlen(p) + 1;
        if (!strcasecmp(p, name))
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

void evt_http_resp_free(evt_http_resp_t *resp)
{
    if (!resp)
        return;
    free(resp->body);
    free(resp->headers);
    resp->body = resp->headers = NULL;
    resp->body_len = resp->headers_len = resp->nheaders = 0;
}
