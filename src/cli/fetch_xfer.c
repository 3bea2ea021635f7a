/* eventor fetch: one URL, from its first attempt to its outcome. Each
 * attempt is a libcurl easy transfer run by evt_curl_perform (only this
 * coroutine parks); connection errors, timeouts, 429 and 5xx are retried
 * with exponential backoff or the server's Retry-After. Under -o the body
 * streams into a hidden temporary file that is renamed when whole. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000
#define RETRY_AFTER_MAX_S 300

int fetch_have_http2(void)
{
    return (curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2)
           != 0;
}

int fetch_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* Where a body goes while it comes. */
struct sink {
    int fd;            /* -o: the temporary file, else -1 */
    char *buf;         /* want_body: the body so far */
    size_t len, cap;
    int failed;        /* a write failed: errno in err */
    int err;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;
    if (s->fd >= 0) {
        for (size_t off = 0; off < len;) {
            ssize_t w = write(s->fd, p + off, len - off);
            if (w < 0) {
                s->failed = 1;
                s->err = errno;
                return 0; /* libcurl stops the transfer */
            }
            off += (size_t)w;
        }
    } else if (s->buf || s->cap == 0) {
        if (s->len + len + 1 > s->cap) {
            size_t cap = s->cap ? s->cap : 16384;
            while (cap < s->len + len + 1)
                cap *= 2;
            char *b = realloc(s->buf, cap);
            if (!b) {
                s->failed = 1;
                s->err = ENOMEM;
                return 0;
            }
            s->buf = b;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, p, len);
        s->len += len;
        s->buf[s->len] = 0;
    }
    return len;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    ((struct sink *)arg)->len += size * n; /* counted for the record */
    return size * n;
}

/* One easy handle set up for o and url; *hdrs is its header list. */
static CURL *make_easy(const struct fetch_opts *o, const char *url,
                       struct curl_slist **hdrs)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    if (o->get && o->data) {
        char *q = fetch_get_url(o, url);
        CURLcode cc = q ? curl_easy_setopt(e, CURLOPT_URL, q) : CURLE_OUT_OF_MEMORY;
        free(q);
        if (cc != CURLE_OK) {
            curl_easy_cleanup(e);
            return NULL;
        }
    } else {
        curl_easy_setopt(e, CURLOPT_URL, url);
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT,
                     o->user_agent ? o->user_agent : "eventor-fetch/" EVT_VERSION);
    if (o->referer)
        curl_easy_setopt(e, CURLOPT_REFERER, o->referer);
    if (o->userpwd)
        curl_easy_setopt(e, CURLOPT_USERPWD, o->userpwd);
    if (o->cookie) /* curl's rule: with '=' the cookies, else a file */
        curl_easy_setopt(e, strchr(o->cookie, '=') ? CURLOPT_COOKIE
                                                   : CURLOPT_COOKIEFILE,
                         o->cookie);
    if (o->compressed)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (o->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* HTTP only: a list line file:///etc/shadow, or a redirect to it, is
     * an invalid URL here, not a read. */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (o->follow) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, o->max_redirs);
    }
    if (o->data && !o->get) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)o->data_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->data);
    }
    if (o->method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    if (o->head || (o->method && !strcmp(o->method, "HEAD")))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (o->timeout_ms)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    if (o->connect_ms)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_ms);
    if (o->http2) {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                         o->http2 > 1 ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                      : (long)CURL_HTTP_VERSION_2_0);
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    }
    *hdrs = NULL;
    for (size_t i = 0; i < o->headers.n; i++) {
        struct curl_slist *h = curl_slist_append(*hdrs, o->headers.v[i]);
        if (!h) {
            curl_slist_free_all(*hdrs);
            curl_easy_cleanup(e);
            return NULL;
        }
        *hdrs = h;
    }
    if (*hdrs)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
    return e;
}

