/* An eventor plugin with results of any length: line "N" gives N bytes of
 * 'x', to try --max-result, e.g.
 *   echo 100000 | eventor --plugin build/examples/repeat.so:repeat --max-result 100K
 * A result longer than cap is not cut: it says how long it is (as snprintf
 * does), and the line fails with EMSGSIZE, named on stderr. */
#include <eventor.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int repeat(const evt_batch_task_t *t, void *out, size_t cap, size_t *len,
           void *user)
{
    (void)user;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(t->item, &end, 10);
    if (end == (const char *)t->item || *end != '\0' || errno) {
        errno = EINVAL;
        return -1;
    }
    *len = (size_t)n;
    if (n <= cap)
        memset(out, 'x', (size_t)n);
    return 0;
}
