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
 *
 *  - callbacks take the caller's user pointer last (fn(..., void *user));
 *  - every evt_*_free accepts NULL; it returns int (0, or -1 and errno with
 *    nothing freed: EBUSY, EDEADLK) where freeing can be refused, and void
 *    where it cannot.
 *
 * Contents (search for the title to jump to a section), in the order of
 * DESIGN.md's layers: a section uses only the sections above it.
 *   Time                      evt_now, deadlines
 *   Coroutines                spawn, join, cancel, yield, sleep, stacks
 *   Reactor                   waiting for fds, evt_poll, posts from threads
 *   Futures and thread pool   concurrent.futures: submit, wait, as_completed
 *   Cooperative IO            read/write/connect/accept with deadlines, TCP, DNS
 *   Hooks                     libeventor-hook: plain blocking calls park
 *   Synchronisation           channels, events, semaphores, mutexes, wait
 *                             groups, groups (joinall), coroutine pools
 *   Interprocess communication  shared queues, pipes, locks, values, dict, list
 *   Processes and process pool  multiprocessing: Process, Pool (apply, map,
 *                             imap); task errors and evt_strerror
 *   Batch engine              evt_batch_run*: the Eventor layer
 *   Redis Streams broker      evt_redis_submit, evt_batch_run_redis
 *   HTTP on the reactor       evt_curl_perform, evt_http_request
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

/* EVT_VERSION_MAJOR, _MINOR, _PATCH and EVT_VERSION ("0.1.0"): the
 * version of this header, generated from CMake's project(VERSION). */
#include "eventor_version.h"

/* The version of the library linked at run time, as EVT_VERSION: it may
 * differ from the header's where a shared library was replaced. A static
 * string, never freed. */
const char *evt_version(void);

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

/* 1 when the calling thread has a scheduler (an evt_* call of this thread
 * made one), else 0; never makes one. Code that parks only where parking
 * is possible (the hook layer) asks this: the thread's own stack is then
 * its main coroutine, and parking it lets the others run. */
int evt_sched_active(void);

/* The blocking detector (gevent's monitor_thread / max_blocking_time). A
 * watchdog thread looks at every scheduler of the process; one that has
 * not switched coroutines nor looked at IO for max_ms while it has
 * coroutines (its thread computes, or blocks outside eventor) is reported
 * once per stall. A scheduler waiting in the reactor or a sleep is idle,
 * not stalled; threads without a scheduler are never reported.
 *
 * The report names the coroutine running there and, where the stalled
 * thread could be interrupted (one SIGURG, SA_RESTART, installed only when
 * the program has no SIGURG handler of its own), its stack at that moment
 * as backtrace(3) return addresses. The structure and its strings belong
 * to the detector and live only during the call. */
typedef struct evt_stall {
    uint64_t co_id;        /* evt_co_id of the coroutine; 0 and fn NULL
                              when the thread could not be asked */
    int tid;               /* kernel thread id (gettid) of the thread */
    int64_t stalled_ms;    /* how long it has run without a switch */
    void *fn;              /* the coroutine's body; NULL for a thread's main */
    const char *fn_name;   /* fn's symbol (dladdr), or NULL */
    void *const *frames;   /* the thread's stack, innermost first */
    int nframes;           /* 0 when it could not be taken */
} evt_stall_t;

typedef void (*evt_stall_fn)(const evt_stall_t *stall, void *user);

/* Turn the detector on for the whole process with threshold max_ms, or off
 * with 0. report is called on the watchdog thread (never with its lock
 * held: it may call evt_blocking_detector); NULL prints a few lines to
 * stderr. When off returns, no report is running or will be made. The
 * environment variable EVENTOR_MAX_BLOCKING_MS=N, read when the first
 * scheduler is made, turns it on with stderr reports. Returns 0, or -1 and
 * EINVAL (max_ms < 0), EAGAIN (no thread could be started). */
int evt_blocking_detector(int64_t max_ms, evt_stall_fn report, void *user);

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

/* poll(2) that parks only the caller: fds as poll takes them, n entries,
 * revents filled in. Returns the number of fds with events, 0 at the
 * deadline (-1 forever, 0 = one look), or -1 and errno (ECANCELED, ENOMEM,
 * EINVAL for more fds than poll takes). Regular files are always ready, an
 * fd closed with evt_close while waited on shows POLLNVAL, and hang-ups
 * and errors are reported whatever events asked for, as poll does. */
struct pollfd;
int evt_poll(struct pollfd *fds, size_t n, int64_t deadline);

/* ------------------------------------------------------------------------ */
/* Futures and thread pool (src/thread)                                     */
/* ------------------------------------------------------------------------ */

/* A future: the outcome of a task that runs elsewhere (a pool thread, a
 * worker process). It is pending, then running, then done with an error
 * code and a result. Unlike the sync layer, futures may be used from any
 * thread: waiting parks only the calling coroutine, and a thread that uses
 * no coroutines simply blocks (its main coroutine parks). */
typedef struct evt_future evt_future_t;
/* A task for a pool: returns 0, or -1 with errno set to say why it failed
 * (0 counts as EIO), like every user callback that runs work (process
 * tasks, batch functions); its result goes to *result (NULL unless set). */
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
/* Hooks (src/hook, in libeventor-hook)                                     */
/* ------------------------------------------------------------------------ */

/* Linking libeventor-hook (with the shared libeventor; see README "Hooks")
 * makes the blocking libc calls of any library (read, write, recv, send,
 * connect, accept, poll, select, the sleeps...) park only the calling
 * coroutine on a thread that has a scheduler; elsewhere they are libc's.
 * A hooked wait of a cancelled coroutine fails with ECANCELED (not EINTR,
 * which callers retry); a signal does not end it (as with SA_RESTART).
 * evt_hook_enable(0) turns the hooks off for the calling thread around
 * code that must really block, evt_hook_enable(1) on again; returns
 * whether they were on. Defined only in libeventor-hook. */
int evt_hook_enable(int on);

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
/* Interprocess communication (src/ipc)                                     */
/* ------------------------------------------------------------------------ */

/* Objects shared between processes (multiprocessing's Queue, Pipe, Lock,
 * RLock, Semaphore, Event, Condition, Barrier, Value, Array, and
 * Manager().dict() / .list()). They live in one shared arena, mapped on
 * the first call that makes one: processes forked after that see every
 * object at the same address, including objects made later by any of them,
 * so handles (and pointers inside them) can be passed down through fork
 * as they are. A process that was not forked from one that mapped the
 * arena cannot reach it. Every object may be used from any thread and
 * coroutine of any of these processes; a blocking call parks only the
 * calling coroutine (its thread's other coroutines keep running), takes a
 * deadline and fails with ECANCELED once the caller is cancelled, as
 * everywhere in this API. Up to 1024 threads, all processes together, can
 * wait at the same time (beyond, a call that would wait fails with EAGAIN).
 * Free an object once, when no process uses it any more: *_free does not
 * wake waiters. A process that dies is never waited for past a deadline;
 * what each object does about it is said at the object. */

/* Queue: a bounded FIFO of messages of at most msg_max bytes each, any
 * number of producers and consumers. A message is copied in by put and out
 * by get. */
typedef struct evt_ipc_queue evt_ipc_queue_t;
/* A queue of capacity messages (1 to 2^32) of up to msg_max bytes each (1
 * to 1 GiB); capacity slots of msg_max bytes are taken from the arena at
 * once. NULL and EINVAL, ENOMEM. */
evt_ipc_queue_t *evt_ipc_queue_new(size_t capacity, size_t msg_max);
/* Copy len bytes of msg into the queue, waiting for room. Returns 0, or -1
 * and EMSGSIZE (len > msg_max), EPIPE (the queue is closed), ETIMEDOUT,
 * ECANCELED, EINVAL. A producer killed in the middle of a put has put
 * nothing. */
int evt_ipc_queue_put(evt_ipc_queue_t *q, const void *msg, size_t len,
                      int64_t deadline);
