/* Tests of src/io/socket.c: sockets the runtime makes are clean even when
 * their number belonged to an fd closed without evt_fd_forget, and
 * evt_local_port. */
#include "io_test.h"
#include "io/io.h"

#include <string.h>
#include <sys/un.h>

struct rd {
    int fd;
    ssize_t n;
};

static void *reader(void *arg)
{
    struct rd *r = arg;
    char b[8];
    r->n = evt_read(r->fd, b, sizeof b, evt_now() + 5000);
    return CO_RESULT(r->n < 0 ? errno : 0);
}

/* A connected pair over loopback made by the runtime: *c connects, *s was
 * accepted. */
static void tcp_pair(int lfd, int port, int *c, int *s)
{
    *c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    cr_assert_geq(*c, 0);
    *s = evt_accept(lfd, NULL, NULL, evt_now() + 5000);
    cr_assert_geq(*s, 0);
}

Test(socket, reused_number_after_plain_close)
{
    int port, lfd = lo_listen(&port);
    int c, s;
    tcp_pair(lfd, port, &c, &s);
    /* Make the reactor watch s for reading, then close it behind its back. */
    struct rd r = {.fd = s};
    evt_co_t *co = evt_spawn(reader, &r);
    settle();
    cr_assert_eq(evt_write(c, "1", 1, -1), 1);
    cr_assert_eq(join_int(co), 0);
    int old = s;
    close(s);
    close(c);
    /* The next accepted connection gets the same number, and waiting on it
     * works: the stale record of the old fd is gone. */
    int c2 = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    cr_assert_geq(c2, 0);
    int s2 = evt_accept(lfd, NULL, NULL, evt_now() + 5000);
    cr_assert_eq(s2 == old || c2 == old, 1, "fd %d not reused", old);
    int waiter = s2 == old ? s2 : c2, other = s2 == old ? c2 : s2;
    r.fd = waiter;
    co = evt_spawn(reader, &r);
    settle(); /* parked: nothing to read yet */
    cr_assert_eq(evt_write(other, "2", 1, -1), 1);
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(r.n, 1);
    evt_close(c2);
    evt_close(s2);
    evt_close(lfd);
}

Test(socket, new_socket_wakes_waiters_of_the_closed_one)
{
    int sv[2];
    stream_pair(sv);
    struct rd r = {.fd = sv[0]};
    evt_co_t *co = evt_spawn(reader, &r);
    settle();
    int num = sv[0];
    close(sv[0]); /* under a waiter, without evt_fd_forget */
    int fd = evt__socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(fd, num);
    /* The waiter would have waited on a file that no longer exists. */
    cr_assert_eq(join_int(co), EBADF);
    evt_close(fd);
    evt_close(sv[1]);
}

Test(local_port, of_ipv4_and_errors)
{
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    cr_assert_gt(evt_local_port(c), 0);
    cr_assert_neq(evt_local_port(c), port);
    evt_close(c);
    evt_close(lfd);
    cr_assert_eq(evt_local_port(-1), -1);
    cr_assert_eq(errno, EBADF);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(evt_local_port(p[0]), -1);
    cr_assert_eq(errno, ENOTSOCK);
    close(p[0]);
    close(p[1]);
    int sv[2];
    stream_pair(sv);
    cr_assert_eq(evt_local_port(sv[0]), -1);
    cr_assert_eq(errno, EAFNOSUPPORT);
    close(sv[0]);
    close(sv[1]);
}
