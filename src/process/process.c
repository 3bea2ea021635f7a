/* evt_process (multiprocessing.Process): one C function run with an
 * argument in a child forked by the fork server; join with a deadline, the
 * exit code or the signal that ended it, terminate and kill. Pipe ends
 * given to the child travel as SCM_RIGHTS on its socket, attached to the
 * first bytes of its job. */
#define _GNU_SOURCE
#include "forkserver.h"
#include "../ipc/ipc.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

struct evt_process {
    evt__child_t c; /* the child; c.sock is closed once the argument is
                       sent */
};

/* Send h with the fds of the n conns attached; 0 or -1. The socket is
 * new, so the header always fits in it. */
static int send_header(int sock, const evt__job_hdr_t *h,
                       evt_ipc_conn_t *const *conns, size_t n)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * EVT_PROCESS_MAX_CONNS)];
    } u;
    struct iovec iov = {(void *)h, sizeof *h};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
        for (size_t i = 0; i < n; i++) {
            int fd = evt_ipc_conn_fd(conns[i]);
            memcpy(CMSG_DATA(cm) + i * sizeof fd, &fd, sizeof fd);
        }
    }
    ssize_t r = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    return r == (ssize_t)sizeof *h ? 0 : -1;
}

evt_process_t *evt_process_start_conns(evt_proc_fn fn, const void *arg,
                                       size_t arg_len,
                                       evt_ipc_conn_t *const *conns,
                                       size_t n)
{
    if (!fn || (!arg && arg_len) || arg_len > UINT32_MAX - 64 ||
        (!conns && n) || n > EVT_PROCESS_MAX_CONNS) {
        errno = EINVAL;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!conns[i]) {
            errno = EINVAL;
            return NULL;
        }
    evt_process_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (evt__child_spawn(&p->c, EVT__CHILD_PROCESS, -1, -1) < 0) {
        free(p);
        return NULL;
    }
    /* One item of arg_len bytes, sent as the pool sends apply's. */
    evt__job_hdr_t h = {.len = (uint32_t)(sizeof h - 4 + arg_len),
                        .nitems = 1, .fixed = 1,
                        .item_size = (uint32_t)arg_len,
                        .fn = (uint64_t)(uintptr_t)fn};
    /* A child that dies before reading its argument tells why in its
     * status: nothing to report here. */
    if (send_header(p->c.sock, &h, conns, n) == 0 && arg_len)
        evt_write(p->c.sock, arg, arg_len, -1);
    evt_close(p->c.sock);
    p->c.sock = -1;
    return p;
}

evt_process_t *evt_process_start(evt_proc_fn fn, const void *arg,
                                 size_t arg_len)
{
    return evt_process_start_conns(fn, arg, arg_len, NULL, 0);
}

/* In a child: the connection ends its parent passed. */
static evt_ipc_conn_t *passed[EVT_PROCESS_MAX_CONNS];
static size_t npassed;

void evt__process_adopt_conns(int sock)
{
    /* Peeked: the bytes stay for the job reader, and the fds come with
     * the first of them. */
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * EVT_PROCESS_MAX_CONNS)];
    } u;
    char byte;
    struct iovec iov = {&byte, 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct pollfd pf = {sock, POLLIN, 0};
    while (poll(&pf, 1, -1) < 0 && errno == EINTR)
        ;
    if (recvmsg(sock, &mh, MSG_PEEK | MSG_CMSG_CLOEXEC) <= 0)
        return;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
         cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof fd, sizeof fd);
            evt_ipc_conn_t *c = npassed < EVT_PROCESS_MAX_CONNS
                                    ? evt__ipc_conn_adopt(fd)
                                    : NULL;
            if (c)
                passed[npassed++] = c;
            else
                close(fd);
        }
    }
}

evt_ipc_conn_t *evt_process_conn(size_t i)
{
    if (i >= npassed) {
        errno = EINVAL;
        return NULL;
    }
    return passed[i];
}

int evt_process_join(evt_process_t *p, int64_t deadline)
{
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    return evt__child_wait(&p->c, deadline);
}

int evt_process_exitcode(const evt_process_t *p)
{
    if (!p || !p->c.exited)
        return EVT_EXITCODE_NONE;
    int st = p->c.status;
    return WIFSIGNALED(st) ? -WTERMSIG(st) : WEXITSTATUS(st);
}

pid_t evt_process_pid(const evt_process_t *p)
{
    return p ? p->c.pid : -1;
}

int evt_process_alive(const evt_process_t *p)
{
    if (!p || p->c.exited)
        return 0;
    struct pollfd pf = {p->c.pidfd, POLLIN, 0};
    return poll(&pf, 1, 0) == 0;
}

static int process_signal(evt_process_t *p, int sig)
{
    if (!p) {
        errno = EINVAL;
        return -1;
    }
    return evt__child_signal(&p->c, sig);
}

int evt_process_terminate(evt_process_t *p)
{
    return process_signal(p, SIGTERM);
}

int evt_process_kill(evt_process_t *p)
{
    return process_signal(p, SIGKILL);
}

void evt_process_free(evt_process_t *p)
{
    if (!p)
        return;
    evt__child_close(&p->c);
    free(p);
}
