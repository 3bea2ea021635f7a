/* An eventor plugin: the seed's func = lambda x: int(x) + 10, for
 *   eventor --plugin build/examples/add_ten.so:add_ten examples/data.txt
 * A line that is not a number fails with EINVAL; the others go on. */
#include <eventor.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int add_ten(const evt_batch_task_t *t, void *out, size_t cap, size_t *len,
            void *user)
{
    (void)user;
    char *end;
    errno = 0;
    long x = strtol(t->item, &end, 10);
    if (end == (const char *)t->item || *end != '\0' || errno) {
        errno = EINVAL; /* (failures: -1 and errno, as every callback) */
        return -1;
    }
    *len = (size_t)snprintf(out, cap, "%ld", x + 10);
    return 0;
}