/* The failure is worth another attempt. */
static int retryable(int err, int status)
{
    if (err)
        return err != EINVAL && err != EADDRNOTAVAIL && err != ENOMEM &&
               err != ECANCELED;
    return status == 429 || status >= 500;
}

static void say(struct fetch_res *r, int err, const char *what)
{
    const char *kind = err == EADDRNOTAVAIL  ? "no such host"
                       : err == ECONNREFUSED ? "connection refused"
                       : err == ETIMEDOUT    ? "timeout"
                       : err == EINVAL       ? "invalid URL"
                       : err == EPROTO       ? "not an HTTP answer"
                                             : "transfer failed";
    snprintf(r->msg, sizeof r->msg, "%s: %s", kind, what);
}

/* One attempt into s; fills r's status, err, bytes. Returns the wait the
 * server asked for before the next one (Retry-After, seconds), or 0. */
static long attempt(const struct fetch_opts *o, CURL *e, const char *url,
                    struct sink *s, struct fetch_res *r)
{
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION,
                     s->fd >= 0 || s->cap != (size_t)-1 ? on_data : discard);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    int64_t deadline = o->timeout_ms ? evt_now() + o->timeout_ms + 1000 : -1;
    /* The name once per host on the offload pool, not a thread each. */
    int rc = evt_curl_resolve(e, url, deadline);
    if (rc == 0 && o->http2 > 1) /* multiplexed despite libcurl 7.88 */
        evt_curl_h2c(e, url);
    if (rc == 0)
        rc = evt_curl_perform(e, deadline);
    int err = rc < 0 ? errno : 0;
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    r->status = (int)status;
    r->err = err;
    r->bytes = s->fd >= 0 ? (long long)lseek(s->fd, 0, SEEK_CUR)
                          : (long long)s->len;
    r->msg[0] = 0;
    if (s->failed) {
        r->err = s->err;
        snprintf(r->msg, sizeof r->msg, "cannot write the body: %s",
                 strerror(s->err));
    } else if (err) {
        char *ip = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip);
        if (err == EINVAL && ip && *ip)
            err = r->err = EPROTO; /* connected: the peer spoke nonsense */
        say(r, err, curl_easy_strerror((CURLcode)evt_curl_result()));
    } else if (status >= 400) {
        snprintf(r->msg, sizeof r->msg, "HTTP status %ld", status);
    }
    curl_off_t after = 0;
    if (!err && curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &after) != CURLE_OK)
        after = 0;
    return after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)after;
}

/* Start the body over for the next attempt. */
static void sink_reset(struct sink *s)
{
    if (s->fd >= 0) {
        if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0) {
            s->failed = 1;
            s->err = errno;
        }
    }
    s->len = 0;
}

/* Make the -o temporary file; its path in tmp (the final one in *final). */
static int open_tmp(const struct fetch_opts *o, uint64_t seq, const char *url,
                    char **final, char **tmp, struct fetch_res *r)
{
    const char *dir = o->spool ? o->spool : o->outdir;
    char *name = o->spool ? fetch_name("{#}", seq, url)
                          : fetch_name(o->name_tmpl, seq, url);
    if (!name || asprintf(final, "%s/%s", dir, name) < 0)
        *final = NULL;
    if (!*final || asprintf(tmp, "%s/.%s.part-%ld", dir, name,
                            (long)getpid()) < 0)
        *tmp = NULL;
    free(name);
    int fd = *tmp ? open(*tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)
                  : -1;
    if (fd < 0) {
        r->err = *tmp ? errno : ENOMEM;
        snprintf(r->msg, sizeof r->msg, "cannot write %s: %s",
                 *tmp ? *tmp : dir, strerror(r->err));
    }
    return fd;
}

/* The -o file is whole: give it its name (or drop it after a failure; a
 * spool file is the body whatever the outcome, as want_body keeps it). */
