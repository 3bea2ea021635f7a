/* The seed's multiprocessing.Queue program: the parent puts '11', a child
 * process puts '22', and the parent takes both. The seed takes the second
 * with get_nowait right after starting the child, which races with it;
 * here the second get waits for the child's put (with a deadline).
 * Prints:  got: 11 / got: 22 */
#include <eventor.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int f(evt_ipc_queue_t *q)
{
    return evt_ipc_queue_put(q, "22", 2, -1) == 0 ? 0 : 1;
}

int main(void)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(16, 64); /* Queue() */
    if (!q) {
        perror("evt_ipc_queue_new");
        return 1;
    }
    evt_ipc_queue_put(q, "11", 2, -1);
    fflush(stdout);
    pid_t p = fork(); /* Process(target=f, args=(q,)).start() */
    if (p == 0)
        _exit(f(q));
    char buf[64];
    ssize_t n = evt_ipc_queue_get(q, buf, sizeof buf, 0); /* get_nowait */
    printf("got: %.*s\n", (int)n, buf);
    n = evt_ipc_queue_get(q, buf, sizeof buf, evt_now() + 5000);
    if (n < 0) {
        perror("evt_ipc_queue_get");
        return 1;
    }
    printf("got: %.*s\n", (int)n, buf);
    int status;
    waitpid(p, &status, 0);
    evt_ipc_queue_free(q);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
