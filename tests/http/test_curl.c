/* Tests of evt_curl_perform (src/http/curl.c): libcurl transfers on the
 * reactor against real servers on loopback: bench_http_server in a child
 * process, and small scripted servers on coroutines of the test (404, a
 * body cut short, a stalled body, counted concurrency). */
#include "http_test.h"

#include <pthread.h>

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
    cr_assert_eq(ok, GETTERS * PER_GETTER);
    /* One after another they take 20 s; at once, 4 rounds of 100 ms. */
    cr_assert_lt(took, 5000, "200 GETs took %lld ms", (long long)took);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
    if (count_fds() != fds) show_fds();
    cr_assert_eq(count_fds(), fds, "fds left open");
}

/* --- the per-host limit, counted on the server ---------------------------- */

#define HOST_GETTERS 40
#define HOST_LIMIT 3

static void *get_once(void *arg)
{
    body_t b = {0};
    CURL *e = easy_get(*(int *)arg, "/", &b);
    intptr_t ok = evt_curl_perform(e, evt_now() + 30000) == 0 &&
                  status_of(e) == 200;
    curl_easy_cleanup(e);
    return (void *)ok;
}

/* HOST_GETTERS coroutines, one GET each of a server holding every answer
 * 50 ms, under a per-host limit of per_host (0: none): the most
 * connections the server had open at once. The thread's multi goes at the
 * end, and the limit with it. */
static long most_connections(size_t per_host)
{
    server_t srv = server_start(50);
    if (per_host)
        cr_assert_eq(evt_curl_set_max_host_connections(per_host), 0);
    evt_co_t *co[HOST_GETTERS];
    for (int i = 0; i < HOST_GETTERS; i++)
        co[i] = evt_spawn(get_once, &srv.port);
    intptr_t ok = 0;
    for (int i = 0; i < HOST_GETTERS; i++) {
        void *r;
        cr_assert_eq(evt_join(co[i], evt_now() + 60000, &r), 0);
        ok += (intptr_t)r;
    }
    cr_assert_eq(ok, HOST_GETTERS, "%ld of %d GETs answered 200", (long)ok,
                 HOST_GETTERS);
    cr_assert_eq(evt_curl_cleanup(), 0);
    return server_stop(srv);
}

Test(curl, per_host_limit_holds_on_the_server)
{
    /* The control: without the limit the GETs overlap on more. */
    long without = most_connections(0);
    cr_assert_gt(without, HOST_LIMIT, "without a limit: %ld at once", without);
    long with = most_connections(HOST_LIMIT);
    cr_assert(with >= 1 && with <= HOST_LIMIT,
              "limit %d: the server saw %ld at once", HOST_LIMIT, with);
    cr_assert_eq(evt_curl_set_max_host_connections(0), 0); /* 0: no limit */
    cr_assert_eq(evt_curl_cleanup(), 0);
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
    cr_assert_eq(evt_curl_result(), CURLE_OK);
    cr_assert_eq(status_of(e), 404);
    cr_assert_str_eq(b.buf, "not found");
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
    cr_assert_eq(errno, ECONNREFUSED, "%s", strerror(errno));
    cr_assert_eq(evt_curl_result(), CURLE_COULDNT_CONNECT);
    curl_easy_cleanup(e);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

/* --- CURLOPT_CONNECT_ONLY: the connection is the caller's ---------------- */

/* One exchange over a connect-only handle's connection, as libcurl's
 * sendrecv example does it (curl_easy_send, then curl_easy_recv until the
 * server closes, waiting on the socket at CURLE_AGAIN): the answer. */
static size_t exchange(CURL *e, const char *req, char *buf, size_t size)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    cr_assert_eq(curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &fd), CURLE_OK);
    cr_assert_neq(fd, CURL_SOCKET_BAD, "no socket after the connect");
    size_t sent = 0, len = strlen(req);
    while (sent < len) {
        size_t n = 0;
        CURLcode cc = curl_easy_send(e, req + sent, len - sent, &n);
        if (cc == CURLE_AGAIN)
            cr_assert_eq(evt_wait_fd(fd, EVT_OUT, evt_now() + 10000), EVT_OUT);
        else
            cr_assert_eq(cc, CURLE_OK, "%s", curl_easy_strerror(cc));
        sent += n;
    }
    size_t got = 0;
    for (;;) {
        size_t n = 0;
        CURLcode cc = curl_easy_recv(e, buf + got, size - 1 - got, &n);
        if (cc == CURLE_AGAIN) {
            cr_assert_eq(evt_wait_fd(fd, EVT_IN, evt_now() + 10000), EVT_IN);
            continue;
        }
        cr_assert_eq(cc, CURLE_OK, "%s", curl_easy_strerror(cc));
        if (n == 0)
            break;
        got += n;
    }
    buf[got] = 0;
    return got;
}

