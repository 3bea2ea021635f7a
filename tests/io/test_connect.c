/* Tests of src/io/connect.c: evt_connect succeeds, reports refusals, and
 * waits for a handshake that does not come until the deadline or a
 * cancel. */
#include "io_test.h"

#include <netinet/in.h>
#include <string.h>

static struct sockaddr_in lo_addr(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return a;
}

static int tcp_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* blocking, as users make it */
    cr_assert_geq(fd, 0);
    return fd;
}

Test(connect, succeeds)
{
    int port, lfd = lo_listen(&port);
    struct sockaddr_in a = lo_addr(port);
    int fd = tcp_socket();
    cr_assert_eq(evt_connect(fd, (struct sockaddr *)&a, sizeof a,
                             evt_now() + 5000), 0);
    cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    int s = evt_accept(lfd, NULL, NULL, evt_now() + 5000);
    cr_assert_geq(s, 0);
    cr_assert_eq(evt_write(fd, "ping", 4, -1), 4);
    char buf[4];
    cr_assert_eq(evt_read(s, buf, 4, evt_now() + 5000), 4);
    evt_close(s);
    evt_close(fd);
    evt_close(lfd);
}

Test(connect, refused)
{
    int port, lfd = lo_listen(&port);
    evt_close(lfd); /* the port is free again, and nobody listens */
    struct sockaddr_in a = lo_addr(port);
    int fd = tcp_socket();
    cr_assert_eq(evt_connect(fd, (struct sockaddr *)&a, sizeof a,
                             evt_now() + 5000), -1);
    cr_assert_eq(errno, ECONNREFUSED);
    evt_close(fd);
}

Test(connect, bad_arguments)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct sockaddr_in a = lo_addr(1);
    cr_assert_eq(evt_connect(p[0], (struct sockaddr *)&a, sizeof a, -1), -1);
    cr_assert_eq(errno, ENOTSOCK);
    cr_assert_eq(evt_connect(-1, (struct sockaddr *)&a, sizeof a, -1), -1);
    cr_assert_eq(errno, EBADF);
    evt_close(p[0]);
    evt_close(p[1]);
}

/* A listener that never accepts, with its queue full: the next connect
 * gets no answer to its SYN (Linux drops it) and waits. Returns the
 * listener; *filler holds the sockets that fill the queue. */
static int full_listener(int *port, int filler[16], int *nfill)
{
    int lfd = evt_tcp_listen("127.0.0.1", 0, 1);
    cr_assert_geq(lfd, 0);
    *port = evt_local_port(lfd);
    struct sockaddr_in a = lo_addr(*port);
    *nfill = 0;
    /* Connect until one does not complete in a while: the queue is full. */
    for (int i = 0; i < 16; i++) {
        int fd = tcp_socket();
        filler[(*nfill)++] = fd;
        if (evt_connect(fd, (struct sockaddr *)&a, sizeof a,
                        evt_now() + 200) < 0) {
            cr_assert_eq(errno, ETIMEDOUT);
            return lfd;
        }
    }
    cr_assert_fail("the listen queue never filled");
    return -1;
}

struct conn_arg {
    int port;
    int64_t deadline;
};

static void *connector(void *arg)
{
    struct conn_arg *c = arg;
    struct sockaddr_in a = lo_addr(c->port);
    int fd = tcp_socket();
    int rc = evt_connect(fd, (struct sockaddr *)&a, sizeof a, c->deadline);
    int err = rc < 0 ? errno : 0;
    evt_close(fd);
    return CO_RESULT(err);
}

Test(connect, deadline_and_cancel_while_handshaking)
{
    int port, filler[16], nfill;
    int lfd = full_listener(&port, filler, &nfill);
    /* The deadline. */
    struct conn_arg c = {.port = port, .deadline = evt_now() + 30};
    int64_t t0 = evt_now();
    cr_assert_eq(join_int(evt_spawn(connector, &c)), ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 30);
    /* A cancel. */
    c.deadline = -1;
    evt_co_t *co = evt_spawn(connector, &c);
    settle();
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
    for (int i = 0; i < nfill; i++)
        evt_close(filler[i]);
    evt_close(lfd);
}
