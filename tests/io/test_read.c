/* Tests of src/io/read.c: evt_read and evt_recv on sockets, pipes and
 * files; waiting, deadlines, cancellation, end of stream, closing under a
 * waiter, and the recv flags. */
#include "io_test.h"

#include <stdio.h>
#include <string.h>

struct rd {
    int fd;
    int64_t deadline;
    char buf[64];
    ssize_t n;
};

static void *reader(void *arg)
{
    struct rd *r = arg;
    r->n = evt_read(r->fd, r->buf, sizeof r->buf, r->deadline);
    return CO_RESULT(r->n < 0 ? errno : 0);
}

static void *late_writer(void *arg)
{
    int fd = *(int *)arg;
    evt_yield(); /* the reader is parked by now */
    cr_assert_eq(write(fd, "late", 4), 4);
    return NULL;
}

Test(read, data_already_there)
{
    int sv[2];
    stream_pair(sv);
    cr_assert_eq(write(sv[1], "hello", 5), 5);
    char buf[16];
    cr_assert_eq(evt_read(sv[0], buf, sizeof buf, -1), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    /* The call put the fd in non-blocking mode. */
    cr_assert(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(read, waits_for_data)
{
    int sv[2];
    stream_pair(sv);
    struct rd r = {.fd = sv[0], .deadline = evt_now() + 5000};
    evt_co_t *co = evt_spawn(reader, &r);
    evt_co_t *w = evt_spawn(late_writer, &sv[1]);
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(r.n, 4);
    cr_assert_eq(memcmp(r.buf, "late", 4), 0);
    join_int(w);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(read, deadline_on_silent_socket)
{
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    cr_assert_geq(c, 0);
    char buf[8];
    int64_t t0 = evt_now();
    cr_assert_eq(evt_read(c, buf, sizeof buf, t0 + 30), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 30);
    /* Deadline 0: one try, no wait. */
    cr_assert_eq(evt_read(c, buf, sizeof buf, 0), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_close(c);
    evt_close(lfd);
}

Test(read, end_of_stream_is_zero)
{
    int sv[2];
    stream_pair(sv);
    struct rd r = {.fd = sv[0], .deadline = -1};
    evt_co_t *co = evt_spawn(reader, &r);
    settle();
    close(sv[1]); /* the peer, never seen by the reactor */
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(r.n, 0);
    evt_close(sv[0]);
}

Test(read, end_of_tcp_stream_is_zero)
{
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    int a = evt_accept(lfd, NULL, NULL, evt_now() + 5000);
    cr_assert_geq(a, 0);
    struct rd r = {.fd = c, .deadline = evt_now() + 5000};
    evt_co_t *co = evt_spawn(reader, &r);
    settle();
    evt_close(a);
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(r.n, 0);
    evt_close(c);
    evt_close(lfd);
}

Test(read, cancel_while_blocked)
{
    int sv[2];
    stream_pair(sv);
    struct rd r = {.fd = sv[0], .deadline = -1};
    evt_co_t *co = evt_spawn(reader, &r);
    settle();
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
    /* The fd is still usable by others after the waiter left. */
    cr_assert_eq(write(sv[1], "x", 1), 1);
    char b;
    cr_assert_eq(evt_read(sv[0], &b, 1, evt_now() + 5000), 1);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

static void *cancel_self_then_read(void *arg)
{
    int fd = *(int *)arg;
    evt_cancel(evt_self());
    char b;
    /* The byte that is there is read; the wait for the next one fails. */
    if (evt_read(fd, &b, 1, -1) != 1 || b != 'x')
        return CO_RESULT(-1);
    return CO_RESULT(evt_read(fd, &b, 1, -1) < 0 ? errno : 0);
}

Test(read, cancelled_caller_reads_what_is_there_then_fails)
{
    int sv[2];
    stream_pair(sv);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    cr_assert_eq(join_int(evt_spawn(cancel_self_then_read, &sv[0])),
                 ECANCELED);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(read, evt_close_wakes_waiter_with_ebadf)
{
    int sv[2];
    stream_pair(sv);
    struct rd r = {.fd = sv[0], .deadline = -1};
    evt_co_t *co = evt_spawn(reader, &r);
    settle();
    evt_close(sv[0]);
    cr_assert_eq(join_int(co), EBADF);
    evt_close(sv[1]);
}

Test(read, fd_forget_wakes_waiter_with_ebadf)
{
    int sv[2];
    stream_pair(sv);
    struct rd r = {.fd = sv[0], .deadline = -1};
    evt_co_t *co = evt_spawn(reader, &r);
    settle();
    evt_fd_forget(sv[0]);
    cr_assert_eq(join_int(co), EBADF);
    close(sv[0]);
    close(sv[1]);
}

Test(read, pipe)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    struct rd r = {.fd = p[0], .deadline = evt_now() + 5000};
    evt_co_t *co = evt_spawn(reader, &r);
    evt_co_t *w = evt_spawn(late_writer, &p[1]);
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(r.n, 4);
    join_int(w);
    char b;
    cr_assert_eq(evt_read(p[0], &b, 1, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_close(p[1]);
    cr_assert_eq(evt_read(p[0], &b, 1, evt_now() + 5000), 0);
    evt_close(p[0]);
}

Test(read, regular_file)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    int fd = fileno(f);
    cr_assert_eq(write(fd, "file data", 9), 9);
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    char buf[32];
    cr_assert_eq(evt_read(fd, buf, sizeof buf, 0), 9);
    cr_assert_eq(memcmp(buf, "file data", 9), 0);
    cr_assert_eq(evt_read(fd, buf, sizeof buf, 0), 0);
    evt_fd_forget(fd);
    fclose(f);
}

Test(read, bad_fd)
{
    char b;
    cr_assert_eq(evt_read(-1, &b, 1, -1), -1);
    cr_assert_eq(errno, EBADF);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    close(p[1]);
    cr_assert_eq(evt_read(p[0], &b, 1, -1), -1);
    cr_assert_eq(errno, EBADF);
    evt_fd_forget(p[0]);
}

Test(recv, flags)
{
    int sv[2];
    stream_pair(sv);
    char buf[16];
    /* MSG_DONTWAIT is a deadline of 0. */
    cr_assert_eq(evt_recv(sv[0], buf, sizeof buf, MSG_DONTWAIT, -1), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_eq(write(sv[1], "peek", 4), 4);
    cr_assert_eq(evt_recv(sv[0], buf, sizeof buf, MSG_PEEK, -1), 4);
    cr_assert_eq(evt_recv(sv[0], buf, sizeof buf, 0, -1), 4);
    cr_assert_eq(memcmp(buf, "peek", 4), 0);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

static void *dribble(void *arg)
{
    int fd = *(int *)arg;
    for (int i = 0; i < 8; i++) {
        evt_yield();
        cr_assert_eq(write(fd, "ab", 2), 2);
    }
    return NULL;
}

Test(recv, waitall_gathers)
{
    int sv[2];
    stream_pair(sv);
    evt_co_t *w = evt_spawn(dribble, &sv[1]);
    char buf[16];
    cr_assert_eq(evt_recv(sv[0], buf, 16, MSG_WAITALL, evt_now() + 5000), 16);
    cr_assert_eq(memcmp(buf, "abababababababab", 16), 0);
    join_int(w);
    /* Short at end of stream; an error after some bytes gives the bytes. */
    cr_assert_eq(write(sv[1], "xyz", 3), 3);
    cr_assert_eq(evt_recv(sv[0], buf, 16, MSG_WAITALL, evt_now() + 20), 3);
    cr_assert_eq(write(sv[1], "xyz", 3), 3);
    close(sv[1]);
    cr_assert_eq(evt_recv(sv[0], buf, 16, MSG_WAITALL, evt_now() + 5000), 3);
    cr_assert_eq(evt_recv(sv[0], buf, 16, MSG_WAITALL, evt_now() + 5000), 0);
    evt_close(sv[0]);
}

Test(recv, not_a_socket)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    char b;
    cr_assert_eq(evt_recv(p[0], &b, 1, 0, -1), -1);
    cr_assert_eq(errno, ENOTSOCK);
    evt_close(p[0]);
    evt_close(p[1]);
}

Test(read, blocking_socket_cannot_block_thread)
{
    /* A socket whose O_NONBLOCK was cleared behind the reactor's back (as a
     * reused fd number would be) still parks instead of blocking. */
    int sv[2];
    stream_pair(sv);
    char b;
    cr_assert_eq(evt_read(sv[0], &b, 1, 0), -1);
    int fl = fcntl(sv[0], F_GETFL);
    cr_assert_eq(fcntl(sv[0], F_SETFL, fl & ~O_NONBLOCK), 0);
    cr_assert_eq(evt_read(sv[0], &b, 1, evt_now() + 20), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_close(sv[0]);
    evt_close(sv[1]);
}
