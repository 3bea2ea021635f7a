/* eventor — run IO-bound batch work on P processes x T threads x C coroutines.
 *
 * This is the whole public API, grouped by layer. Conventions (see DESIGN.md):
 *  - calls that mirror POSIX return -1 and set errno; constructors return NULL
 *    and set errno;
 *  - deadlines are absolute milliseconds on the monotonic clock of evt_now():
 *    -1 waits forever, 0 does not wait at all;
 *  - every blocking call parks only the calling coroutine; once that
 *    coroutine has been cancelled, a call that would have to wait fails at
 *    once with ECANCELED, and a call that can complete without waiting
 *    still completes (so cleanup can unlock, release, drain and send what
 *    fits);
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

/* fork(): the child starts with a fresh runtime. The forking thread's
 * scheduler is dropped in the child (its coroutines, timers and fds waits
 * do not exist there) and the child's first evt_* call makes a new one, whose
 * main coroutine is whatever the child is running on, even a coroutine of
 * the parent: such a child must exit (exit or _exit) rather than return
 * from that coroutine's function. */

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
 * the events that are ready (hang-up and errors show as both). A regular
 * file, which epoll cannot watch, is always ready: events come back at once.
 * Other errors: EINVAL (events), EBADF (fd is not open, or was forgotten
 * while waited on). */
#define EVT_IN 1
#define EVT_OUT 2
int evt_wait_fd(int fd, int events, int64_t deadline);

/* Forget what the reactor knows of fd and wake its waiters with EBADF.
 * Call it before closing an fd that was used with eventor calls, or call
 * evt_close, which does both. After a plain close() the reactor still
 * believes in the old fd, and a new fd that gets its number may wait in vain
 * or block its thread; fds that eventor itself creates (evt_accept,
 * evt_tcp_listen, evt_tcp_connect) are immune to this. */
void evt_fd_forget(int fd);
int evt_close(int fd);

/* ------------------------------------------------------------------------ */
/* Cooperative IO (src/io)                                                  */
/* ------------------------------------------------------------------------ */

/* These put fd in non-blocking mode on first use and behave as their POSIX
 * namesakes, except that they park the calling coroutine instead of its
 * thread, and fail with ETIMEDOUT at the deadline or ECANCELED when the caller
 * is cancelled (as soon as they would have to wait).
 * A deadline of 0 makes one attempt: ETIMEDOUT, never EAGAIN, when it would
 * have to wait. evt_read and evt_recv return as soon as some bytes are there
 * (0 at end of file); evt_write and evt_send return only when all len bytes
 * are written (then they return len) or on error (-1, and an unknown part may
 * have been written). Sends never raise SIGPIPE: a closed peer gives EPIPE
 * (sockets are written with MSG_NOSIGNAL, other fds with SIGPIPE blocked in
 * the thread for the write, and a SIGPIPE pending before is left pending).
 * evt_recv and evt_send take MSG_DONTWAIT as a deadline of 0; MSG_WAITALL
 * makes evt_recv gather len bytes, fewer only at end of stream or when an
 * error comes after some bytes. An fd closed with evt_close (or passed to
 * evt_fd_forget) by another coroutine fails its waiters with EBADF.
 * Regular files and block devices, which epoll cannot wait for, are read
 * and written on an internal thread pool while only the caller parks. The
 * deadline or a cancel withdraws such a job while it is still queued (the
 * file untouched); once a pool thread has started it, the call waits for
 * its end whatever comes (the thread uses the caller's buffer) and returns
 * its outcome. A thread with no other coroutine, a deadline of 0 and a
 * cancelled caller do file IO at once on the calling thread instead. */
ssize_t evt_read(int fd, void *buf, size_t len, int64_t deadline);
ssize_t evt_write(int fd, const void *buf, size_t len, int64_t deadline);
ssize_t evt_recv(int fd, void *buf, size_t len, int flags, int64_t deadline);
ssize_t evt_send(int fd, const void *buf, size_t len, int flags,
                 int64_t deadline);

/* Connect the socket fd (made non-blocking here). Returns 0 once connected,
 * or -1 and errno: the connection error (ECONNREFUSED, ENETUNREACH...),
 * ETIMEDOUT, ECANCELED. After a failure the socket is good only for closing.
 * A Unix socket whose listener's backlog is full fails with EAGAIN, as
 * connect(2) does. */