/* Take the oldest message into buf (cap bytes), waiting for one. Returns
 * its length, or -1 and EMSGSIZE (cap is smaller than the message, which
 * stays first in the queue; evt_ipc_queue_msg_max is always enough), EPIPE
 * (closed and empty), ETIMEDOUT, ECANCELED, EINVAL. A get whose producers
 * all died waits until its deadline (ETIMEDOUT): the queue does not know
 * its producers; have them, or their parent after reaping them, call
 * evt_ipc_queue_close to end the stream. */
ssize_t evt_ipc_queue_get(evt_ipc_queue_t *q, void *buf, size_t cap,
                          int64_t deadline);
/* No more puts: putters fail with EPIPE, getters drain what is queued and
 * then fail with EPIPE. Idempotent. */
void evt_ipc_queue_close(evt_ipc_queue_t *q);
/* Messages queued now. */
size_t evt_ipc_queue_len(evt_ipc_queue_t *q);
size_t evt_ipc_queue_msg_max(const evt_ipc_queue_t *q);
void evt_ipc_queue_free(evt_ipc_queue_t *q);

/* Pipe (multiprocessing.Pipe): two connected ends, each of which sends and
 * receives whole messages of any size (length-prefixed frames over a Unix
 * stream socket pair). An end is process-local memory around an fd: after
 * a fork each process uses the end it needs and closes the other one. Use
 * an end from one coroutine at a time. */
typedef struct evt_ipc_conn evt_ipc_conn_t;
/* Make a pair of connected ends in ends[0] and ends[1]; the caller owns
 * both (evt_ipc_conn_close). Returns 0, or -1 and EINVAL, EMFILE, ENOMEM. */
int evt_ipc_pipe(evt_ipc_conn_t *ends[2]);
/* Send the message msg of len bytes (up to 4 GiB - 1) whole. Returns 0, or
 * -1 and EPIPE (the other end is closed), EMSGSIZE, ETIMEDOUT, ECANCELED,
 * EINVAL. A send that fails after part of the message went out leaves the
 * stream cut: the end then fails every later send with EPIPE. */
int evt_ipc_conn_send(evt_ipc_conn_t *c, const void *msg, size_t len,
                      int64_t deadline);
/* Receive the next message into buf (cap bytes). Returns its length, or -1
 * and EMSGSIZE (cap is too small: the message stays, see
 * evt_ipc_conn_peek), EPIPE (the other end is closed and no whole message
 * is left), ETIMEDOUT, ECANCELED, EINVAL. Bytes that came before a timeout
 * are kept for the next call. */
ssize_t evt_ipc_conn_recv(evt_ipc_conn_t *c, void *buf, size_t cap,
                          int64_t deadline);
/* Wait for the next message and return its length without taking it; -1
 * and errno as evt_ipc_conn_recv. */
ssize_t evt_ipc_conn_peek(evt_ipc_conn_t *c, int64_t deadline);
/* The end's socket, for evt_wait_fd (readable: bytes have come). */
int evt_ipc_conn_fd(const evt_ipc_conn_t *c);
/* Close this process's copy of the end and free it. The other end sees
 * EPIPE once every process has closed its copy. Accepts NULL. */
void evt_ipc_conn_close(evt_ipc_conn_t *c);

/* Locks (multiprocessing.Lock and RLock). A lock is held by a coroutine:
 * only that coroutine releases it, and it must release it before it
 * returns. When the holder's process or thread dies, the next acquire takes
 * the lock and reports it with EOWNERDEAD (robust-mutex semantics); lockers
 * that are parked notice within 100 ms. */
typedef struct evt_ipc_lock evt_ipc_lock_t;
/* A lock, or with rlock_new a recursive lock (its holder may take it again
 * and must release it as often). NULL and ENOMEM. */
evt_ipc_lock_t *evt_ipc_lock_new(void);
evt_ipc_lock_t *evt_ipc_rlock_new(void);
/* Returns 0 once the caller holds l; or -1 and EOWNERDEAD (the caller holds
 * l, but its last holder died holding it: what l guards may be half
 * changed), ETIMEDOUT, ECANCELED, EDEADLK (the caller holds a non-recursive
 * l already), EAGAIN (recursion deeper than UINT_MAX), EINVAL. */
int evt_ipc_lock_acquire(evt_ipc_lock_t *l, int64_t deadline);
/* Returns 0, or -1 and EPERM (the caller does not hold l), EINVAL. */
int evt_ipc_lock_release(evt_ipc_lock_t *l);
/* Returns 0, or -1 and EBUSY while l is held (NULL is fine). */
int evt_ipc_lock_free(evt_ipc_lock_t *l);

/* Counting semaphore (multiprocessing.Semaphore). A unit taken by a process
 * that dies is not given back. */
typedef struct evt_ipc_sem evt_ipc_sem_t;
evt_ipc_sem_t *evt_ipc_sem_new(unsigned value); /* NULL and ENOMEM */
/* Take a unit, waiting for one. Returns 0, or -1 and ETIMEDOUT, ECANCELED,
 * EINVAL. */
int evt_ipc_sem_acquire(evt_ipc_sem_t *s, int64_t deadline);
/* Give a unit back. Returns 0, or -1 and EOVERFLOW, EINVAL. */
int evt_ipc_sem_release(evt_ipc_sem_t *s);
unsigned evt_ipc_sem_value(evt_ipc_sem_t *s);
void evt_ipc_sem_free(evt_ipc_sem_t *s);

/* Event (multiprocessing.Event): a flag; waiters park until it is set. */
typedef struct evt_ipc_event evt_ipc_event_t;
evt_ipc_event_t *evt_ipc_event_new(void); /* NULL and ENOMEM */
/* Set the flag and wake every waiter: each returns 0, even if the flag is
 * cleared again before it looks. */
void evt_ipc_event_set(evt_ipc_event_t *ev);
void evt_ipc_event_clear(evt_ipc_event_t *ev);
int evt_ipc_event_is_set(evt_ipc_event_t *ev);
/* Returns 0 at once if set, else when it is set; or -1 and ETIMEDOUT,
 * ECANCELED, EINVAL. */
int evt_ipc_event_wait(evt_ipc_event_t *ev, int64_t deadline);
void evt_ipc_event_free(evt_ipc_event_t *ev);

/* Condition variable (multiprocessing.Condition) over a lock or rlock. */
typedef struct evt_ipc_cond evt_ipc_cond_t;
/* A condition over l (not NULL; it stays the caller's and must outlive the
 * condition). NULL and EINVAL, ENOMEM. */
evt_ipc_cond_t *evt_ipc_cond_new(evt_ipc_lock_t *l);
/* Release the lock (every level of an rlock), wait for a notify, and take
 * the lock back (as many levels) before returning, whatever the outcome:
 * taking it back waits as long as needed, through a cancel. Returns 0 when
 * notified (spurious wake-ups are possible: check your predicate in a
 * loop), or -1 and ETIMEDOUT, ECANCELED, EOWNERDEAD (notified or not, the
 * lock was taken back from a holder that died), EPERM (the caller does not
 * hold the lock; nothing is done), EINVAL. */
int evt_ipc_cond_wait(evt_ipc_cond_t *c, int64_t deadline);
/* Wake up to n of the coroutines waiting now (notify_all: all of them).
 * The caller should hold the lock, as with Python's Condition, though it is
 * not checked. */
void evt_ipc_cond_notify(evt_ipc_cond_t *c, unsigned n);
void evt_ipc_cond_notify_all(evt_ipc_cond_t *c);
void evt_ipc_cond_free(evt_ipc_cond_t *c);

/* Barrier (multiprocessing.Barrier) for parties coroutines. */
typedef struct evt_ipc_barrier evt_ipc_barrier_t;
/* NULL and EINVAL (parties 0), ENOMEM. */
evt_ipc_barrier_t *evt_ipc_barrier_new(unsigned parties);
/* Wait until parties callers are waiting, then release them all. Returns
 * the caller's arrival index (0 for the first, parties - 1 for the one
 * that released the others); or -1 and ETIMEDOUT or ECANCELED (the caller
 * gave up, which breaks the barrier), EPIPE (the barrier is broken: another
 * waiter gave up, or evt_ipc_barrier_reset was called, while this one
 * waited or before), EINVAL. A party that dies without arriving leaves the
 * others to their deadlines. */
