/* libcurl's multi interface on the calling thread's reactor: one multi
 * handle per thread, a driver coroutine that waits on an epoll set of
 * libcurl's sockets and on libcurl's one timer, and evt_curl_perform, which
 * parks only its own coroutine until its transfer is done. */
#define _GNU_SOURCE
#include "../core/core.h"
#include "dns.h"
#include "errno_map.h"
#include "h2c.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* libcurl's write and read callbacks run on the driver: room for TLS too. */
#define DRIVER_STACK (256 * 1024)
#define DEFAULT_MAX_TRANSFERS 256
#define MAX_EVENTS 64
/* While transfers outnumber the open connections (a ramp-up), at most this
 * many are admitted per driver pass: libcurl connects every transfer added
 * before its next timeout action, and sends no request until all those
 * connects are made (200 took 12 ms here before the first request left). In
 * slices, the first requests leave after the first slice's connects. */
#define RAMP_SLICE 8

enum { QUEUED, ACTIVE, DONE };

/* One evt_curl_perform; lives on its caller's stack. */
typedef struct xfer {
    CURL *easy;
    evt_co_t *co;             /* the caller, parked until DONE */
    struct xfer *prev, *next; /* in the queue or in the active list */
    int state;
    CURLcode code;            /* libcurl's result, once DONE */
    int err;                  /* errno for a multi failure, else 0 */
} xfer_t;

typedef struct xlist {
    xfer_t *head, *tail;
    size_t n;
} xlist_t;

/* The HTTP state of a thread. */
typedef struct http_ctx {
    CURLM *multi;
    int epfd;         /* libcurl's sockets; the driver waits on it */
    int64_t timer;    /* when libcurl wants its timeout action, -1 never */
    evt_co_t *driver; /* NULL while no transfer is inside the multi */
    int waiting;      /* the driver is parked in evt_wait_fd ... */
    int64_t wait_dl;  /* ... with this deadline */
    int orphan;       /* released while the driver lived: it frees this */
    struct sock *socks; /* by fd: what the epoll set holds */
    size_t nsocks;
    size_t limit;     /* at most this many transfers inside the multi */
    size_t nopen;     /* sockets on_open made and on_close has not closed */
    size_t fresh;     /* admitted this pass with no open socket to spare */
    int sliced;       /* admission stopped at RAMP_SLICE: the ready sockets
                         go first, before the timeout action starts more */
    xlist_t queue;    /* admitted in this order when room comes */
    xlist_t active;   /* inside the multi */
} http_ctx_t;

static _Thread_local http_ctx_t *tls_ctx;
static _Thread_local int tls_code; /* evt_curl_result */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int global_err;

static void list_push(xlist_t *l, xfer_t *x)
{
    x->next = NULL;
    x->prev = l->tail;
    if (l->tail)
        l->tail->next = x;
    else
        l->head = x;
    l->tail = x;
    l->n++;
}

static void list_unlink(xlist_t *l, xfer_t *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        l->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        l->tail = x->prev;
    l->n--;
}

/* --- libcurl's callbacks: they only record ------------------------------- */

/* What the epoll set holds for an fd. A socket eventor opened stays in
 * the set when libcurl no longer watches it (a connection back in the
 * cache): the next transfer on it then costs no epoll_ctl, and an event
 * that comes while it idles takes it out. Other fds (the resolver's) are
 * added and removed as libcurl says, since they close behind our back. */
typedef struct sock {
    uint32_t interest;  /* events registered, when reg */
    unsigned char reg;  /* in the epoll set */
    unsigned char ours; /* opened by on_open, closed by on_close */
    unsigned char idle; /* libcurl said REMOVE; still registered */
} sock_t;

static sock_t *sock_of(http_ctx_t *c, int fd)
{
    if (fd < 0)
        return NULL;
    if ((size_t)fd >= c->nsocks) {
        size_t n = c->nsocks ? c->nsocks : 64;
        while (n <= (size_t)fd)
            n *= 2;
        sock_t *p = realloc(c->socks, n * sizeof *p);
        if (!p)
            return NULL; /* then every change is an epoll_ctl */
        memset(p + c->nsocks, 0, (n - c->nsocks) * sizeof *p);
        c->socks = p;
        c->nsocks = n;
    }
    return &c->socks[fd];
}

