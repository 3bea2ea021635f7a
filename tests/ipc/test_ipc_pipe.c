/* Tests of the duplex pipe: framing of small, empty and large messages,
 * both directions across a fork, a buffer too small (peek), deadlines that
 * keep partial frames, cancellation, a closed or dead peer (EPIPE), bad
 * arguments. */
#include "ipc_test.h"

#include <stdlib.h>
#include <string.h>

static evt_ipc_conn_t *e[2];

static void make_pipe(void)
{
    cr_assert_eq(evt_ipc_pipe(e), 0);
}

static void close_pipe(void)
{
    evt_ipc_conn_close(e[0]);
    evt_ipc_conn_close(e[1]);
}

TestSuite(ipc_pipe, .init = make_pipe, .fini = close_pipe);

Test(ipc_pipe, messages_keep_their_bounds)
{
    char buf[16];
    cr_assert_eq(evt_ipc_conn_send(e[0], "11", 2, -1), 0);
    cr_assert_eq(evt_ipc_conn_send(e[0], "", 0, -1), 0);
    cr_assert_eq(evt_ipc_conn_send(e[0], "333", 3, -1), 0);
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, sizeof buf, -1), 2);
    cr_assert_eq(memcmp(buf, "11", 2), 0);
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, sizeof buf, -1), 0);
    cr_assert_eq(evt_ipc_conn_peek(e[1], -1), 3);
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, 2, -1), -1);
    cr_assert_eq(errno, EMSGSIZE);
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, 3, -1), 3);
    cr_assert_eq(memcmp(buf, "333", 3), 0);
    /* And the other way. */
    cr_assert_eq(evt_ipc_conn_send(e[1], "44", 2, -1), 0);
    cr_assert_eq(evt_ipc_conn_recv(e[0], buf, sizeof buf, -1), 2);
    cr_assert_geq(evt_ipc_conn_fd(e[0]), 0);
}

Test(ipc_pipe, deadlines)
{
    char buf[4];
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, sizeof buf, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, sizeof buf, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    /* Half a frame is kept across a timeout. */
    uint32_t len = 3;
    int fd = evt_ipc_conn_fd(e[0]);
    cr_assert_eq(write(fd, &len, sizeof len), sizeof len);
    cr_assert_eq(write(fd, "ab", 2), 2);
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, sizeof buf, evt_now() + 10), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(write(fd, "c", 1), 1);
    cr_assert_eq(evt_ipc_conn_recv(e[1], buf, sizeof buf, -1), 3);
    cr_assert_eq(memcmp(buf, "abc", 3), 0);
}

typedef struct big {
    evt_ipc_conn_t *c;
    char *msg;
    size_t len;
} big_t;

static void *send_big(void *arg)
{
    big_t *b = arg;
    return CO_ERR(evt_ipc_conn_send(b->c, b->msg, b->len, evt_now() + 10000));
}

Test(ipc_pipe, a_large_message_while_the_other_side_reads)
{
    size_t n = 3 << 20;
    big_t b = {e[0], malloc(n), n};
    for (size_t i = 0; i < n; i++)
        b.msg[i] = (char)(i * 7);
    evt_co_t *s = evt_spawn(send_big, &b);
    cr_assert_eq(evt_ipc_conn_peek(e[1], evt_now() + 10000), (ssize_t)n);
    char *got = malloc(n);
    cr_assert_eq(evt_ipc_conn_recv(e[1], got, n, evt_now() + 10000), (ssize_t)n);
    cr_assert_eq(memcmp(got, b.msg, n), 0);
    cr_assert_eq(join_err(s), 0);
    free(got);
    free(b.msg);
}

static void *recv_forever(void *arg)
{
    char buf[8];
    return CO_ERR(evt_ipc_conn_recv(arg, buf, sizeof buf, -1));
}

Test(ipc_pipe, cancel_a_parked_receiver)
{
    evt_co_t *r = evt_spawn(recv_forever, e[1]);
    evt_yield();
    cr_assert_eq(evt_cancel(r), 0);
    cr_assert_eq(join_err(r), ECANCELED);
}

Test(ipc_pipe, a_full_pipe_times_out_and_then_refuses_to_send)
{
    static char chunk[1 << 16];
    int r;
    /* Fill the socket; a send cut after part of a frame breaks the end. */
    while ((r = evt_ipc_conn_send(e[0], chunk, sizeof chunk, evt_now() + 20)) == 0)
        ;
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(evt_ipc_conn_send(e[0], "x", 1, 0), -1);
    cr_assert(errno == EPIPE || errno == ETIMEDOUT);
}

Test(ipc_pipe, bad_arguments)
{
    char buf[4];
    cr_assert_eq(evt_ipc_pipe(NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_conn_send(NULL, "x", 1, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_conn_send(e[0], NULL, 1, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_conn_recv(NULL, buf, 4, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_conn_recv(e[0], NULL, 4, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_conn_peek(NULL, 0), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_conn_fd(NULL), -1);
    evt_ipc_conn_close(NULL);
}

/* The seed's program: the child sends two messages and receives two. */
static int child_side(void *arg)
{
    evt_ipc_conn_t **ends = arg;
    evt_ipc_conn_close(ends[0]);
    char buf[8];
    int ok = evt_ipc_conn_send(ends[1], "11", 2, -1) == 0 &&
             evt_ipc_conn_send(ends[1], "22", 2, -1) == 0 &&
             evt_ipc_conn_recv(ends[1], buf, sizeof buf, evt_now() + 5000) == 2 &&
             memcmp(buf, "33", 2) == 0 &&
             evt_ipc_conn_recv(ends[1], buf, sizeof buf, evt_now() + 5000) == 2 &&
             memcmp(buf, "44", 2) == 0;
    evt_ipc_conn_close(ends[1]);
    return !ok;
}

Test(ipc_pipe, duplex_across_a_fork_and_epipe_when_the_peer_is_gone)
{
    evt_ipc_conn_t *ends[2];
    cr_assert_eq(evt_ipc_pipe(ends), 0);
    pid_t p = child(child_side, ends);
    evt_ipc_conn_close(ends[1]);
    char buf[8];
    cr_assert_eq(evt_ipc_conn_send(ends[0], "33", 2, -1), 0);
    cr_assert_eq(evt_ipc_conn_send(ends[0], "44", 2, -1), 0);
    cr_assert_eq(evt_ipc_conn_recv(ends[0], buf, sizeof buf, evt_now() + 5000), 2);
    cr_assert_eq(memcmp(buf, "11", 2), 0);
    cr_assert_eq(evt_ipc_conn_recv(ends[0], buf, sizeof buf, evt_now() + 5000), 2);
    cr_assert_eq(memcmp(buf, "22", 2), 0);
    expect_ok(p);
    /* The child has exited: its end is closed. */
    cr_assert_eq(evt_ipc_conn_recv(ends[0], buf, sizeof buf, evt_now() + 5000), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(evt_ipc_conn_send(ends[0], "x", 1, evt_now() + 5000), -1);
    cr_assert_eq(errno, EPIPE);
    evt_ipc_conn_close(ends[0]);
}
