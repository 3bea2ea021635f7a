/* eventor — run IO-bound batch work on P processes x T threads x C coroutines.
 *
 * This is the whole public API, grouped by layer. Conventions (see DESIGN.md):
 *  - calls that mirror POSIX return -1 and set errno; constructors return NULL
 *    and set errno;
 *  - deadlines are absolute milliseconds on the monotonic clock of evt_now():
 *    -1 waits forever, 0 does not wait at all;
 *  - every blocking call parks only the calling coroutine and fails with
 *    ECANCELED once that coroutine has been cancelled;
 *  - coroutines and the objects of the sync layer belong to the thread that
 *    created them: use them from coroutines of that thread only.
 */
#ifndef EVENTOR_H
#define EVENTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EVT_VERSION_MAJOR 0
#define EVT_VERSION_MINOR 1
#define EVT_VERSION_PATCH 0

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

/* Milliseconds on a monotonic clock; the base of every deadline. */
int64_t evt_now(void);

/* ------------------------------------------------------------------------ */
/* Coroutines (src/core)                                                    */
/* ------------------------------------------------------------------------ */

/* A coroutine. The handle returned by evt_spawn stays valid until it is
 * joined successfully (evt_join returns 0) or detached, whichever comes
 * first; after that it must not be used. */
typedef struct evt_co evt_co_t;

/* The body of a coroutine: gets the spawn argument, returns its result. */
typedef void *(*evt_fn)(void *arg);

/* How to run a coroutine. Zero-initialise, then set what you need. */
typedef struct evt_co_attr {
    size_t stack_size; /* bytes of usable stack; 0 = the thread's default */
    int shared_stack;  /* 1 = run on the thread's shared stack and keep only
                          the used part while parked (less memory per parked
                          coroutine, a copy on every switch) */
} evt_co_attr_t;

/* Default stack size of coroutines spawned by the calling thread from now
 * on (rounded up to pages, at least 16 KiB). Returns 0, or -1 and EINVAL. */
int evt_set_stack_size(size_t bytes);

/* Start fn(arg) in a new coroutine of the calling thread. It first runs
 * when the caller blocks or yields. Returns NULL and ENOMEM when no stack can
 * be had, EINVAL for a NULL fn. The caller owns the handle: join it or
 * detach it. */
evt_co_t *evt_spawn(evt_fn fn, void *arg);
evt_co_t *evt_spawn_attr(evt_fn fn, void *arg, const evt_co_attr_t *attr);

/* Let every other ready coroutine of this thread run once. Returns 0, or -1
 * and ECANCELED when the caller is cancelled. */
int evt_yield(void);

/* Wait until co has finished, then store its result in *result (if result
 * is not NULL) and release co. Returns 0; or -1 and ETIMEDOUT (co is still
 * running and still owned by the caller), ECANCELED (the caller was
 * cancelled; same), EINVAL (co is the caller, or another coroutine is
 * already joining it), EDEADLK (the coroutine tries to join itself). */
int evt_join(evt_co_t *co, int64_t deadline, void **result);

/* Give up the handle: co is released by itself when it finishes. */
void evt_detach(evt_co_t *co);

/* Cancel co: its current blocking call, and every blocking call it makes
 * afterwards, fails with ECANCELED. Cancellation is sticky: it is a request
 * to finish, and the coroutine decides how. Returns 0, or -1 and EINVAL when
 * co has already finished. */
int evt_cancel(evt_co_t *co);

/* The calling coroutine (the thread's main coroutine outside any other). */
evt_co_t *evt_self(void);

/* A number naming co in messages, unique in the process. The main thread's
 * main coroutine is 0. */
uint64_t evt_co_id(const evt_co_t *co);

/* 1 when co has returned (its result is ready for evt_join), else 0. */
int evt_co_done(const evt_co_t *co);

/* 1 when the calling coroutine has been cancelled, else 0. */
int evt_cancelled(void);

/* ------------------------------------------------------------------------ */
/* Reactor (src/loop)                                                       */
/* ------------------------------------------------------------------------ */

/* Park the caller until the deadline. Returns 0 when it has passed, or -1
 * and ECANCELED. evt_sleep(0) yields once. */
int evt_sleep(int64_t deadline);

/* Park until fd is ready for events (EVT_IN, EVT_OUT or both), the deadline
 * passes (-1, ETIMEDOUT) or the caller is cancelled (-1, ECANCELED). Returns
 * the events that are ready (hang-up and errors show as both). */
#define EVT_IN 1
#define EVT_OUT 2
int evt_wait_fd(int fd, int events, int64_t deadline);

/* Forget what the reactor knows of fd and wake its waiters with EBADF.
 * Call it before closing an fd that was used with eventor calls, or call
 * evt_close, which does both. */
void evt_fd_forget(int fd);
int evt_close(int fd);

/* ------------------------------------------------------------------------ */
/* Cooperative IO (src/io)                                                  */
/* ------------------------------------------------------------------------ */

