/* An eventor plugin that fetches the URL on each line and prints its HTTP
 * status (evt_http_get parks only the line's coroutine; the lines' GETs
 * share the thread's libcurl connections), e.g.
 *   eventor --plugin build/examples/fetch_status.so:fetch_status -P 2 -c 50 urls.txt
 * A URL that gets no response (no such host, refused, a timeout) fails its
 * line with the reason. It resolves evt_http_get from the eventor command
 * itself, as every evt_* call of a plugin. */
#include <eventor.h>
#include <errno.h>
#include <stdio.h>

#define TIMEOUT_MS 30000

int fetch_status(const evt_batch_task_t *t, void *out, size_t cap,
                 size_t *len, void *user)
{
    (void)user;
    evt_http_resp_t r;
    int rc = evt_http_get(t->item, &r, evt_now() + TIMEOUT_MS);
    int err = errno;
    if (rc == 0)
        *len = (size_t)snprintf(out, cap, "%d", r.status);
    else
        fprintf(stderr, "fetch_status: %s: %s: %s\n", (const char *)t->item,
                evt_http_error_name(r.error), r.message);
    evt_http_resp_free(&r);
    return rc == 0 ? 0 : err;
}
