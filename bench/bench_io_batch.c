/* io_batch: the IO-bound batch the runtime is for. R keep-alive HTTP/1.1
 * GETs over C connections, one coroutine per connection doing R/C requests
 * in a row, against a server that holds each answer back D ms; the ideal
 * wall time is ceil(R/C) x D.
 *
 *   bench_io_batch [--port P] [--host H] [--requests 20000] [--conns 200]
 *                  [--delay-ms 10]
 *
 * Without --port it starts bench_http_server (next to this program) in a
 * child process on a free port, forked before any thread exists, and stops
 * it at the end; then it also reports the delay the server really held each
 * answer back (io_batch_server_delay_ms), which bounds what any client can
 * reach. Prints io_batch_wall_s and io_batch_vs_ideal. */
#include "bench_common.h"
#include "eventor.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS 30000 /* per step: a broken run fails instead of hanging */

static const char *host = "127.0.0.1";
static int port = -1;
static char request[256];
static size_t request_len;

/* One connection's work and outcome. */
struct client {
    long requests;  /* to make, one after the other */
    long done;      /* answered with 200 */
    const char *err; /* what went wrong, or NULL */
    int errnum;      /* errno of it, or 0 */
};

/* Read one response from fd into buf (keeping what follows it for the next
 * call): status line, headers, Content-Length, body. 0 when it is a 200,
 * or -1 with c->err set. */
static int read_response(int fd, char *buf, size_t cap, size_t *start,
                         size_t *len, struct client *c)
{
    char *end;
    while (!(end = memmem(buf + *start, *len - *start, "\r\n\r\n", 4))) {
        if (*start) {
            memmove(buf, buf + *start, *len - *start);
            *len -= *start;
            *start = 0;
        }
        if (*len == cap) {
            c->err = "response head too large";
            return -1;
        }
        ssize_t n = evt_read(fd, buf + *len, cap - *len,
                             evt_now() + TIMEOUT_MS);
        if (n <= 0) {
            c->err = n ? "read" : "server closed the connection";
            c->errnum = n ? errno : 0;
            return -1;
        }
        *len += (size_t)n;
    }
    char *h = buf + *start, *he = end + 2; /* headers end with a \r\n */
    char *eol = memmem(h, (size_t)(he - h), "\r\n", 2);
    /* "HTTP/1.x 200 ..." */
    if (eol - h < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ') {
        c->err = "bad status line";
        return -1;
    }
    if (memcmp(h + 9, "200", 3) != 0 || (eol - h > 12 && h[12] != ' ')) {
        c->err = "status is not 200";
        return -1;
    }
    long clen = -1;
    for (char *p = eol + 2; p < he; p = eol + 2) {
        eol = memmem(p, (size_t)(he - p), "\r\n", 2);
        char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon) {
            c->err = "bad header";
            return -1;
        }
        if (colon - p == 14 && !strncasecmp(p, "content-length", 14)) {
            char *v = colon + 1, *ve;
            while (*v == ' ' || *v == '\t')
                v++;
            errno = 0;
            clen = strtol(v, &ve, 10);
            while (ve < eol && (*ve == ' ' || *ve == '\t'))
                ve++;
            if (errno || ve != eol || clen < 0 || v == ve) {
                c->err = "bad Content-Length";
                return -1;
            }
        }
    }
    if (clen < 0) {
        c->err = "response without Content-Length";
        return -1;
    }
    *start = (size_t)(end + 4 - buf);
    /* The body: drop clen bytes, reading more as needed. */
    while ((long)(*len - *start) < clen) {
        clen -= (long)(*len - *start);
        *start = *len = 0;
        ssize_t n = evt_read(fd, buf, cap, evt_now() + TIMEOUT_MS);
        if (n <= 0) {
            c->err = n ? "read body" : "server closed during the body";
            c->errnum = n ? errno : 0;
            return -1;
        }
        *len = (size_t)n;
    }
    *start += (size_t)clen;
    return 0;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    int fd = evt_tcp_connect(host, port, evt_now() + TIMEOUT_MS);
    if (fd < 0) {
        c->err = "connect";
        c->errnum = errno;
        return NULL;
    }
    char buf[4096];
    size_t start = 0, len = 0;
    for (long i = 0; i < c->requests; i++) {
        if (evt_write(fd, request, request_len, evt_now() + TIMEOUT_MS) < 0) {
            c->err = "write";
            c->errnum = errno;
            break;
        }
        if (read_response(fd, buf, sizeof buf, &start, &len, c) < 0)
            break;
        c->done++;
    }
    evt_close(fd);
    return NULL;
}

/* The server child: its pid and the read end of its stdout. */
static pid_t server_pid = -1;
static int server_out = -1;

/* Read one line of the server's stdout into line, waiting at most
 * timeout_ms. 0, or -1 at end of output or timeout. Called without the
 * runtime: nothing else runs meanwhile. */