Test(curl, connect_only_leaves_the_connection_to_the_handle)
{
    int fds = count_fds();
    script_t s;
    script_start(&s, ECHO);
    char buf[4096];
    body_t unused = {0}; /* a connect-only transfer gets no body */
    CURL *e = easy_get(s.port, "/", &unused);
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    /* The handle performed again connects afresh; the old connection
     * goes (the server saw it close: one connection open at a time). */
    for (int round = 1; round <= 2; round++) {
        cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "%s",
                     strerror(errno));
        exchange(e, "GET /mine HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf);
        cr_assert(strstr(buf, "X-Echo: yes") && strstr(buf, "GET /mine "),
                  "round %d: %s", round, buf);
        cr_assert_eq(s.requests, round);
    }
    cr_assert_eq(s.max_open, 1);
    /* Other transfers of the thread meanwhile are not disturbed. */
    body_t b = {0};
    CURL *g = easy_get(s.port, "/plain", &b);
    cr_assert_eq(evt_curl_perform(g, evt_now() + 10000), 0);
    cr_assert(strstr(b.buf, "GET /plain "), "%s", b.buf);
    curl_easy_cleanup(g);
    curl_easy_cleanup(e); /* takes it out of the multi; the socket goes */
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
    cr_assert_eq(count_fds(), fds, "fds left open");
}

Test(curl, server_closing_mid_body_is_eio)
{
    script_t s;
    script_start(&s, CUT_SHORT);
    body_t b = {0};
    CURL *e = easy_get(s.port, "/", &b);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), -1);
    cr_assert_eq(errno, EIO, "%s", strerror(errno));
    cr_assert_eq(evt_curl_result(), CURLE_PARTIAL_FILE, "%s",
                 curl_easy_strerror(evt_curl_result()));
    cr_assert_str_eq(b.buf, "partial body");
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
    cr_assert_eq(errno, ETIMEDOUT, "%s", strerror(errno));
    cr_assert_eq(evt_curl_result(), CURLE_OPERATION_TIMEDOUT);
    cr_assert(evt_event_is_set(s.stalled), "the body had started");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/again", nf.port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    b.len = 0;
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "%s",
                 strerror(errno));
    cr_assert_eq(status_of(e), 404);
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
    cr_assert_eq((intptr_t)r, ECANCELED);
    cr_assert_eq(evt_curl_result(), CURLE_ABORTED_BY_CALLBACK);
    curl_easy_cleanup(e);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
    if (count_fds() != fds) show_fds();
    cr_assert_eq(count_fds(), fds, "fds left open");
}

/* --- pause ---------------------------------------------------------------- */

/* Callbacks that hold the transfer back once (CURL_WRITEFUNC_PAUSE, or an
 * upload's CURL_READFUNC_PAUSE) and tell the test; the test's coroutine
 * resumes it with curl_easy_pause, as libcurl's documentation has it, from
 * outside libcurl's callbacks. */
typedef struct paused {
    body_t body;
    const char *upload; /* the request body, read_held_once gives it */
    size_t sent;
    int held;
    evt_event_t *at_pause;
} paused_t;

static size_t write_held_once(char *p, size_t size, size_t n, void *user)
{
    paused_t *pz = user;
    if (!pz->held++) {
        evt_event_set(pz->at_pause);
        return CURL_WRITEFUNC_PAUSE;
    }
    return on_body(p, size, n, &pz->body);
}