int evt_ipc_barrier_wait(evt_ipc_barrier_t *b, int64_t deadline);
/* Mend a broken barrier; coroutines waiting now fail with EPIPE. */
void evt_ipc_barrier_reset(evt_ipc_barrier_t *b);
void evt_ipc_barrier_free(evt_ipc_barrier_t *b);

/* Shared value (multiprocessing.Value for integers): a 64-bit integer whose
 * every operation is atomic. */
typedef struct evt_ipc_value evt_ipc_value_t;
evt_ipc_value_t *evt_ipc_value_new(int64_t init); /* NULL and ENOMEM */
int64_t evt_ipc_value_get(evt_ipc_value_t *v);
void evt_ipc_value_set(evt_ipc_value_t *v, int64_t x);
/* Add delta and return the new value. */
int64_t evt_ipc_value_add(evt_ipc_value_t *v, int64_t delta);
/* Set desired if the value is expected: 1 when it was, else 0. */
int evt_ipc_value_cas(evt_ipc_value_t *v, int64_t expected, int64_t desired);
void evt_ipc_value_free(evt_ipc_value_t *v);

/* Shared array (multiprocessing.Array, RawArray): n elements of size bytes,
 * zeroed, 16-byte aligned, in the arena. Use a lock or atomics around
 * changes that other processes must see whole. NULL and EINVAL (n or size
 * 0, or too large), ENOMEM. */
void *evt_ipc_array_new(size_t n, size_t size);
/* Its n, given the pointer evt_ipc_array_new returned. */
size_t evt_ipc_array_len(const void *a);
void evt_ipc_array_free(void *a);

/* Shared dict (Manager().dict()): string keys, byte-string values, both
 * copied in and out; iteration in insertion order. Each call is atomic. */
typedef struct evt_ipc_dict evt_ipc_dict_t;
evt_ipc_dict_t *evt_ipc_dict_new(void); /* NULL and ENOMEM */
/* Set key (NUL-terminated, not NULL) to the len bytes of val, replacing
 * any value (a replaced key keeps its place). Returns 0, or -1 and ENOMEM,
 * EINVAL. */
int evt_ipc_dict_set(evt_ipc_dict_t *d, const char *key, const void *val,
                     size_t len);
/* Copy at most cap bytes of key's value into buf and return the value's
 * whole length (compare it with cap); or -1 and ENOENT, EINVAL. */
ssize_t evt_ipc_dict_get(evt_ipc_dict_t *d, const char *key, void *buf,
                         size_t cap);
/* Remove key. Returns 0, or -1 and ENOENT, EINVAL. */
int evt_ipc_dict_del(evt_ipc_dict_t *d, const char *key);
size_t evt_ipc_dict_len(evt_ipc_dict_t *d);
/* Call fn for every item in insertion order until it returns non-zero
 * (that value is returned; 0 when every item was seen; -1 and EINVAL). fn
 * runs with d locked: it must not call d's functions (they would fail with
 * EDEADLK), and key and val are valid only during the call. */
typedef int (*evt_ipc_dict_fn)(const char *key, const void *val, size_t len,
                               void *user);
int evt_ipc_dict_foreach(evt_ipc_dict_t *d, evt_ipc_dict_fn fn, void *user);
void evt_ipc_dict_free(evt_ipc_dict_t *d);

/* Shared list (Manager().list()): byte-string items, copied in and out.
 * Each call is atomic. */
typedef struct evt_ipc_list evt_ipc_list_t;
evt_ipc_list_t *evt_ipc_list_new(void); /* NULL and ENOMEM */
/* Append a copy of the len bytes of val. Returns 0, or -1 and ENOMEM,
 * EINVAL. */
int evt_ipc_list_append(evt_ipc_list_t *l, const void *val, size_t len);
/* Replace item i. Returns 0, or -1 and ERANGE (no item i), ENOMEM, EINVAL. */
int evt_ipc_list_set(evt_ipc_list_t *l, size_t i, const void *val,
                     size_t len);
/* Copy at most cap bytes of item i into buf and return its whole length;
 * or -1 and ERANGE, EINVAL. */
ssize_t evt_ipc_list_get(evt_ipc_list_t *l, size_t i, void *buf, size_t cap);
/* As get, then remove item i (later items move down by one). */
ssize_t evt_ipc_list_pop(evt_ipc_list_t *l, size_t i, void *buf, size_t cap);
size_t evt_ipc_list_len(evt_ipc_list_t *l);
/* As evt_ipc_dict_foreach, in index order, with the item's index. */
typedef int (*evt_ipc_list_fn)(size_t i, const void *val, size_t len,
                               void *user);
int evt_ipc_list_foreach(evt_ipc_list_t *l, evt_ipc_list_fn fn, void *user);
void evt_ipc_list_free(evt_ipc_list_t *l);


/* ------------------------------------------------------------------------ */
/* Processes and process pool (src/process)                                 */
/* ------------------------------------------------------------------------ */

/* Children are forked by a fork server: a process forked from this one at
 * the first evt_process_start or evt_procpool_new, or by
 * evt_forkserver_start, or by itself just before eventor starts a thread
 * of its own (a thread pool's, or the offload pool's at a first name
 * lookup or file read), which forks every child on request. Children thus
 * come from a single-threaded process whatever threads run here later;
 * they start with a fresh eventor runtime, default signal dispositions,
 * stdin/stdout/stderr and no other fd of this process, and die with the
 * server, which dies with this process. Globals and heap are those of this
 * process when the server started. The children are the server's, so
 * they never show up in this process's waitpid; the server itself is a
 * child of this process, reaped by no one while it lives. */

/* Start the fork server now, while this process is single-threaded: call
 * it early in main() in a program that starts threads of its own before
 * its first process or pool (eventor's own threads need no call: the
 * server starts before them). Idempotent; a pool worker or evt_process
 * child may call it to fork children of its own. Returns 0, or -1 and
 * errno: EDEADLK (other threads run already: forking now could copy a lock
 * they hold), EMFILE, EAGAIN. */
int evt_forkserver_start(void);

/* A task run in a child: reads in_len bytes at in and writes at most
 * out_cap bytes of result at out (out is NULL when out_cap is 0). Returns
 * the result's length, or -1 with errno set to say why the task failed (0
 * counts as EIO). The function crosses as a plain pointer: children run
 * the same binary at the same addresses. It runs on a coroutine with an
 * 8 MiB stack of the child's own scheduler: it may spawn coroutines, sleep
 * and do cooperative IO (the seed's process + coroutine template). */
typedef ssize_t (*evt_proc_fn)(const void *in, size_t in_len, void *out,
                               size_t out_cap);

/* Task errors that are not errno values: the worker process running the
 * task died of signal sig, or exited with code (the task called exit or
 * _exit). EVT_IS_SIGNALED(err) and EVT_IS_EXITED(err) tell them apart,
 * EVT_ERR_CODE(err) gives back the signal or the code. */
#define EVT_ESIGNALED(sig) (0x10000 | (sig))
#define EVT_EEXITED(code) (0x20000 | (code))
#define EVT_IS_SIGNALED(err) (((err) & 0x30000) == 0x10000)
#define EVT_IS_EXITED(err) (((err) & 0x30000) == 0x20000)
#define EVT_ERR_CODE(err) ((err) & 0xffff)
/* A message for any error code eventor hands back: errno values (as
 * strerror) and its own, "worker killed by signal 9 (SIGKILL)" and "worker
 * exited with code 3". The string is static or in a buffer of the calling
 * thread, valid until its next call; never NULL. */
const char *evt_strerror(int err);

/* A child process (multiprocessing.Process). */
typedef struct evt_process evt_process_t;
/* Run fn(arg, arg_len, NULL, 0) in a new child; arg is copied (the caller
 * keeps it). The child exits with 0 when fn returns >= 0, 1 when it
 * returns -1, or as fn makes it exit; its stdio is flushed. Parks the
 * caller until the child runs. The caller owns the handle
 * (evt_process_free). NULL and EINVAL (fn NULL, arg NULL with arg_len,
 * arg_len over 4 GiB), EDEADLK (see evt_forkserver_start), ENOMEM, EAGAIN,
 * EPIPE (the fork server is gone). */
