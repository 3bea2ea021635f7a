/* The seed's multiprocessing.Queue program: the parent puts '11', a child
 * process puts '22', and the parent takes both. The seed takes the second
 * with get_nowait right after starting the child, which races with it;
 * here the second get waits for the child's put (with a deadline).
 * Prints:  got: 11 / got: 22 */
#include <eventor.h>
#include <stdio.h>
#include <string.h>

/* def f(q): the queue's handle comes as the argument's bytes; IPC objects
 * are at the same address in every child. */
static ssize_t f(const void *arg, size_t len, void *out, size_t cap)
{
    (void)len, (void)out, (void)cap;
    evt_ipc_queue_t *q;
    memcpy(&q, arg, sizeof q);
    return evt_ipc_queue_put(q, "22", 2, -1);
}

int main(void)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(16, 64); /* Queue() */
    if (!q) {
        perror("evt_ipc_queue_new");
        return 1;
    }
    evt_ipc_queue_put(q, "11", 2, -1);
    /* Process(target=f, args=(q,)).start() */
    evt_process_t *p = evt_process_start(f, &q, sizeof q);
    if (!p) {
        perror("evt_process_start");
        return 1;
    }
    char buf[64];
    ssize_t n = evt_ipc_queue_get(q, buf, sizeof buf, 0); /* get_nowait */
    printf("got: %.*s\n", (int)n, buf);
    n = evt_ipc_queue_get(q, buf, sizeof buf, evt_now() + 5000);
    if (n < 0) {
        perror("evt_ipc_queue_get");
        return 1;
    }
    printf("got: %.*s\n", (int)n, buf);
    evt_process_join(p, -1);
    int code = evt_process_exitcode(p);
    evt_process_free(p);
    evt_ipc_queue_free(q);
    return code == 0 ? 0 : 1;
}