static size_t read_held_once(char *p, size_t size, size_t n, void *user)
{
    paused_t *pz = user;
    if (!pz->held++) {
        evt_event_set(pz->at_pause);
        return CURL_READFUNC_PAUSE;
    }
    size_t k = strlen(pz->upload + pz->sent);
    if (k > size * n)
        k = size * n;
    memcpy(p, pz->upload + pz->sent, k);
    pz->sent += k;
    return k;
}

/* Perform e on a coroutine; once a callback has paused it and the driver
 * has parked, resume it from here. The transfer must then end at once: no
 * timer of libcurl's own (happy eyeballs' 200 ms by default) wakes the
 * driver before the join's deadline. */
static void pause_then_resume(CURL *e, paused_t *pz)
{
    curl_easy_setopt(e, CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS, 60000L);
    evt_co_t *co = evt_spawn(perform_forever, e);
    cr_assert_eq(evt_event_wait(pz->at_pause, evt_now() + 10000), 0);
    cr_assert_eq(evt_sleep(evt_now() + 20), 0); /* the driver parks */
    cr_assert_eq(curl_easy_pause(e, CURLPAUSE_CONT), CURLE_OK);
    void *r;
    cr_assert_eq(evt_join(co, evt_now() + 5000, &r), 0,
                 "the resumed transfer did not finish");
    cr_assert_eq((intptr_t)r, 0);
}

/* Resuming a held body makes libcurl ask for a timeout of 0: the thread's
 * driver, parked with no deadline, must hear of it. */
Test(curl, paused_transfer_resumes_from_a_coroutine)
{
    server_t srv = server_start(0);
    paused_t pz = {.at_pause = evt_event_new()};
    CURL *e = easy_get(srv.port, "/", &pz.body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_held_once);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &pz);
    pause_then_resume(e, &pz);
    cr_assert_str_eq(pz.body.buf, "ok");
    curl_easy_cleanup(e);
    evt_event_free(pz.at_pause);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

/* Resuming a held upload makes libcurl ask for a timeout of 0 and watch
 * the socket for writing again: the driver must hear of one or the other
 * (it fails only with both lost). The echo server answers only once the
 * whole body has come. */
Test(curl, paused_upload_resumes_from_a_coroutine)
{
    script_t s;
    script_start(&s, ECHO);
    paused_t pz = {.upload = "ten bytes!", .at_pause = evt_event_new()};
    CURL *e = easy_get(s.port, "/up", &pz.body);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE, (long)strlen(pz.upload));
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_held_once);
    curl_easy_setopt(e, CURLOPT_READDATA, &pz);
    /* Nor libcurl's 1 s wait for a "100 Continue" (7.88 asks for one on
     * every PUT with a body). */
    struct curl_slist *no_expect = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, no_expect);
    pause_then_resume(e, &pz);
    cr_assert(strstr(pz.body.buf, "PUT /up ") &&
                  strstr(pz.body.buf, "\r\n\r\nten bytes!"),
              "%s", pz.body.buf);
    curl_easy_cleanup(e);
    curl_slist_free_all(no_expect);
    evt_event_free(pz.at_pause);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
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
    cr_assert_eq(errno, EINVAL);
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
        cr_assert_eq((intptr_t)r, 0, "transfer %d: %s", i,
                     strerror((int)(intptr_t)r));
        cr_assert_str_eq(b[i].buf, "ok");
        curl_easy_cleanup(e[i]);
    }
    cr_assert_eq(s.requests, N);
    cr_assert_eq(s.max_open, 1, "%d answered at once", s.max_open);
    script_stop(&s);
    cr_assert_eq(evt_curl_set_max_transfers(256), 0);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

/* Ramp-up: transfers that need a new connection go into libcurl in
 * slices, so that the first requests leave before every connect is made,
 * and no slice waits for the connects of the one before. libcurl's
 * socket-option callback runs for each socket before its connect, its
 * pre-request callback after the connect, before the request is sent. */
#define RAMP 64
static int ramp_opened, ramp_first_sent = -1, ramp_opened_by_first_end;

static int count_socket(void *user, curl_socket_t fd, curlsocktype purpose)
{
    (void)user, (void)fd, (void)purpose;
    ramp_opened++;
    return CURL_SOCKOPT_OK;
}

