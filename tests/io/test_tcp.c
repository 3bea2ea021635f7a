/* Tests of src/io/tcp.c: listening on numeric and wildcard addresses,
 * connecting by address and by name, the errors of both, and a thousand
 * coroutines echoing over loopback at once. */
#include "io_test.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

Test(tcp_listen, free_port_and_options)
{
    int port, lfd = lo_listen(&port);
    int one = 0;
    socklen_t len = sizeof one;
    cr_assert_eq(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, &len), 0);
    cr_assert(one);
    cr_assert(fcntl(lfd, F_GETFL) & O_NONBLOCK);
    cr_assert(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
    /* Someone else on the same port is refused. */
    cr_assert_eq(evt_tcp_listen("127.0.0.1", port, 16), -1);
    cr_assert_eq(errno, EADDRINUSE);
    evt_close(lfd);
}

Test(tcp_listen, bad_arguments)
{
    cr_assert_eq(evt_tcp_listen("127.0.0.1", -1, 16), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_tcp_listen("127.0.0.1", 65536, 16), -1);
    cr_assert_eq(errno, EINVAL);
    /* Names would need a lookup; listen does not wait. */
    cr_assert_eq(evt_tcp_listen("localhost", 0, 16), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_tcp_listen("not an address", 0, 16), -1);
    cr_assert_eq(errno, EINVAL);
}

/* 1 when the machine can bind ::1 (IPv6 may be off in containers). */
static int have_ipv6_loopback(void)
{
    int fd = evt_tcp_listen("::1", 0, 1);
    if (fd < 0)
        return 0;
    evt_close(fd);
    return 1;
}

static void connect_and_accept(int lfd, const char *host, int port)
{
    int c = evt_tcp_connect(host, port, evt_now() + 5000);
    cr_assert_geq(c, 0, "connect %s: %s", host, strerror(errno));
    int s = evt_accept(lfd, NULL, NULL, evt_now() + 5000);
    cr_assert_geq(s, 0);
    cr_assert_eq(evt_write(c, "x", 1, -1), 1);
    char b;
    cr_assert_eq(evt_read(s, &b, 1, evt_now() + 5000), 1);
    evt_close(s);
    evt_close(c);
}

Test(tcp_listen, all_addresses_take_ipv4_and_ipv6)
{
    int lfd = evt_tcp_listen(NULL, 0, 16);
    cr_assert_geq(lfd, 0, "%s", strerror(errno));
    int port = evt_local_port(lfd);
    cr_assert_gt(port, 0);
    connect_and_accept(lfd, "127.0.0.1", port);
    if (have_ipv6_loopback())
        connect_and_accept(lfd, "::1", port);
    /* The same port again is in use, on IPv6 as on IPv4. */
    cr_assert_eq(evt_tcp_listen(NULL, port, 16), -1);
    cr_assert_eq(errno, EADDRINUSE);
    evt_close(lfd);
    lfd = evt_tcp_listen("", 0, 16);
    cr_assert_geq(lfd, 0);
    connect_and_accept(lfd, "127.0.0.1", evt_local_port(lfd));
    evt_close(lfd);
}

Test(tcp_listen, ipv6)
{
    if (!have_ipv6_loopback())
        cr_skip_test("no IPv6 loopback here");
    int lfd = evt_tcp_listen("::1", 0, 16);
    int port = evt_local_port(lfd);
    connect_and_accept(lfd, "::1", port);
    /* An IPv6-only address does not take IPv4. */
    cr_assert_eq(evt_tcp_connect("127.0.0.1", port, evt_now() + 5000), -1);
    cr_assert_eq(errno, ECONNREFUSED);
    evt_close(lfd);
}

