/* Internal interface of the cooperative IO layer: what its files share (the
 * entry check of every call, adopting fds the runtime creates) and what
 * runs on its thread pool: name lookups and regular-file IO. */
#ifndef EVT_IO_IO_H
#define EVT_IO_IO_H

#include "../loop/loop.h"
#include "../thread/thread.h"

#include <errno.h>
#include <netdb.h>

/* The entry step of every IO call: fd in non-blocking mode. A cancelled
 * caller is stopped where it would wait (evt__fd_wait), not here: what can
 * be done without waiting is done. The fd's kind (EVT__FD_SOCKET,
 * EVT__FD_FILE, EVT__FD_OTHER), or -1 and errno: ENOTSOCK when the call
 * takes sockets only (any_kind 0). */
static inline int evt__io_enter(int fd, int any_kind)
{
    int kind = evt__fd_nonblock(fd);
    if (kind >= 0 && !any_kind && kind != EVT__FD_SOCKET) {
        errno = ENOTSOCK;
        return -1;
    }
    return kind;
}

/* Take a non-blocking fd the runtime has just created (socket, accept) into
 * the reactor: whatever it knew of an earlier fd with the same number that
 * was closed without evt_fd_forget is dropped, so the new fd is never mistaken
 * for one that is already watched. 0, or -1 and errno. */
int evt__io_adopt(int fd);

/* socket(2) made non-blocking and close-on-exec, and adopted. */
int evt__socket(int family, int type, int protocol);

/* Name lookups and regular-file IO run on the thread layer's offload pool
 * (evt__io_pool, src/thread/thread.h). */

/* Read up to len bytes of a regular file or block device into buf, or
 * write all len bytes of buf (write 1), on the IO pool, parking only the
 * caller. A deadline or cancel that comes while the job is still queued
 * withdraws it (-1, ETIMEDOUT or ECANCELED, the file untouched); once
 * started, the job runs to its end and the caller waits for it whatever
 * comes, since a pool thread uses buf, and gets its outcome. Done at once
 * on the calling thread instead when waiting is pointless or not allowed:
 * deadline 0, a cancelled caller (IO that need not wait completes), or a
 * thread with no other coroutine to run. Returns as read(2), or len for a
 * complete write; -1 and errno. */
ssize_t evt__file_io(int fd, void *buf, size_t len, int write,
                     int64_t deadline);

/* Resolve host:port for TCP on the IO pool, so that only the caller parks;
 * numeric hosts resolve at once, without a thread. On success *res holds
 * the addresses (the caller frees them with freeaddrinfo) and 0 is
 * returned; else -1 and errno: EADDRNOTAVAIL (no such name), EAGAIN (the
 * name server failed for now, or no pool thread could start), ENOMEM,
 * EINVAL, ETIMEDOUT, ECANCELED. A lookup the caller gave up on finishes on
 * its pool thread, which then frees it. */
int evt__resolve(const char *host, int port, int64_t deadline,
                 struct addrinfo **res);

/* Lookups started and not yet freed: one given up on is freed by its pool
 * thread when it ends (tests wait for 0). */
size_t evt__lookups_live(void);

/* The resolver the pool threads call: getaddrinfo, unless a test put a
 * slow or failing stand-in here (set it while no lookup is in flight). */
typedef int (*evt__getaddrinfo_fn)(const char *host, const char *serv,
                                   const struct addrinfo *hints,
                                   struct addrinfo **res);
extern evt__getaddrinfo_fn evt__getaddrinfo;

/* errno for a getaddrinfo error (err is errno when rc is EAI_SYSTEM). */
int evt__gai_errno(int rc, int err);

#endif
