/* Tests of src/hook/io.c: hooked read/write/recv/send park only the
 * calling coroutine; a non-blocking fd of the user still gives EAGAIN;
 * SO_RCVTIMEO still expires (EAGAIN); errno survives the switch; a plain
 * pthread gets libc's blocking call, even on an fd the hooks made
 * non-blocking; a cancel ends a parked read with ECANCELED. */
#include "hook_test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/time.h>

static int sv[2];
static int order[8], norder;

static void *reader(void *arg)
{
    (void)arg;
    char c = 0;
    errno = 4242;
    ssize_t n = read(sv[0], &c, 1);
    order[norder++] = 'r';
    if (n != 1 || c != 'x')
        return CO_RESULT(n < 0 ? errno : EIO);
    return CO_RESULT(errno == 4242 ? 0 : -1); /* errno kept across the park */
}

static void *writer(void *arg)
{
    (void)arg;
    order[norder++] = 'w';
    errno = 1; /* a different errno on the same thread meanwhile */
    return CO_RESULT(write(sv[1], "x", 1) == 1 ? 0 : errno);
}

Test(hook_io, read_parks_only_its_coroutine_and_keeps_errno)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    norder = 0;
    evt_co_t *r = evt_spawn(reader, NULL), *w = evt_spawn(writer, NULL);
    cr_assert_eq(join_int(r), 0);
    cr_assert_eq(join_int(w), 0);
    /* The writer ran while the reader waited for its byte. */
    cr_assert_eq(norder, 2);
    cr_assert_eq(order[0], 'w');
    cr_assert_eq(order[1], 'r');
    close(sv[0]);
    close(sv[1]);
}

static void *read_errno(void *arg)
{
    char c;
    ssize_t n = read(*(int *)arg, &c, 1);
    return CO_RESULT(n < 0 ? errno : 0);
}

Test(hook_io, user_nonblocking_fd_still_gives_eagain)
{
    int p[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    cr_assert_eq(join_int(evt_spawn(read_errno, &sv[0])), EAGAIN);
    /* Made non-blocking later, with fcntl or FIONBIO, and on a pipe. */
    cr_assert_eq(pipe(p), 0);
    int fl = fcntl(p[0], F_GETFL);
    cr_assert_eq(fcntl(p[0], F_SETFL, fl | O_NONBLOCK), 0);
    cr_assert_eq(join_int(evt_spawn(read_errno, &p[0])), EAGAIN);
    int on = 1;
    cr_assert_eq(ioctl(p[1], FIONBIO, &on), 0);
    cr_assert(fcntl(p[1], F_GETFL) & O_NONBLOCK);
    for (int i = 0; i < 4; i++)
        close(i < 2 ? sv[i] : p[i - 2]);
}

static void *ticker(void *arg)
{
    int *ticks = arg;
    while (!evt_cancelled())
        if (evt_sleep(evt_now() + 10) == 0)
            (*ticks)++;
    return NULL;
}

Test(hook_io, so_rcvtimeo_expires_with_eagain_while_others_run)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct timeval tv = {0, 150 * 1000};
    cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    int ticks = 0;
    evt_co_t *t = evt_spawn(ticker, &ticks);
    int64_t t0 = evt_now();
    cr_assert_eq(join_int(evt_spawn(read_errno, &sv[0])), EAGAIN);
    cr_assert_geq(evt_now() - t0, 150);
    cr_assert_gt(ticks, 0, "the thread was blocked by the read");
    evt_cancel(t);
    join_int(t);
    close(sv[0]);
    close(sv[1]);
}

Test(hook_io, fgetfl_hides_our_nonblock)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct timeval tv = {0, 1000};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    cr_assert_eq(join_int(evt_spawn(read_errno, &sv[0])), EAGAIN);
    /* The hooks made the OS fd non-blocking; its user does not see it. */
    cr_assert_eq(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
    close(sv[0]);
    close(sv[1]);
}

static char big[1 << 20];

static void *write_big(void *arg)
{
    (void)arg;
    ssize_t n = write(sv[1], big, sizeof big);
    return CO_RESULT(n == (ssize_t)sizeof big ? 0 : n < 0 ? errno : EIO);
}

static void *drain(void *arg)
{
    size_t *got = arg;
    static char buf[65536];
    ssize_t n;
    while (*got < sizeof big && (n = recv(sv[0], buf, sizeof buf, 0)) > 0)
        *got += (size_t)n;
    return NULL;
}

Test(hook_io, write_writes_all_as_a_blocking_write)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    size_t got = 0;
    evt_co_t *w = evt_spawn(write_big, NULL), *d = evt_spawn(drain, &got);
    cr_assert_eq(join_int(w), 0);
    join_int(d);
    cr_assert_eq(got, sizeof big);
    close(sv[0]);
    close(sv[1]);
}

static _Atomic pid_t reader_tid;

static void *thread_read(void *arg)
{
    char c = 0;
    reader_tid = gettid();
    ssize_t n = read(*(int *)arg, &c, 1);
    return CO_RESULT(n == 1 && c == 'y' ? 0 : n < 0 ? errno : EIO);
}

Test(hook_io, plain_pthread_gets_a_blocking_read)
{
    /* The hooks made sv[0] non-blocking for a coroutine first. */
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct timeval tv = {0, 1000}, none = {0, 0};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    cr_assert_eq(join_int(evt_spawn(read_errno, &sv[0])), EAGAIN);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    /* A thread without a scheduler still blocks until the byte comes. */
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, thread_read, &sv[0]), 0);
    while (!reader_tid)
        sched_yield();
    /* In read, or in the poll that stands for it on an fd the hooks made
     * non-blocking: blocked either way, not failing with EAGAIN. */
#ifdef SYS_poll
    long poll_nr = SYS_poll;
#else
    long poll_nr = SYS_ppoll;
#endif
    cr_assert(wait_in_syscall(reader_tid, SYS_read, poll_nr, evt_now() + 10000),
              "the thread did not block in read(2)");
    cr_assert_eq(write(sv[1], "y", 1), 1);
    void *r;
    pthread_join(th, &r);
    cr_assert_eq((int)(intptr_t)r, 0);
    close(sv[0]);
    close(sv[1]);
}

Test(hook_io, cancel_ends_a_parked_read_with_ecanceled)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    evt_co_t *r = evt_spawn(read_errno, &sv[0]);
    evt_yield(); /* it parks in read */
    cr_assert_eq(evt_cancel(r), 0);
    cr_assert_eq(join_int(r), ECANCELED);
    close(sv[0]);
    close(sv[1]);
}

static void *recv_waitall(void *arg)
{
    (void)arg;
    char buf[6] = {0};
    ssize_t n = recv(sv[0], buf, 6, MSG_WAITALL);
    return CO_RESULT(n == 6 && !memcmp(buf, "abcdef", 6) ? 0 : n < 0 ? errno : EIO);
}

static void *send_in_two(void *arg)
{
    (void)arg;
    if (send(sv[1], "abc", 3, 0) != 3)
        return CO_RESULT(errno);
    evt_yield(); /* the receiver takes "abc" and must wait for the rest */
    evt_yield();
    return CO_RESULT(send(sv[1], "def", 3, 0) == 3 ? 0 : errno);
}

Test(hook_io, recv_waitall_gathers_every_byte)
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    evt_co_t *r = evt_spawn(recv_waitall, NULL), *s = evt_spawn(send_in_two, NULL);
    cr_assert_eq(join_int(s), 0);
    cr_assert_eq(join_int(r), 0);
    close(sv[0]);
    close(sv[1]);
}