evt_process_t *evt_process_start(evt_proc_fn fn, const void *arg,
                                 size_t arg_len);
/* evt_process_start, also handing the child its own copy of each of the n
 * pipe ends in conns (up to EVT_PROCESS_MAX_CONNS; see evt_ipc_pipe), as
 * Python passes a Connection in Process args. The child gets them as
 * evt_process_conn(0) to (n - 1). The caller's ends stay open: close those
 * it no longer needs, so that the child sees EPIPE once the last other
 * holder is gone. Errors as evt_process_start, and EINVAL (conns NULL with
 * n, a NULL end, n too large). */
#define EVT_PROCESS_MAX_CONNS 16
evt_process_t *evt_process_start_conns(evt_proc_fn fn, const void *arg,
                                       size_t arg_len,
                                       evt_ipc_conn_t *const *conns,
                                       size_t n);
/* In a child started by evt_process_start_conns: the i-th pipe end it was
 * given (the child's to use and close), or NULL and EINVAL. */
evt_ipc_conn_t *evt_process_conn(size_t i);
/* Wait until the child has exited. Returns 0, or -1 and ETIMEDOUT,
 * ECANCELED, EINVAL. */
int evt_process_join(evt_process_t *p, int64_t deadline);
/* Python's Process.exitcode once joined: the exit code (0..255) or minus
 * the signal that ended it; EVT_EXITCODE_NONE before. */
#define EVT_EXITCODE_NONE (-1000)
int evt_process_exitcode(const evt_process_t *p);
/* The child's pid; stays its own until joined. */
pid_t evt_process_pid(const evt_process_t *p);
/* 1 while the child runs, else 0. */
int evt_process_alive(const evt_process_t *p);
/* Send SIGTERM or SIGKILL, unless the child has exited (then nothing is
 * sent: a pidfd keeps the signal off a recycled pid). Returns 0, or -1 and
 * EINVAL. */
int evt_process_terminate(evt_process_t *p);
int evt_process_kill(evt_process_t *p);
/* Release the handle (NULL is fine). A child still running goes on; its
 * status is dropped. */
void evt_process_free(evt_process_t *p);

/* Process pool (multiprocessing.Pool, ProcessPoolExecutor): worker
 * processes run tasks sent to them as bytes and send back bytes. The pool
 * and its calls belong to the thread that created it (it runs coroutines
 * there: one per worker to replace it, and a reader and a writer). A
 * worker that dies is seen at once (pidfd): the task it was running fails
 * with EVT_ESIGNALED(sig) or EVT_EEXITED(code) (or runs again on another
 * worker while it has retries left), the tasks it had not started go to
 * other workers, and a new worker takes its place; nothing waits forever
 * on a dead worker. A task running past task_timeout_ms fails with
 * ETIMEDOUT (see the option). Task errors are those: the errno of a
 * task that returned -1, EMSGSIZE (a result longer than allowed),
 * ECANCELED (the pool was terminated first). */
typedef struct evt_procpool evt_procpool_t;
/* The cap of one result where options leave max_result 0, in the process
 * pool's imap and in the batch engine alike (a batch keeps one buffer of
 * that size per task running at once). */
#define EVT_MAX_RESULT_DEFAULT 4096
/* The largest max_result a pool or a batch takes (4 GiB - 4 KiB: a result
 * travels between processes in a frame of 32-bit length). */
#define EVT_MAX_RESULT_MAX ((size_t)UINT32_MAX - 4096u)
/* How to run a pool. Zero-initialise, then set what you need. */
typedef struct evt_procpool_opts {
    uint64_t max_tasks_per_child; /* a worker that has run this many jobs
                                     (a map chunk counts as one) exits and
                                     is replaced; 0 = never */
    size_t coroutines;            /* jobs a worker runs at once, each on a
                                     coroutine of its own (the seed's
                                     process + coroutine template): tasks
                                     that wait (evt_sleep, evt_read...) let
                                     the others run; 0 = 1, at most 65536 */
    int64_t task_timeout_ms;      /* a task running longer fails with
                                     ETIMEDOUT; 0 = no limit. With
                                     coroutines 1 its worker is killed
                                     (which stops any task); with more, the
                                     worker cancels the task's coroutine
                                     (its eventor calls fail with
                                     ECANCELED), so a task that never waits
                                     cannot be stopped */
    unsigned retries;             /* times a task whose worker died under
                                     it (or timed out) is run again */
    size_t max_result;            /* imap: most bytes of a task's result;
                                     0 = EVT_MAX_RESULT_DEFAULT */
} evt_procpool_opts_t;
/* A pool of nproc workers (0 = one per CPU) with opts (NULL: defaults;
 * copied). Workers start as the caller's thread runs its coroutines. The
 * caller owns the pool and frees it with evt_procpool_free. NULL and
 * EINVAL (task_timeout_ms < 0), EDEADLK (see evt_forkserver_start),
 * ENOMEM. */
evt_procpool_t *evt_procpool_new(size_t nproc,
                                 const evt_procpool_opts_t *opts);
/* Run fn(in) in a worker and wait for it: the result goes to out (at most
 * out_cap bytes, at most 4 GiB). Returns the result's length, or -1 and
 * errno: the task's error (see above), ETIMEDOUT (the deadline passed; the
 * task, if started, runs on and its result is dropped), ECANCELED, EPIPE
 * (the pool is closed), EINVAL. */
ssize_t evt_procpool_apply(evt_procpool_t *pool, evt_proc_fn fn,
                           const void *in, size_t in_len, void *out,
                           size_t out_cap, int64_t deadline);
/* Told the outcome of an apply_async task: err 0 and len bytes of result
 * at out (the caller's buffer), or a task error (out NULL, len 0). */
typedef void (*evt_proc_done_fn)(int err, void *out, size_t len, void *user);
/* Pool.apply_async: queue fn(in) (in is copied) and return its future,
 * which the caller owns (evt_future_free). The result is written to out
 * (at most out_cap bytes), which must stay valid until the future is done;
 * the future's result is then the result's length, as
 * (void *)(uintptr_t)len, and its error the task's error. callback (on
 * success) or error_callback (on failure) runs first, in the pool's
 * thread, with user; neither runs for a future cancelled before its task
 * was sent (evt_future_cancel; a task sent to a worker counts as running).
 * NULL and errno: EPIPE (closed), ECANCELED (terminated), EINVAL, ENOMEM;
 * then no callback runs. */
evt_future_t *evt_procpool_apply_async(evt_procpool_t *pool, evt_proc_fn fn,
                                       const void *in, size_t in_len,
                                       void *out, size_t out_cap,
                                       evt_proc_done_fn callback,
                                       evt_proc_done_fn error_callback,
                                       void *user);
/* Told one result of a map: item index, its error (0 or a task error) and,
 * when 0, len bytes of result at out (valid during the call). Returning
 * non-zero stops the map: items not yet started are dropped, and the map
 * returns -1 and ECANCELED once the items started are back. */
typedef int (*evt_proc_result_fn)(size_t index, int err, const void *out,
                                  size_t len, void *user);
/* Gives a map its next item: sets *in and *in_len (the bytes must stay
 * valid until the next call) and returns 1, or returns 0 at the end. */
typedef int (*evt_proc_next_fn)(const void **in, size_t *in_len, void *user);
/* Pool.map on arrays: item i is in_size bytes at in + i * in_size; its
 * result goes to out + i * out_size (at most out_size bytes), its length
 * to out_lens[i] and its error to errs[i] (0 or a task error; either array
 * may be NULL). Items travel in chunks of chunksize (0 = Python's choice,
 * n / (4 x workers) rounded up, at most 4096); a chunk is one job to one
 * worker and fails whole when its worker dies. At most a few chunks per
 * worker are in flight. Returns 0 when every item ran (failures are in
 * errs), or -1 and errno: ECANCELED (the caller was cancelled or the pool
 * terminated: items not run get ECANCELED), EPIPE (the pool is closed),
 * EINVAL. */
