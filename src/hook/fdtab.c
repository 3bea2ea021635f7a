/* The hooks' one table of fds: per fd what it is, who made it
 * non-blocking, and its SO_RCVTIMEO / SO_SNDTIMEO. fds are process-wide,
 * so the table is too; pages of entries are made on first use and never
 * move or go away. */
#define _GNU_SOURCE
#include "hook.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#define PAGE 1024
#define PAGES 1024 /* fds up to 2^20; larger ones are left to libc */

static _Atomic(evt__hfd_t *) pages[PAGES];

evt__hfd_t *evt__hfd_slot(int fd)
{
    if (evt__hunlikely(fd < 0 || fd >= PAGE * PAGES))
        return NULL;
    evt__hfd_t *p = atomic_load_explicit(&pages[fd / PAGE],
                                         memory_order_acquire);
    if (evt__hunlikely(!p)) {
        evt__hfd_t *fresh = calloc(PAGE, sizeof *fresh), *none = NULL;
        if (!fresh)
            return NULL;
        if (atomic_compare_exchange_strong(&pages[fd / PAGE], &none, fresh))
            p = fresh;
        else {
            free(fresh);
            p = none;
        }
    }
    return &p[fd % PAGE];
}

static int timeo_ms(int fd, int opt)
{
    struct timeval tv;
    socklen_t len = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0)
        return 0;
    int64_t ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* First look at an fd the hooks did not see being made. */
static unsigned classify(int fd, evt__hfd_t *h)
{
    struct stat sb;
    unsigned f = EVT__HFD_KNOWN;
    if (fstat(fd, &sb) == 0 && (S_ISSOCK(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
        int fl = EVT__REAL(fcntl, (int)syscall(SYS_fcntl, fd, F_GETFL), fd,
                           F_GETFL);
        f |= EVT__HFD_WAITS | (S_ISSOCK(sb.st_mode) ? EVT__HFD_SOCK : 0) |
             (fl >= 0 && (fl & O_NONBLOCK) ? EVT__HFD_USER_NB : 0);
        if (S_ISSOCK(sb.st_mode)) {
            atomic_store_explicit(&h->rcv_ms, timeo_ms(fd, SO_RCVTIMEO),
                                  memory_order_relaxed);
            atomic_store_explicit(&h->snd_ms, timeo_ms(fd, SO_SNDTIMEO),
                                  memory_order_relaxed);
        }
    } else if (errno == EBADF) {
        return 0; /* not open: look again next time */
    }
    atomic_store_explicit(&h->flags, f, memory_order_relaxed);
    return f;
}

evt__hfd_t *evt__hfd_get(int fd)
{
    if (fd <= 2)
        return NULL;
    evt__hfd_t *h = evt__hfd_slot(fd);
    if (evt__hunlikely(!h))
        return NULL;
    unsigned f = atomic_load_explicit(&h->flags, memory_order_relaxed);
    if (evt__hunlikely(!(f & EVT__HFD_KNOWN)))
        f = classify(fd, h);
    return f & EVT__HFD_WAITS ? h : NULL;
}

void evt__hfd_made(int fd, unsigned flags)
{
    evt__hfd_t *h = fd > 2 ? evt__hfd_slot(fd) : NULL;
    if (!h)
        return;
    atomic_store_explicit(&h->rcv_ms, 0, memory_order_relaxed);
    atomic_store_explicit(&h->snd_ms, 0, memory_order_relaxed);
    atomic_store_explicit(&h->flags, flags | EVT__HFD_KNOWN,
                          memory_order_relaxed);
}

void evt__hfd_copy(int oldfd, int newfd)
{
    evt__hfd_t *o = oldfd > 2 ? evt__hfd_slot(oldfd) : NULL;
    evt__hfd_t *n = newfd > 2 ? evt__hfd_slot(newfd) : NULL;
    if (!n)
        return;
    if (!o) {
        atomic_store_explicit(&n->flags, 0, memory_order_relaxed);
        return;
    }
    atomic_store_explicit(&n->rcv_ms, atomic_load(&o->rcv_ms),
                          memory_order_relaxed);
    atomic_store_explicit(&n->snd_ms, atomic_load(&o->snd_ms),
                          memory_order_relaxed);
    atomic_store_explicit(&n->flags, atomic_load(&o->flags),
                          memory_order_relaxed);
}

void evt__hfd_drop(int fd)
{
    evt__hfd_t *h = evt__hfd_slot(fd);
    if (h)
        atomic_store_explicit(&h->flags, 0, memory_order_relaxed);
}
