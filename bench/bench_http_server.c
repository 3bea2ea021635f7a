/* http_server: the remote service of the io_batch figure. A keep-alive
 * HTTP/1.1 server on the runtime, one coroutine per connection, that holds
 * each answer back --delay-ms (evt_sleep) and then says "ok".
 *
 *   bench_http_server --port P [--delay-ms 10] [--host 127.0.0.1]
 *
 * With --port 0 it prints `port <n>` once listening. On SIGTERM or SIGINT
 * it stops, prints `http_server_requests`, `http_server_delay_ms` (the
 * mean delay it really held answers back, as measured around evt_sleep) and
 * `http_server_max_conns` (the most connections open at once), and exits 0. */
#include "bench_common.h"
#include "eventor.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define BUF_SIZE 8192

static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char BAD[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n";
static const char TOO_BIG[] = "HTTP/1.1 431 Request Header Fields Too Large"
                              "\r\nContent-Length: 0\r\nConnection: close"
                              "\r\n\r\n";
static const char NO_CHUNKS[] = "HTTP/1.1 501 Not Implemented\r\n"
                                "Content-Length: 0\r\nConnection: close"
                                "\r\n\r\n";

static int delay_ms = 10;
static uint64_t requests;   /* answered */
static double delay_sum_s;  /* time really spent in the delays */

/* A live connection, in the list the shutdown cancels. */
struct conn {
    int fd;
    evt_co_t *co;            /* its coroutine (detached) */
    struct conn *prev, *next;
};
static struct conn *conns;
static size_t nconns;
static size_t max_conns; /* the most connections open at once */

/* What the server needs of a request head. */
struct req {
    uint64_t body;  /* Content-Length: bytes of body to skip */
    int close;      /* the client wants the connection closed after it */
    int chunked;    /* Transfer-Encoding present (not supported) */
};

static int token_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* Parse the head (request line and headers, ending in \r\n\r\n) in
 * h[0..n). Returns 0, or -1 when it is not HTTP/1.x. */
static int parse_head(const char *h, size_t n, struct req *r)
{
    const char *end = h + n, *eol = memmem(h, n, "\r\n", 2);
    /* Request line: METHOD SP TARGET SP HTTP/1.x */
    const char *sp1 = memchr(h, ' ', (size_t)(eol - h));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1))
                          : NULL;
    if (!sp1 || sp1 == h || !sp2 || sp2 == sp1 + 1 || eol - sp2 != 9 ||
        memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
        (sp2[8] != '0' && sp2[8] != '1'))
        return -1;
    r->body = 0;
    r->close = sp2[8] == '0'; /* HTTP/1.0 closes unless asked not to */
    r->chunked = 0;
    for (const char *p = eol + 2; p < end - 2; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return -1;
        const char *v = colon + 1, *ve = eol;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t name = (size_t)(colon - p), vn = (size_t)(ve - v);
        if (token_is(p, name, "content-length")) {
            uint64_t len = 0;
            if (vn == 0 || vn > 18)
                return -1;
            for (const char *d = v; d < ve; d++) {
                if (*d < '0' || *d > '9')
                    return -1;
                len = len * 10 + (uint64_t)(*d - '0');
            }
            r->body = len;
        } else if (token_is(p, name, "connection")) {
            if (token_is(v, vn, "close"))
                r->close = 1;
            else if (token_is(v, vn, "keep-alive"))
                r->close = 0;
        } else if (token_is(p, name, "transfer-encoding")) {
            r->chunked = 1;
        }
    }
    return 0;
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    char buf[BUF_SIZE];
    size_t start = 0, len = 0; /* unparsed bytes are buf[start..len) */
    uint64_t skip = 0;         /* body bytes still to drop */
    for (;;) {
        if (skip) {
            size_t k = len - start < skip ? len - start : (size_t)skip;
            start += k;
            skip -= k;
        }
        char *end = skip ? NULL
                         : memmem(buf + start, len - start, "\r\n\r\n", 4);
        if (!end) {
            /* Need more: keep the partial head at the front of buf. */
            if (start) {
                memmove(buf, buf + start, len - start);
                len -= start;
                start = 0;
            }
            if (len == sizeof buf) {
                evt_write(c->fd, TOO_BIG, sizeof TOO_BIG - 1, evt_now() + 1000);
                break;
            }
            ssize_t n = evt_read(c->fd, buf + len, sizeof buf - len, -1);
            if (n <= 0)
                break; /* the client left (0), or shutdown (ECANCELED) */
            len += (size_t)n;
            continue;
        }
        size_t head = (size_t)(end + 4 - (buf + start));
        struct req r;
        if (parse_head(buf + start, head, &r) < 0) {
            evt_write(c->fd, BAD, sizeof BAD - 1, evt_now() + 1000);
            break;
        }
        if (r.chunked) {
            evt_write(c->fd, NO_CHUNKS, sizeof NO_CHUNKS - 1,
                      evt_now() + 1000);
            break;
        }
        start += head;
        skip = r.body;
        double held = 0;
        if (delay_ms > 0) {
            double t0 = bench_now_s();
            if (evt_sleep(evt_now() + delay_ms) < 0)
                break;
            held = bench_now_s() - t0;
        }
        if (evt_write(c->fd, OK, sizeof OK - 1, -1) < 0)
            break;
        requests++;
        delay_sum_s += held;
        if (r.close)
            break;
    }
    evt_close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nconns--;
    free(c);
    return NULL;
}

