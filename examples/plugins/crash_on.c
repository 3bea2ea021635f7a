/* An eventor plugin whose bad lines crash it, to see that one bad line
 * costs one line: "segv" dies of SIGSEGV, "abort" of abort(), any other
 * line comes back as it is.
 *   eventor --plugin build/examples/crash_on.so:crash_on -P 2 lines.txt */
#include "crash_line.h"

#include <eventor.h>
#include <string.h>

int crash_on(const evt_batch_task_t *t, void *out, size_t cap, size_t *len,
             void *user)
{
    (void)user;
    crash_line(t->item);
    *len = t->len < cap ? t->len : cap;
    memcpy(out, t->item, *len);
    return 0;
}
