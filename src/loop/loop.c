/* The reactor of a thread: epoll for fds, an eventfd for posts from other
 * threads, and the hook (loop_ops) through which the scheduler polls it. */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_EVENTS 256

/* The scheduler's hook into this reactor, installed with the reactor. */
static int loop_poll(evt__sched_t *s, int timeout_ms);
static int loop_fini(evt__sched_t *s);
static void loop_drop_fds(evt__sched_t *s);
static const evt__loop_ops_t loop_ops = {loop_poll, loop_fini, loop_drop_fds};

evt__loop_t *evt__loop_get(evt__sched_t *s)
{
    if (evt__likely(s->loop != NULL))
        return s->loop;
    evt__loop_t *l = calloc(1, sizeof *l);
    if (!l)
        goto fail;
    l->wakefd = -1; /* fd 0 is a real fd: stdin may be closed */
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        goto fail;
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wakefd < 0)
        goto fail;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->wakefd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) < 0)
        goto fail;
    atomic_init(&l->inbox, NULL);
    atomic_init(&l->sleeping, 0);
    atomic_init(&l->posting, 0);
    s->loop = l;
    s->loop_ops = &loop_ops;
    return l;
fail:;
    int err = errno;
    if (l) {
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wakefd >= 0)
            close(l->wakefd);
        free(l);
    }
    errno = err;
    return NULL;
}

static int loop_fini(evt__sched_t *s)
{
    evt__loop_t *l = s->loop;
    if (!l)
        return 0;
    if (l->holds)
        return -1;
    /* A post may have run here while its poster is still reading
     * `sleeping`: let it leave before the memory goes. */
    while (atomic_load(&l->posting))
        sched_yield();
    close(l->epfd);
    close(l->wakefd);
    for (size_t i = 0; i < l->npages; i++)
        free(l->pages[i]);
    free(l->pages);
    free(l);
    s->loop = NULL;
    s->loop_ops = NULL;
    return 0;
}

static void loop_drop_fds(evt__sched_t *s)
{
    evt__loop_t *l = s->loop;
    if (l) {
        close(l->epfd);
        close(l->wakefd);
    }
}

void evt__post(evt__sched_t *s, evt__post_t *p)
{
    evt__loop_t *l = s->loop;
    atomic_fetch_add(&l->posting, 1);
    evt__post_t *head = atomic_load(&l->inbox);
    do
        p->next = head;
    while (!atomic_compare_exchange_weak(&l->inbox, &head, p));
    /* Pairs with the store of sleeping before the owner's last look at the
     * inbox: either it sees the post, or we see it asleep and wake it. */
    if (atomic_load(&l->sleeping)) {
        uint64_t one = 1;
        ssize_t w = write(l->wakefd, &one, sizeof one);
        (void)w; /* EAGAIN: the counter is already non-zero, it will wake */
    }
    atomic_fetch_sub(&l->posting, 1);
}

void evt__loop_hold(evt__loop_t *l)
{
    l->holds++;
}

void evt__loop_unhold(evt__loop_t *l)
{
    l->holds--;
}

/* Run the posts in the order they were made. */
static void run_posts(evt__loop_t *l)
{
    evt__post_t *p = atomic_exchange(&l->inbox, NULL), *fifo = NULL;
    while (p) {
        evt__post_t *next = p->next;
        p->next = fifo;
        fifo = p;
        p = next;
    }
    while (fifo) {
        evt__post_t *next = fifo->next;
        fifo->fn(fifo->arg);
        fifo = next;
    }
}

/* Wake the coroutines parked on fd for the events that came. Interest
 * stays registered while nobody asks for less (so a connection that is read
 * again and again costs no epoll_ctl), and is dropped for an event that
 * fires with no one waiting for it: level-triggered epoll would repeat it. */
static void dispatch(evt__loop_t *l, int fd, uint32_t events)
{
    evt__fd_state_t *st = evt__fd_state(l, fd);
    int got = 0, wanted = 0;
    if (events & (EPOLLIN | EPOLLRDHUP))
        got |= EVT_IN;
    if (events & EPOLLOUT)
        got |= EVT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        got |= EVT_IN | EVT_OUT;
    for (evt__fd_waiter_t *w = st->waiters; w; w = w->next) {
        wanted |= w->want;
        if (w->want & got) {
            w->got |= w->want & got;
            evt__unpark(w->co, 0);
        }
    }
    if (events & (EPOLLERR | EPOLLHUP) && !wanted) {
        /* Hang-ups are reported whatever the interest: stop watching. */
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
        st->registered = 0;
        st->interest = 0;
        return;
    }
    uint32_t idle = events & st->interest & (EPOLLIN | EPOLLOUT);
    if (wanted & EVT_IN)
        idle &= ~(uint32_t)EPOLLIN;
    if (wanted & EVT_OUT)
        idle &= ~(uint32_t)EPOLLOUT;
    if (idle) {
        st->interest &= ~idle;
        struct epoll_event ev = {.events = st->interest, .data.fd = fd};
        epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
    }
}

static int loop_poll(evt__sched_t *s, int timeout_ms)
{
    evt__loop_t *l = s->loop;
    if (timeout_ms < 0 && !l->fd_waiters && !l->holds &&
        !atomic_load(&l->inbox))
        return -1;
    if (timeout_ms != 0) {
        atomic_store(&l->sleeping, 1);
        if (atomic_load(&l->inbox))
            timeout_ms = 0;
    }
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout_ms);
    if (timeout_ms != 0)
        atomic_store(&l->sleeping, 0);
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd == l->wakefd) {
            uint64_t v;
            ssize_t r = read(l->wakefd, &v, sizeof v);
            (void)r;
            continue;
        }
        dispatch(l, fd, evs[i].events);
    }
    if (atomic_load_explicit(&l->inbox, memory_order_relaxed))
        run_posts(l);
    return 0;
}

int evt_sleep(int64_t deadline)
{
    if (deadline == 0)
        return evt_yield();
    if (!evt__sched())
        return -1;
    int rc;
    do
        rc = evt__wait(deadline);
    while (rc == 0);
    if (rc == ETIMEDOUT)
        return 0;
    errno = rc;
    return -1;
}
