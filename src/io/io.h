/* Internal interface of the cooperative IO layer: what its files share (the
 * entry check of every call, adopting fds the runtime creates) and the name
 * lookup that runs on another thread. */
#ifndef EVT_IO_IO_H
#define EVT_IO_IO_H

#include "../loop/loop.h"

#include <errno.h>
#include <netdb.h>

/* The entry step of every IO call: fd in non-blocking mode. A cancelled
 * caller is stopped where it would wait (evt__fd_wait), not here: what can
 * be done without waiting is done. 1 for a socket, 0 for another fd, or -1
 * and errno. */
static inline int evt__io_enter(int fd)
{
    return evt__fd_nonblock(fd);
}

/* Take a non-blocking fd the runtime has just created (socket, accept) into
 * the reactor: whatever it knew of an earlier fd with the same number that
 * was closed without evt_fd_forget is dropped, so the new fd is never mistaken
 * for one that is already watched. 0, or -1 and errno. */
int evt__io_adopt(int fd);

/* socket(2) made non-blocking and close-on-exec, and adopted. */
int evt__socket(int family, int type, int protocol);

/* Resolve host:port for TCP on a thread of its own, so that only the caller
 * parks; numeric hosts resolve at once, without a thread. On success *res
 * holds the addresses (the caller frees them with freeaddrinfo) and 0 is
 * returned; else -1 and errno: EADDRNOTAVAIL (no such name), EAGAIN (the
 * name server failed for now), ENOMEM, EINVAL, ETIMEDOUT, ECANCELED. A lookup
 * the caller gave up on finishes on its thread and is freed on the caller's
 * thread when its result comes back; so the caller's thread must not exit
 * before its lookups came back (its hold keeps the scheduler from seeing a
 * deadlock, not the thread from exiting). */
int evt__resolve(const char *host, int port, int64_t deadline,
                 struct addrinfo **res);

/* The resolver the lookup threads call: getaddrinfo, unless a test put a
 * slow or failing stand-in here (set it while no lookup is in flight). */
typedef int (*evt__getaddrinfo_fn)(const char *host, const char *serv,
                                   const struct addrinfo *hints,
                                   struct addrinfo **res);
extern evt__getaddrinfo_fn evt__getaddrinfo;

/* errno for a getaddrinfo error (err is errno when rc is EAI_SYSTEM). */
int evt__gai_errno(int rc, int err);

#endif