static void sock_del(http_ctx_t *c, int fd, sock_t *k)
{
    epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
    if (k)
        k->reg = k->idle = 0, k->interest = 0;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
    (void)e, (void)socketp;
    http_ctx_t *c = userp;
    sock_t *k = sock_of(c, fd);
    if (what == CURL_POLL_REMOVE) {
        if (k && k->ours && k->reg)
            k->idle = 1;
        else
            sock_del(c, fd, k);
        return 0;
    }
    uint32_t want = (what & CURL_POLL_IN ? EPOLLIN : 0) |
                    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (k && k->ours && k->reg && k->interest == want) {
        k->idle = 0;
        return 0;
    }
    struct epoll_event ev = {.events = want, .data.fd = fd};
    int op = k && k->ours && k->reg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(c->epfd, op, fd, &ev) < 0 && (errno == ENOENT || errno == EEXIST))
        epoll_ctl(c->epfd, errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    if (k)
        k->reg = 1, k->idle = 0, k->interest = want;
    return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
    (void)m;
    http_ctx_t *c = userp;
    c->timer = ms < 0 ? -1 : evt_now() + ms;
    /* Outside the driver (a transfer added, or a coroutine's
     * curl_easy_pause(CURLPAUSE_CONT)), the parked driver must learn of an
     * earlier timeout. */
    if (c->waiting && c->timer >= 0 && (c->wait_dl < 0 || c->timer < c->wait_dl))
        evt__unpark(c->driver, EINTR);
    return 0;
}

/* eventor makes and closes every socket of libcurl, so no fd number is
 * reused behind the reactor's back (libcurl's REMOVE can come late or not
 * at all). The thread's context, not a pointer kept in the connection, so
 * a connection outliving its multi handle is still closed safely. */
static curl_socket_t on_open(void *clientp, curlsocktype purpose,
                             struct curl_sockaddr *a)
{
    (void)purpose;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    sock_t *k = fd >= 0 && tls_ctx ? sock_of(tls_ctx, fd) : NULL;
    if (k)
        *k = (sock_t){.ours = 1};
    if (fd >= 0 && tls_ctx)
        tls_ctx->nopen++;
    evt__h2c_opened(fd, (int)(intptr_t)clientp - 1); /* the h2c origin */
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int on_close(void *clientp, curl_socket_t fd)
{
    (void)clientp;
    sock_t *k = tls_ctx ? sock_of(tls_ctx, fd) : NULL;
    if (k && k->reg)
        sock_del(tls_ctx, fd, k);
    if (k)
        k->ours = 0;
    if (tls_ctx && tls_ctx->nopen)
        tls_ctx->nopen--;
    evt__h2c_closed(fd);
    evt_fd_forget(fd);
    return close(fd);
}

/* --- the thread's context ------------------------------------------------ */

static void ctx_release(http_ctx_t *c)
{
    curl_multi_cleanup(c->multi); /* closes cached connections: on_close */
    /* evt_close, not close: the reactor must forget epfd, whose number the
     * next context's epoll set may get; a driver parked on it wakes with
     * EBADF and frees c. */
    evt_close(c->epfd);
    free(c->socks);
    c->socks = NULL;
    c->nsocks = 0;
    evt__h2c_reset();
    evt__dns_forget(1);
    if (c->driver)
        c->orphan = 1;
    else
        free(c);
}

/* Thread exit. A context with transfers still parked is left alone. */
static void ctx_at_exit(void *p)
{
    http_ctx_t *c = p;
    if (c == tls_ctx && !c->active.n && !c->queue.n) {
        ctx_release(c);
        tls_ctx = NULL;
    }
}

/* A forked child must not drive the parent's connections or epoll set:
 * forget them (the parent's handle is leaked, not cleaned up, so that no
 * shutdown reaches the parent's peers). */
static void ctx_at_fork(void)
{
    if (tls_ctx) {
        close(tls_ctx->epfd);
        tls_ctx = NULL;
    }
    evt__h2c_reset();
    evt__dns_forget(0);
}

static void init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        global_err = ENOMEM;
    else if ((global_err = pthread_key_create(&key, ctx_at_exit)) == 0)
        global_err = pthread_atfork(NULL, NULL, ctx_at_fork);
}

