/* Helpers of the HTTP tests: bench_http_server in a child process, small
 * scripted servers on coroutines of the test (404, a body cut short, a
 * stalled body, a slow answer, redirects, an echo), fd counting. */
#ifndef EVT_TESTS_HTTP_TEST_H
#define EVT_TESTS_HTTP_TEST_H

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventor.h"

static inline void show_fds(void)
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
static inline int count_fds(void)
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
    FILE *out; /* its stdout: what it says when it stops */
} server_t;

/* The child dies with the test process (PR_SET_PDEATHSIG), so a failed
 * assertion, which exits at once, leaves no server behind. */
static inline server_t server_start(int delay_ms)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    char delay[16];
    snprintf(delay, sizeof delay, "%d", delay_ms);
    char *argv[] = {EVT_HTTP_SERVER, "--port", "0", "--host", "127.0.0.1",
                    "--delay-ms", delay, NULL};
    server_t s = {0};
    s.pid = fork();
    cr_assert_geq(s.pid, 0);
    if (s.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    cr_assert_eq(fscanf(f, "port %d", &s.port), 1, "no port from the server");
    s.out = f;
    return s;
}

/* Stop it; the most connections it had open at once (-1: not said). */
static inline long server_stop(server_t s)
{
    kill(s.pid, SIGTERM);
    char line[128];
    long most = -1;
    while (fgets(line, sizeof line, s.out))
        sscanf(line, "http_server_max_conns %ld", &most);
    fclose(s.out);
    int st;
    cr_assert_eq(waitpid(s.pid, &st, 0), s.pid);
    return most;
}

/* nginx (Debian's, /usr/sbin/nginx) serving dir on a free port, in the
 * foreground, with gzip on (so that a client asking for it gets a chunked
 * body). */
typedef struct nginx {
    pid_t pid;
    int port;
    char conf[512];
} nginx_t;

static inline int port_free(int port)
{
    int fd = evt_tcp_listen("127.0.0.1", port, 1);
    if (fd >= 0)
        evt_close(fd);
    return fd >= 0;
}

static inline nginx_t nginx_start(const char *dir)
{
    nginx_t n = {0};
    int lfd = evt_tcp_listen("127.0.0.1", 0, 1);
    n.port = evt_local_port(lfd);
    evt_close(lfd);
    snprintf(n.conf, sizeof n.conf, "%s/nginx.conf", dir);
    FILE *f = fopen(n.conf, "w");
    cr_assert(f);
    fprintf(f, "daemon off; master_process off; pid %s/nginx.pid;\n"
               "error_log stderr crit;\n"
               "events { worker_connections 256; }\n"
               "http { access_log off; client_body_temp_path %s;\n"
               "  proxy_temp_path %s; fastcgi_temp_path %s; uwsgi_temp_path %s;\n"
               "  scgi_temp_path %s;\n"
               "  gzip on; gzip_min_length 0; gzip_types text/plain;\n"
               "  server { listen 127.0.0.1:%d; root %s; } }\n",
            dir, dir, dir, dir, dir, dir, n.port, dir);
    fclose(f);
    char *argv[] = {"/usr/sbin/nginx", "-p", (char *)dir, "-c", n.conf,
                    "-e", "stderr", NULL};
    n.pid = fork();
    cr_assert_geq(n.pid, 0);
    if (n.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(argv[0], argv);
        _exit(127);
    }
    /* Listening once the port is taken; a deadline keeps a broken start
     * from hanging the test. */
    int64_t dl = evt_now() + 10000;
    while (port_free(n.port) && evt_now() < dl)
        evt_sleep(evt_now() + 10);
    cr_assert(!port_free(n.port), "nginx did not listen on %d", n.port);
    return n;
}

static inline void nginx_stop(nginx_t n)
{
    kill(n.pid, SIGQUIT);
    int st;
    cr_assert_eq(waitpid(n.pid, &st, 0), n.pid);
}

/* A body collected into a small buffer. */
typedef struct body {
    char buf[256];
    size_t len;
} body_t;

static inline size_t on_body(char *p, size_t size, size_t n, void *user)
{
    body_t *b = user;
    size_t len = size * n, room = sizeof b->buf - 1 - b->len;
    memcpy(b->buf + b->len, p, len < room ? len : room);
    b->len += len < room ? len : room;
    b->buf[b->len] = 0;
    return len;
}

static inline CURL *easy_get(int port, const char *path, body_t *b)
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

static inline long status_of(CURL *e)
{
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

/* A scripted server on a coroutine of the test: answers every connection
 * as mode says, counts requests and how many were open at once. */
/* REDIRECT: /loop redirects to itself, any other path to /final, which
 * answers "final". ECHO: the body is the request, head and body as came. */
enum mode { NOT_FOUND, CUT_SHORT, STALL, SLOW_OK, REDIRECT, ECHO };

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

static inline void *answer(void *arg);

static inline void *script_accept(void *arg)
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

static inline void *answer(void *arg)
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
    if (s->mode == ECHO) {
        /* The body, as long as Content-Length says. */
        char *cl = memmem(head, n, "Content-Length: ", 16);
        size_t want = cl ? strtoul(cl + 16, NULL, 10) : 0;
        size_t got = n - (size_t)((char *)memmem(head, n, "\r\n\r\n", 4) + 4 - head);
        while (got < want && n < sizeof head) {
            ssize_t r = evt_read(fd, head + n, sizeof head - n, evt_now() + 10000);
            if (r <= 0)
                goto out;
            n += (size_t)r;
            got += (size_t)r;
        }
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
    case REDIRECT: {
        char r[256];
        int len;
        if (!strncmp(head, "GET /final ", 11))
            len = snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                           "Connection: close\r\n\r\nfinal");
        else
            len = snprintf(r, sizeof r, "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
                           "Content-Length: 0\r\nConnection: close\r\n\r\n",
                           strncmp(head, "GET /loop ", 10) ? "/final" : "/loop");
        evt_write(fd, r, (size_t)len, -1);
        break;
    }
    case ECHO: {
        char r[128];
        int len = snprintf(r, sizeof r, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                           "X-Echo: yes\r\nConnection: close\r\n\r\n", n);
        evt_write(fd, r, (size_t)len, -1);
        evt_write(fd, head, n, -1);
        break;
    }
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

static inline void script_start(script_t *s, enum mode mode)
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

static inline void script_stop(script_t *s)
{
    evt_cancel(s->co);
    cr_assert_eq(evt_join(s->co, evt_now() + 10000, NULL), 0);
    evt_close(s->lfd);
    cr_assert_eq(evt_wg_wait(s->conns, evt_now() + 10000), 0);
    evt_wg_free(s->conns);
    evt_event_free(s->stalled);
}

#endif
