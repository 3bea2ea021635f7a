/* Doorbells: how a process wakes coroutines parked on an IPC object in
 * another process without blocking any thread. Each thread that waits owns
 * a datagram socket in the abstract namespace, named from its pid and a
 * random tag and listed in the arena's table; its reactor watches it. A
 * waker sends one byte to each doorbell in the object's waitset; the woken
 * thread drains its socket and wakes every coroutine it has parked on IPC
 * objects, and each looks at its object again. */
#define _GNU_SOURCE
#include "ipc.h"
#include "../loop/loop.h"
#include "../core/wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct bell {
    int fd;              /* the socket, bound to our name */
    int idx;             /* our slot in the arena's table */
    int watching;        /* a coroutine of ours is parked on fd */
    evt__waitq_t parked; /* the others, woken by whoever drains fd */
} bell_t;

static _Thread_local bell_t *tls_bell;
static pthread_key_t bell_key;
static pthread_once_t bell_once = PTHREAD_ONCE_INIT;
/* The process's socket for ringing (unbound; sending needs no doorbell). */
static _Atomic int ring_fd = -1;

static socklen_t bell_addr(struct sockaddr_un *sa, int32_t pid, uint64_t tag)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    /* Abstract namespace: sun_path[0] is 0, nothing on disk to clean up. */
    int n = snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1,
                     "eventor-ipc.%d.%016llx", (int)pid,
                     (unsigned long long)tag);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static void bell_release(void *p)
{
    bell_t *b = p;
    evt__ipc_bell_slot_t *slot = &evt__ipc_bells()[b->idx];
    atomic_store(&slot->tag, 0);
    atomic_store(&slot->pid, 0);
    evt_close(b->fd);
    free(b);
    tls_bell = NULL;
}

/* The child of a fork must not answer the parent's doorbell: drop ours (the
 * slot stays the parent's) and make a new one on first need. */
static void after_fork_in_child(void)
{
    bell_t *b = tls_bell;
    if (b) {
        close(b->fd);
        free(b);
        tls_bell = NULL;
        pthread_setspecific(bell_key, NULL);
    }
}

static void bell_init_once(void)
{
    pthread_key_create(&bell_key, bell_release);
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

/* A slot is reclaimed from a dead thread when its name answers no more. */
static int slot_dead(evt__ipc_bell_slot_t *slot, int fd)
{
    struct sockaddr_un sa;
    socklen_t len = bell_addr(&sa, atomic_load(&slot->pid),
                              atomic_load(&slot->tag));
    return sendto(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
                  (struct sockaddr *)&sa, len) < 0 && errno == ECONNREFUSED;
}

static int claim_slot(evt__ipc_bell_slot_t *slots, int fd, int32_t pid)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < EVT__IPC_BELLS; i++) {
            int32_t old = atomic_load(&slots[i].pid);
            if (old && (pass == 0 || !slot_dead(&slots[i], fd)))
                continue;
            if (atomic_compare_exchange_strong(&slots[i].pid, &old, pid))
                return i;
        }
    }
    return -1;
}

static bell_t *bell_get(void)
{
    if (evt__likely(tls_bell != NULL))
        return tls_bell;
    pthread_once(&bell_once, bell_init_once);
    evt__ipc_bell_slot_t *slots = evt__ipc_bells();
    if (!slots)
        return NULL;
    bell_t *b = calloc(1, sizeof *b);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    b->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (b->fd < 0)
        goto fail;
    uint64_t tag;
    if (getrandom(&tag, sizeof tag, 0) != sizeof tag)
        tag = (uint64_t)evt_now() ^ ((uint64_t)(uintptr_t)b << 16);
    int32_t pid = (int32_t)getpid();
    struct sockaddr_un sa;
    socklen_t len = bell_addr(&sa, pid, tag);
    if (bind(b->fd, (struct sockaddr *)&sa, len) < 0)
        goto fail;
    b->idx = claim_slot(slots, b->fd, pid);
    if (b->idx < 0) {
        errno = EAGAIN;
        goto fail;
    }
    atomic_store(&slots[b->idx].pending, 0);
    atomic_store(&slots[b->idx].tag, tag);
    tls_bell = b;
    pthread_setspecific(bell_key, b);
    return b;
fail:;
    int err = errno;
    if (b->fd >= 0)
        close(b->fd);
    free(b);
    errno = err;
    return NULL;
}

