/* The seed's multiprocessing.Pipe program: a duplex pipe; the child sends
 * '11' and '22', then prints the two messages the parent sent ('33' and
 * '44'), and the parent waits for it. Prints, as Python's print does:
 *   from parent  33 / from parent 44 */
#include <eventor.h>
#include <stdio.h>

/* def f(conn): the child's end comes as evt_process_conn(0). */
static ssize_t f(const void *arg, size_t len, void *out, size_t cap)
{
    (void)arg, (void)len, (void)out, (void)cap;
    evt_ipc_conn_t *conn = evt_process_conn(0);
    char buf[64];
    ssize_t n;
    if (evt_ipc_conn_send(conn, "11", 2, -1) < 0 ||
        evt_ipc_conn_send(conn, "22", 2, -1) < 0)
        return -1;
    if ((n = evt_ipc_conn_recv(conn, buf, sizeof buf, -1)) < 0)
        return -1;
    printf("from parent  %.*s\n", (int)n, buf); /* print("from parent ", x) */
    if ((n = evt_ipc_conn_recv(conn, buf, sizeof buf, -1)) < 0)
        return -1;
    printf("from parent %.*s\n", (int)n, buf);
    evt_ipc_conn_close(conn);
    return 0;
}

int main(void)
{
    evt_ipc_conn_t *ends[2]; /* parent_conn, child_conn = Pipe() */
    if (evt_ipc_pipe(ends) < 0) {
        perror("evt_ipc_pipe");
        return 1;
    }
    /* Process(target=f, args=(child_conn,)).start() */
    evt_process_t *p = evt_process_start_conns(f, NULL, 0, &ends[1], 1);
    if (!p) {
        perror("evt_process_start_conns");
        return 1;
    }
    evt_ipc_conn_close(ends[1]);
    evt_ipc_conn_send(ends[0], "33", 2, -1);
    evt_ipc_conn_send(ends[0], "44", 2, -1);
    evt_process_join(p, -1); /* p.join() */
    int code = evt_process_exitcode(p);
    evt_process_free(p);
    evt_ipc_conn_close(ends[0]);
    return code == 0 ? 0 : 1;
}
