/* The seed's multiprocessing.Pipe program: a duplex pipe; the child sends
 * '11' and '22', then prints the two messages the parent sent ('33' and
 * '44'), and the parent waits for it. Prints, as Python's print does:
 *   from parent  33 / from parent 44 */
#include <eventor.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int f(evt_ipc_conn_t *conn)
{
    char buf[64];
    ssize_t n;
    if (evt_ipc_conn_send(conn, "11", 2, -1) < 0 ||
        evt_ipc_conn_send(conn, "22", 2, -1) < 0)
        return 1;
    if ((n = evt_ipc_conn_recv(conn, buf, sizeof buf, -1)) < 0)
        return 1;
    printf("from parent  %.*s\n", (int)n, buf); /* print("from parent ", x) */
    if ((n = evt_ipc_conn_recv(conn, buf, sizeof buf, -1)) < 0)
        return 1;
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
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        evt_ipc_conn_close(ends[0]);
        int rc = f(ends[1]);
        fflush(stdout);
        _exit(rc);
    }
    evt_ipc_conn_close(ends[1]);
    evt_ipc_conn_send(ends[0], "33", 2, -1);
    evt_ipc_conn_send(ends[0], "44", 2, -1);
    int status;
    waitpid(p, &status, 0); /* p.join() */
    evt_ipc_conn_close(ends[0]);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