int evt_procpool_map(evt_procpool_t *pool, evt_proc_fn fn, const void *in,
                     size_t in_size, size_t n, void *out, size_t out_size,
                     size_t *out_lens, int *errs, size_t chunksize);
/* Pool.imap: items come from next (called in the caller, a window of
 * chunks ahead of the results: the input is streamed, never read whole)
 * and cb gets each result in input order, in the caller's coroutine. A
 * result may take opts.max_result bytes. chunksize 0 means 1. Returns as
 * evt_procpool_map. */
int evt_procpool_imap(evt_procpool_t *pool, evt_proc_fn fn,
                      evt_proc_next_fn next, evt_proc_result_fn cb,
                      void *user, size_t chunksize);
/* Pool.imap_unordered: as evt_procpool_imap, results as they come. */
int evt_procpool_imap_unordered(evt_procpool_t *pool, evt_proc_fn fn,
                                evt_proc_next_fn next, evt_proc_result_fn cb,
                                void *user, size_t chunksize);
/* No more tasks: workers exit once the queued tasks are done. Returns 0,
 * or -1 and EINVAL. */
int evt_procpool_close(evt_procpool_t *pool);
/* Fail every task not yet done with ECANCELED and kill the workers
 * (SIGKILL). Returns 0, or -1 and EINVAL. */
int evt_procpool_terminate(evt_procpool_t *pool);
/* Wait until every worker has exited, after close or terminate. Returns 0,
 * or -1 and ETIMEDOUT, ECANCELED, EINVAL (the pool is still open). */
int evt_procpool_join(evt_procpool_t *pool, int64_t deadline);
/* Terminate, wait for the workers (even when the caller is cancelled) and
 * free the pool (NULL is fine). Returns 0, or -1 and EBUSY while a map
 * runs on it (nothing is done). */
int evt_procpool_free(evt_procpool_t *pool);


/* ------------------------------------------------------------------------ */
/* Batch engine (src/batch) and its sources (src/broker)                    */
/* ------------------------------------------------------------------------ */

/* The Eventor engine: run fn over every item of a source (an array, an
 * iterator, a file of lines, an IPC queue) with bounded concurrency, chunks and pauses
 * (the original Eventor's unit and interval), a rate limit, a deadline per
 * attempt, retries with exponential backoff, an error policy, and every
 * item's result reported with its status, in input order or as they finish.
 * Items and results are bytes. The engine copies each item when it reads it,
 * so a source's buffers may be reused as soon as it returns. */

/* One item as the work and the result hook see it. */
typedef struct evt_batch_task {
    uint64_t index;   /* position in the source, from 0 */
    const void *item; /* the item's bytes (a line: without its newline) */
    size_t len;       /* their number */
    unsigned attempt; /* 0 on the first try, then 1, 2... on retries */
    uint64_t seq;     /* the item's number, from 1, as its source numbers
                         items: a Redis batch's input number (its place
                         as submitted, the same on every worker); index + 1
                         for the other sources */
} evt_batch_task_t;

/* The work for one item. It runs in a coroutine, so it may wait (evt_sleep,
 * evt_read...): other items go on meanwhile. It may write up to cap bytes of
 * result to out and set *out_len (0 when it says nothing; more than cap
 * fails the attempt with EMSGSIZE). Returns 0, or -1 with errno set to say
 * why the attempt failed (0 counts as EIO), as every user callback that
 * runs work does; a failed attempt is retried if retries are left. */
typedef int (*evt_batch_fn)(const evt_batch_task_t *task, void *out,
                            size_t cap, size_t *out_len, void *user);
/* Told once per item read from the source, when it is finished: status is 0,
 * the code of its last failed attempt, ETIMEDOUT (its last attempt ran past
 * task_timeout_ms) or ECANCELED (the batch halted before it could finish).
 * result (len bytes) is valid during the call only. It runs in the engine's
 * coroutines: it may block, and then holds back the results after it. */
typedef void (*evt_batch_result_fn)(const evt_batch_task_t *task, int status,
                                    const void *result, size_t len,
                                    void *user);

/* What a batch did so far, or in all (see evt_batch_report_t below). */
typedef struct evt_batch_report evt_batch_report_t;
/* Told the progress of a batch (opts.on_progress): the counts so far
 * (wall_ms and the percentiles up to now; valid during the call only) and
 * the attempts running now. It runs in the caller's coroutine, between
 * two rounds of the controller: it should return quickly. */
typedef void (*evt_batch_progress_fn)(const evt_batch_report_t *so_far,
                                      uint64_t running, void *user);

/* What the batch does after failures (GNU parallel's --halt). */
typedef enum evt_halt {
    EVT_HALT_NEVER = 0, /* keep going: every item runs */
    EVT_HALT_SOON,      /* start nothing new, let running items finish */
    EVT_HALT_NOW        /* cancel running items too */
} evt_halt_t;

/* How to run a batch. Zero-initialise, then set what you need. */
typedef struct evt_batch_opts {
    size_t coroutines;      /* items at once (the seed's threadcount), in
                               each worker process or thread when there
                               are; 0 = 1 */
    size_t processes;       /* 0: run fn here, on this thread's coroutines.
                               P: run each attempt in one of P worker
                               processes of a process pool, each running
                               up to coroutines attempts at once on
                               coroutines of its own (P x C; the seed's
                               multi-consumer mode): every item is consumed
                               once, and the attempts a worker was running
                               when it died fail with EVT_ESIGNALED or
                               EVT_EEXITED (and are retried on another
                               worker while retries are left). fn and user
                               must exist before the fork server starts
                               (see evt_forkserver_start): workers are
                               copies of this process from then. At most
                               4096, and coroutines at most 65536 then */
    size_t threads;         /* 0: as above. T: run each attempt on one of T
                               threads of this process, each running up to
                               coroutines attempts at once on a scheduler of
                               its own (T x C). fn then runs on those
                               threads, several at once: it and user must
                               be safe to use from several threads; on_result
                               still runs on the caller's. A late or halted
                               attempt is cancelled there as here. At most
                               1024, and not with processes */
    size_t unit;            /* items per chunk: a chunk is read, run to its
                               end, then interval_ms passes before the next
                               one starts (the seed's taskunitcount); 0 = no
                               chunks */
    int64_t interval_ms;    /* pause after each chunk (milliseconds) */
    double rate;            /* at most this many items started per second;
                               0 = no limit */
    int64_t task_timeout_ms; /* cancel an attempt that runs longer; 0 = none.
                                With processes and coroutines 1 the worker
                                is killed instead (see evt_procpool_opts_t) */
    unsigned retries;       /* attempts after the first one failed
                               (UINT_MAX: in effect, until it succeeds) */
    int64_t backoff_ms;     /* wait before the first retry, doubled before
                               each next one; 0 = retry at once */
    int64_t backoff_max_ms; /* cap of that wait; 0 = 60000 */
    evt_halt_t halt;        /* what to do once halt_after items failed */
    uint64_t halt_after;    /* failed items that trigger halt; 0 = 1 */
    int ordered;            /* 1: on_result in input order (a window of at
                               most 64 items per attempt at once is kept); 0: as
                               they finish */
    size_t max_result;      /* cap of a result, bytes (fn's cap); 0 =
                               EVT_MAX_RESULT_DEFAULT, at most
                               EVT_MAX_RESULT_MAX. Results cost memory as
                               they are (the results kept for ordering,
                               the spools of byte ranges), but each attempt
                               running at once has a buffer of max_result
                               bytes (coroutines x processes or threads of
                               them, touched as far as results reach) */
    int progress;           /* 1: report progress on progress_fd: a bar on a
                               terminal, a line a second otherwise, and a
                               final report line; the bar, percent and ETA
                               count items where the source's total is
                               known (an array), else bytes (a regular
                               file: by its size), else there is a counter
                               only (a pipe, an iterator, a queue) */
    int progress_fd;        /* 0 = stderr */
    int stop_on_signals;    /* 1: SIGINT or SIGTERM stops the batch: start
                               nothing new, let running items finish for
                               grace_ms, then cancel them; a second signal
                               cancels at once. The handlers are put back
                               when the batch returns */
    int64_t grace_ms;       /* 0 = 10000 */
    evt_batch_result_fn on_result; /* NULL: results are dropped */
    void *user;             /* last argument of fn, on_result and
                               on_progress */
    evt_batch_progress_fn on_progress; /* with progress 1: called instead
                               of drawing on progress_fd, as often (a
                               second; 5 times a second when progress_fd
                               is a terminal) and once at the end, with
                               the final report; NULL: drawn */
} evt_batch_opts_t;