static void *acceptor(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int fd = evt_accept(lfd, NULL, NULL, -1);
        if (fd < 0) {
            if (errno == ECANCELED)
                break;
            /* Out of fds (or memory): say so once in a while, and let
             * connections end before taking more. */
            perror("bench_http_server: accept");
            if (evt_sleep(evt_now() + 100) < 0)
                break;
            continue;
        }
        struct conn *c = malloc(sizeof *c);
        if (!c) {
            evt_close(fd);
            continue;
        }
        c->fd = fd;
        c->prev = NULL;
        c->next = conns;
        c->co = evt_spawn(conn_main, c);
        if (!c->co) {
            perror("bench_http_server: spawn");
            evt_close(fd);
            free(c);
            continue;
        }
        evt_detach(c->co);
        if (conns)
            conns->prev = c;
        conns = c;
        if (++nconns > max_conns)
            max_conns = nconns;
    }
    return NULL;
}

static void usage(void)
{
    fputs("usage: bench_http_server --port P [--delay-ms MS] [--host ADDR]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        char *e;
        if (!strcmp(argv[i], "--port")) {
            port = strtol(argv[++i], &e, 10);
            if (*e || port < 0 || port > 65535)
                usage();
        } else if (!strcmp(argv[i], "--delay-ms")) {
            delay_ms = (int)strtol(argv[++i], &e, 10);
            if (*e || delay_ms < 0)
                usage();
        } else if (!strcmp(argv[i], "--host")) {
            host = argv[++i];
        } else {
            usage();
        }
    }
    if (port < 0)
        usage();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* The signals come through a signalfd that a coroutine reads. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int sfd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        perror("bench_http_server: signalfd");
        return 1;
    }
    int lfd = evt_tcp_listen(host, (int)port, 4096);
    if (lfd < 0) {
        fprintf(stderr, "bench_http_server: listen on %s:%ld: %s\n", host,
                port, strerror(errno));
        return 1;
    }
    if (port == 0) {
        printf("port %d\n", evt_local_port(lfd));
        fflush(stdout);
    }
    evt_co_t *acc = evt_spawn(acceptor, &lfd);
    struct signalfd_siginfo si;
    if (evt_read(sfd, &si, sizeof si, -1) < 0)
        perror("bench_http_server: signalfd read");
    evt_cancel(acc);
    evt_join(acc, -1, NULL);
    /* Every connection's blocking call fails with ECANCELED, and each
     * coroutine closes its socket and leaves the list. (Not from the
     * cancelled acceptor: its evt_yield would fail at once.) */
    for (struct conn *c = conns; c; c = c->next)
        evt_cancel(c->co);
    while (nconns)
        evt_yield();
    evt_close(lfd);
    evt_close(sfd);
    printf("http_server_requests %llu req\n", (unsigned long long)requests);
    bench_print("http_server_delay_ms",
                requests ? delay_sum_s * 1000 / (double)requests : 0, "ms");
    printf("http_server_max_conns %zu conns\n", max_conns);
    return 0;
}
