/* Messages per second between two processes, 64-byte messages: the IPC
 * queue (a consumer process parks on it while empty), the framed IPC pipe,
 * and, as the peer, a plain pipe(2) written and read 64 bytes at a time
 * with blocking calls (the kernel's cost alone). The time runs from the
 * first put to the consumer's exit. Usage: bench_ipc_queue [-n MESSAGES] */
#include "bench_common.h"
#include "eventor.h"

#include <sys/wait.h>
#include <unistd.h>

#define MSG 64

static long n_msgs;

static void reap(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
        fprintf(stderr, "bench_ipc_queue: consumer failed\n");
        exit(1);
    }
}

static double queue_rate(void)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(1024, MSG);
    if (!q)
        exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        char buf[MSG];
        for (long i = 0; i < n_msgs; i++)
            if (evt_ipc_queue_get(q, buf, sizeof buf, -1) != MSG)
                _exit(1);
        _exit(0);
    }
    char msg[MSG] = "message";
    double t0 = bench_now_s();
    for (long i = 0; i < n_msgs; i++)
        if (evt_ipc_queue_put(q, msg, sizeof msg, -1) < 0)
            exit(1);
    reap(pid);
    double t = bench_now_s() - t0;
    evt_ipc_queue_free(q);
    return (double)n_msgs / t;
}

static double ipc_pipe_rate(void)
{
    evt_ipc_conn_t *e[2];
    if (evt_ipc_pipe(e) < 0)
        exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        evt_ipc_conn_close(e[0]);
        char buf[MSG];
        for (long i = 0; i < n_msgs; i++)
            if (evt_ipc_conn_recv(e[1], buf, sizeof buf, -1) != MSG)
                _exit(1);
        _exit(0);
    }
    evt_ipc_conn_close(e[1]);
    char msg[MSG] = "message";
    double t0 = bench_now_s();
    for (long i = 0; i < n_msgs; i++)
        if (evt_ipc_conn_send(e[0], msg, sizeof msg, -1) < 0)
            exit(1);
    reap(pid);
    double t = bench_now_s() - t0;
    evt_ipc_conn_close(e[0]);
    return (double)n_msgs / t;
}

static double pipe_rate(void)
{
    int fds[2];
    if (pipe(fds) < 0)
        exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        char buf[MSG];
        for (long i = 0; i < n_msgs; i++)
            for (size_t got = 0; got < MSG;) {
                ssize_t r = read(fds[0], buf + got, MSG - got);
                if (r <= 0)
                    _exit(1);
                got += (size_t)r;
            }
        _exit(0);
    }
    close(fds[0]);
    char msg[MSG] = "message";
    double t0 = bench_now_s();
    for (long i = 0; i < n_msgs; i++)
        if (write(fds[1], msg, MSG) != MSG)
            exit(1);
    reap(pid);
    double t = bench_now_s() - t0;
    close(fds[1]);
    return (double)n_msgs / t;
}

int main(int argc, char **argv)
{
    n_msgs = bench_arg_n(argc, argv, 1000000);
    /* Best of three of each, interleaved. */
    double q = 0, p = 0, k = 0;
    for (int i = 0; i < 3; i++) {
        double r = queue_rate();
        q = r > q ? r : q;
        r = ipc_pipe_rate();
        p = r > p ? r : p;
        r = pipe_rate();
        k = r > k ? r : k;
    }
    bench_print("ipc_queue_msgs_per_s", q, "msg/s");
    bench_print("ipc_pipe_msgs_per_s", p, "msg/s");
    bench_print("pipe_msgs_per_s", k, "msg/s");
    return 0;
}
