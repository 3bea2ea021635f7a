/* Tests of evt_curl_perform (src/http/curl.c): libcurl transfers on the
 * reactor against real servers on loopback: bench_http_server in a child
 * process, and small scripted servers on coroutines of the test (404, a
 * body cut short, a stalled body, counted concurrency). */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

extern char **environ;

/* --- helpers ------------------------------------------------------------- */

static void show_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; (e = readdir(d));) {
        char p[300], t[300] = "";
        snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(p, t, sizeof t - 1);
        if (n > 0) t[n] = 0;
        fprintf(stderr, "%s -> %s\n", e->d_name, t);
    }
    closedir(d);
}

/* The count of open fds, once the thread's reactor (made on first use)
 * is there. */
static int count_fds(void)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(evt_wait_fd(p[1], EVT_OUT, -1), EVT_OUT);
    evt_close(p[0]);
    evt_close(p[1]);
    DIR *d = opendir("/proc/self/fd");
    cr_assert(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* bench_http_server holding each answer delay_ms, on a free port. */
typedef struct server {
    pid_t pid;
    int port;
} server_t;

static server_t server_start(int delay_ms)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    char delay[16];
    snprintf(delay, sizeof delay, "%d", delay_ms);
    char *argv[] = {EVT_HTTP_SERVER, "--port", "0", "--host", "127.0.0.1",
                    "--delay-ms", delay, NULL};
    server_t s = {0};
    cr_assert_eq(posix_spawn(&s.pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    cr_assert_eq(fscanf(f, "port %d", &s.port), 1, "no port from the server");
    fclose(f);
    return s;
}

static void server_stop(server_t s)
{
    kill(s.pid, SIGTERM);
    int st;
    cr_assert_eq(waitpid(s.pid, &st, 0), s.pid);
}

/* A body collected into a small buffer. */
typedef struct body {
    char buf[256];
    size_t len;
} body_t;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    body_t *b = user;
    size_t len = size * n, room = sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, p, len < room ? len : room);
    b->len += len < room ? len : room;
    b->buf[b->len] = 0;
    return len;
}

static CURL *easy_get(int port, const char *path, body_t *b)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *e = curl_easy_init();
    cr_assert(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
    return e;
}