static http_ctx_t *ctx_get(void)
{
    if (evt__likely(tls_ctx != NULL))
        return tls_ctx;
    pthread_once(&once, init_once);
    if (global_err) {
        errno = global_err;
        return NULL;
    }
    http_ctx_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    c->multi = c->epfd >= 0 ? curl_multi_init() : NULL;
    if (!c->multi) {
        int err = c->epfd < 0 ? errno : ENOMEM;
        if (c->epfd >= 0)
            close(c->epfd);
        free(c);
        errno = err;
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    c->timer = -1;
    c->limit = DEFAULT_MAX_TRANSFERS;
    tls_ctx = c;
    pthread_setspecific(key, c);
    return c;
}

/* --- the driver: every libcurl action of the thread happens here -------- */

static void finish(http_ctx_t *c, xfer_t *x, CURLcode code, int err)
{
    if (x->state == ACTIVE)
        list_unlink(&c->active, x);
    else if (x->state == QUEUED)
        list_unlink(&c->queue, x);
    x->state = DONE;
    x->code = code;
    x->err = err;
    evt__unpark(x->co, 0);
}

/* The transfer of ours inside libcurl that runs easy, or NULL. */
static xfer_t *active_of(http_ctx_t *c, CURL *easy)
{
    xfer_t *x = c->active.head;
    while (x && x->easy != easy)
        x = x->next;
    return x;
}

/* Add easy to the multi. A handle there already that no transfer of ours
 * uses is one a CONNECT_ONLY transfer left (see harvest): its caller is
 * done with that connection now, as curl_easy_perform would be. */
static CURLMcode add_handle(http_ctx_t *c, CURL *easy)
{
    CURLMcode mc = curl_multi_add_handle(c->multi, easy);
    if (mc == CURLM_ADDED_ALREADY && !active_of(c, easy) &&
        curl_multi_remove_handle(c->multi, easy) == CURLM_OK)
        mc = curl_multi_add_handle(c->multi, easy);
    return mc;
}

/* Move queued transfers into the multi while there is room, at most
 * RAMP_SLICE per driver pass of those no open socket may serve. */
static void admit(http_ctx_t *c)
{
    while (c->queue.head && c->active.n < c->limit) {
        int spare = c->active.n < c->nopen; /* an open socket may serve it */
        if (!spare && c->active.n && c->fresh >= RAMP_SLICE) {
            c->sliced = 1;
            break;
        }
        c->fresh += !spare;
        xfer_t *x = c->queue.head;
        list_unlink(&c->queue, x);
        CURLMcode mc = add_handle(c, x->easy);
        if (mc != CURLM_OK) {
            x->state = DONE; /* already off the queue */
            finish(c, x, CURLE_FAILED_INIT, evt__curlm_errno(mc));
            continue;
        }
        x->state = ACTIVE;
        list_push(&c->active, x);
    }
}

/* A CONNECT_ONLY transfer (CONNECT_ONLY=1) ends connected without the
 * PERFORMING state that stamps the pre-transfer time. Its connection is
 * the caller's (CURLINFO_ACTIVESOCKET, curl_easy_send, curl_easy_recv)
 * only while the handle stays in the multi: libcurl 7.88 closes it when
 * the handle is removed. (libcurl stamps every phase that happened with
 * 1 µs at least, so 0 means none.) */
static int connect_only(CURL *easy, CURLcode code)
{
    curl_off_t pre = -1;
    return code == CURLE_OK &&
           curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pre) == CURLE_OK &&
           pre == 0;
}

/* Hand libcurl's finished transfers back to their callers; how many. A
 * CONNECT_ONLY one's handle stays in the multi until its next transfer
 * (add_handle) or curl_easy_cleanup, which takes it out itself. */
static int harvest(http_ctx_t *c)
{
    CURLMsg *m;
    int left, n = 0;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode code = m->data.result; /* m dies with the removal */
        if (!connect_only(easy, code))
            curl_multi_remove_handle(c->multi, easy);
        xfer_t *x = active_of(c, easy);
        if (x) {
            finish(c, x, code, 0);
            n++;
        }
    }
    admit(c);
    return n;
}

