/* The seed's gevent crawler: fetch some URLs one after another, then all at
 * once in a group joined with evt_group_join (gevent.joinall), printing the
 * bytes of each page and both times. Each fetch is libcurl on the reactor
 * (evt_curl_perform), so only its coroutine waits for the network.
 *   gevent_crawler [URL...]   (default: the seed's three sites) */
#include <curl/curl.h>
#include <eventor.h>
#include <stdio.h>
#include <string.h>

static size_t count(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    *(size_t *)user += size * n;
    return size * n;
}

static int failed; /* fetches that did not succeed */

/* f(url): GET it and say how many bytes came. */
static void *f(void *arg)
{
    const char *url = arg;
    printf("GET: %s\n", url);
    CURL *e = curl_easy_init();
    size_t bytes = 0;
    if (!e) {
        failed++;
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, count);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &bytes);
    int rc = evt_curl_perform(e, evt_now() + 30000);
    if (rc == 0)
        printf("%zu bytes received from %s.\n", bytes, url);
    else
        printf("%s: %s\n", url, curl_easy_strerror(evt_curl_result()));
    failed += rc != 0;
    curl_easy_cleanup(e);
    return NULL;
}

int main(int argc, char **argv)
{
    static char *seed[] = {"https://www.python.org/", "https://www.yahoo.com/",
                           "https://github.com/"};
    char **urls = argc > 1 ? argv + 1 : seed;
    int n = argc > 1 ? argc - 1 : 3;

    int64_t t0 = evt_now();
    for (int i = 0; i < n; i++)
        f(urls[i]);
    printf("serial cost %.3f s\n", (double)(evt_now() - t0) / 1000);

    t0 = evt_now();
    evt_group_t *g = evt_group_new();
    if (!g)
        return 1;
    for (int i = 0; i < n; i++)
        if (!evt_group_spawn(g, f, urls[i]))
            failed++;
    evt_group_join(g, -1); /* gevent.joinall */
    printf("concurrent cost %.3f s\n", (double)(evt_now() - t0) / 1000);
    evt_group_free(g);
    evt_curl_cleanup();
    return failed ? 1 : 0;
}