static long status_of(CURL *e)
{
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* A scripted server on a coroutine of the test: answers every connection
 * as mode says, counts requests and how many were open at once. */
enum mode { NOT_FOUND, CUT_SHORT, STALL, SLOW_OK };

typedef struct script {
    int lfd, port;
    enum mode mode;
    int hold_ms;           /* SLOW_OK: wait this long before answering */
    int open, max_open;    /* connections being answered */
    int requests;
    evt_event_t *stalled;  /* STALL: set once the partial body is out */
    evt_wg_t *conns;       /* connections not yet closed */
    evt_co_t *co;
} script_t;

static void *answer(void *arg);

static void *script_accept(void *arg)
{
    script_t *s = arg;
    for (;;) {
        int fd = evt_accept(s->lfd, NULL, NULL, -1);
        if (fd < 0)
            return NULL;
        evt_wg_add(s->conns, 1);
        void **pair = malloc(2 * sizeof *pair);
        pair[0] = s;
        pair[1] = (void *)(intptr_t)fd;
        evt_detach(evt_spawn(answer, pair));
    }
}

static void *answer(void *arg)
{
    void **pair = arg;
    script_t *s = pair[0];
    int fd = (int)(intptr_t)pair[1];
    free(pair);
    char head[4096];
    size_t n = 0;
    while (!memmem(head, n, "\r\n\r\n", 4) && n < sizeof head) {
        ssize_t r = evt_read(fd, head + n, sizeof head - n, evt_now() + 10000);
        if (r <= 0)
            goto out;
        n += (size_t)r;
    }
    s->requests++;
    if (++s->open > s->max_open)
        s->max_open = s->open;
    static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n"
                             "Connection: close\r\n\r\nnot found";
    static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n"
                               "\r\npartial body";
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             "Connection: close\r\n\r\nok";
    switch (s->mode) {
    case NOT_FOUND:
        evt_write(fd, nf, sizeof nf - 1, -1);
        break;
    case CUT_SHORT:
        evt_write(fd, part, sizeof part - 1, -1);
        break;
    case STALL:
        evt_write(fd, part, sizeof part - 1, -1);
        evt_event_set(s->stalled);
        /* Until the client gives up and closes. */
        while (evt_read(fd, head, sizeof head, evt_now() + 10000) > 0)
            ;
        break;
    case SLOW_OK:
        evt_sleep(evt_now() + s->hold_ms);
        evt_write(fd, ok, sizeof ok - 1, -1);
        break;
    }
    s->open--;
out:
    evt_close(fd);
    evt_wg_done(s->conns);
    return NULL;
}

static void script_start(script_t *s, enum mode mode)
{
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->lfd = evt_tcp_listen("127.0.0.1", 0, 128);
    cr_assert_geq(s->lfd, 0);
    s->port = evt_local_port(s->lfd);
    s->stalled = evt_event_new();
    s->conns = evt_wg_new();
    s->co = evt_spawn(script_accept, s);
}

static void script_stop(script_t *s)
{
    evt_cancel(s->co);
    cr_assert_eq(evt_join(s->co, evt_now() + 10000, NULL), 0);
    evt_close(s->lfd);
    cr_assert_eq(evt_wg_wait(s->conns, evt_now() + 10000), 0);
    evt_wg_free(s->conns);
    evt_event_free(s->stalled);
}

/* --- many transfers at once ---------------------------------------------- */

#define GETTERS 50
#define PER_GETTER 4

static int port_of_run;

static void *getter(void *arg)
{
    (void)arg;
    body_t b;
    CURL *e = easy_get(port_of_run, "/", &b);
    intptr_t ok = 0;
    for (int i = 0; i < PER_GETTER; i++) {
        b.len = 0;
        if (evt_curl_perform(e, evt_now() + 20000) == 0 &&
            status_of(e) == 200 && !strcmp(b.buf, "ok"))
            ok++;
    }
    curl_easy_cleanup(e);
    return (void *)ok;
}

Test(curl, concurrent_gets_overlap_and_leave_no_fd)
{
    int fds = count_fds();
    server_t srv = server_start(100);
    port_of_run = srv.port;
    evt_co_t *co[GETTERS];
    int64_t t0 = evt_now();
    for (int i = 0; i < GETTERS; i++)
        co[i] = evt_spawn(getter, NULL);
    intptr_t ok = 0;
    for (int i = 0; i < GETTERS; i++) {
        void *r;
        cr_assert_eq(evt_join(co[i], evt_now() + 30000, &r), 0);
        ok += (intptr_t)r;
    }
    int64_t took = evt_now() - t0;
    cr_expect_eq(ok, GETTERS * PER_GETTER);
    /* One after another they take 20 s; at once, 4 rounds of 100 ms. */
    cr_expect_lt(took, 5000, "200 GETs took %lld ms", (long long)took);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
    if (count_fds() != fds) show_fds();
    cr_expect_eq(count_fds(), fds, "fds left open");
}

/* --- outcomes -------------------------------------------------------------- */

Test(curl, status_404_is_a_success_with_its_status)
{
    script_t s;
    script_start(&s, NOT_FOUND);
    body_t b = {0};
    CURL *e = easy_get(s.port, "/missing", &b);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "%s",
                 strerror(errno));
    cr_expect_eq(evt_curl_result(), CURLE_OK);
    cr_expect_eq(status_of(e), 404);
    cr_expect_str_eq(b.buf, "not found");
    curl_easy_cleanup(e);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(curl, connection_refused)
{
    int lfd = evt_tcp_listen("127.0.0.1", 0, 1), port = evt_local_port(lfd);
    evt_close(lfd); /* nobody listens there now */
    body_t b = {0};
    CURL *e = easy_get(port, "/", &b);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), -1);
    cr_expect_eq(errno, ECONNREFUSED, "%s", strerror(errno));
    cr_expect_eq(evt_curl_result(), CURLE_COULDNT_CONNECT);
    curl_easy_cleanup(e);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(curl, server_closing_mid_body_is_eio)
{
    script_t s;
    script_start(&s, CUT_SHORT);
    body_t b = {0};
    CURL *e = easy_get(s.port, "/", &b);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), -1);
    cr_expect_eq(errno, EIO, "%s", strerror(errno));
    cr_expect_eq(evt_curl_result(), CURLE_PARTIAL_FILE, "%s",
                 curl_easy_strerror(evt_curl_result()));
    cr_expect_str_eq(b.buf, "partial body");
    curl_easy_cleanup(e);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(curl, deadline_mid_transfer_then_the_handle_is_reused)
{
    script_t s, nf;
    script_start(&s, STALL);
    script_start(&nf, NOT_FOUND);
    body_t b = {0};
    CURL *e = easy_get(s.port, "/", &b);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 300), -1);
    cr_expect_eq(errno, ETIMEDOUT, "%s", strerror(errno));
    cr_expect_eq(evt_curl_result(), CURLE_OPERATION_TIMEDOUT);
    cr_expect(evt_event_is_set(s.stalled), "the body had started");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/again", nf.port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    b.len = 0;
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "%s",
                 strerror(errno));
    cr_expect_eq(status_of(e), 404);
    curl_easy_cleanup(e);
    script_stop(&s);
    script_stop(&nf);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