static int note_first_request(void *user, char *ip, char *local_ip,
                              int port, int local_port)
{
    (void)user, (void)ip, (void)local_ip, (void)port, (void)local_port;
    if (ramp_first_sent < 0)
        ramp_first_sent = ramp_opened;
    return CURL_PREREQFUNC_OK;
}

/* RAMP transfers at once to port, each given timeout_ms; how many
 * succeeded. */
static int ramp_run(int port, long timeout_ms)
{
    ramp_opened = 0;
    ramp_first_sent = -1;
    static body_t b[RAMP];
    memset(b, 0, sizeof b);
    CURL *e[RAMP];
    evt_co_t *co[RAMP];
    for (int i = 0; i < RAMP; i++) {
        e[i] = easy_get(port, "/", &b[i]);
        curl_easy_setopt(e[i], CURLOPT_SOCKOPTFUNCTION, count_socket);
        curl_easy_setopt(e[i], CURLOPT_PREREQFUNCTION, note_first_request);
        curl_easy_setopt(e[i], CURLOPT_TIMEOUT_MS, timeout_ms);
        co[i] = evt_spawn(perform_once, e[i]);
    }
    int ok = 0;
    for (int i = 0; i < RAMP; i++) {
        void *r;
        cr_assert_eq(evt_join(co[i], evt_now() + 30000, &r), 0);
        if (i == 0) /* the first admitted, the first to end */
            ramp_opened_by_first_end = ramp_opened;
        ok += (intptr_t)r == 0 && status_of(e[i]) == 200;
        curl_easy_cleanup(e[i]);
    }
    cr_assert_eq(evt_curl_cleanup(), 0);
    return ok;
}

Test(curl, ramp_up_sends_before_every_connect_is_made)
{
    server_t srv = server_start(200); /* no connection is free for reuse */
    cr_assert_eq(ramp_run(srv.port, 20000), RAMP);
    server_stop(srv);
    cr_assert_eq(ramp_opened, RAMP);
    /* All at once, libcurl would make the 64 connects first. */
    cr_assert(ramp_first_sent > 0 && ramp_first_sent <= RAMP / 4,
              "the first request left with %d of %d sockets made",
              ramp_first_sent, RAMP);
}

Test(curl, ramp_up_does_not_wait_for_connects)
{
    /* A listener that never accepts: once its queue holds one connection
     * the kernel drops every other SYN, and those connects never end. */
    int lfd = evt_tcp_listen("127.0.0.1", 0, 0), port = evt_local_port(lfd);
    cr_assert_geq(lfd, 0);
    cr_assert_eq(ramp_run(port, 1000), 0);
    cr_assert_eq(ramp_opened_by_first_end, RAMP,
                 "%d of %d transfers began a connect before the first's "
                 "timeout", ramp_opened_by_first_end, RAMP);
    evt_close(lfd);
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
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(s.requests, 1);
    cr_assert_eq(evt_curl_cleanup(), -1);
    cr_assert_eq(errno, EBUSY);
    evt_cancel(first);
    cr_assert_eq(evt_join(first, evt_now() + 10000, NULL), 0);
    curl_easy_cleanup(e1);
    curl_easy_cleanup(e2);
    script_stop(&s);
    cr_assert_eq(evt_curl_set_max_transfers(256), 0);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

/* A new multi handle after evt_curl_cleanup works like the first: its
 * epoll set may get the old one's fd number. */
Test(curl, cleanup_then_again)
{
    script_t s;
    script_start(&s, NOT_FOUND);
    for (int i = 0; i < 3; i++) {
        body_t b = {0};
        CURL *e = easy_get(s.port, "/", &b);
        cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "round %d: %s",
                     i, strerror(errno));
        cr_assert_eq(status_of(e), 404);
        curl_easy_cleanup(e);
        cr_assert_eq(evt_curl_cleanup(), 0);
    }
    script_stop(&s);
}

/* Large bodies through the driver's write callbacks, several at once on
 * keep-alive connections, and a gzip-chunked one, from nginx. */
typedef struct sink {
    size_t bytes;
    unsigned long sum; /* of every byte, to compare with the file's */
} sink_t;

