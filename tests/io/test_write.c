/* Tests of src/io/write.c: evt_write and evt_send write everything, wait
 * on full buffers, honour deadlines and cancellation, and turn a gone
 * reader into EPIPE without letting SIGPIPE kill the process. */
#include "io_test.h"

#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct wr {
    int fd;
    int64_t deadline;
    const char *buf;
    size_t len;
    ssize_t n;
};

static void *writer(void *arg)
{
    struct wr *w = arg;
    w->n = evt_write(w->fd, w->buf, w->len, w->deadline);
    return CO_RESULT(w->n < 0 ? errno : 0);
}

struct drain {
    int fd;
    unsigned char *buf;
    size_t want, got;
};

static void *drainer(void *arg)
{
    struct drain *d = arg;
    while (d->got < d->want) {
        ssize_t n = evt_read(d->fd, d->buf + d->got, d->want - d->got,
                             evt_now() + 10000);
        if (n <= 0)
            return CO_RESULT(n < 0 ? errno : EPIPE);
        d->got += (size_t)n;
    }
    return CO_RESULT(0);
}

static void big_transfer(int rfd, int wfd)
{
    enum { LEN = 8 << 20 };
    unsigned char *src = malloc(LEN), *dst = malloc(LEN);
    cr_assert(src && dst);
    for (size_t i = 0; i < LEN; i++)
        src[i] = (unsigned char)(i * 2654435761u >> 13);
    struct drain d = {.fd = rfd, .buf = dst, .want = LEN};
    evt_co_t *co = evt_spawn(drainer, &d);
    cr_assert_eq(evt_write(wfd, src, LEN, evt_now() + 10000), LEN);
    cr_assert_eq(join_int(co), 0);
    cr_assert_eq(memcmp(src, dst, LEN), 0);
    free(src);
    free(dst);
}

