/* libcurl's easy interface made cooperative by the hooks alone: 200
 * coroutines, each doing curl_easy_perform one request after another,
 * against our HTTP server answering in 100 ms. */
#include "hook_test.h"

#include <curl/curl.h>

enum { COROS = 200, PER_CO = 10, DELAY_MS = 100 };

static struct server srv;
static char url[64];

static size_t sink(char *p, size_t size, size_t n, void *user)
{
    size_t *got = user;
    (void)p;
    *got += size * n;
    return size * n;
}

/* PER_CO requests on one handle (kept-alive connection); the number that
 * answered 200 "ok". */
static void *fetcher(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    if (!c)
        return CO_RESULT(0);
    size_t got = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    int ok = 0;
    for (int i = 0; i < PER_CO; i++) {
        long code = 0;
        got = 0;
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
            code == 200 && got == 2)
            ok++;
    }
    curl_easy_cleanup(c);
    return CO_RESULT(ok);
}

Test(hook_curl, easy_perform_from_200_coroutines)
{
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    http_server_start(&srv, DELAY_MS);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", srv.port);
    /* libcurl's frames are deeper than the default 64 KiB allows for. */
    cr_assert_eq(evt_set_stack_size(256 * 1024), 0);
    evt_co_t *co[COROS];
    int64_t t0 = evt_now();
    for (int i = 0; i < COROS; i++)
        co[i] = evt_spawn(fetcher, NULL);
    int ok = 0;
    for (int i = 0; i < COROS; i++)
        ok += join_int(co[i]);
    int64_t took = evt_now() - t0;
    server_stop(&srv);
    curl_global_cleanup();
    cr_assert_eq(ok, COROS * PER_CO);
    /* Ideal: PER_CO x 100 ms = 1 s; one request at a time would be 200 s.
     * A generous bound that still says "concurrent". */
    cr_assert_lt(took, 10 * PER_CO * DELAY_MS, "took %lld ms", (long long)took);
    cr_log_info("2000 requests in %lld ms (ideal %d)", (long long)took,
                PER_CO * DELAY_MS);
}