int evt_connect(int fd, const struct sockaddr *addr, socklen_t addrlen,
                int64_t deadline);

/* Accept a connection on the listening socket fd. Returns the new socket,
 * non-blocking and close-on-exec, which the caller owns (evt_close it); or
 * -1 and errno (EMFILE or ENFILE when out of fds, ETIMEDOUT, ECANCELED).
 * Connections that died while queued are skipped. */
int evt_accept(int fd, struct sockaddr *addr, socklen_t *addrlen,
               int64_t deadline);

/* Listen on host:port over TCP (host NULL or "" = all addresses, port 0 = a
 * free port; see evt_local_port). host is a numeric IPv4 or IPv6 address (a
 * name is EINVAL: listen does not wait for a lookup); all addresses means
 * one IPv6 socket that takes IPv4 too, or IPv4 alone where IPv6 is off. The
 * socket has SO_REUSEADDR; backlog <= 0 means SOMAXCONN. Returns a
 * non-blocking, close-on-exec listening socket, which the caller owns; or
 * -1 and errno (EINVAL, EADDRINUSE...). */
int evt_tcp_listen(const char *host, int port, int backlog);

/* Connect to host:port over TCP, trying each address of host in turn; names
 * are resolved on another thread so that the caller's thread keeps running
 * (a lookup given up at the deadline or by a cancel finishes there and is
 * freed when it comes back). The deadline covers the lookup and every
 * connect. Returns a non-blocking, close-on-exec socket with TCP_NODELAY,
 * which the caller owns; or -1 and errno: EINVAL (no host, port not in
 * 1..65535), EADDRNOTAVAIL (no such name), EAGAIN (the name server failed
 * for now), the last address's connection error, ETIMEDOUT, ECANCELED. */
int evt_tcp_connect(const char *host, int port, int64_t deadline);

/* The local port of an IPv4 or IPv6 socket, or -1 and errno (EBADF,
 * ENOTSOCK, EAFNOSUPPORT for sockets without ports). */
int evt_local_port(int fd);

/* ------------------------------------------------------------------------ */
/* Synchronisation (src/sync)                                               */
/* ------------------------------------------------------------------------ */

/* The objects below belong to the thread that created them: use them from
 * coroutines of that thread only. Waiters are served oldest first. A call
 * that can complete without waiting completes, even in a cancelled
 * coroutine (so that cleanup code can still unlock, release and drain); a
 * call that would wait fails at once with ECANCELED there. Every *_free
 * accepts NULL; the objects hold no coroutine of their own unless said. */

/* Channel of fixed-size items (the gevent.queue and Go chan use). An item
 * goes straight to a parked receiver when there is one, else into the
 * buffer. */
#define EVT_CHAN_UNBOUNDED ((size_t)-1)
typedef struct evt_chan evt_chan_t;
/* A channel of items of item_size bytes (1 to 1 GiB, else EINVAL) holding
 * up to capacity items: 0 makes a rendezvous channel (a send waits for a
 * receiver), EVT_CHAN_UNBOUNDED one that never blocks a sender. The buffer
 * grows on demand up to capacity. The caller owns the channel and frees it
 * with evt_chan_free. NULL and EINVAL or ENOMEM. */
evt_chan_t *evt_chan_new(size_t item_size, size_t capacity);
/* Copy item_size bytes from item (not NULL) into the channel, waiting until
 * there is room or a receiver. Returns 0, or -1 and EPIPE (closed, now or
 * while waiting: the item was not sent), ETIMEDOUT, ECANCELED, ENOMEM (the
 * buffer could not grow), EINVAL. */
int evt_chan_send(evt_chan_t *ch, const void *item, int64_t deadline);
/* Copy the oldest item into item (NULL: drop it), waiting for one. Returns
 * 0, or -1 and EPIPE (closed and empty), ETIMEDOUT, ECANCELED, EINVAL. An
 * item is taken only by a call that returns 0. */
int evt_chan_recv(evt_chan_t *ch, void *item, int64_t deadline);
/* No more sends: blocked senders fail with EPIPE, receivers drain what is
 * buffered and then fail with EPIPE. Idempotent. */
void evt_chan_close(evt_chan_t *ch);
/* Items buffered (not counting blocked senders). */
size_t evt_chan_len(const evt_chan_t *ch);
/* 1 once evt_chan_close was called, else 0. */
int evt_chan_closed(const evt_chan_t *ch);
/* Free ch and the items still buffered (pointers inside items stay the
 * caller's). Returns 0, or -1 and EBUSY while coroutines wait on ch. */