static int server_line(char *line, size_t cap, int timeout_ms)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = {.fd = server_out, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) <= 0)
            return -1;
        if (read(server_out, line + n, 1) != 1)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    return 0;
}

static int start_server(int delay_ms)
{
    char exe[PATH_MAX], path[PATH_MAX + 32], delay[16];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) {
        perror("bench_io_batch: /proc/self/exe");
        return -1;
    }
    exe[n] = 0;
    snprintf(path, sizeof path, "%s/bench_http_server", dirname(exe));
    snprintf(delay, sizeof delay, "%d", delay_ms);
    int p[2];
    if (pipe(p) < 0) {
        perror("bench_io_batch: pipe");
        return -1;
    }
    server_pid = fork();
    if (server_pid < 0) {
        perror("bench_io_batch: fork");
        return -1;
    }
    if (server_pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(path, path, "--port", "0", "--delay-ms", delay, "--host", host,
              (char *)NULL);
        fprintf(stderr, "bench_io_batch: %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(p[1]);
    server_out = p[0];
    char line[64];
    if (server_line(line, sizeof line, 10000) < 0 ||
        sscanf(line, "port %d", &port) != 1) {
        fprintf(stderr, "bench_io_batch: %s did not say its port\n", path);
        return -1;
    }
    return 0;
}

/* Stop the server; its mean real delay in ms, or -1. */
static double stop_server(void)
{
    if (server_pid <= 0)
        return -1;
    kill(server_pid, SIGTERM);
    double delay = -1;
    char line[128], name[64];
    double v;
    while (server_line(line, sizeof line, 10000) == 0)
        if (sscanf(line, "%63s %lf", name, &v) == 2 &&
            !strcmp(name, "http_server_delay_ms"))
            delay = v;
    int st;
    waitpid(server_pid, &st, 0);
    close(server_out);
    return delay;
}

static void usage(void)
{
    fputs("usage: bench_io_batch [--port P] [--host H] [--requests R] "
          "[--conns C] [--delay-ms D]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    long requests = 20000, nconns = 200, delay_ms = 10;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *opt = argv[i], *val = argv[++i];
        char *e;
        if (!strcmp(opt, "--host")) {
            host = val;
            continue;
        }
        long v = strtol(val, &e, 10);
        if (*e || v < 0)
            usage();
        if (!strcmp(opt, "--port") && v > 0 && v <= 65535)
            port = (int)v;
        else if (!strcmp(opt, "--requests") && v > 0)
            requests = v;
        else if (!strcmp(opt, "--conns") && v > 0)
            nconns = v;
        else if (!strcmp(opt, "--delay-ms"))
            delay_ms = v;
        else
            usage();
    }
    if (nconns > requests)
        nconns = requests;
    /* Before the runtime makes any thread (and before it opens anything). */
    if (port < 0 && start_server((int)delay_ms) < 0) {
        stop_server();
        return 1;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
                                   host, port);
    struct client *cl = calloc((size_t)nconns, sizeof *cl);
    evt_co_t **co = calloc((size_t)nconns, sizeof *co);
    if (!cl || !co) {
        perror("bench_io_batch");
        stop_server();
        return 1;
    }
    long per = requests / nconns, extra = requests % nconns;
    for (long i = 0; i < nconns; i++)
        cl[i].requests = per + (i < extra);
    double t0 = bench_now_s();
    for (long i = 0; i < nconns; i++) {
        co[i] = evt_spawn(client_main, &cl[i]);
        if (!co[i]) {
            perror("bench_io_batch: spawn");
            stop_server();
            return 1;
        }
    }
    for (long i = 0; i < nconns; i++)
        evt_join(co[i], -1, NULL);
    double wall = bench_now_s() - t0;
    double server_delay = stop_server();
    long done = 0, failed = 0;
    for (long i = 0; i < nconns; i++) {
        done += cl[i].done;
        if (cl[i].err && !failed++)
            fprintf(stderr, "bench_io_batch: connection %ld: %s%s%s\n", i,
                    cl[i].err, cl[i].errnum ? ": " : "",
                    cl[i].errnum ? strerror(cl[i].errnum) : "");
    }
    if (failed) {
        fprintf(stderr, "bench_io_batch: %ld of %ld connections failed, "
                        "%ld of %ld requests answered\n",
                failed, nconns, done, requests);
        return 1;
    }
    double ideal = (double)(per + (extra > 0)) * (double)delay_ms / 1000.0;
    bench_print("io_batch_wall_s", wall, "s");
    if (ideal > 0)
        bench_print("io_batch_vs_ideal", wall / ideal, "x");
    if (server_delay >= 0)
        bench_print("io_batch_server_delay_ms", server_delay, "ms");
    free(cl);
    free(co);
    return 0;
}