Test(tcp_connect, numeric_address)
{
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    cr_assert_geq(c, 0);
    int nodelay = 0;
    socklen_t len = sizeof nodelay;
    cr_assert_eq(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    cr_assert(nodelay);
    cr_assert(fcntl(c, F_GETFL) & O_NONBLOCK);
    cr_assert(fcntl(c, F_GETFD) & FD_CLOEXEC);
    evt_close(c);
    evt_close(lfd);
}

Test(tcp_connect, by_name_through_the_resolver)
{
    int lfd = evt_tcp_listen(NULL, 0, 16); /* localhost may be ::1 first */
    cr_assert_geq(lfd, 0);
    int port = evt_local_port(lfd);
    connect_and_accept(lfd, "localhost", port);
    evt_close(lfd);
}

Test(tcp_connect, refused)
{
    int port, lfd = lo_listen(&port);
    evt_close(lfd);
    cr_assert_eq(evt_tcp_connect("127.0.0.1", port, evt_now() + 5000), -1);
    cr_assert_eq(errno, ECONNREFUSED);
}

Test(tcp_connect, bad_arguments)
{
    cr_assert_eq(evt_tcp_connect(NULL, 80, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_tcp_connect("", 80, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_tcp_connect("127.0.0.1", 0, -1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_tcp_connect("127.0.0.1", 65536, -1), -1);
    cr_assert_eq(errno, EINVAL);
}

static void *cancelled_connect(void *arg)
{
    int port = (int)(intptr_t)arg;
    evt_cancel(evt_self());
    return CO_RESULT(evt_tcp_connect("127.0.0.1", port, -1) < 0 ? errno : 0);
}

Test(tcp_connect, cancelled)
{
    int port, lfd = lo_listen(&port);
    cr_assert_eq(join_int(evt_spawn(cancelled_connect,
                                    (void *)(intptr_t)port)),
                 ECANCELED);
    evt_close(lfd);
}

/* --- a thousand echo conversations at once ------------------------------ */

enum { CLIENTS = 1000, ROUNDS = 20, MSG = 100 };

static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t n;
    while ((n = evt_read(fd, buf, sizeof buf, evt_now() + 20000)) > 0)
        if (evt_write(fd, buf, (size_t)n, evt_now() + 20000) != n)
            break;
    evt_close(fd);
    return NULL;
}

static evt_co_t *conns[CLIENTS];

static void *echo_server(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (int i = 0; i < CLIENTS; i++) {
        int fd = evt_accept(lfd, NULL, NULL, evt_now() + 20000);
        if (fd < 0)
            return CO_RESULT(errno);
        conns[i] = evt_spawn(echo_conn, (void *)(intptr_t)fd);
    }
    return CO_RESULT(0);
}

static int echo_port;

static void *echo_client(void *arg)
{
    int id = (int)(intptr_t)arg;
    int fd = evt_tcp_connect("127.0.0.1", echo_port, evt_now() + 20000);
    if (fd < 0)
        return CO_RESULT(errno);
    char out[MSG], in[MSG];
    int err = 0;
    for (int r = 0; r < ROUNDS && !err; r++) {
        for (int i = 0; i < MSG; i++)
            out[i] = (char)(id * 31 + r * 7 + i);
        if (evt_write(fd, out, MSG, evt_now() + 20000) != MSG) {
            err = errno;
            break;
        }
        size_t got = 0;
        while (got < MSG) {
            ssize_t n = evt_read(fd, in + got, MSG - got, evt_now() + 20000);
            if (n <= 0) {
                err = n < 0 ? errno : EPIPE;
                break;
            }
            got += (size_t)n;
        }
        if (!err && memcmp(in, out, MSG) != 0)
            err = EPROTO;
    }
    evt_close(fd);
    return CO_RESULT(err);
}

Test(tcp, thousand_coroutines_echo_concurrently)
{
    raise_nofile(2 * CLIENTS + 64);
    int lfd = evt_tcp_listen("127.0.0.1", 0, 4096);
    cr_assert_geq(lfd, 0);
    echo_port = evt_local_port(lfd);
    evt_co_t *srv = evt_spawn(echo_server, (void *)(intptr_t)lfd);
    static evt_co_t *cl[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        cl[i] = evt_spawn(echo_client, (void *)(intptr_t)i);
    int failed = 0, first = 0;
    for (int i = 0; i < CLIENTS; i++) {
        int err = join_int(cl[i]);
        if (err && !failed++)
            first = err;
    }
    cr_assert_eq(failed, 0, "%d clients failed, the first with %s", failed,
                 strerror(first));
    cr_assert_eq(join_int(srv), 0);
    /* Every client has closed: each echo coroutine sees its end of stream. */
    for (int i = 0; i < CLIENTS; i++)
        join_int(conns[i]);
    evt_close(lfd);
}