int evt_chan_free(evt_chan_t *ch);

/* Event (gevent.event.Event): a flag; waiters park until it is set. The
 * caller owns it and frees it with evt_event_free. */
typedef struct evt_event evt_event_t;
evt_event_t *evt_event_new(void);
/* Set the flag and wake every waiter: each returns 0, even if the flag is
 * cleared again before it runs. */
void evt_event_set(evt_event_t *ev);
void evt_event_clear(evt_event_t *ev);
int evt_event_is_set(const evt_event_t *ev);
/* Returns 0 at once if set, else when it is set; or -1 and ETIMEDOUT,
 * ECANCELED, EINVAL. */
int evt_event_wait(evt_event_t *ev, int64_t deadline);
/* Returns 0, or -1 and EBUSY while coroutines wait on ev. */
int evt_event_free(evt_event_t *ev);

/* Counting semaphore. A release hands its unit to the oldest waiter. The
 * caller owns it and frees it with evt_sem_free. */
typedef struct evt_sem evt_sem_t;
evt_sem_t *evt_sem_new(unsigned value);
/* Take a unit, waiting for one. Returns 0, or -1 and ETIMEDOUT, ECANCELED,
 * EINVAL. */
int evt_sem_acquire(evt_sem_t *sem, int64_t deadline);
/* Give a unit back. Returns 0, or -1 and EOVERFLOW (value at UINT_MAX),
 * EINVAL. */
int evt_sem_release(evt_sem_t *sem);
unsigned evt_sem_value(const evt_sem_t *sem);
/* Returns 0, or -1 and EBUSY while coroutines wait on sem. */
int evt_sem_free(evt_sem_t *sem);

/* Mutex between the coroutines of one thread (FIFO hand-off, not
 * recursive). The holder is a coroutine: it must unlock before it returns.
 * The caller owns the mutex and frees it with evt_mutex_free. */
typedef struct evt_mutex evt_mutex_t;
evt_mutex_t *evt_mutex_new(void);
/* Returns 0 once the caller holds m; or -1 and ETIMEDOUT, ECANCELED,
 * EDEADLK (the caller holds it already), EINVAL. */
int evt_mutex_lock(evt_mutex_t *m, int64_t deadline);
/* Returns 0, or -1 and EPERM (the caller does not hold m), EINVAL. */
int evt_mutex_unlock(evt_mutex_t *m);
/* Returns 0, or -1 and EBUSY while m is held or waited for. */
int evt_mutex_free(evt_mutex_t *m);

/* Wait group (Go sync.WaitGroup): a counter of outstanding work. The caller
 * owns it and frees it with evt_wg_free. */
typedef struct evt_wg evt_wg_t;
evt_wg_t *evt_wg_new(void);
/* Add n (may be negative). When the counter reaches 0 every waiter wakes
 * and returns 0. Returns 0, or -1 and EINVAL (the counter would go below 0;
 * it is left as it was). evt_wg_done is evt_wg_add(wg, -1). */
int evt_wg_add(evt_wg_t *wg, int n);
int evt_wg_done(evt_wg_t *wg);
int64_t evt_wg_count(const evt_wg_t *wg);
/* Returns 0 at once if the counter is 0, else when it reaches 0; or -1 and
 * ETIMEDOUT, ECANCELED, EINVAL. */
int evt_wg_wait(evt_wg_t *wg, int64_t deadline);
/* Returns 0, or -1 and EBUSY while coroutines wait on wg. */
int evt_wg_free(evt_wg_t *wg);

/* Group (gevent Group and joinall): coroutines spawned into a group belong
 * to it; join them all with a deadline, cancel them all. The caller owns
 * the group; evt_group_free cancels and joins the members left, so none
 * outlives it. */
typedef struct evt_group evt_group_t;
evt_group_t *evt_group_new(void);
/* Start fn(arg) in a new coroutine of the group; fn's result is dropped
 * (hand results back through arg or a channel). The handle is borrowed:
 * the group releases the coroutine as soon as it returns, so use the handle
 * (evt_cancel, evt_co_id) only while you know it runs, and never join or
 * detach it. NULL and EINVAL, ENOMEM, ECANCELED (evt_group_free is under
 * way); then fn never runs and arg stays the caller's. */