static size_t on_sink(char *p, size_t size, size_t n, void *user)
{
    sink_t *k = user;
    for (size_t i = 0; i < size * n; i++)
        k->sum += (unsigned char)p[i];
    k->bytes += size * n;
    return size * n;
}

static int nginx_port;

static void *fetch_big(void *arg)
{
    sink_t *k = arg;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/big.bin", nginx_port);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, k);
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) /* the second on a kept connection */
        rc = evt_curl_perform(e, evt_now() + 60000);
    curl_easy_cleanup(e);
    return (void *)(intptr_t)(rc < 0 ? errno : 0);
}

Test(curl, large_and_chunked_bodies_from_nginx)
{
    if (access("/usr/sbin/nginx", X_OK) != 0) {
        cr_skip_test("nginx is not installed (scripts/install-deps.sh)");
        return;
    }
    char dir[] = "/tmp/evt_nginx_XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/big.bin", dir);
    FILE *f = fopen(path, "w");
    unsigned long sum = 0;
    enum { SIZE = 16 << 20 };
    for (size_t i = 0; i < SIZE; i++) {
        int c = (int)((i * 2654435761u) >> 13) & 0xff;
        sum += (unsigned)c;
        fputc(c, f);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/text.txt", dir);
    f = fopen(path, "w");
    for (int i = 0; i < 100000; i++)
        fprintf(f, "line %d\n", i);
    long text_len = ftell(f);
    fclose(f);
    nginx_t n = nginx_start(dir);
    nginx_port = n.port;
    sink_t k[4] = {0};
    evt_co_t *co[4];
    for (int i = 0; i < 4; i++)
        co[i] = evt_spawn(fetch_big, &k[i]);
    for (int i = 0; i < 4; i++) {
        void *r;
        cr_assert_eq(evt_join(co[i], evt_now() + 120000, &r), 0);
        cr_assert_eq((intptr_t)r, 0, "%s", strerror((int)(intptr_t)r));
        cr_assert_eq(k[i].bytes, 2 * (size_t)SIZE);
        cr_assert_eq(k[i].sum, 2 * sum);
    }
    /* gzip: nginx sends it chunked; libcurl decodes both. */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/text.txt", n.port);
    CURL *e = curl_easy_init();
    sink_t t = {0};
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 30000), 0, "%s", strerror(errno));
    curl_off_t wire = 0;
    curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &wire);
    cr_assert_eq(t.bytes, (size_t)text_len);
    cr_assert_lt(wire, text_len / 2, "the body came compressed");
    curl_easy_cleanup(e);
    nginx_stop(n);
    cr_assert_eq(evt_curl_cleanup(), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Each thread has its own multi handle: transfers on two threads at once. */
static void *thread_gets(void *arg)
{
    int port = *(int *)arg;
    intptr_t ok = 0;
    for (int i = 0; i < 20; i++) {
        body_t b = {0};
        CURL *e = easy_get(port, "/", &b);
        ok += evt_curl_perform(e, evt_now() + 10000) == 0 && !strcmp(b.buf, "ok");
        curl_easy_cleanup(e);
    }
    evt_curl_cleanup();
    return (void *)ok;
}

Test(curl, threads_have_their_own_multi)
{
    server_t srv = server_start(1);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, thread_gets, &srv.port), 0);
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        cr_assert_eq((intptr_t)r, 20);
    }
    server_stop(srv);
}

/* From the thread pool's coroutine tasks: the tasks of one pool thread
 * share its multi handle and overlap (the server sees more connections at
 * once than the pool has threads), and each thread's exit closes its
 * connections (no fd left once the pool is freed). */
#define POOL_THREADS 2
#define POOL_COS 8
#define POOL_TASKS 32

static int pool_get(void *arg, void **result)
{
    (void)result;
    body_t b = {0};
    CURL *e = easy_get(*(int *)arg, "/", &b);
    int ok = evt_curl_perform(e, evt_now() + 30000) == 0 &&
             status_of(e) == 200 && !strcmp(b.buf, "ok");
    curl_easy_cleanup(e);
    if (!ok)
        errno = EIO;
    return ok ? 0 : -1;
}

