/* Internal interface of the hook layer (libeventor-hook): the libc
 * originals it wraps, its table of what it knows of each fd, and the one
 * wait step every hooked call takes when the OS says "would block". */
#ifndef EVT_HOOK_HOOK_H
#define EVT_HOOK_HOOK_H

#include "eventor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define evt__hlikely(x) __builtin_expect(!!(x), 1)
#define evt__hunlikely(x) __builtin_expect(!!(x), 0)

/* The libc functions the hooks stand in front of, found with
 * dlsym(RTLD_NEXT) on first use. */
struct evt__hook_real {
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
                        socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *,
                      socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *,
                 const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *,
                   const struct timespec *, const sigset_t *);
    int (*nanosleep)(const struct timespec *, struct timespec *);
    int (*clock_nanosleep)(clockid_t, int, const struct timespec *,
                           struct timespec *);
    int (*socket)(int, int, int);
    int (*socketpair)(int, int, int, int[2]);
    int (*pipe2)(int[2], int);
    int (*fcntl)(int, int, ...);
    int (*ioctl)(int, unsigned long, ...);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*close)(int);
    int (*dup)(int);
    int (*dup3)(int, int, int);
    int (*dup2)(int, int);
};
extern struct evt__hook_real evt__real;

/* Fill in evt__real once. 1 when it is filled in; 0 while that is under
 * way (dlsym may allocate, and the allocator may come back here), when
 * the caller takes the raw syscall instead. */
int evt__hook_resolve(void);

/* evt__real.fn(args...), or the raw system call `raw` while the originals
 * are being looked up. */
#define EVT__REAL(fn, raw, ...)                                              \
    (evt__hlikely(evt__real.fn != NULL) ||                                    \
             (evt__hook_resolve() && evt__real.fn != NULL)                  \
         ? evt__real.fn(__VA_ARGS__)                                         \
         : (raw))

/* poll(2) as a raw system call (there is no SYS_poll on every arch). */
static inline int evt__raw_poll(struct pollfd *fds, nfds_t n, int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    return (int)syscall(SYS_ppoll, fds, n, ms < 0 ? NULL : &ts, NULL,
                        (size_t)8);
}

/* What the table knows of an fd (bits of evt__hfd_t.flags). */
#define EVT__HFD_KNOWN 1u   /* looked at (fstat) since it was made */
#define EVT__HFD_WAITS 2u   /* a socket or pipe: calls on it may park */
#define EVT__HFD_SOCK 4u    /* a socket */
#define EVT__HFD_USER_NB 8u /* the user made it non-blocking */
#define EVT__HFD_OURS_NB 16u /* we made it non-blocking (hidden from F_GETFL) */

typedef struct evt__hfd {
    atomic_uint flags;  /* EVT__HFD_* */
    atomic_int rcv_ms;  /* SO_RCVTIMEO in ms, 0 none */
    atomic_int snd_ms;  /* SO_SNDTIMEO in ms, 0 none */
} evt__hfd_t;

/* The entry of fd, looked at on first use; NULL for fds the hooks leave
 * to libc: out of the table's range, 0-2 (their file is shared with the
 * shell), regular files, ttys and other devices, closed fds. */
evt__hfd_t *evt__hfd_get(int fd);
/* The entry of fd without looking at it (NULL out of range). */
evt__hfd_t *evt__hfd_slot(int fd);
/* fd was just made: what it is and whether the user asked for O_NONBLOCK
 * (flags as evt__hfd_t, WAITS|SOCK or WAITS, plus USER_NB). */
void evt__hfd_made(int fd, unsigned flags);
/* newfd now shares oldfd's file (dup): the same entry. */
void evt__hfd_copy(int oldfd, int newfd);
/* fd is closed: forget it. */
void evt__hfd_drop(int fd);

/* Set before main when the program has a static copy of the runtime:
 * every call is then libc's. */
extern int evt__hook_disabled;

/* 1 when a call of this thread parks its coroutine instead of blocking:
 * the thread has a scheduler and hooks are on (evt_hook_enable). */
int evt__hook_on(void);

/* Block-or-park preparation for a call on h: 1 when the call must loop
 * on EAGAIN through evt__hook_wait (the fd is made non-blocking here when
 * we are on a coroutine), 0 when libc's call alone is right. */
int evt__hook_loops(int fd, evt__hfd_t *h, int on);

/* Wait for fd to be ready for events (EVT_IN / EVT_OUT) until deadline:
 * on a coroutine parked on the reactor, else in libc's poll. 0, or -1 and
 * errno (ETIMEDOUT, ECANCELED, EBADF when the fd was closed meanwhile). */
int evt__hook_wait(int fd, int events, int64_t deadline, int on);

/* The deadline (absolute ms on evt_now's clock) that comes no earlier
 * than ns nanoseconds from now: evt_now truncates, so the end rounds up. */
int64_t evt__hook_after_ns(int64_t ns);

/* The deadline of an SO_*TIMEO of ms (0 none: -1). */
static inline int64_t evt__hook_deadline(int ms)
{
    return ms > 0 ? evt__hook_after_ns((int64_t)ms * 1000000) : -1;
}

#endif