Test(write, everything_through_full_buffers)
{
    int sv[2];
    stream_pair(sv);
    big_transfer(sv[0], sv[1]);
    cr_assert(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(write, everything_through_a_pipe)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    big_transfer(p[0], p[1]);
    evt_close(p[0]);
    evt_close(p[1]);
}

Test(write, deadline_on_full_buffer)
{
    int sv[2];
    stream_pair(sv);
    cr_assert_eq(evt_write(sv[1], "x", 1, -1), 1); /* now non-blocking */
    fill_socket(sv[1]);
    int64_t t0 = evt_now();
    cr_assert_eq(evt_write(sv[1], "more", 4, t0 + 30), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    cr_assert_geq(evt_now(), t0 + 30);
    cr_assert_eq(evt_send(sv[1], "more", 4, MSG_DONTWAIT, -1), -1);
    cr_assert_eq(errno, ETIMEDOUT);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(write, cancel_while_blocked_on_full_buffer)
{
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    int a = evt_accept(lfd, NULL, NULL, evt_now() + 5000);
    cr_assert(c >= 0 && a >= 0);
    fill_socket(c);
    struct wr w = {.fd = c, .deadline = -1, .buf = "blocked", .len = 7};
    evt_co_t *co = evt_spawn(writer, &w);
    settle();
    cr_assert_eq(evt_cancel(co), 0);
    cr_assert_eq(join_int(co), ECANCELED);
    evt_close(a);
    evt_close(c);
    evt_close(lfd);
}

Test(write, evt_close_wakes_blocked_writer)
{
    int sv[2];
    stream_pair(sv);
    fill_socket(sv[1]);
    struct wr w = {.fd = sv[1], .deadline = -1, .buf = "blocked", .len = 7};
    evt_co_t *co = evt_spawn(writer, &w);
    settle();
    evt_close(sv[1]);
    cr_assert_eq(join_int(co), EBADF);
    evt_close(sv[0]);
}

/* SIGPIPE at its default (death) for the test, whatever the runner did. */
static void sigpipe_default(void)
{
    signal(SIGPIPE, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

static int sigpipe_pending(void)
{
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, SIGPIPE);
}

Test(write, closed_socket_peer_is_epipe_not_sigpipe)
{
    sigpipe_default();
    int sv[2];
    stream_pair(sv);
    close(sv[0]);
    cr_assert_eq(evt_write(sv[1], "x", 1, -1), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert_eq(evt_send(sv[1], "x", 1, 0, -1), -1);
    cr_assert_eq(errno, EPIPE);
    evt_close(sv[1]);
}

Test(write, closed_tcp_peer_is_epipe_not_sigpipe)
{
    sigpipe_default();
    int port, lfd = lo_listen(&port);
    int c = evt_tcp_connect("127.0.0.1", port, evt_now() + 5000);
    int a = evt_accept(lfd, NULL, NULL, evt_now() + 5000);
    cr_assert(c >= 0 && a >= 0);
    /* Close with a reset, and wait until it has come. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    cr_assert_eq(setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    evt_close(a);
    cr_assert_gt(evt_wait_fd(c, EVT_IN, evt_now() + 5000), 0);
    /* The reset is reported once (ECONNRESET), then the stream is shut:
     * EPIPE; never a signal. */
    char buf[64] = {0};
    int err = 0;
    for (int i = 0; i < 3 && err != EPIPE; i++) {
        cr_assert_eq(evt_write(c, buf, sizeof buf, evt_now() + 5000), -1);
        err = errno;
        cr_assert(err == EPIPE || err == ECONNRESET, "errno %d", err);
    }
    cr_assert_eq(err, EPIPE);
    evt_close(c);
    evt_close(lfd);
}

Test(write, pipe_without_reader_is_epipe_not_sigpipe)
{
    sigpipe_default();
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    cr_assert_eq(evt_write(p[1], "x", 1, -1), -1);
    cr_assert_eq(errno, EPIPE);
    /* The signal the write raised was taken back, none is left pending, and
     * the thread's mask is as it was. */
    cr_assert_not(sigpipe_pending());
    sigset_t mask;
    pthread_sigmask(SIG_SETMASK, NULL, &mask);
    cr_assert_not(sigismember(&mask, SIGPIPE));
    evt_close(p[1]);
}

Test(write, pipe_keeps_a_sigpipe_pending_before)
{
    sigpipe_default();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_kill(pthread_self(), SIGPIPE);
    cr_assert(sigpipe_pending());
    int p[2];
    cr_assert_eq(pipe(p), 0);
    close(p[0]);
    cr_assert_eq(evt_write(p[1], "x", 1, -1), -1);
    cr_assert_eq(errno, EPIPE);
    cr_assert(sigpipe_pending(), "a SIGPIPE that was not ours was eaten");
    const struct timespec zero = {0, 0};
    cr_assert_eq(sigtimedwait(&s, NULL, &zero), SIGPIPE);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    evt_close(p[1]);
}

Test(send, flags_and_errors)
{
    int sv[2];
    stream_pair(sv);
    cr_assert_eq(evt_send(sv[1], "hi", 2, 0, -1), 2);
    cr_assert_eq(evt_send(sv[1], "", 0, 0, -1), 0);
    char buf[4];
    cr_assert_eq(evt_read(sv[0], buf, sizeof buf, -1), 2);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(evt_send(p[1], "x", 1, 0, -1), -1);
    cr_assert_eq(errno, ENOTSOCK);
    cr_assert_eq(evt_write(-1, "x", 1, -1), -1);
    cr_assert_eq(errno, EBADF);
    evt_close(p[0]);
    evt_close(p[1]);
    evt_close(sv[0]);
    evt_close(sv[1]);
}

Test(write, regular_file)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    int fd = fileno(f);
    cr_assert_eq(evt_write(fd, "file data", 9, 0), 9);
    char buf[16];
    cr_assert_eq(pread(fd, buf, sizeof buf, 0), 9);
    cr_assert_eq(memcmp(buf, "file data", 9), 0);
    evt_fd_forget(fd);
    fclose(f);
}