evt_co_t *evt_group_spawn(evt_group_t *g, evt_fn fn, void *arg);
evt_co_t *evt_group_spawn_attr(evt_group_t *g, evt_fn fn, void *arg,
                               const evt_co_attr_t *attr);
/* Wait until every member has returned (members spawned meanwhile
 * included). Returns 0, or -1 and ETIMEDOUT or ECANCELED (see
 * evt_group_running and evt_group_finished for how far it got), EINVAL. A
 * member joining its own group waits for itself: it can only time out. */
int evt_group_join(evt_group_t *g, int64_t deadline);
/* Cancel every running member (see evt_cancel). The group stays usable. */
void evt_group_cancel(evt_group_t *g);
/* Members not yet returned. */
size_t evt_group_running(const evt_group_t *g);
/* Members that have returned since the group was made. */
uint64_t evt_group_finished(const evt_group_t *g);
/* Cancel the running members, wait for all of them to return (even when
 * the caller is cancelled: members must not outlive the group), and free
 * g. Returns 0, or -1 and EDEADLK when called from a member of g (nothing
 * is done). */
int evt_group_free(evt_group_t *g);

/* Coroutine pool (gevent.pool.Pool, asyncpool): runs tasks, each in a
 * coroutine of its own, at most size at once. A task is fn(arg) of an
 * evt_copool_spawn, or one item of a map. Its status is 0, ETIMEDOUT
 * (cancelled by the pool for running past max_task_ms) or ECANCELED
 * (cancelled otherwise: evt_copool_kill, a cancelled map caller); a task
 * that fails in its own way says so through its result. */
typedef struct evt_copool evt_copool_t;
/* Called with the number of tasks finished and how many of them failed
 * (non-zero status). It runs in the coroutine of the task that made the
 * count, which may be cancelled: keep it short and do not block. */
typedef void (*evt_copool_progress_fn)(uint64_t done, uint64_t failed,
                                       void *user);
/* How to run a pool. Zero-initialise, then set what you need. */
typedef struct evt_copool_opts {
    int64_t max_task_ms;    /* cancel a task that runs longer (asyncpool's
                               max_task_time); 0 = no limit; the pool then
                               keeps a watchdog coroutine */
    uint64_t log_every_n;   /* call progress every n finished tasks; 0 =
                               never */
    evt_copool_progress_fn progress; /* NULL: a line on stderr */
    void *progress_user;    /* progress's last argument */
    evt_co_attr_t co_attr;  /* how task coroutines are spawned */
} evt_copool_opts_t;
/* A pool of size slots (at least 1) with opts (NULL: defaults; copied).
 * The caller owns it and frees it with evt_copool_free. NULL and EINVAL
 * (size 0, max_task_ms < 0), ENOMEM. */
evt_copool_t *evt_copool_new(size_t size, const evt_copool_opts_t *opts);
/* Start fn(arg) as a task, waiting for a free slot; spawners waiting are
 * served in order. The pool owns the task; its result is dropped (hand
 * results back through arg or a channel). Returns 0, or -1 and ETIMEDOUT,
 * ECANCELED (the caller was cancelled, or the pool was killed or is being
 * freed while it waited), ENOMEM, EINVAL; then fn never runs and arg stays
 * the caller's. */
int evt_copool_spawn(evt_copool_t *pool, evt_fn fn, void *arg,
                     int64_t deadline);
/* Run fn(args[i]) for i in [0, n) (args NULL: fn(NULL)) as tasks, starting
 * each when a slot is free, and return when all have finished: results[i]
 * gets fn's result and errs[i] the task's status, in input order (either
 * array may be NULL; both stay the caller's). Returns 0 when every item ran
 * (per-item failures are in errs); or -1 and errno: ECANCELED (the caller
 * was cancelled or the pool killed: tasks started are cancelled and waited
 * for, items never started get status ECANCELED and result NULL), ENOMEM
 * (items not started get ENOMEM), EINVAL. */
int evt_copool_map(evt_copool_t *pool, evt_fn fn, void *const *args,
                   void **results, int *errs, size_t n);
/* Told that item index finished with result and err (its status). */
typedef void (*evt_copool_result_fn)(size_t index, void *result, int err,
                                     void *user);
/* As evt_copool_map, but cb(index, result, err, user) reports each item as
 * it finishes, exactly once per item, in the caller's coroutine (so cb may
 * block; tasks go on meanwhile). Returns when every item is reported. */
