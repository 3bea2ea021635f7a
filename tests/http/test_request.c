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
