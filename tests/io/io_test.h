/* Helpers shared by the tests of src/io: loopback listeners, socket pairs,
 * filling a socket's buffers, and a coroutine-result convention (a body
 * returns 0 or the errno it failed with). */
#ifndef EVT_TESTS_IO_TEST_H
#define EVT_TESTS_IO_TEST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eventor.h"

/* A listener on 127.0.0.1 with a free port, stored in *port. */
static inline int lo_listen(int *port)
{
    int fd = evt_tcp_listen("127.0.0.1", 0, 128);
    cr_assert_geq(fd, 0, "evt_tcp_listen: %s", strerror(errno));
    *port = evt_local_port(fd);
    cr_assert_gt(*port, 0);
    return fd;
}

/* A connected stream socket pair, blocking as made (the calls under test
 * must make them non-blocking themselves). */
static inline void stream_pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* Write into fd until its buffers are full, so that the next write waits.
 * Returns the bytes written. */
static inline size_t fill_socket(int fd)
{
    static char junk[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "send: %s",
                      strerror(errno));
            return total;
        }
        total += (size_t)n;
    }
}

/* A coroutine's errno as its result: evt_join(co, -1, &r), then
 * co_errno(r). */
static inline int co_errno(void *r)
{
    return (int)(intptr_t)r;
}

#define CO_RESULT(err) ((void *)(intptr_t)(err))

/* Join co (a deadline keeps a broken test from hanging) and return its
 * result as an int. */
static inline int join_int(evt_co_t *co)
{
    void *r = NULL;
    cr_assert_eq(evt_join(co, evt_now() + 10000, &r), 0, "join: %s",
                 strerror(errno));
    return (int)(intptr_t)r;
}

/* Let the coroutines spawned so far run up to their first park: the run
 * queue is FIFO, so one yield of the caller does it. */
static inline void settle(void)
{
    evt_yield();
}

static inline void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

#endif