/* What a batch did. */
struct evt_batch_report {
    uint64_t read;      /* items read from the source */
    uint64_t ok;        /* finished with status 0 */
    uint64_t failed;    /* finished with another status (ECANCELED included) */
    uint64_t retried;   /* retry attempts made */
    int halted;         /* 1 when the error policy or a signal stopped
                           the batch */
    int signal;         /* the signal that stopped it, 0 = none */
    int64_t wall_ms;    /* from start to the last result */
    double p50_ms;      /* median time of an item's attempts, ms (3%) */
    double p99_ms;      /* 99th percentile, ms */
    uint64_t bytes_done; /* a file's bytes whose lines were reported (what
                            of the source is finished); 0 for sources
                            other than files */
    uint64_t bytes_total; /* a regular file's size when the batch started
                             (from where stdin stood); 0 when unknown (a
                             pipe, other sources) */
};

/* A source: put the next item in *item / *len and return 1; return 0 at
 * the end, or -1 and errno on an error (the batch stops, as halt soon). The
 * item must stay valid until the next call. */
typedef int (*evt_batch_next_fn)(const void **item, size_t *len, void *user);

/* Run fn over every item next(src) yields, on the calling thread's
 * scheduler, and return when every item read has been reported. Returns 0
 * (failures of items are in the report and on_result, not here), or -1 and
 * errno: EINVAL (bad options), ENOMEM, the source's errno, ECANCELED (the
 * calling coroutine was cancelled: running items were cancelled and
 * reported), EBUSY (stop_on_signals while another batch has the signals).
 * rep (may be NULL) is filled in either way. next may wait (a socket, a
 * pipe): it is called in a coroutine of its own, a few items ahead of the
 * starts, so results, deadlines and signals are seen to meanwhile; items
 * read ahead when the batch halts are reported with ECANCELED. */
int evt_batch_run(const evt_batch_opts_t *opts, evt_batch_fn fn,
                  evt_batch_next_fn next, void *src, evt_batch_report_t *rep);
/* The same over n items: items[i] of lens[i] bytes (lens NULL: each item
 * is a NUL-terminated string). */
int evt_batch_run_array(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        const void *const *items, const size_t *lens,
                        size_t n, evt_batch_report_t *rep);
/* The same over the lines of a file (path "-": stdin), read as they are
 * needed, so a file of any size runs in constant memory. A line is given
 * without its "\n" (and "\r\n"); a last line without a newline counts.
 * With processes (and neither unit nor rate), a regular file is split by
 * byte ranges at line boundaries: each worker maps its chunks and runs
 * their lines on its coroutines, results come back through spool files
 * (in $TMPDIR, default /tmp) and on_result still gets every line, in
 * order. A line's result is spooled the moment its fn returns (after its
 * last try), so a worker's death reruns only the lines of its chunk
 * without a result: a line that had returned never runs again, one that
 * was running runs again from the start; those that were running run
 * first one at a time, so a line that crashes its worker (a crash signal)
 * fails alone with EVT_ESIGNALED after 1 + retries such runs. A chunk
 * reruns 16 * (1 + retries) times at most; then the rest of it fails with
 * the death's error. The error policy and progress move a chunk at a time.
 * A pipe, FIFO or terminal is read as a waiting iterator (see
 * evt_batch_run), without blocking the thread; stdin through a description
 * of its own, so the O_NONBLOCK this needs is not seen by others. */
int evt_batch_run_file(const evt_batch_opts_t *opts, evt_batch_fn fn,
                       const char *path, evt_batch_report_t *rep);
/* The same over the messages of an IPC queue, taken as they come until the
 * queue is closed (evt_ipc_queue_close) and empty. Several batches, in
 * this process or others, may share q: each message goes to one of them.
 * A message taken is this batch's to report: a process that dies loses
 * the messages it had taken; with processes, the messages are taken here
 * and an attempt whose worker dies runs again on another one. */
int evt_batch_run_queue(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        evt_ipc_queue_t *q, evt_batch_report_t *rep);

/* ------------------------------------------------------------------------ */
/* Redis Streams broker (src/broker/redis*)                                 */
/* ------------------------------------------------------------------------ */

/* Built into libeventor when hiredis was found at build time (then hiredis
 * is a private link dependency: eventor.pc says Requires.private). A batch
 * beyond one machine: items in a Redis stream, read by any number of
 * workers (each an evt_batch_run_redis, in any process on any host)
 * through one consumer group, results stored back once per item.
 *
 * A batch is named by its URL, redis://HOST:PORT/NAME (HOST 127.0.0.1 and
 * PORT 6379 when left out; NAME "default"); redis://:PASS@HOST:PORT/NAME
 * or redis://USER:PASS@... sends AUTH on each connection (a refused one
 * fails the call with EACCES). Its keys, all under one hash
 * tag so that they stay together:
 *   eventor:{NAME}:items    stream of items, field "i" = the item's bytes
 *                           (consumer group "eventor")
 *   eventor:{NAME}:results  hash: item's stream id -> its result's bytes
 *   eventor:{NAME}:dead     stream of items delivered more than
 *                           max_deliveries times: fields "id", "i",
 *                           "deliveries"
 *   eventor:{NAME}:log      hash: item's stream id -> its record (with
 *                           evt_redis_opts_t.record: the eventor
 *                           command's joblog line)
 * evt_redis_submit adds items with the ids 1-0, 1-1, ... (XADD 1-*), so
 * that an item's id says its input number (its task's seq, on every
 * worker: the sequence + 1); an item added by hand with other ids has
 * none (its seq is then its place on the worker that read it).
 * Delivery is at least once; results are stored once per item id (the
 * first one stored stays), so each item has exactly one result. Every
 * call below bounds each command by its own deadline, and connects again
 * with a backoff (10 ms doubling to 1 s) while Redis is away.
 *
 * Without Redis support (libeventor built without hiredis) every evt_redis_*
 * call and evt_batch_run_redis fail with ENOTSUP before looking at their
 * arguments. When a call fails because of what Redis answered (errno
 * EPROTO; EACCES for a refused AUTH or NOAUTH; ENOMEM for Redis's OOM
 * error), evt_redis_error() gives Redis's own words. */

/* The text of the last error reply Redis sent to this thread ("WRONGTYPE
 * Operation against a key holding the wrong kind of value"), "" when none
 * came yet. Valid until this thread's next Redis call. */
const char *evt_redis_error(void);

/* A record for the delivery of t that ended with status (result: len
 * bytes when status is 0): malloc'd bytes (*len of them), or NULL. */
typedef void *(*evt_redis_record_fn)(const evt_batch_task_t *t, int status,
                                     const void *result, size_t rlen,
                                     size_t *len, void *user);
/* Told a record (len bytes, valid during the call) now stored. */
typedef void (*evt_redis_stored_fn)(const void *rec, size_t len,
                                    void *user);