static void *perform_forever(void *arg)
{
    return (void *)(intptr_t)(evt_curl_perform(arg, -1) < 0 ? errno : 0);
}

Test(curl, cancel_mid_transfer)
{
    int fds = count_fds();
    script_t s;
    script_start(&s, STALL);
    body_t b = {0};
    CURL *e = easy_get(s.port, "/", &b);
    evt_co_t *co = evt_spawn(perform_forever, e);
    cr_assert_eq(evt_event_wait(s.stalled, evt_now() + 10000), 0);
    cr_assert_eq(evt_cancel(co), 0);
    void *r;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0);
    cr_expect_eq((intptr_t)r, ECANCELED);
    cr_expect_eq(evt_curl_result(), CURLE_ABORTED_BY_CALLBACK);
    curl_easy_cleanup(e);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
    if (count_fds() != fds) show_fds();
    cr_expect_eq(count_fds(), fds, "fds left open");
}

/* --- admission ------------------------------------------------------------ */

static void *perform_once(void *arg)
{
    intptr_t err = evt_curl_perform(arg, evt_now() + 20000) < 0 ? errno : 0;
    return (void *)err;
}

Test(curl, admission_bounds_transfers_and_queue_time_is_not_libcurls)
{
    script_t s;
    script_start(&s, SLOW_OK);
    s.hold_ms = 150;
    cr_assert_eq(evt_curl_set_max_transfers(0), -1);
    cr_expect_eq(errno, EINVAL);
    cr_assert_eq(evt_curl_set_max_transfers(1), 0);
    enum { N = 6 };
    body_t b[N] = {0};
    CURL *e[N];
    evt_co_t *co[N];
    for (int i = 0; i < N; i++) {
        e[i] = easy_get(s.port, "/", &b[i]);
        /* Less than the N * 150 ms they take one after another. */
        curl_easy_setopt(e[i], CURLOPT_TIMEOUT_MS, 600L);
        co[i] = evt_spawn(perform_once, e[i]);
    }
    for (int i = 0; i < N; i++) {
        void *r;
        cr_assert_eq(evt_join(co[i], evt_now() + 20000, &r), 0);
        cr_expect_eq((intptr_t)r, 0, "transfer %d: %s", i,
                     strerror((int)(intptr_t)r));
        cr_expect_str_eq(b[i].buf, "ok");
        curl_easy_cleanup(e[i]);
    }
    cr_expect_eq(s.requests, N);
    cr_expect_eq(s.max_open, 1, "%d answered at once", s.max_open);
    script_stop(&s);
    cr_assert_eq(evt_curl_set_max_transfers(256), 0);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(curl, deadline_while_queued)
{
    script_t s;
    script_start(&s, STALL);
    cr_assert_eq(evt_curl_set_max_transfers(1), 0);
    body_t b1 = {0}, b2 = {0};
    CURL *e1 = easy_get(s.port, "/", &b1), *e2 = easy_get(s.port, "/", &b2);
    evt_co_t *first = evt_spawn(perform_forever, e1);
    cr_assert_eq(evt_event_wait(s.stalled, evt_now() + 10000), 0);
    /* e2 waits behind the stalled one and gives up in the queue. */
    cr_assert_eq(evt_curl_perform(e2, evt_now() + 100), -1);
    cr_expect_eq(errno, ETIMEDOUT);
    cr_expect_eq(s.requests, 1);
    cr_assert_eq(evt_curl_cleanup(), -1);
    cr_expect_eq(errno, EBUSY);
    evt_cancel(first);
    cr_assert_eq(evt_join(first, evt_now() + 10000, NULL), 0);
    curl_easy_cleanup(e1);
    curl_easy_cleanup(e2);
    script_stop(&s);
    cr_assert_eq(evt_curl_set_max_transfers(256), 0);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(curl, bad_arguments)
{
    cr_assert_eq(evt_curl_perform(NULL, -1), -1);
    cr_expect_eq(errno, EINVAL);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, "nosuchscheme://x/");
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), -1);
    cr_expect_eq(errno, EINVAL, "%s", strerror(errno));
    cr_expect_eq(evt_curl_result(), CURLE_UNSUPPORTED_PROTOCOL);
    curl_easy_cleanup(e);
    cr_assert_eq(evt_curl_cleanup(), 0);
}
