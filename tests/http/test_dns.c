/* Tests of evt_curl_resolve (src/http/dns.c): names looked up once per
 * host on the offload pool and handed to libcurl, through
 * evt_http_get against bench_http_server. The resolver the pool calls is a
 * stand-in (evt__getaddrinfo) that knows two names and counts its calls,
 * so that no test depends on a name server. */
#include "http_test.h"

#include "http/dns.h"
#include "io/io.h"

#include <netdb.h>
#include <stdatomic.h>

static atomic_int calls;

/* "counted.test" is 127.0.0.1; every other name does not exist. */
static int counting_resolver(const char *host, const char *serv,
                             const struct addrinfo *hints,
                             struct addrinfo **res)
{
    atomic_fetch_add(&calls, 1);
    if (strcmp(host, "counted.test"))
        return EAI_NONAME;
    return getaddrinfo("127.0.0.1", serv, hints, res);
}

static void setup(void)
{
    atomic_store(&calls, 0);
    evt__getaddrinfo = counting_resolver;
}

static void teardown(void)
{
    evt__getaddrinfo = getaddrinfo;
}

TestSuite(dns, .init = setup, .fini = teardown);

#define GETTERS 40
#define PER_GETTER 5

static char url_of_run[64];

static void *getter(void *arg)
{
    (void)arg;
    intptr_t ok = 0;
    for (int i = 0; i < PER_GETTER; i++) {
        evt_http_resp_t r;
        if (evt_http_get(url_of_run, &r, evt_now() + 20000) == 0 &&
            r.status == 200)
            ok++;
        evt_http_resp_free(&r);
    }
    return (void *)ok;
}

Test(dns, many_requests_one_lookup)
{
    server_t srv = server_start(5);
    snprintf(url_of_run, sizeof url_of_run, "http://counted.test:%d/",
             srv.port);
    size_t before = evt__dns_lookups();
    evt_co_t *co[GETTERS];
    for (int i = 0; i < GETTERS; i++)
        co[i] = evt_spawn(getter, NULL);
    intptr_t ok = 0;
    for (int i = 0; i < GETTERS; i++) {
        void *r;
        cr_assert_eq(evt_join(co[i], evt_now() + 30000, &r), 0);
        ok += (intptr_t)r;
    }
    cr_assert_eq(ok, GETTERS * PER_GETTER);
    /* 40 coroutines asked at once: one lookup, shared. */
    cr_assert_eq(atomic_load(&calls), 1, "%d lookups", atomic_load(&calls));
    cr_assert_eq(evt__dns_lookups() - before, 1);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(dns, a_name_that_does_not_resolve_fails_that_request)
{
    server_t srv = server_start(0);
    char url[64];
    snprintf(url, sizeof url, "http://nowhere.test:%d/", srv.port);
    for (int i = 0; i < 3; i++) {
        evt_http_resp_t r;
        cr_assert_eq(evt_http_get(url, &r, evt_now() + 10000), -1);
        cr_assert_eq(errno, EADDRNOTAVAIL);
        cr_assert_eq(r.error, EVT_HTTP_EDNS);
        cr_assert_eq(r.curl_code, CURLE_COULDNT_RESOLVE_HOST);
        cr_assert(strstr(r.message, "could not resolve host"), "%s",
                  r.message);
        evt_http_resp_free(&r);
    }
    /* The failure is cached a while too: asked once. */
    cr_assert_eq(atomic_load(&calls), 1);
    /* A name that resolves still works beside it. */
    snprintf(url, sizeof url, "http://counted.test:%d/", srv.port);
    evt_http_resp_t r;
    cr_assert_eq(evt_http_get(url, &r, evt_now() + 10000), 0);
    cr_assert_eq(r.status, 200);
    evt_http_resp_free(&r);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
}

Test(dns, curl_perform_with_a_resolved_handle_and_a_deadline_of_0)
{
    server_t srv = server_start(0);
    char url[64];
    snprintf(url, sizeof url, "http://counted.test:%d/", srv.port);
    body_t b;
    CURL *e = easy_get(srv.port, "/", &b);
    curl_easy_setopt(e, CURLOPT_URL, url);
    /* Refused before it starts: the list handed over is freed anyway
     * (the ASan build sees a leak otherwise). */
    cr_assert_eq(evt_curl_resolve(e, url, evt_now() + 10000), 0);
    cr_assert_eq(evt_curl_perform(e, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    b.len = 0;
    cr_assert_eq(evt_curl_resolve(e, url, evt_now() + 10000), 0);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0);
    cr_assert_eq(status_of(e), 200);
    cr_assert_str_eq(b.buf, "ok");
    /* Again, from libcurl's DNS cache: no list needed, still one lookup. */
    b.len = 0;
    cr_assert_eq(evt_curl_resolve(e, url, evt_now() + 10000), 0);
    cr_assert_eq(evt_curl_perform(e, evt_now() + 10000), 0);
    cr_assert_eq(status_of(e), 200);
    cr_assert_eq(atomic_load(&calls), 1);
    curl_easy_cleanup(e);
    server_stop(srv);
    cr_assert_eq(evt_curl_cleanup(), 0);
}