int evt__ipc_waitset_add(evt__ipc_waitset_t *ws)
{
    bell_t *b = bell_get();
    if (!b)
        return errno;
    atomic_fetch_or(&ws->bits[b->idx / 64], (uint64_t)1 << (b->idx % 64));
    return 0;
}

static int ring_socket(void)
{
    int fd = atomic_load(&ring_fd);
    if (evt__likely(fd >= 0))
        return fd;
    int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (nfd < 0)
        return -1;
    if (!atomic_compare_exchange_strong(&ring_fd, &fd, nfd)) {
        close(nfd);
        return fd;
    }
    return nfd;
}

static void ring(evt__ipc_bell_slot_t *slot)
{
    /* One byte on its way is enough: the owner clears pending before it
     * drains, so a change made before this exchange is seen by its look. */
    if (atomic_exchange(&slot->pending, 1))
        return;
    int32_t pid = atomic_load(&slot->pid);
    int fd = ring_socket();
    if (!pid || fd < 0)
        return;
    struct sockaddr_un sa;
    socklen_t len = bell_addr(&sa, pid, atomic_load(&slot->tag));
    /* A dead doorbell refuses (ECONNREFUSED) and a full one (EAGAIN) is
     * readable already: either way there is nothing more to do. */
    ssize_t r = sendto(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
                       (struct sockaddr *)&sa, len);
    (void)r;
}

void evt__ipc_waitset_wake(evt__ipc_waitset_t *ws)
{
    evt__ipc_bell_slot_t *slots = NULL;
    for (int w = 0; w < EVT__IPC_BELLS / 64; w++) {
        if (evt__likely(!atomic_load_explicit(&ws->bits[w],
                                              memory_order_relaxed)))
            continue;
        uint64_t v = atomic_exchange(&ws->bits[w], 0);
        if (!slots)
            slots = evt__ipc_bells();
        while (v) {
            int bit = __builtin_ctzll(v);
            v &= v - 1;
            ring(&slots[w * 64 + bit]);
        }
    }
}

static void drain(bell_t *b)
{
    atomic_store(&evt__ipc_bells()[b->idx].pending, 0);
    char buf[64];
    while (recv(b->fd, buf, sizeof buf, MSG_DONTWAIT) >= 0)
        ;
}

int evt__ipc_bell_wait(int64_t deadline, int nocancel)
{
    bell_t *b = tls_bell;
    evt__sched_t *s = evt__sched();
    if (!b || !s)
        return ENOMEM;
    evt_co_t *self = s->current;
    unsigned char was = self->cancelled;
    if (nocancel)
        self->cancelled = 0;
    int rc;
    if (!b->watching) {
        /* We watch the socket for the whole thread. Whoever drains it wakes
         * every other coroutine parked here, so that no ring meant for one
         * of them is swallowed unseen. */
        b->watching = 1;
        int r = evt__fd_wait(b->fd, EVT_IN, deadline);
        rc = r < 0 ? errno : 0;
        b->watching = 0;
        if (r >= 0)
            drain(b);
        /* Leaving without a ring, we hand the watch to the others too. */
        evt__waitq_wake_all(&b->parked, 0);
    } else {
        evt__waiter_t me = {.co = self};
        rc = evt__waitq_wait(&b->parked, &me, deadline);
    }
    if (nocancel) {
        self->cancelled |= was;
        if (rc == ECANCELED)
            rc = 0;
    }
    return rc;
}

int evt__ipc_wait_unlock(pthread_mutex_t *m, evt__ipc_waitset_t *ws,
                         int64_t deadline)
{
    int rc = deadline == 0 ? ETIMEDOUT
             : evt_cancelled() ? ECANCELED
                               : evt__ipc_waitset_add(ws);
    evt__ipc_mutex_unlock(m);
    return rc ? rc : evt__ipc_bell_wait(deadline, 0);
}