/* How workers take items. Zero-initialise, then set what you need. */
typedef struct evt_redis_opts {
    const char *consumer;    /* this worker's name in the group (copied);
                                NULL: "HOSTNAME-PID" */
    size_t count;            /* XREADGROUP COUNT; 0 = 64 */
    int64_t visibility_ms;   /* an item not finished, and its lease not
                                renewed, for this long is taken by another
                                worker (XAUTOCLAIM); a live worker renews
                                its items' leases every third of it;
                                0 = 30000 */
    unsigned max_deliveries; /* an item delivered more times moves to the
                                dead-letter stream, atomically; 0 = 5 */
    int64_t command_ms;      /* deadline of each command; past it the
                                connection is dropped and made again;
                                0 = 5000 */
    int64_t down_ms;         /* fail (ETIMEDOUT or the connection's errno)
                                when Redis stays unreachable this long;
                                0 = wait for it forever */
    int follow;              /* 1: do not return when the batch is done:
                                wait for more items (until the batch is
                                stopped: a signal with stop_on_signals, a
                                cancel) */
    evt_redis_record_fn record;  /* NULL: no records. Else called for
                                each delivery finished here (after its
                                retries), before on_result: the record
                                it returns (malloc'd, *len bytes; the
                                library frees it; NULL: none) is stored
                                in eventor:{NAME}:log under the item's
                                id in the same step as its result, when
                                that result is the one stored (so an
                                item's record is that of its stored
                                result); a failed delivery's record is
                                stored while the item has no result (an
                                item that failed keeps its last one) */
    evt_redis_stored_fn on_stored; /* NULL, or told each record once
                                Redis has it, in the writer's coroutine
                                (of the calling thread), as stored */
    void *user;              /* last argument of record and on_stored */
} evt_redis_opts_t;

/* Append n items (items[i] of lens[i] bytes; lens NULL: NUL-terminated
 * strings) to the batch at url, pipelined, creating the stream and its
 * group when they are missing. Returns 0, or -1 and errno (EINVAL: a bad
 * URL; EPROTO: Redis answered an error, e.g. a key of another type); on
 * failure some of the items may have been added. Does not retry. */
int evt_redis_submit(const char *url, const void *const *items,
                     const size_t *lens, size_t n);

/* Run fn over the items of the batch at url, as evt_batch_run with opts
 * (every control of the engine: processes, threads, coroutines, rate,
 * deadlines, retries, halt, progress, signals), until the stream is
 * drained and no item of the group is pending: any number of workers may
 * run at once, and each returns when the whole batch is done. An item's
 * result is stored when fn succeeds, and then acknowledged; an item that
 * failed (after its retries) is not acknowledged, so that it is delivered
 * again after visibility_ms, here or to another worker, until it moves to
 * the dead-letter stream. The report counts deliveries (an item delivered
 * twice is read twice). on_result is called before the result is stored:
 * a worker that dies just then leaves the item to another one. Returns 0,
 * or -1 and errno: as evt_batch_run, EINVAL (url), EPROTO (Redis answered
 * an error), or what down_ms gave up on. ro may be NULL (defaults). */
int evt_batch_run_redis(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        const char *url, const evt_redis_opts_t *ro,
                        evt_batch_report_t *rep);

/* Counts of a batch. */
typedef struct evt_redis_stat {
    uint64_t items;   /* items in the stream */
    uint64_t results; /* items with a result */
    uint64_t pending; /* delivered and not acknowledged (in flight) */
    uint64_t dead;    /* moved to the dead-letter stream */
    uint64_t retried; /* of pending: delivered more than once (an earlier
                         attempt failed or its worker died); counted over
                         the first 10000 pending items */
    uint64_t waiting; /* not delivered yet */
} evt_redis_stat_t;
/* Fill st; 0, or -1 and errno: ENOENT when there is no such batch (no
 * item was ever submitted to it: nothing is created by looking). */
int evt_redis_stat(const char *url, evt_redis_stat_t *st);

/* A worker (consumer of the group) as Redis knows it. */
typedef struct evt_redis_consumer {
    char name[128];   /* evt_redis_opts_t.consumer ("HOSTNAME-PID") */
    uint64_t pending; /* items it holds */
    int64_t idle_ms;  /* since it last read or claimed */
} evt_redis_consumer_t;
/* Fill up to max entries of out with the batch's workers; returns how many
 * there are (more than max: only max filled), or -1 and errno. A worker
 * leaves the list when it exits holding nothing. */
int evt_redis_consumers(const char *url, evt_redis_consumer_t *out,
                        size_t max);

/* Let the batch's keys expire secs seconds from now (EXPIRE); secs 0:
 * keep them (PERSIST). evt_redis_submit keeps them too: a batch that
 * gets new items does not expire under them. 0, or -1 and errno. */
int evt_redis_expire(const char *url, int64_t secs);

/* Told each item of a batch in input order: its position, bytes, and its
 * result (NULL when it has none; rlen is then EVT_REDIS_DEAD when the item
 * was moved to the dead-letter stream, 0 when it is not done yet). All
 * valid during the call only. Returns 0 to go on, anything else to stop. */
#define EVT_REDIS_DEAD ((size_t)-1)
typedef int (*evt_redis_result_fn)(uint64_t index, const void *item,
                                   size_t len, const void *result,
                                   size_t rlen, void *user);
/* Walk the batch at url with fn, 1000 items per round trip. Returns 0, or
 * -1 and errno. */
int evt_redis_results(const char *url, evt_redis_result_fn fn, void *user);
/* The same walk with each item's record (evt_redis_opts_t.record) as its
 * result: NULL and rlen 0 when it has none (it did not run yet, or ran
 * without records). */
int evt_redis_records(const char *url, evt_redis_result_fn fn, void *user);

/* Delete the batch's keys. 0, or -1 and errno. */
int evt_redis_drop(const char *url);

/* ------------------------------------------------------------------------ */
/* HTTP on the reactor: libcurl (src/http)                                  */
/* ------------------------------------------------------------------------ */

/* Built into libeventor when libcurl was found at build time (then
 * libcurl is a link dependency of eventor: pkg-config and CMake say so).
 * The easy handles below are libcurl's `CURL *`, taken as void * so that
 * this header needs no <curl/curl.h>.
 *
 * Each thread has one libcurl multi handle, made on its first call here
 * and driven by the thread's reactor: many coroutines' transfers run at
 * once on the thread and share its connections (keep-alive, HTTP/2).
 * libcurl's callbacks of a transfer (write, read, header, progress, debug)
 * run on an internal coroutine of the thread (256 KiB of stack): they must
 * not call a blocking evt_* function; to stop a transfer return an error
 * from them, to hold it back return CURL_WRITEFUNC_PAUSE (or, uploading,
 * CURL_READFUNC_PAUSE), and resume it with curl_easy_pause(easy,
 * CURLPAUSE_CONT) from a callback or from any coroutine of the thread. */

/* Run the transfer configured on easy (a CURL * the caller owns and may
 * configure with any libcurl option) and park only the calling coroutine
 * until it is done, the deadline passes, or the caller is cancelled. At
 * most evt_curl_set_max_transfers transfers of a thread are inside libcurl
 * at once; the others wait in eventor's queue, first come first served,
 * and the time spent there does not count in libcurl's own timeouts
 * (CURLOPT_TIMEOUT_MS starts when the transfer enters libcurl), only in
 * deadline. Sets CURLOPT_NOSIGNAL, CURLOPT_OPENSOCKETFUNCTION and
 * CURLOPT_CLOSESOCKETFUNCTION on easy (eventor opens and closes libcurl's
 * sockets, so that the reactor knows each fd's life); they stay set and
 * are harmless when easy is used with curl_easy_perform afterwards. The
 * same easy must not be in two transfers at once. A CURLOPT_CONNECT_ONLY
 * transfer leaves its connection to easy, as curl_easy_perform does: for
 * CURLINFO_ACTIVESOCKET, curl_easy_send and curl_easy_recv (at CURLE_AGAIN
 * wait with evt_wait_fd), easy stays in the thread's multi handle until
 * its next evt_curl_perform or curl_easy_cleanup, which close that
 * connection (libcurl refuses such a handle to curl_easy_perform).
 * Returns 0 when libcurl says the transfer succeeded (an HTTP 404 is a
 * success unless CURLOPT_FAILONERROR is set: read CURLINFO_RESPONSE_CODE),
 * or -1 and errno: ETIMEDOUT (the deadline, or libcurl's own timeout),
 * ECANCELED (evt_cancel), EADDRNOTAVAIL (the name does not resolve),
 * the connect error (ECONNREFUSED...; libcurl could not connect), EINVAL
 * (NULL easy, a malformed URL or an unsupported protocol; the same easy
 * in two transfers at once), EDEADLK (called from a libcurl callback),
 * ENOMEM, EIO (any other failure of libcurl:
 * a peer that closed mid-body, TLS, a write callback's error...). After
 * a deadline or a cancel the transfer is removed from libcurl (its
 * connection closed) and easy can be used again at once. A deadline of 0
 * fails at once with ETIMEDOUT: a transfer always has to wait. */
