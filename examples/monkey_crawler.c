/* The seed's gevent crawler (monkey.patch_all() + urllib) in C: f() makes
 * plain, blocking libcurl easy calls and knows nothing of eventor. Run one
 * URL after another, then one coroutine per URL: linking libeventor-hook
 * (with the shared libeventor) is what makes the second run concurrent.
 *
 *   monkey_crawler [URL...]    (default: the seed's three sites)
 *
 * Build: cc monkey_crawler.c $(pkg-config --cflags --libs eventor-hook libcurl) */
#include "eventor.h"

#include <curl/curl.h>
#include <stdio.h>

static size_t count(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    *(size_t *)user += size * n;
    return size * n;
}

/* gevent's f(url): fetch it, say how much came. */
static void *f(void *arg)
{
    const char *url = arg;
    printf("GET: %s\n", url);
    CURL *c = curl_easy_init();
    size_t bytes = 0;
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        printf("%zu bytes received from %s.\n", bytes, url);
    else
        printf("%s failed: %s\n", url, curl_easy_strerror(rc));
    curl_easy_cleanup(c);
    return NULL;
}

int main(int argc, char **argv)
{
    static char *seed[] = {"https://www.python.org/", "https://www.yahoo.com/",
                           "https://github.com/"};
    char **urls = argc > 1 ? argv + 1 : seed;
    int n = argc > 1 ? argc - 1 : 3;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    evt_set_stack_size(256 * 1024); /* libcurl and TLS run deep */

    int64_t t0 = evt_now();
    for (int i = 0; i < n; i++)
        f(urls[i]);
    printf("serial cost %.3f s\n", (double)(evt_now() - t0) / 1000);

    /* gevent.joinall([gevent.spawn(f, url) for url in urls]) */
    evt_group_t *g = evt_group_new();
    t0 = evt_now();
    for (int i = 0; i < n; i++)
        evt_group_spawn(g, f, urls[i]);
    evt_group_join(g, -1);
    printf("concurrent cost %.3f s\n", (double)(evt_now() - t0) / 1000);
    evt_group_free(g);
    curl_global_cleanup();
    return 0;
}
