/* An eventor plugin that fails before it succeeds, to try --retries: line
 * "K" fails (EAGAIN) on its first K tries and then gives the number of
 * the try that worked, e.g.
 *   echo 2 | eventor --plugin build/examples/flaky.so:flaky --retries 3   # 3
 * --retries N runs a line N times in all (0: until it succeeds). */
#include <eventor.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int flaky(const evt_batch_task_t *t, void *out, size_t cap, size_t *len,
          void *user)
{
    (void)user;
    char *end;
    errno = 0;
    unsigned long k = strtoul(t->item, &end, 10);
    if (end == (const char *)t->item || *end != '\0' || errno) {
        errno = EINVAL;
        return -1;
    }
    if (t->attempt < k) {
        errno = EAGAIN;
        return -1;
    }
    *len = (size_t)snprintf(out, cap, "%u", t->attempt + 1);
    return 0;
}
