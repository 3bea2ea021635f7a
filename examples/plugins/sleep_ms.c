/* An eventor plugin that waits: each line is a number of milliseconds to
 * sleep (evt_sleep parks only the line's coroutine), echoed back, e.g.
 *   yes 10 | head -n 2000 | eventor --plugin build/examples/sleep_ms.so:sleep_ms -c 1000
 * It resolves evt_sleep and evt_now from the eventor command itself. */
#include <eventor.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int sleep_ms(const evt_batch_task_t *t, void *out, size_t cap, size_t *len,
             void *user)
{
    (void)user;
    char *end;
    errno = 0;
    long ms = strtol(t->item, &end, 10);
    if (end == (const char *)t->item || *end != '\0' || errno || ms < 0)
        return EINVAL;
    if (evt_sleep(evt_now() + ms) < 0)
        return errno;
    *len = (size_t)snprintf(out, cap, "%ld", ms);
    return 0;
}
