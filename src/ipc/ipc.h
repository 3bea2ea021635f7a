/* Internal interface of the IPC layer: the shared arena every IPC object
 * lives in, the short process-shared locks that guard object state, and the
 * doorbells through which a process wakes coroutines parked in another. */
#ifndef EVT_IPC_IPC_H
#define EVT_IPC_IPC_H

#include "../core/core.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Map the arena if it is not mapped yet. Processes forked afterwards share
 * it, at the same address: the process layer calls this before it forks
 * its workers. Returns 0, or -1 and ENOMEM. */
int evt__ipc_prefork(void);

/* A connection end around the stream socket fd (one end of a pair made
 * by evt_ipc_pipe, passed to another process); NULL when out of memory. */
evt_ipc_conn_t *evt__ipc_conn_adopt(int fd);

/* Zeroed shared memory from the arena (16-byte aligned), or NULL and
 * ENOMEM / EINVAL (0 bytes). Any process that shares the arena may free it. */
void *evt__ipc_alloc(size_t size);
void evt__ipc_free(void *p);
/* Usable bytes of a block from evt__ipc_alloc. */
size_t evt__ipc_size(const void *p);

/* A short lock on object state: process-shared, robust and error-checking,
 * held only for a few memory operations, so a contended lock may block the
 * thread. Updates are ordered so that a holder killed in the middle leaves
 * a usable object (most publish with their last store; see each file), so
 * the next locker simply goes on. */
int evt__ipc_mutex_init(pthread_mutex_t *m);
/* The start of every IPC object: zeroed shared memory of size bytes whose
 * short lock, lock_off bytes in, is ready. NULL and errno: EINVAL when the
 * constructor's arguments are not valid (nothing is allocated), ENOMEM... */
void *evt__ipc_alloc_locked(int valid, size_t size, size_t lock_off);
/* evt__ipc_alloc_locked for an object of type whose lock is its field
 * lock. */
#define EVT__IPC_NEW(valid, type, lock)                                      \
    ((type *)evt__ipc_alloc_locked((valid), sizeof(type), offsetof(type, lock)))
/* 0, or an errno value (EDEADLK: this thread holds it already). */
int evt__ipc_mutex_lock(pthread_mutex_t *m);
void evt__ipc_mutex_unlock(pthread_mutex_t *m);
/* evt__ipc_mutex_lock for calls that mirror POSIX: 0, or -1 and errno. */
static inline int evt__ipc_lock(pthread_mutex_t *m)
{
    int rc = evt__ipc_mutex_lock(m);
    if (evt__unlikely(rc != 0)) {
        errno = rc;
        return -1;
    }
    return 0;
}

/* How many threads, in all processes together, may wait on IPC objects at
 * the same time. */
#define EVT__IPC_BELLS 1024

/* The set of doorbells (threads) to ring when an object changes: one bit
 * per doorbell. A bit stays set until the next wake, which clears it; a
 * thread still waiting then sets it again. */
typedef struct evt__ipc_waitset {
    _Atomic uint64_t bits[EVT__IPC_BELLS / 64];
} evt__ipc_waitset_t;

/* A doorbell's entry in the arena's table: how other processes find the
 * thread's socket. */
typedef struct evt__ipc_bell_slot {
    _Atomic int32_t pid;      /* owner process; 0 while the slot is free */
    _Atomic uint32_t pending; /* 1 while a ring is on its way */
    _Atomic uint64_t tag;     /* random part of the socket's name */
} evt__ipc_bell_slot_t;

/* The table of EVT__IPC_BELLS doorbells, in the arena; NULL and ENOMEM. */
evt__ipc_bell_slot_t *evt__ipc_bells(void);

/* Add the calling thread's doorbell to ws (made on first use). Returns 0,
 * or an errno value (EAGAIN: every doorbell is taken; EMFILE...). */
int evt__ipc_waitset_add(evt__ipc_waitset_t *ws);
/* Ring every doorbell in ws and empty it. Costs nothing when ws is empty;
 * a doorbell whose thread is gone is skipped. Call it after the object's
 * short lock is released. */
void evt__ipc_waitset_wake(evt__ipc_waitset_t *ws);

/* Park the calling coroutine until its thread's doorbell rings (returns 0:
 * look at the object again), the deadline passes (ETIMEDOUT) or it is
 * cancelled (ECANCELED). Only the caller parks: the other coroutines of its
 * thread keep running. Call it after evt__ipc_waitset_add and a last look
 * at the object that found it still not ready. With nocancel set a cancel
 * does not end the wait (it stays recorded for the caller's next call). */
int evt__ipc_bell_wait(int64_t deadline, int nocancel);

/* The slow path of every wait on an object guarded by a short lock: the
 * caller holds m and found it must wait. Register on ws (unless the
 * deadline is 0 or the caller is cancelled), release m and park. Returns 0
 * (lock m and look again) or an errno value; m is released either way. */
int evt__ipc_wait_unlock(pthread_mutex_t *m, evt__ipc_waitset_t *ws,
                         int64_t deadline);
/* The same for calls that mirror POSIX: 0 (look again), or -1 and errno. */
static inline int evt__ipc_wait(pthread_mutex_t *m, evt__ipc_waitset_t *ws,
                                int64_t deadline)
{
    int rc = evt__ipc_wait_unlock(m, ws, deadline);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

/* The locks' steps, shared with conditions. acquire takes l for count
 * levels (an RLock held n times is taken back n times after a condition
 * wait); returns 0, EOWNERDEAD (taken: the holder died) or an errno value.
 * With nocancel it waits through a cancel. release_all lets go of every
 * level and returns how many there were. held: the caller holds l. */
int evt__ipc_lock_acquire(evt_ipc_lock_t *l, int64_t deadline, int nocancel,
                          unsigned count);
unsigned evt__ipc_lock_release_all(evt_ipc_lock_t *l);
int evt__ipc_lock_held(evt_ipc_lock_t *l);

#endif
