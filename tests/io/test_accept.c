/* Tests of src/io/accept.c: evt_accept waits for a connection, gives a
 * non-blocking close-on-exec socket and the peer's address, and fails with
 * ETIMEDOUT, ECANCELED or EBADF as it should. */
#include "io_test.h"

#include <netinet/in.h>
#include <string.h>

struct acc {
    int lfd;
    int64_t deadline;
    int fd;
};

static void *acceptor(void *arg)
{
    struct acc *a = arg;
    a->fd = evt_accept(a->lfd, NULL, NULL, a->deadline);
    return CO_RESULT(a->fd < 0 ? errno : 0);
}

Test(accept, waits_for_a_connection)
{
    int port, lfd = lo_listen(&port);
    struct acc a = {.lfd = lfd, .deadline = evt_now() + 5000};
    evt_co_t *co = evt_spawn(acceptor, &a);
    settle(); /* parked in accept: nobody has connected yet */
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    cr_assert_geq(c, 0);
    cr_assert_eq(join_int(co), 0);
    int fl = fcntl(a.fd, F_GETFL), fdfl = fcntl(a.fd, F_GETFD);
    cr_assert(fl & O_NONBLOCK);
    cr_assert(fdfl & FD_CLOEXEC);
    cr_assert_eq(evt_write(c, "hi", 2, -1), 2);
    char buf[2];
    cr_assert_eq(evt_read(a.fd, buf, 2, evt_now() + 5000), 2);
    evt_close(a.fd);
    evt_close(c);
    evt_close(lfd);
}

Test(accept, peer_address)
{
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int s = evt_accept(lfd, (struct sockaddr *)&peer, &len, evt_now() + 5000);
    cr_assert_geq(s, 0);
    cr_assert_eq(len, sizeof peer);
    cr_assert_eq(peer.sin_family, AF_INET);
    cr_assert_eq(ntohl(peer.sin_addr.s_addr), INADDR_LOOPBACK);
    cr_assert_eq(ntohs(peer.sin_port), evt_local_port(c));
    evt_close(s);
    evt_close(c);
    evt_close(lfd);
}

Test(accept, deadline)
{
    int port, lfd = lo_listen(&port);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_accept(lfd, NULL, NULL, t0 + 30), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 30);
    cr_assert_eq(evt_accept(lfd, NULL, NULL, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_close(lfd);
}

Test(accept, cancel_while_blocked)
{
    int port, lfd = lo_listen(&port);
    struct acc a = {.lfd = lfd, .deadline = -1};
    evt_co_t *co = evt_spawn(acceptor, &a);
    settle();
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
    evt_close(lfd);
}

Test(accept, closing_the_listener_wakes_it)
{
    int port, lfd = lo_listen(&port);
    struct acc a = {.lfd = lfd, .deadline = -1};
    evt_co_t *co = evt_spawn(acceptor, &a);
    settle();
    evt_close(lfd);
    cr_assert_eq(join_int(co), EBADF);
}

Test(accept, not_a_listener)
{
    int sv[2];
    stream_pair(sv);
    cr_assert_eq(evt_accept(sv[0], NULL, NULL, -1), -1);
    cr_assert_eq(errno, EINVAL);
    evt_close(sv[0]);
    evt_close(sv[1]);
}