int evt_copool_imap_unordered(evt_copool_t *pool, evt_fn fn,
                              void *const *args, size_t n,
                              evt_copool_result_fn cb, void *user);
/* Wait until no task runs. Returns 0, or -1 and ETIMEDOUT, ECANCELED,
 * EINVAL. A task joining its own pool can only time out. */
int evt_copool_join(evt_copool_t *pool, int64_t deadline);
/* Cancel every running task, fail every spawner waiting for a slot with
 * ECANCELED, and make the maps in progress stop (see evt_copool_map). The
 * pool stays usable for spawns made afterwards. */
void evt_copool_kill(evt_copool_t *pool);
/* Slots taken now. */
size_t evt_copool_running(const evt_copool_t *pool);
/* Tasks finished, and of them those with a non-zero status. */
uint64_t evt_copool_done(const evt_copool_t *pool);
uint64_t evt_copool_failed(const evt_copool_t *pool);
/* Kill the pool, wait for its tasks to return (even when the caller is
 * cancelled: tasks must not outlive it), and free it. Returns 0, or -1 and
 * EBUSY (a map is in progress on it), EDEADLK (called from one of its
 * tasks); then nothing is done. */
int evt_copool_free(evt_copool_t *pool);

/* ------------------------------------------------------------------------ */
/* Futures and thread pool (src/pool)                                       */
/* ------------------------------------------------------------------------ */

/* A future: the outcome of a task that runs elsewhere (a pool thread, a
 * worker process). It is pending, then running, then done with an error
 * code and a result. Unlike the sync layer, futures may be used from any
 * thread: waiting parks only the calling coroutine, and a thread that uses
 * no coroutines simply blocks (its main coroutine parks). */
typedef struct evt_future evt_future_t;
/* A task for a pool: returns 0, or a positive errno-style code saying why
 * it failed; its result goes to *result (NULL unless set). */
typedef int (*evt_task_fn)(void *arg, void **result);
/* A done callback; see evt_future_on_done. */
typedef void (*evt_future_cb)(evt_future_t *f, void *user);

/* Wait until f is done. Returns 0; or -1 and ETIMEDOUT, ECANCELED (the
 * waiting coroutine was cancelled), EINVAL (f NULL), ENOMEM. */
int evt_future_wait(evt_future_t *f, int64_t deadline);
/* 1 when f is done, else 0. Never waits. */
int evt_future_done(const evt_future_t *f);
/* Once f is done: 0, the task's own code, ECANCELED (cancelled before it
 * started), or an error the pool gives (e.g. a process pool's worker
 * died). EINPROGRESS while not done. */
int evt_future_err(const evt_future_t *f);
/* Once f is done: the task's result (NULL if it failed or was cancelled,
 * unless the task set one). NULL while not done. */
void *evt_future_result(const evt_future_t *f);
/* Cancel f if its task has not started: then f is done with ECANCELED and
 * the task never runs. Returns 0; or -1 and EBUSY (the task is running: it
 * cannot be stopped from outside), EALREADY (f is done), EINVAL. */
int evt_future_cancel(evt_future_t *f);
/* Have cb(f, user) called exactly once when f is done: on the thread that
 * completes f, right after waiters are woken (there in the task's own
 * coroutine, so a callback may block cooperatively; it delays only that
 * one pool slot), or at once in the caller when f is done already.
 * Callbacks run in the order they were added. Returns 0, or -1 and EINVAL
 * (f or cb NULL), ENOMEM. */
int evt_future_on_done(evt_future_t *f, evt_future_cb cb, void *user);
/* Report each of fs[0..n) as it becomes done: cb(index, fs[index], user)
 * once per index (cb may be NULL), in the caller's coroutine, those done
 * already first in index order, then in completion order (Python's
 * as_completed). Returns 0 when all are done and reported; or -1 and errno:
 * ETIMEDOUT at the deadline (Python's TimeoutError) or ECANCELED, with
 * *unfinished (if not NULL) set to how many were not done then (0 on
 * success); EINVAL (fs NULL with n > 0, or a NULL future), ENOMEM. The
 * futures stay the caller's, and must not be freed while this runs. */
int evt_as_completed(evt_future_t *const *fs, size_t n, int64_t deadline,
                     void (*cb)(size_t index, evt_future_t *f, void *user),
                     void *user, size_t *unfinished);
