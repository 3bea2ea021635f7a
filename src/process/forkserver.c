/* The fork server: a process forked from the parent while it is still
 * single-threaded (at first use, or early through evt_forkserver_start),
 * which forks every pool worker and evt_process child on request, reaps
 * them and tells the parent each exit status. Children thus always come
 * from a clean, single-threaded process whatever threads the parent runs
 * by then, and hold no fd of the parent but their own socket. */
#define _GNU_SOURCE
#include "forkserver.h"
#include "../ipc/ipc.h"
#include "../thread/thread.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A request names the kind of child; its fds ride along: the child's end
 * of its socket, the server's end of the status channel, the page. */
typedef struct request {
    int kind;
} request_t;

/* The first message on the status channel; the pidfd rides along. */
typedef struct reply {
    pid_t pid; /* 0 when the fork failed */
    int err;   /* then why */
} reply_t;

static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
static int server_fd = -1; /* the parent's end of the request socket */

static int pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Close every fd from 3 up except keep (sorted ascending, -1s ignored). */
static void close_all_but(const int *keep, int n)
{
    unsigned lo = 3;
    for (int i = 0; i < n; i++) {
        if (keep[i] < (int)lo)
            continue;
        if ((unsigned)keep[i] > lo)
            syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0);
        lo = (unsigned)keep[i] + 1;
    }
    syscall(SYS_close_range, lo, ~0U, 0);
}

/* --- the server process ------------------------------------------------ */

typedef struct kid {
    pid_t pid; /* a live child */
    int ctl;   /* where its status goes */
} kid_t;

static kid_t *kids;
static size_t nkids, capkids;

static void send_fd(int fd, const void *msg, size_t len, int pass)
{
    struct iovec iov = {(void *)msg, len};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (pass >= 0) {
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &pass, sizeof(int));
    }
    /* The parent may have given up on this child: nothing to do then. */
    while (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* Fork one child for a request; fds are the child's socket, the status
 * channel and the page (or -1). */
static void serve(pid_t self, int srv, int sfd, int kind, int fds[3])
{
    if (nkids == capkids) {
        size_t cap = capkids ? capkids * 2 : 16;
        kid_t *k = realloc(kids, cap * sizeof *k);
        if (!k) {
            reply_t r = {0, ENOMEM};
            send_fd(fds[1], &r, sizeof r, -1);
            return;
        }
        kids = k;
        capkids = cap;
    }
    pid_t pid = fork();
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        /* The server is single-threaded, so its death (which follows the
         * parent's) reliably takes the child along. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != self)
            _exit(1);
        close(srv);
        close(sfd);
        close(fds[1]);
        int keep[2] = {fds[0], fds[2]};
        if (keep[1] >= 0 && keep[1] < keep[0]) {
            keep[0] = fds[2];
            keep[1] = fds[0];
        }
        close_all_but(keep, 2);
        evt__child_main(kind, fds[0], fds[2]);
    }
    reply_t r = {pid > 0 ? pid : 0, pid > 0 ? 0 : errno};
    int pidfd = pid > 0 ? pidfd_open(pid) : -1;
    send_fd(fds[1], &r, sizeof r, pidfd);
    if (pidfd >= 0)
        close(pidfd);
    if (pid > 0)
        kids[nkids++] = (kid_t){pid, fds[1]};
    else
        close(fds[1]);
}

/* Reap what has exited and tell each parent channel its status. */
static void reap(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        for (size_t i = 0; i < nkids; i++)
            if (kids[i].pid == pid) {
                send_fd(kids[i].ctl, &st, sizeof st, -1);
                close(kids[i].ctl);
                kids[i] = kids[--nkids];
                break;
            }
}

static _Noreturn void server_main(int srv)
{
    int keep[1] = {srv};
    close_all_but(keep, 1);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    /* Ctrl-C is for the parent, which then takes the server down by
     * exiting. */
    signal(SIGINT, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_SETMASK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC);
    if (sfd < 0)
        _exit(1);
    pid_t self = getpid();
    for (;;) {
        struct pollfd pf[2] = {{srv, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(pf, 2, -1) < 0)
            continue;
        if (pf[1].revents) {
            struct signalfd_siginfo si[8];
            (void)!read(sfd, si, sizeof si);
            reap();
        }
        if (!pf[0].revents)
            continue;
        request_t req;
        struct iovec iov = {&req, sizeof req};
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(3 * sizeof(int))];
        } u;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof u.buf};
        ssize_t n = recvmsg(srv, &mh, MSG_CMSG_CLOEXEC);
        if (n == 0)
            _exit(0); /* the parent is gone; our children follow us */
        if (n < 0)
            continue;
        int fds[3] = {-1, -1, -1};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        if (cm && cm->cmsg_type == SCM_RIGHTS) {
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds, CMSG_DATA(cm), (k > 3 ? 3 : k) * sizeof(int));
        }
        if (n == sizeof req && fds[0] >= 0 && fds[1] >= 0)
            serve(self, srv, sfd, req.kind, fds);
        else if (fds[1] >= 0)
            close(fds[1]);
        if (fds[0] >= 0)
            close(fds[0]);
        if (fds[2] >= 0)
            close(fds[2]);
    }
}

/* --- the parent's side ------------------------------------------------- */

/* Other threads of this process, which a fork could catch holding locks.
 * Under ThreadSanitizer the runtime's own thread is always there and is
 * made fork-safe by TSan itself. */
