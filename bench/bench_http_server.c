/* http_server: the remote service of the io_batch and HTTP figures. A
 * keep-alive HTTP/1.1 server on the runtime, one coroutine per connection,
 * that holds each answer back --delay-ms (a timerfd, to the microsecond)
 * and then says "ok".
 *
 *   bench_http_server --port P [--delay-ms 10] [--host 127.0.0.1]
 *
 * With --port 0 it prints `port <n>` once listening. On SIGTERM or SIGINT
 * it stops, prints `http_server_requests`, `http_server_delay_ms` (the
 * mean delay it really held answers back, as measured around the hold) and
 * `http_server_max_conns` (the most connections open at once), and exits 0.
 * GET /_stats answers what it measured since the last /_stats (see
 * stats_body) and starts a new window: what a client's run really cost the
 * server, so that its ideal is measured, not assumed. */
#include "bench_common.h"
#include "eventor.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
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

/* One /_stats window. Arrival is the kernel's receive time of a request's
 * last bytes (SO_TIMESTAMPNS), so "service" is the server's whole share of
 * a request, its own lateness in reading included, and "gap" the client's
 * share (its turnaround plus loopback) between an answer and the next
 * request on that connection. */
static struct window {
    uint64_t requests, gaps;
    double hold_s;    /* in hold() (monotonic clock) */
    double service_s; /* arrival -> answer written */
    double late_s;    /* arrival -> the server parsed it */
    double gap_s;     /* answer written -> next arrival, same connection */
    double first_s;   /* the window's first arrival, 0 before it */
    double ramp_s;    /* first arrival -> the last connection's first one */
    unsigned gen;     /* which window: a connection's first in it */
    double t0, cpu0;  /* wall clock and own CPU at the window's start */
    size_t max_conns;
} win;

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
    int stats;      /* GET /_stats */
};

static double real_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* evt_read, and when its bytes came in: the kernel's receive time of the
 * last of them (CLOCK_REALTIME), or now where the kernel gives none. */
static ssize_t read_ts(int fd, char *buf, size_t n, double *arrived)
{
    for (;;) {
        union {
            char b[CMSG_SPACE(sizeof(struct timespec))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = buf, .iov_len = n};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
                           .msg_control = ctl.b,
                           .msg_controllen = sizeof ctl.b};
        ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT);
        if (r >= 0) {
            *arrived = real_now_s();
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c;
                 c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_level == SOL_SOCKET &&
                    c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    *arrived = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
                }
            return r;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (evt_wait_fd(fd, EVT_IN, -1) < 0)
            return -1;
    }
}

/* The /_stats answer: the window's figures as `name value unit` lines,
 * means per request in ms. busy is the server's CPU over wall time (1.0:
 * it had a core to itself and used all of it). */
static int stats_body(char *out, size_t size)
{
    double n = win.requests ? (double)win.requests : 1;
    double wall = bench_now_s() - win.t0;
    return snprintf(out, size,
                    "http_server_requests %llu req\n"
                    "http_server_hold_ms %.4f ms\n"
                    "http_server_service_ms %.4f ms\n"
                    "http_server_late_ms %.4f ms\n"
                    "http_server_gap_ms %.4f ms\n"
                    "http_server_ramp_ms %.4f ms\n"
                    "http_server_cpu_us_per_req %.3f us\n"
                    "http_server_busy %.3f x\n"
                    "http_server_max_conns %zu conns\n",
                    (unsigned long long)win.requests, win.hold_s * 1e3 / n,
                    win.service_s * 1e3 / n, win.late_s * 1e3 / n,
                    win.gaps ? win.gap_s * 1e3 / (double)win.gaps : 0,
                    win.ramp_s * 1e3,
                    (cpu_s() - win.cpu0) * 1e6 / n,
                    wall > 0 ? (cpu_s() - win.cpu0) / wall : 0, win.max_conns);
}

static void window_reset(void)
{
    unsigned gen = win.gen + 1;
    memset(&win, 0, sizeof win);
    win.gen = gen;
    win.t0 = bench_now_s();
    win.cpu0 = cpu_s();
    win.max_conns = nconns;
}

/* Answer /_stats and start a new window. */
static int answer_stats(int fd)
{
    char body[512], msg[640];
    int n = stats_body(body, sizeof body);
    int m = snprintf(msg, sizeof msg,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %d\r\n\r\n%s", n, body);
    window_reset();
    return evt_write(fd, msg, (size_t)m, -1) < 0 ? -1 : 0;
}

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
    r->stats = token_is(sp1 + 1, (size_t)(sp2 - sp1 - 1), "/_stats");
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

/* Hold an answer back delay_ms from now, to the microsecond, on a timerfd
 * of the connection's own. Not evt_sleep: its deadlines are whole
 * milliseconds, so it would release every answer due in one millisecond at
 * once, bursts that no real service makes and that would measure clients
 * on how they take a burst. 0, or -1 (shutdown: ECANCELED). */
static int hold(int *tfd)
{
    if (*tfd < 0 &&
        (*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
        return evt_sleep(evt_now() + delay_ms);
    struct itimerspec it = {.it_value = {delay_ms / 1000,
                                         (long)(delay_ms % 1000) * 1000000}};
    if (timerfd_settime(*tfd, 0, &it, NULL) < 0)
        return -1;
    for (uint64_t n;;) {
        if (read(*tfd, &n, sizeof n) == (ssize_t)sizeof n)
            return 0;
        if (errno != EAGAIN || evt_wait_fd(*tfd, EVT_IN, -1) < 0)
            return -1;
    }
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    char buf[BUF_SIZE];
    size_t start = 0, len = 0; /* unparsed bytes are buf[start..len) */
    uint64_t skip = 0;         /* body bytes still to drop */
    double arrived = 0, answered = 0; /* of the last read; last answer */
    int tfd = -1;                     /* hold's timer */
    unsigned gen = win.gen - 1;       /* the last window it had a request in */
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
            ssize_t n = read_ts(c->fd, buf + len, sizeof buf - len, &arrived);
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
        if (r.stats) {
            if (answer_stats(c->fd) < 0)
                break;
            answered = 0; /* the next gap is not a client's */
            continue;
        }
        double seen = real_now_s(), held = 0;
        if (delay_ms > 0) {
            double t0 = bench_now_s();
            if (hold(&tfd) < 0)
                break;
            held = bench_now_s() - t0;
        }
        if (evt_write(c->fd, OK, sizeof OK - 1, -1) < 0)
            break;
        requests++;
        delay_sum_s += held;
        double done = real_now_s();
        win.requests++;
        win.hold_s += held;
        win.service_s += done - arrived;
        win.late_s += seen - arrived;
        if (win.first_s == 0)
            win.first_s = arrived;
        if (gen != win.gen && arrived - win.first_s > win.ramp_s)
            win.ramp_s = arrived - win.first_s;
        gen = win.gen;
        if (answered > 0) {
            win.gap_s += arrived - answered;
            win.gaps++;
        }
        answered = done;
        if (r.close)
            break;
    }
    evt_close(c->fd);
    if (tfd >= 0)
        evt_close(tfd);
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
        setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){1}, sizeof(int));
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
        if (nconns > win.max_conns)
            win.max_conns = nconns;
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
    window_reset();
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