Test(curl, thread_pool_tasks_overlap_and_leave_no_fd)
{
    int fds = count_fds();
    server_t srv = server_start(50);
    evt_threadpool_opts_t o = {.coroutines = POOL_COS};
    evt_threadpool_t *pool = evt_threadpool_new(POOL_THREADS, &o);
    cr_assert(pool);
    void *args[POOL_TASKS];
    int errs[POOL_TASKS];
    for (int i = 0; i < POOL_TASKS; i++)
        args[i] = &srv.port;
    cr_assert_eq(evt_threadpool_map(pool, pool_get, args, NULL, errs,
                                    POOL_TASKS, evt_now() + 60000), 0);
    for (int i = 0; i < POOL_TASKS; i++)
        cr_assert_eq(errs[i], 0, "task %d: %s", i, strerror(errs[i]));
    cr_assert_eq(evt_threadpool_free(pool), 0);
    long most = server_stop(srv);
    cr_assert_gt(most, POOL_THREADS, "the server saw %ld at once", most);
    if (count_fds() != fds) show_fds();
    cr_assert_eq(count_fds(), fds, "fds left open");
}

/* A forked child makes its own multi handle and leaves the parent's
 * connections alone. */
Test(curl, fork_child_starts_afresh)
{
    server_t srv = server_start(0);
    body_t b = {0};
    CURL *e = easy_get(srv.port, "/", &b);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        b.len = 0;
        _exit(evt_curl_perform(e, evt_now() + 10000) == 0 &&
              !strcmp(b.buf, "ok") ? 0 : 1);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed");
    b.len = 0;
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "%s", strerror(errno));
    cr_assert_str_eq(b.buf, "ok");
    curl_easy_cleanup(e);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

/* libcurl's callbacks run on the thread's driver coroutine: a transfer
 * started there would wait for itself, and a driver cancelled there is
 * replaced, so the transfers go on. */
static int callback_rc, callback_errno, cancel_driver;

static size_t nested(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    if (cancel_driver) {
        cancel_driver = 0;
        evt_cancel(evt_self());
    } else if (!callback_rc) {
        callback_rc = evt_curl_perform(user, evt_now() + 1000);
        callback_errno = errno;
    }
    return size * n;
}

Test(curl, calls_from_callbacks)
{
    server_t srv = server_start(0);
    body_t b = {0};
    CURL *inner = easy_get(srv.port, "/", &b), *e = easy_get(srv.port, "/", &b);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, nested);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, inner);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "%s", strerror(errno));
    cr_assert_eq(callback_rc, -1);
    cr_assert_eq(callback_errno, EDEADLK);
    /* A slow transfer is still inside libcurl when the driver is cancelled. */
    script_t slow;
    script_start(&slow, SLOW_OK);
    slow.hold_ms = 200;
    body_t sb = {0};
    CURL *se = easy_get(slow.port, "/", &sb);
    evt_co_t *co = evt_spawn(perform_once, se);
    cancel_driver = 1;
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0, "%s", strerror(errno));
    cr_assert_eq(cancel_driver, 0, "the callback ran");
    void *r;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0);
    cr_assert_eq((intptr_t)r, 0, "%s", strerror((int)(intptr_t)r));
    cr_assert_str_eq(sb.buf, "ok");
    curl_easy_cleanup(se);
    script_stop(&slow);
    b.len = 0;
    cr_assert_eq(evt_curl_perform(inner, evt_now() + 10000), 0, "%s", strerror(errno));
    cr_assert_str_eq(b.buf, "ok");
    curl_easy_cleanup(e);
    curl_easy_cleanup(inner);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(curl, bad_arguments)
{
    cr_assert_eq(evt_curl_perform(NULL, -1), -1);
    cr_assert_eq(errno, EINVAL);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, "nosuchscheme://x/");
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), -1);
    cr_assert_eq(errno, EINVAL, "%s", strerror(errno));
    cr_assert_eq(evt_curl_result(), CURLE_UNSUPPORTED_PROTOCOL);
    curl_easy_cleanup(e);
    cr_assert_eq(evt_curl_cleanup(), 0);
}