static void finish_file(const struct fetch_opts *o, struct sink *s,
                        const char *tmp, const char *final,
                        struct fetch_res *r)
{
    int ok = o->spool ? !s->failed : !r->err && r->status < 400;
    if (ok && close(s->fd) == 0 && rename(tmp, final) == 0)
        return;
    if (ok) {
        r->err = errno;
        snprintf(r->msg, sizeof r->msg, "cannot write %s: %s", final,
                 strerror(errno));
    } else {
        close(s->fd);
    }
    unlink(tmp);
}

void fetch_one(const struct fetch_opts *o, uint64_t seq, const char *url,
               int want_body, struct fetch_res *r)
{
    memset(r, 0, sizeof *r);
    struct sink s = {.fd = -1, .cap = want_body ? 0 : (size_t)-1};
    char *final = NULL, *tmp = NULL;
    int64_t t0 = evt_now();
    r->start = wall_now();
    if ((o->outdir || o->spool) &&
        (s.fd = open_tmp(o, seq, url, &final, &tmp, r)) < 0)
        goto out;
    struct curl_slist *hdrs;
    CURL *e = make_easy(o, url, &hdrs);
    if (!e) {
        r->err = ENOMEM;
        snprintf(r->msg, sizeof r->msg, "out of memory");
        goto out;
    }
    int64_t backoff = BACKOFF_FIRST_MS;
    for (;;) {
        r->attempts++;
        long after = attempt(o, e, url, &s, r);
        if (s.failed || (long)r->attempts > o->retries ||
            !retryable(r->err, r->status))
            break;
        int64_t wait = after > 0 ? after * 1000 : backoff;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        if (evt_sleep(evt_now() + wait) < 0)
            break; /* cancelled: the outcome so far stands */
        sink_reset(&s);
    }
    curl_easy_cleanup(e);
    curl_slist_free_all(hdrs);
    if (s.fd >= 0)
        finish_file(o, &s, tmp, final, r);
out:
    r->secs = (double)(evt_now() - t0) / 1000.0;
    if (want_body && !s.failed) {
        r->body = s.buf;
        r->bytes = (long long)s.len;
    } else {
        free(s.buf);
    }
    free(final);
    free(tmp);
}

/* Keep what is safe in a file name; the rest becomes '_'. */
static void put_safe(char **p, const char *s, size_t n, const char *end)
{
    for (size_t i = 0; i < n && *p < end; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        *(*p)++ = ok ? c : '_';
    }
}

/* The last part of url's path ("index" when there is none). */
static void last_part(const char *url, const char **s, size_t *n)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p) {
        *s = "index", *n = 5;
        return;
    }
    size_t len = strcspn(p, "?#");
    const char *b = p + len;
    while (b > p && b[-1] == '/')
        b--;
    const char *a = b;
    while (a > p && a[-1] != '/')
        a--;
    if (a == b)
        *s = "index", *n = 5;
    else
        *s = a, *n = (size_t)(b - a);
}

char *fetch_name(const char *tmpl, uint64_t seq, const char *url)
{
    char buf[256], *p = buf, *end = buf + sizeof buf - 1;
    for (const char *t = tmpl; *t && p < end;) {
        if (!strncmp(t, "{#}", 3)) {
            char num[24];
            int k = snprintf(num, sizeof num, "%llu", (unsigned long long)seq);
            put_safe(&p, num, (size_t)k, end);
            t += 3;
        } else if (!strncmp(t, "{/}", 3)) {
            const char *s;
            size_t n;
            last_part(url, &s, &n);
            put_safe(&p, s, n, end);
            t += 3;
        } else if (!strncmp(t, "{}", 2)) {
            put_safe(&p, url, strlen(url), end);
            t += 2;
        } else {
            put_safe(&p, t, 1, end);
            t++;
        }
    }
    *p = 0;
    if (!strcmp(buf, ".") || !strcmp(buf, "..") || !buf[0])
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)seq);
    return strdup(buf);
}
