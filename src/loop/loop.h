/* Internal interface of the reactor: the epoll instance of a thread, its
 * table of watched fds, and posts from other threads (an MPSC list drained
 * by the owning thread, with an eventfd to wake it from epoll_wait). */
#ifndef EVT_LOOP_LOOP_H
#define EVT_LOOP_LOOP_H

#include "../core/core.h"

#include <stdatomic.h>

/* A coroutine waiting on an fd; lives on the waiter's stack. */
typedef struct evt__fd_waiter {
    evt_co_t *co;                /* who waits */
    struct evt__fd_waiter *next; /* other waiters on the same fd */
    struct evt__fd_waiter **pprev; /* the link pointing at this one */
    int want;                    /* EVT_IN and/or EVT_OUT */
    int got;                     /* events seen, set by the reactor */
} evt__fd_waiter_t;

/* What the reactor knows of one fd. */
typedef struct evt__fd_state {
    evt__fd_waiter_t *waiters; /* coroutines parked on this fd */
    uint32_t interest;         /* events registered with epoll (EPOLLIN...) */
    unsigned char registered;  /* the fd is in the epoll set */
    unsigned char nonblock;    /* O_NONBLOCK was set by us or seen set */
    unsigned char socket;      /* a socket (known once nonblock is set) */
    unsigned char file;        /* a regular file or block device: epoll
                                  cannot watch it, and IO on it blocks */
} evt__fd_state_t;

/* Work handed to a thread's scheduler by another thread: fn(arg) runs on
 * the owning thread, in its next look at IO. The poster owns the node and
 * must keep it alive until fn runs. */
typedef struct evt__post {
    struct evt__post *next; /* link in the inbox */
    void (*fn)(void *arg);  /* what to run */
    void *arg;
} evt__post_t;

#define EVT__FD_PAGE 1024

typedef struct evt__loop {
    int epfd;                  /* the epoll instance */
    int wakefd;                /* eventfd other threads write to wake us */
    evt__fd_state_t **pages;   /* fd states, EVT__FD_PAGE per page, so
                                  that a state never moves while a waiter
                                  links to it */
    size_t npages;             /* length of pages */
    size_t fd_waiters;         /* coroutines parked on some fd */
    size_t holds;              /* posts this thread still expects */
    _Atomic(evt__post_t *) inbox; /* posts not yet run, newest first */
    atomic_int sleeping;       /* 1 while in (or entering) a blocking wait */
    atomic_int posting;        /* other threads inside evt__post: they look
                                  at `sleeping` after their post is out */
} evt__loop_t;

/* The reactor of s, created on first use; NULL and errno on failure. */
evt__loop_t *evt__loop_get(evt__sched_t *s);

/* The fd's state, growing the table as needed; NULL and ENOMEM/EBADF. */
evt__fd_state_t *evt__fd_state(evt__loop_t *l, int fd);

/* Post p to the thread of s. Safe from any thread. s must live until the
 * post has run: its thread takes a hold (evt__loop_hold) before handing s
 * to another thread, and drops it when the post has come back. */
void evt__post(evt__sched_t *s, evt__post_t *p);

/* Counting expected posts lets the scheduler tell a thread waiting for
 * another one from a deadlock. Owning thread only. */
void evt__loop_hold(evt__loop_t *l);
void evt__loop_unhold(evt__loop_t *l);

/* Make epoll watch fd for need (EPOLLIN...) as well, keeping what it
 * watches already. 0; 1 when fd cannot be watched because it is always
 * ready (a regular file); or -1 and errno. */
int evt__fd_watch(evt__loop_t *l, evt__fd_state_t *st, int fd, uint32_t need);
/* The epoll events that mean EVT_IN / EVT_OUT for want. */
uint32_t evt__fd_epoll_bits(int want);

/* Put w (the caller's, on its stack) among the waiters of st for want on
 * behalf of co, and take it out again; the reactor sets w->got and unparks
 * co when an event of want comes. */
void evt__fd_link(evt__loop_t *l, evt__fd_state_t *st, evt__fd_waiter_t *w,
                  evt_co_t *co, int want);
void evt__fd_unlink(evt__loop_t *l, evt__fd_waiter_t *w);

/* Park until fd has one of want (EVT_IN/EVT_OUT) ready; returns the ready
 * events, or -1 and errno. The shared step of every IO call. */
int evt__fd_wait(int fd, int want, int64_t deadline);

/* Put fd in non-blocking mode once and learn what kind of fd it is (both
 * remembered until evt_fd_forget): EVT__FD_SOCKET, EVT__FD_FILE (a regular
 * file or block device), EVT__FD_OTHER (pipe, tty...), or -1 and errno. */
#define EVT__FD_OTHER 0
#define EVT__FD_SOCKET 1
#define EVT__FD_FILE 2
int evt__fd_nonblock(int fd);

#endif