int evt_curl_perform(void *easy, int64_t deadline);

/* libcurl's CURLcode for the calling thread's last evt_curl_perform
 * (CURLE_OK after a success): read it right after the call, as errno,
 * before the coroutine blocks again. Text: curl_easy_strerror(). A
 * deadline gives CURLE_OPERATION_TIMEDOUT, a cancel
 * CURLE_ABORTED_BY_CALLBACK, a failure of libcurl's multi handle
 * CURLE_FAILED_INIT. */
int evt_curl_result(void);

/* At most n transfers of the calling thread inside libcurl at once (the
 * rest queue in eventor); default 256. Returns 0, or -1 and EINVAL (n 0),
 * ENOMEM. */
int evt_curl_set_max_transfers(size_t n);

/* At most n connections of the calling thread's multi handle to any one
 * host (libcurl's CURLMOPT_MAX_HOST_CONNECTIONS; 0, the default, is no
 * limit). A transfer that finds its host's connections all busy waits
 * inside libcurl for one (it is admitted: it counts in
 * evt_curl_set_max_transfers, and libcurl's own CURLOPT_TIMEOUT_MS runs
 * while it waits). HTTP/2 transfers multiplex on the connections there
 * are. Other threads and forked children have their own multi handle and
 * their own limit. Returns 0, or -1 and ENOMEM. */
int evt_curl_set_max_host_connections(size_t n);

/* Resolve url's host for easy's next evt_curl_perform, which must follow
 * (evt_curl_h2c may come between): the name is looked up on the offload
 * pool once per host and port per thread, kept 60 s (5 s after a failure;
 * getaddrinfo tells no record TTL), and handed to libcurl with
 * CURLOPT_RESOLVE, so libcurl starts no resolver thread of its own.
 * Coroutines asking for one name at once share one lookup. Numeric hosts
 * and URLs libcurl will refuse pass through untouched. Sets
 * CURLOPT_RESOLVE on easy (evt_curl_perform clears it again); redirects
 * to another host are resolved by libcurl. Returns 0, or -1 and errno:
 * EADDRNOTAVAIL (the name does not resolve), EAGAIN (the name server
 * failed for now), ETIMEDOUT, ECANCELED, ENOMEM, EINVAL (NULL), EPERM
 * (not on a coroutine); evt_curl_result() then says
 * CURLE_COULDNT_RESOLVE_HOST (or the timeout's or cancel's code). */
int evt_curl_resolve(void *easy, const char *url, int64_t deadline);

/* Ask for HTTP/2 with prior knowledge on easy, whose URL is url (set it
 * on easy too), for its next evt_curl_perform, which must follow at once
 * on the same coroutine. As CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE with
 * CURLOPT_PIPEWAIT, but transfers to one http:// origin multiplex on its
 * connections: libcurl 7.88 fails every transfer that reuses a
 * prior-knowledge connection ("Error in the HTTP2 framing layer"), so
 * only the transfer that opens an origin's connection asks for prior
 * knowledge and the others for HTTP/2 on the connection there is (one
 * that finds none and is refused its upgrade is made again with prior
 * knowledge). For https:// it only sets the two options. Returns 0, or -1
 * and EINVAL (NULL), ENOMEM (more than 64 origins with connections open). */
int evt_curl_h2c(void *easy, const char *url);

/* Release the calling thread's multi handle and close the connections it
 * keeps open for reuse (a thread's exit does the same). The next call
 * makes a new one. Returns 0, or -1 and EBUSY while transfers of the thread
 * are in progress. */
int evt_curl_cleanup(void);

/* The common case without libcurl code: one call makes a request and
 * fills a response, on evt_curl_perform (same thread multi handle, queue
 * and connection reuse). */

/* What went wrong, by kind (evt_http_resp_t.error). */
enum evt_http_error {
    EVT_HTTP_OK = 0,
    EVT_HTTP_EURL,      /* no URL, a malformed one, or an unknown scheme */
    EVT_HTTP_EDNS,      /* the host name does not resolve */
    EVT_HTTP_ECONNECT,  /* no connection: refused, unreachable... */
    EVT_HTTP_ETLS,      /* TLS handshake or certificate */
    EVT_HTTP_ETIMEOUT,  /* the deadline passed (or connect_timeout_ms) */
    EVT_HTTP_ECANCELED, /* the caller was cancelled */
    EVT_HTTP_ETOOBIG,   /* the body is longer than max_body */
    EVT_HTTP_EREDIRECT, /* more redirects than max_redirects */
    EVT_HTTP_EPEER,     /* the peer closed, reset, or answered nonsense */
    EVT_HTTP_EOTHER     /* anything else libcurl reports (see curl_code) */
};

/* "dns", "connect", "tls", "timeout"...: the kind in a word. */
const char *evt_http_error_name(int error);

/* A request. Zero-initialise, then set url and what you need. The
 * strings and the body are the caller's and are read during the call. */
typedef struct evt_http_req {
    const char *method;         /* NULL: GET, or POST when body is set */
    const char *url;            /* required */
    const char *const *headers; /* "Name: value" lines, NULL-terminated */
    const void *body;           /* request body of body_len bytes, or NULL */
    size_t body_len;
    int max_redirects;          /* Location: redirects followed; 0 none */
    size_t max_body;            /* longest body accepted; 0 = 8 MiB, or no
                                   bound when the body is streamed */
    long connect_timeout_ms;    /* 0: only the deadline bounds connecting */
    /* Streaming: with body_to_fd the body is written to body_fd (the
     * caller's, left open, written from its current offset; a regular
     * file or a blocking fd: EAGAIN fails the request), else with
     * body_path to that file (created 0666 & ~umask, or truncated; closed
     * by the call; removed again when the call fails). Either way the
     * body never sits in memory: resp->body is "" and resp->body_len the
     * bytes written. A failed write fails the request (EVT_HTTP_EOTHER,
     * errno the write's). A redirect's own body is not written. */
    int body_to_fd;
    int body_fd;
    const char *body_path;
} evt_http_req_t;

/* A response. Filled by evt_http_request whatever its outcome; the body
 * and headers are owned by the caller, who releases them with
 * evt_http_resp_free (after a failure too). */
typedef struct evt_http_resp {
    int status;         /* HTTP status of the last response, 0 if none */
    int error;          /* enum evt_http_error; EVT_HTTP_OK after 0 */
    int curl_code;      /* libcurl's CURLcode */
    int redirects;      /* redirects followed */
    char *body;         /* body_len bytes and a NUL (what came, even after
                           a failure) */
    size_t body_len;
    char *headers;      /* the last response's headers, for
                           evt_http_header; internal layout */
    size_t headers_len;
    size_t nheaders;
    char message[256];  /* what went wrong, in words ("" after 0) */
} evt_http_resp_t;

/* Make req and park the caller until the whole response is in resp (or
 * the deadline, or a cancel). Returns 0 when a response came, whatever
 * its status (a 404 is status 404 and 0 here); or -1 and errno as
 * evt_curl_perform (ETIMEDOUT, ECANCELED, EADDRNOTAVAIL, ECONNREFUSED,
 * EINVAL, EIO...), EFBIG (body longer than max_body), ELOOP (too many
 * redirects), with resp->error and resp->message saying what happened. */
int evt_http_request(const evt_http_req_t *req, evt_http_resp_t *resp,
                     int64_t deadline);

/* GET url, following up to 10 redirects. */
int evt_http_get(const char *url, evt_http_resp_t *resp, int64_t deadline);

/* The value of header name (any case) in resp's last response, or NULL;
 * valid until evt_http_resp_free. */
const char *evt_http_header(const evt_http_resp_t *resp, const char *name);

/* Release resp's body and headers; resp can be filled again. */
void evt_http_resp_free(evt_http_resp_t *resp);


#ifdef __cplusplus
}
#endif
#endif