static int other_threads(void)
{
#if defined(EVT_TSAN)
    return 0;
#else
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 1;
#endif
}

int evt_forkserver_start(void)
{
    pthread_mutex_lock(&server_lock);
    int rc = 0;
    if (server_fd >= 0)
        goto out;
    rc = -1;
    if (other_threads()) {
        errno = EDEADLK;
        goto out;
    }
    /* The IPC arena is mapped before the fork, so that every child sees
     * the IPC objects made here, before or after, at the same address. */
    if (evt__ipc_prefork() < 0)
        goto out;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        goto out;
    /* Buffered output would otherwise be written again by every child. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        errno = e;
        goto out;
    }
    if (pid == 0) {
        /* Held by the fork: the server's children (a worker that starts
         * a server of its own) must find it free. */
        pthread_mutex_init(&server_lock, NULL);
        close(sv[0]);
        server_main(sv[1]);
    }
    close(sv[1]);
    server_fd = sv[0];
    rc = 0;
out:
    pthread_mutex_unlock(&server_lock);
    return rc;
}

/* The trap this closes: eventor's own threads (the offload pool's, after a
 * name lookup, say) would make a later first process or pool fail with
 * EDEADLK. So the server starts just before the first of them, while only
 * the user's threads can exist; when those already run it cannot, and the
 * first process or pool says EDEADLK as before. At that moment rather than
 * at load time: a program that never starts a thread of eventor's pays
 * for a server only when it starts a process. */
static void start_before_threads(void)
{
    int err = errno;
    (void)evt_forkserver_start();
    errno = err;
}

/* Before any constructor of the program (priority 101): one that looks a
 * name up must find the hook in place. */
__attribute__((constructor(101))) static void install_hook(void)
{
    evt__before_first_thread = start_before_threads;
}

/* Send the request, waiting for room without blocking the thread. */
static int send_request(int kind, const int *fds, int nfds, int64_t deadline)
{
    request_t req = {kind};
    struct iovec iov = {&req, sizeof req};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(3 * sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    for (;;) {
        if (sendmsg(server_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -1;
        if (evt_wait_fd(server_fd, EVT_OUT, deadline) < 0)
            return -1;
    }
}

/* Receive one message of len bytes on the status channel, and the fd that
 * may ride along (-1 if none). 0, or -1 and errno (EPIPE at end). */
static int recv_ctl(int ctl, void *msg, size_t len, int *fd,
                    int64_t deadline)
{
    for (;;) {
        struct iovec iov = {msg, len};
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof u.buf};
        ssize_t n = recvmsg(ctl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n > 0) {
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            int got = -1;
            if (cm && cm->cmsg_type == SCM_RIGHTS)
                memcpy(&got, CMSG_DATA(cm), sizeof got);
            if (fd)
                *fd = got;
            else if (got >= 0)
                close(got);
            if ((size_t)n == len)
                return 0;
            errno = EPROTO;
            return -1;
        }
        if (n == 0) {
            errno = EPIPE;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return -1;
        if (evt_wait_fd(ctl, EVT_IN, deadline) < 0)
            return -1;
    }
}

int evt__child_spawn(evt__child_t *c, int kind, int memfd, int64_t deadline)
{
    if (evt_forkserver_start() < 0)
        return -1;
    int d[2], k[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   d) < 0)
        return -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
                   0, k) < 0) {
        int e = errno;
        close(d[0]);
        close(d[1]);
        errno = e;
        return -1;
    }
    int fds[3] = {d[1], k[1], memfd};
    int rc = send_request(kind, fds, memfd >= 0 ? 3 : 2, deadline);
    int e = errno;
    close(d[1]);
    close(k[1]);
    reply_t r;
    int pidfd = -1;
    if (rc == 0) {
        rc = recv_ctl(k[0], &r, sizeof r, &pidfd, deadline);
        e = errno;
        if (rc == 0 && r.pid <= 0) {
            rc = -1;
            e = r.err;
        } else if (rc == 0 && pidfd < 0) {
            /* Reaped before the server could open its pidfd. */
            rc = -1;
            e = ECHILD;
        }
    }
    if (rc < 0) {
        if (pidfd >= 0)
            close(pidfd);
        close(d[0]);
        close(k[0]);
        errno = e == ECONNRESET ? EPIPE : e;
        return -1;
    }
    *c = (evt__child_t){.pid = r.pid, .sock = d[0], .ctl = k[0],
                        .pidfd = pidfd};
    return 0;
}

int evt__child_wait(evt__child_t *c, int64_t deadline)
{
    if (c->exited)
        return 0;
    int st;
    if (recv_ctl(c->ctl, &st, sizeof st, NULL, deadline) < 0) {
        if (errno != EPIPE && errno != ECONNRESET && errno != EPROTO)
            return -1;
        /* The server died: its children were killed with it. */
        st = SIGKILL;
    }
    c->status = st;
    c->exited = 1;
    return 0;
}

int evt__child_signal(evt__child_t *c, int sig)
{
    if (c->exited)
        return 0;
    if (syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) < 0 &&
        errno != ESRCH)
        return -1;
    return 0;
}

void evt__child_close(evt__child_t *c)
{
    if (c->sock >= 0)
        evt_close(c->sock);
    if (c->ctl >= 0)
        evt_close(c->ctl);
    if (c->pidfd >= 0)
        evt_close(c->pidfd);
    c->sock = c->ctl = c->pidfd = -1;
}

int evt__frame_buf_grow(evt__frame_buf_t *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}