/* Give up the caller's future (NULL is fine). Freeing a pending or
 * running future lets the task run and drops its result (a result that
 * owns memory leaks: free such futures only once done, or cancel first).
 * No one may wait on f while it is freed. */
void evt_future_free(evt_future_t *f);

/* Thread pool (concurrent.futures.ThreadPoolExecutor): tasks run on a
 * fixed set of threads, each task inside a coroutine of its worker
 * thread's scheduler, so a task may itself use evt_sleep, evt_read,
 * evt_tcp_connect... With coroutines per thread C > 1, a thread runs up to
 * C tasks at once (threads x coroutines), switching when one parks. Threads
 * are started when work first needs them, not by evt_threadpool_new. A
 * pool may be used from any thread; in a forked child, pools of the parent
 * are unusable (their threads do not exist there). */
typedef struct evt_threadpool evt_threadpool_t;
/* How to run a pool. Zero-initialise, then set what you need. */
typedef struct evt_threadpool_opts {
    size_t coroutines; /* tasks one thread runs at once; 0 = 1 */
    size_t queue_max;  /* tasks waiting for a free slot at most: a submit
                          beyond fails with EAGAIN; 0 = unbounded */
    size_t stack_size; /* usable stack of task coroutines past the first of
                          each thread (which runs on the thread's own
                          stack); 0 = the default (64 KiB) */
} evt_threadpool_opts_t;
/* A pool of `threads` threads (at least 1) with opts (NULL: defaults;
 * copied). The caller owns it and frees it with evt_threadpool_free. NULL
 * and EINVAL (threads 0), ENOMEM. */
evt_threadpool_t *evt_threadpool_new(size_t threads,
                                     const evt_threadpool_opts_t *opts);
/* Queue fn(arg, &result) and return its future, which the caller owns
 * (evt_future_free). Tasks start in submission order. NULL and errno:
 * EINVAL (pool or fn NULL), EPIPE (the pool is shut down), EAGAIN (the
 * queue is at queue_max, or no thread could be started), ENOMEM; then fn
 * never runs and arg stays the caller's. */
evt_future_t *evt_threadpool_submit(evt_threadpool_t *pool, evt_task_fn fn,
                                    void *arg);
/* Run fn(args[i], &result) for i in [0, n) (args NULL: fn(NULL, ...)) on
 * the pool, at most a bounded window of items (twice the pool's slots)
 * submitted ahead of the oldest unfinished one, and store results[i] and
 * errs[i] in input order (either array may be NULL; both stay the
 * caller's). Returns 0 when every item ran (its own failure is in errs);
 * or -1 and errno: ETIMEDOUT at the deadline or ECANCELED (the caller was
 * cancelled): items not yet started are cancelled, running ones finish on
 * their own with their results dropped, and every item without an outcome
 * gets that errno as status and a NULL result; EPIPE, ENOMEM, EAGAIN (a
 * submit failed with nothing of this map left to wait for; items not
 * submitted get that status); EINVAL. */
int evt_threadpool_map(evt_threadpool_t *pool, evt_task_fn fn,
                       void *const *args, void **results, int *errs, size_t n,
                       int64_t deadline);
/* Refuse new tasks (EPIPE), cancel the queued ones when cancel_pending is
 * 1 (their futures are done with ECANCELED) or let them run when 0, and
 * wait until every task has finished and the threads are gone; the wait
 * parks only the caller and is not cut short by a cancel. Returns 0, or -1
 * and EDEADLK (called from a task of the pool: nothing is done), EINVAL.
 * Calling it again does nothing more. */
int evt_threadpool_shutdown(evt_threadpool_t *pool, int cancel_pending);
/* evt_threadpool_shutdown(pool, 0) if not done yet, then free the pool
 * (NULL is fine). Futures it gave out stay valid, and their owners free
 * them. Returns 0, or -1 and EDEADLK (called from a task of the pool:
 * nothing is done). */
int evt_threadpool_free(evt_threadpool_t *pool);


/* ------------------------------------------------------------------------ */
/* Processes and process pool (src/pool)                                    */
/* ------------------------------------------------------------------------ */


/* ------------------------------------------------------------------------ */
/* Interprocess communication (src/ipc)                                     */
/* ------------------------------------------------------------------------ */


/* ------------------------------------------------------------------------ */
/* Batch engine (src/batch)                                                 */
/* ------------------------------------------------------------------------ */


#ifdef __cplusplus
}
#endif
#endif
