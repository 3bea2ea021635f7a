/* Tests of the convenience API (src/http/request.c): evt_http_request and
 * evt_http_get against bench_http_server and scripted loopback servers:
 * status, headers, bodies, redirects, bounds, and each kind of error. */
#include "http_test.h"

static char url[256];

static const char *at(int port, const char *path)
{
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    return url;
}

Test(request, get_reads_status_headers_and_body)
{
    int fds = count_fds();
    server_t srv = server_start(0);
    evt_http_resp_t r;
    cr_assert_eq(evt_http_get(at(srv.port, "/"), &r, evt_now() + 10000), 0,
                 "%s", r.message);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.error, EVT_HTTP_OK);
    cr_assert_str_eq(r.body, "ok");
    cr_assert_eq(r.body_len, 2);
    cr_assert_str_eq(evt_http_header(&r, "content-length"), "2");
    cr_assert_null(evt_http_header(&r, "X-Nothing"));
    cr_assert_str_eq(r.message, "");
    evt_http_resp_free(&r);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
    cr_assert_eq(count_fds(), fds);
}

Test(request, status_404_is_not_a_failure)
{
    script_t s;
    script_start(&s, NOT_FOUND);
    evt_http_resp_t r;
    cr_assert_eq(evt_http_get(at(s.port, "/x"), &r, evt_now() + 10000), 0);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.body, "not found");
    cr_assert_str_eq(evt_http_header(&r, "Connection"), "close");
    evt_http_resp_free(&r);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(request, method_headers_and_body_are_sent)
{
    script_t s;
    script_start(&s, ECHO);
    const char *h[] = {"X-Test: yes", NULL};
    evt_http_req_t q = {.method = "PUT", .url = at(s.port, "/echo"),
                        .headers = h, .body = "hello body", .body_len = 10};
    evt_http_resp_t r;
    cr_assert_eq(evt_http_request(&q, &r, evt_now() + 10000), 0, "%s",
                 r.message);
    cr_assert_eq(r.status, 200);
    cr_assert(!strncmp(r.body, "PUT /echo HTTP/1.1\r\n", 20), "%s", r.body);
    cr_assert(strstr(r.body, "\r\nX-Test: yes\r\n"), "%s", r.body);
    cr_assert(r.body_len > 10 && !strcmp(r.body + r.body_len - 10, "hello body"),
              "%s", r.body);
    cr_assert_str_eq(evt_http_header(&r, "x-echo"), "yes");
    evt_http_resp_free(&r);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(request, redirects)
{
    script_t s;
    script_start(&s, REDIRECT);
    evt_http_resp_t r;
    /* Not followed unless asked for. */
    evt_http_req_t q = {.url = at(s.port, "/start")};
    cr_assert_eq(evt_http_request(&q, &r, evt_now() + 10000), 0);
    cr_assert_eq(r.status, 302);
    cr_assert_str_eq(evt_http_header(&r, "Location"), "/final");
    evt_http_resp_free(&r);
    q.max_redirects = 3;
    cr_assert_eq(evt_http_request(&q, &r, evt_now() + 10000), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.redirects, 1);
    cr_assert_str_eq(r.body, "final");
    cr_assert_null(evt_http_header(&r, "Location"), "headers of the last response only");
    evt_http_resp_free(&r);
    q.url = at(s.port, "/loop");
    cr_assert_eq(evt_http_request(&q, &r, evt_now() + 10000), -1);
    cr_assert_eq(errno, ELOOP);
    cr_assert_eq(r.error, EVT_HTTP_EREDIRECT);
    cr_assert_eq(s.requests, 1 + 2 + 4); /* the loop: first try and 3 redirects */
    evt_http_resp_free(&r);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(request, body_over_the_bound)
{
    script_t s;
    script_start(&s, NOT_FOUND);
    evt_http_req_t q = {.url = at(s.port, "/"), .max_body = 4};
    evt_http_resp_t r;
    cr_assert_eq(evt_http_request(&q, &r, evt_now() + 10000), -1);
    cr_assert_eq(errno, EFBIG);
    cr_assert_eq(r.error, EVT_HTTP_ETOOBIG);
    cr_assert_str_eq(evt_http_error_name(r.error), "too big");
    cr_assert_leq(r.body_len, 4);
    evt_http_resp_free(&r);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(request, errors_say_what_happened)
{
    evt_http_resp_t r;
    /* Connect: nobody listens on the port. */
    int lfd = evt_tcp_listen("127.0.0.1", 0, 1), port = evt_local_port(lfd);
    evt_close(lfd);
    cr_assert_eq(evt_http_get(at(port, "/"), &r, evt_now() + 10000), -1);
    cr_assert_eq(errno, ECONNREFUSED);
    cr_assert_eq(r.error, EVT_HTTP_ECONNECT);
    cr_assert_str_eq(evt_http_error_name(r.error), "connect");
    cr_assert_neq(r.message[0], 0);
    evt_http_resp_free(&r);
    /* DNS: .invalid never resolves (RFC 6761). */
    cr_assert_eq(evt_http_get("http://no-such-host.invalid/", &r,
                              evt_now() + 30000), -1);
    cr_assert_eq(errno, EADDRNOTAVAIL, "%s", strerror(errno));
    cr_assert_eq(r.error, EVT_HTTP_EDNS, "%s", r.message);
    evt_http_resp_free(&r);
    /* URL. */
    cr_assert_eq(evt_http_get("nosuch://x/", &r, evt_now() + 10000), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(r.error, EVT_HTTP_EURL);
    evt_http_resp_free(&r);
    cr_assert_eq(evt_http_get(NULL, &r, -1), -1);
    cr_assert_eq(r.error, EVT_HTTP_EURL);
    evt_http_resp_free(&r);
    /* Peer: the body is cut short; what came is kept. */
    script_t s;
    script_start(&s, CUT_SHORT);
    cr_assert_eq(evt_http_get(at(s.port, "/"), &r, evt_now() + 10000), -1);
    cr_assert_eq(errno, EIO);
    cr_assert_eq(r.error, EVT_HTTP_EPEER);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "partial body");
    evt_http_resp_free(&r);
    script_stop(&s);
    /* Timeout: the body stalls past the deadline. */
    script_start(&s, STALL);
    cr_assert_eq(evt_http_get(at(s.port, "/"), &r, evt_now() + 200), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(r.error, EVT_HTTP_ETIMEOUT);
    evt_http_resp_free(&r);
    script_stop(&s);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

/* --- bodies streamed to disk ------------------------------------------- */

#include <fcntl.h>
#include <sys/resource.h>

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int same_files(const char *a, const char *b)
{
    FILE *f = fopen(a, "r"), *g = fopen(b, "r");
    static char x[1 << 16], y[1 << 16];
    int same = f && g;
    while (same) {
        size_t n = fread(x, 1, sizeof x, f), m = fread(y, 1, sizeof y, g);
        same = n == m && !memcmp(x, y, n);
        if (n < sizeof x)
            break;
    }
    if (f)
        fclose(f);
    if (g)
        fclose(g);
    return same;
}

Test(request, a_100_mb_body_streams_to_disk_in_constant_memory)
{
    if (access("/usr/sbin/nginx", X_OK) != 0) {
        cr_skip_test("nginx is not installed (scripts/install-deps.sh)");
        return;
    }
    char dir[] = "/tmp/evt_stream_XXXXXX";
    cr_assert(mkdtemp(dir));
    char src[256], dst[256], bad[256];
    snprintf(src, sizeof src, "%s/big.bin", dir);
    snprintf(dst, sizeof dst, "%s/got.bin", dir);
    snprintf(bad, sizeof bad, "%s/none/got.bin", dir);
    FILE *f = fopen(src, "w");
    static char block[1 << 20];
    enum { MB = 100 };
    for (int i = 0; i < MB; i++) {
        for (size_t j = 0; j < sizeof block; j++)
            block[j] = (char)((j * 2654435761u + (size_t)i) >> 13);
        cr_assert_eq(fwrite(block, 1, sizeof block, f), sizeof block);
    }
    fclose(f);
    nginx_t n = nginx_start(dir);
    evt_http_req_t req = {.url = at(n.port, "/big.bin"), .body_path = dst};
    evt_http_resp_t r;
    long before = max_rss_kb();
    cr_assert_eq(evt_http_request(&req, &r, evt_now() + 60000), 0, "%s",
                 r.message);
    long grew = max_rss_kb() - before;
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, (size_t)MB << 20);
    cr_assert_str_eq(r.body, "");
    evt_http_resp_free(&r);
    /* A body in memory would be 100 MB more; libcurl's buffers are KBs. */
    cr_assert_lt(grew, 16 << 10, "resident memory grew %ld KiB", grew);
    cr_assert(same_files(src, dst), "the file differs from the body");
    /* To the caller's fd, from its offset; a bad fd fails the request. */
    int fd = open(dst, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, "x", 1), 1);
    req = (evt_http_req_t){.url = at(n.port, "/big.bin"), .body_to_fd = 1,
                           .body_fd = fd, .max_body = 1 << 20};
    cr_assert_eq(evt_http_request(&req, &r, evt_now() + 60000), -1);
    cr_assert_eq(errno, EFBIG);
    cr_assert_eq(r.error, EVT_HTTP_ETOOBIG);
    evt_http_resp_free(&r);
    close(fd);
    fd = open(src, O_RDONLY); /* not writable: the write fails */
    req.body_fd = fd;
    req.max_body = 0;
    cr_assert_eq(evt_http_request(&req, &r, evt_now() + 60000), -1);
    cr_assert_eq(errno, EBADF);
    cr_assert_eq(r.error, EVT_HTTP_EOTHER);
    cr_assert(strstr(r.message, "cannot write the body"), "%s", r.message);
    evt_http_resp_free(&r);
    close(fd);
    /* A path that cannot be made: said, nothing fetched. */
    req = (evt_http_req_t){.url = at(n.port, "/big.bin"), .body_path = bad};
    cr_assert_eq(evt_http_request(&req, &r, evt_now() + 60000), -1);
    cr_assert(strstr(r.message, "cannot open"), "%s", r.message);
    evt_http_resp_free(&r);
    /* A failed request leaves no file. */
    req = (evt_http_req_t){.url = at(n.port, "/big.bin"), .body_path = dst,
                           .max_body = 1000};
    unlink(dst);
    cr_assert_eq(evt_http_request(&req, &r, evt_now() + 60000), -1);
    evt_http_resp_free(&r);
    cr_assert_neq(access(dst, F_OK), 0);
    nginx_stop(n);
    unlink(src);
    rmdir(dir);
    cr_assert_eq(evt_curl_cleanup(), 0);
}