/* libcurl's timeout action, when it is due. */
static void timeouts(http_ctx_t *c)
{
    int running;
    if (c->timer >= 0 && c->timer <= evt_now()) {
        c->timer = -1;
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

/* Each ready socket's events to libcurl. After one that finished a
 * transfer, its caller runs at once and starts its next one (libcurl sends
 * it in the timeout action that follows) before the next socket is read:
 * a burst of answers is turned around one by one, not after the whole
 * burst is read, which would add the burst's length to every caller's
 * turnaround (a latency-bound client's whole cost). An event kept for
 * later can be stale then; libcurl ignores those. */
static void socket_events(http_ctx_t *c)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(c->epfd, evs, MAX_EVENTS, 0), running;
    for (int i = 0; i < n && !c->orphan; i++) {
        uint32_t e = evs[i].events;
        sock_t *k = sock_of(c, evs[i].data.fd);
        if (k && k->idle) { /* not libcurl's concern now */
            sock_del(c, evs[i].data.fd, k);
            continue;
        }
        int mask = (e & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
                   (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (e & EPOLLERR ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(c->multi, evs[i].data.fd, mask, &running);
        if (i + 1 < n && harvest(c)) {
            evt_yield();
            if (!c->orphan)
                timeouts(c);
        }
    }
}

static int kick(http_ctx_t *c);
static void *driver(void *arg);

/* A libcurl callback cancelled the driver (evt_cancel(evt_self())): its
 * every wait would fail at once from now on, so a fresh driver takes over;
 * without one, the transfers fail rather than spin the thread. */
static void replace_driver(http_ctx_t *c)
{
    c->driver = NULL;
    if (kick(c) == 0)
        return;
    while (c->active.head) {
        xfer_t *x = c->active.head;
        curl_multi_remove_handle(c->multi, x->easy);
        finish(c, x, CURLE_OUT_OF_MEMORY, ENOMEM);
    }
}

static void *driver(void *arg)
{
    http_ctx_t *c = arg;
    while (!c->orphan && c->active.n) {
        if (evt_cancelled()) {
            replace_driver(c);
            return NULL;
        }
        int64_t dl = c->timer;
        int r = c->sliced; /* then no wait: the next slice is due now */
        c->sliced = 0;
        if (!r && (dl < 0 || dl > evt_now())) {
            c->waiting = 1;
            c->wait_dl = dl;
            r = evt_wait_fd(c->epfd, EVT_IN, dl);
            c->waiting = 0;
            if (c->orphan)
                break;
        }
        if (r > 0)
            socket_events(c);
        if (c->orphan)
            break;
        timeouts(c);
        c->fresh = 0;
        harvest(c);
        /* A timeout due at once again: let the others run first. */
        if (c->active.n && c->timer >= 0 && c->timer <= evt_now())
            evt_yield();
    }
    if (c->orphan)
        free(c);
    else
        c->driver = NULL, c->fresh = 0;
    return NULL;
}

/* After a libcurl call made outside the driver: start the driver, or wake
 * it when the thread has no transfer left (on_timer wakes it for an
 * earlier timeout). */
static int kick(http_ctx_t *c)
{
    if (!c->driver) {
        if (!c->active.n)
            return 0;
        evt_co_attr_t attr = {.stack_size = DRIVER_STACK};
        c->driver = evt_spawn_attr(driver, c, &attr);
        if (!c->driver)
            return -1;
        evt_detach(c->driver);
        return 0;
    }
    if (c->waiting && !c->active.n) /* an earlier timeout: on_timer */
        evt__unpark(c->driver, EINTR);
    return 0;
}

/* --- the public calls ---------------------------------------------------- */

/* Take x out of eventor and libcurl before its caller returns early. */
static void withdraw(http_ctx_t *c, xfer_t *x)
{
    if (x->state == QUEUED) {
        list_unlink(&c->queue, x);
    } else {
        curl_multi_remove_handle(c->multi, x->easy);
        list_unlink(&c->active, x);
        admit(c);
        kick(c);
    }
    x->state = DONE;
}

static int fail(int err, int code)
{
    tls_code = code;
    errno = err;
    return -1;
}

/* One transfer of easy through the queue: 0 once DONE (the outcome in
 * *x), the errno of the wait (withdrawn), or -1 and errno. */
static int run(http_ctx_t *c, xfer_t *x, void *easy, evt_co_t *co,
               int64_t deadline)
{
    *x = (xfer_t){.easy = easy, .co = co, .state = QUEUED};
    list_push(&c->queue, x);
    admit(c);
    if (x->state != DONE && kick(c) < 0) {
        int err = errno;
        withdraw(c, x);
        errno = err;
        return -1;
    }
    int rc = 0;
    while (x->state != DONE && rc == 0)
        rc = evt__wait(deadline);
    if (x->state == DONE)
        return 0;
    withdraw(c, x);
    return rc;
}

/* What stops a transfer before it starts: 0, or fail()'s -1. */
static int refuse(evt__sched_t *s, http_ctx_t *c, void *easy, int64_t deadline)
{
    if (!c)
        return fail(errno, CURLE_FAILED_INIT);
    if (!easy)
        return fail(EINVAL, CURLE_BAD_FUNCTION_ARGUMENT);
    if (s->current->cancelled)
        return fail(ECANCELED, CURLE_ABORTED_BY_CALLBACK);
    if (s->current == c->driver) /* from a libcurl callback: it would wait
                                    for itself */
        return fail(EDEADLK, CURLE_RECURSIVE_API_CALL);
    if (deadline == 0)
        return fail(ETIMEDOUT, CURLE_OPERATION_TIMEDOUT);
    return 0;
}

int evt_curl_perform(void *easy, int64_t deadline)
{
    evt__sched_t *s = evt__sched();
    http_ctx_t *c = s ? ctx_get() : NULL;
    unsigned dgen = 0;
    void *dent = NULL, *dlist = easy ? evt__dns_take(easy, &dgen, &dent) : NULL;
    if (refuse(s, c, easy, deadline) < 0) {
        int err = errno;
        if (dlist)
            evt__dns_done(easy, dlist, dent, dgen, 0);
        errno = err;
        return -1;
    }
    int pk = 0, origin = evt__h2c_begin(easy, &pk);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, (void *)(intptr_t)(origin + 1));
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
    xfer_t x;
    int rc;
    do
        rc = run(c, &x, easy, s->current, deadline);
    while (origin >= 0 && evt__h2c_end(easy, origin, &pk, rc ? 0 : x.code));
    int err = errno;
    if (dlist) /* after a run, libcurl's DNS cache holds the answer */
        evt__dns_done(easy, dlist, dent, dgen, rc == 0);
    errno = err;
    if (rc)
        return rc < 0 ? fail(errno, CURLE_OUT_OF_MEMORY)
                      : fail(rc, rc == ETIMEDOUT ? CURLE_OPERATION_TIMEDOUT
                                                 : CURLE_ABORTED_BY_CALLBACK);
    if (x.err)
        return fail(x.err, x.code);
    tls_code = x.code;
    int e2 = evt__curl_errno(easy, x.code);
    if (e2)
        return fail(e2, x.code);
    return 0;
}

void evt__curl_set_result(int code)
{
    tls_code = code;
}

int evt_curl_result(void)
{
    return tls_code;
}

int evt_curl_set_max_transfers(size_t n)
{
    http_ctx_t *c = n ? ctx_get() : NULL;
    if (!c) {
        if (!n)
            errno = EINVAL;
        return -1;
    }
    c->limit = n;
    admit(c);
    return kick(c);
}

int evt_curl_set_max_host_connections(size_t n)
{
    http_ctx_t *c = ctx_get();
    if (!c)
        return -1;
    if (curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n)
        != CURLM_OK) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int evt_curl_cleanup(void)
{
    http_ctx_t *c = tls_ctx;
    if (!c)
        return 0;
    if (c->active.n || c->queue.n) {
        errno = EBUSY;
        return -1;
    }
    ctx_release(c);
    tls_ctx = NULL;
    pthread_setspecific(key, NULL);
    return 0;
}