/* These put fd in non-blocking mode on first use and behave as their POSIX
 * namesakes, except that they park the calling coroutine instead of its
 * thread, and fail with ETIMEDOUT at the deadline or ECANCELED when the caller
 * is cancelled. evt_read and evt_recv return as soon as some bytes are there
 * (0 at end of file); evt_write and evt_send return only when all len bytes
 * are written (then they return len) or on error (-1, and an unknown part may
 * have been written). Sends never raise SIGPIPE: a closed peer gives EPIPE. */
ssize_t evt_read(int fd, void *buf, size_t len, int64_t deadline);
ssize_t evt_write(int fd, const void *buf, size_t len, int64_t deadline);
ssize_t evt_recv(int fd, void *buf, size_t len, int flags, int64_t deadline);
ssize_t evt_send(int fd, const void *buf, size_t len, int flags,
                 int64_t deadline);

/* Connect the non-blocking socket fd. Returns 0, or -1 and errno (the
 * connection error, ETIMEDOUT, ECANCELED). */
int evt_connect(int fd, const struct sockaddr *addr, socklen_t addrlen,
                int64_t deadline);

/* Accept a connection; the new fd is non-blocking and close-on-exec. */
int evt_accept(int fd, struct sockaddr *addr, socklen_t *addrlen,
               int64_t deadline);

/* Listen on host:port over TCP (host NULL or "" = all addresses, port 0 = a
 * free port; see evt_local_port). Returns a non-blocking listening socket, or
 * -1 and errno. */
int evt_tcp_listen(const char *host, int port, int backlog);

/* Connect to host:port over TCP, trying each address of host in turn; names
 * are resolved on another thread so that the caller's thread keeps running.
 * Returns a non-blocking socket with TCP_NODELAY, or -1 and errno. */
int evt_tcp_connect(const char *host, int port, int64_t deadline);

/* The local port a socket is bound to, or -1 and errno. */
int evt_local_port(int fd);

/* ------------------------------------------------------------------------ */
/* Synchronisation (src/sync)                                               */
/* ------------------------------------------------------------------------ */

/* Channel of fixed-size items (the gevent.queue and Go chan use). capacity 0
 * makes a rendezvous channel; EVT_CHAN_UNBOUNDED one that never blocks a
 * sender. The caller owns the channel; evt_chan_free wakes its waiters with
 * EPIPE... no: it must have no waiters left (EBUSY otherwise). */
#define EVT_CHAN_UNBOUNDED ((size_t)-1)
typedef struct evt_chan evt_chan_t;
evt_chan_t *evt_chan_new(size_t item_size, size_t capacity);
/* Copy item_size bytes from item into the channel. -1 and EPIPE once the
 * channel is closed, ETIMEDOUT, ECANCELED. */
int evt_chan_send(evt_chan_t *ch, const void *item, int64_t deadline);
/* Copy the oldest item into item. -1 and EPIPE when the channel is closed and
 * empty, ETIMEDOUT, ECANCELED. */
int evt_chan_recv(evt_chan_t *ch, void *item, int64_t deadline);
/* No more sends: blocked senders fail with EPIPE, receivers drain what is
 * left and then fail with EPIPE. Idempotent. */
void evt_chan_close(evt_chan_t *ch);
size_t evt_chan_len(const evt_chan_t *ch);
/* Returns 0, or -1 and EBUSY while coroutines wait on ch. */
int evt_chan_free(evt_chan_t *ch);

/* Event (gevent.event.Event): waiters park until it is set. */
typedef struct evt_event evt_event_t;
evt_event_t *evt_event_new(void);
void evt_event_set(evt_event_t *ev);
void evt_event_clear(evt_event_t *ev);
int evt_event_is_set(const evt_event_t *ev);
int evt_event_wait(evt_event_t *ev, int64_t deadline);
int evt_event_free(evt_event_t *ev);

/* Counting semaphore. */
typedef struct evt_sem evt_sem_t;
evt_sem_t *evt_sem_new(unsigned value);
int evt_sem_acquire(evt_sem_t *s, int64_t deadline);
void evt_sem_release(evt_sem_t *s);
unsigned evt_sem_value(const evt_sem_t *s);
int evt_sem_free(evt_sem_t *s);

/* Mutex between the coroutines of one thread (FIFO hand-off, not
 * recursive). Unlocking a mutex the caller does not hold fails with EPERM. */
typedef struct evt_mutex evt_mutex_t;
evt_mutex_t *evt_mutex_new(void);
int evt_mutex_lock(evt_mutex_t *m, int64_t deadline);
int evt_mutex_unlock(evt_mutex_t *m);
int evt_mutex_free(evt_mutex_t *m);

/* Wait group (Go sync.WaitGroup). */
typedef struct evt_wg evt_wg_t;
evt_wg_t *evt_wg_new(void);
/* Add n (may be negative; the counter going below 0 is EINVAL). */
int evt_wg_add(evt_wg_t *wg, int n);
void evt_wg_done(evt_wg_t *wg);
int evt_wg_wait(evt_wg_t *wg, int64_t deadline);
int evt_wg_free(evt_wg_t *wg);

#ifdef __cplusplus
}
#endif
#endif
