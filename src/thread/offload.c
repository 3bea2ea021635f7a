/* The internal offload pool: the threads that run what epoll cannot wait
 * for (name lookups, regular-file IO) while only the asking coroutine
 * parks. One per process, made on first use, made anew in a child. */
#define _GNU_SOURCE
#include "thread.h"
#include "../core/core.h"

#include <pthread.h>
#include <stdatomic.h>

/* Lookups can take the name server's whole timeout: enough threads that a
 * few slow names do not hold up the rest (gevent's resolver pool has 10). */
#define IO_THREADS 8

static _Atomic(evt_threadpool_t *) io_pool;
static pthread_mutex_t io_pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* The parent's pool has no threads in a child: forget it (and its lock,
 * which another parent thread may have held) and make a new one there. */
static void io_pool_in_child(void)
{
    atomic_store(&io_pool, NULL);
    pthread_mutex_init(&io_pool_lock, NULL);
}

evt_threadpool_t *evt__io_pool(void)
{
    evt_threadpool_t *p = atomic_load_explicit(&io_pool, memory_order_acquire);
    if (evt__likely(p != NULL))
        return p;
    static int atfork_done;
    pthread_mutex_lock(&io_pool_lock);
    if (!atfork_done && pthread_atfork(NULL, NULL, io_pool_in_child) == 0)
        atfork_done = 1;
    if (!(p = atomic_load(&io_pool)) &&
        (p = evt_threadpool_new(IO_THREADS, NULL)) != NULL)
        atomic_store(&io_pool, p);
    pthread_mutex_unlock(&io_pool_lock);
    return p;
}
