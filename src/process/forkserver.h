/* Internal interface of the fork server (forkserver.c) and of the child
 * side (child.c): how the parent gets a fresh child, what travels between
 * them, and the page through which a pool worker says what it runs. */
#ifndef EVT_PROCESS_FORKSERVER_H
#define EVT_PROCESS_FORKSERVER_H

#include "eventor.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* What a child runs. */
enum evt__child_kind {
    EVT__CHILD_WORKER = 1, /* a pool worker: runs jobs until end of input */
    EVT__CHILD_PROCESS = 2 /* an evt_process: runs one job, exits with it */
};

/* The parent's handles on one child. */
typedef struct evt__child {
    pid_t pid;   /* its pid (in the parent's pid namespace) */
    int sock;    /* stream socket to the child: jobs out, results in */
    int ctl;     /* seqpacket from the fork server: the child's exit status
                    arrives here once the server has reaped it */
    int pidfd;   /* readable once the child has exited; for signals that
                    cannot hit a recycled pid */
    int status;  /* wait status once known (see exited) */
    int exited;  /* status is known */
} evt__child_t;

/* A ring of frames in shared memory: one producer, one consumer, which
 * sleeps on the child's socket (after saying so in waits) when the ring is
 * empty. */
typedef struct evt__ring {
    _Alignas(64) _Atomic uint64_t tail; /* bytes put in by the producer */
    _Alignas(64) _Atomic uint64_t head; /* bytes taken by the consumer */
    _Atomic uint32_t waits;             /* 1: the consumer sleeps until
                                           woken by an empty frame on the
                                           socket */
} evt__ring_t;

enum { EVT__JOBS, EVT__RESULTS }; /* a worker's rings */

/* Shared by a worker and the parent through a memfd of EVT__PAGE_BYTES:
 * which job runs since when, so that the parent can tell the job a dead
 * worker was running from those it never started, and kill a job past its
 * timeout; then the rings in which jobs go to the worker and results come
 * back (ring.c), their bytes from EVT__RING_OFF on. */
#define EVT__RING_OFF 4096u
#define EVT__RING_BYTES (256u << 10)
#define EVT__PAGE_BYTES (EVT__RING_OFF + 2 * EVT__RING_BYTES)

typedef struct evt__worker_page {
    _Atomic uint64_t started;   /* jobs this worker has started (the number
                                   of the one running, or of the last) */
    _Atomic int64_t started_ms; /* evt_now() when its current task began
                                   (coroutines 1 and a timeout only) */
    _Atomic uint32_t item_ns;   /* coroutines 1: recent nanoseconds per
                                   item, 0 until known */
    uint32_t coroutines;        /* set before the worker starts: jobs it
                                   runs at once */
    int64_t timeout_ms;         /* likewise: with coroutines > 1, the
                                   worker cancels a task running longer */
    evt__ring_t rings[2];       /* EVT__JOBS, EVT__RESULTS */
} evt__worker_page_t;

/* The producer's side of ring which of page: put the frame made of a
 * (alen bytes) and b (blen), if it fits. 1 when it did and the consumer
 * must be woken (an empty frame on the socket), 0 when it did, -1 when it
 * does not fit now (the frame goes on the socket instead). */
int evt__ring_put(evt__worker_page_t *page, int which, const void *a,
                  size_t alen, const void *b, size_t blen);

/* The consumer's side: the next frame, or NULL when the ring is empty
 * (*bad set when what is there is not a frame). The frame stays valid
 * until evt__ring_done. */
const unsigned char *evt__ring_peek(evt__worker_page_t *page, int which,
                                    int *bad);
/* Give the frame at f, seen by evt__ring_peek, back to the producer. */
void evt__ring_done(evt__worker_page_t *page, int which,
                    const unsigned char *f);
/* About to sleep on the socket: 1 when the ring is still empty and the
 * producer will now wake the consumer with its next frame, 0 when a frame
 * came meanwhile (then take it instead). */
int evt__ring_sleep(evt__worker_page_t *page, int which);

/* Frames on a child's socket. A job: header, then nitems items, each a
 * uint32_t length and its bytes, or (fixed) each item_size bytes. A result: header, then nitems results,
 * each an int32_t error (0 or an errno value), a uint32_t length and the
 * bytes. Lengths are of what follows the length field of the header.
 * Results come back as jobs end: not in the order the jobs were sent when
 * a worker runs several at once. */
typedef struct evt__job_hdr {
    uint32_t len;      /* bytes after this field */
    uint32_t nitems;   /* items in the job */
    uint32_t out_cap;  /* most bytes a task may return */
    uint32_t stamp;    /* 1: write started_ms before every task */
    uint32_t slot;     /* the parent's name for the job, sent back */
    uint32_t seq;      /* the job's number on this worker (low bits): jobs
                          run in this order, whether they come through the
                          ring or the socket */
    uint32_t fixed;    /* 1: the items are item_size bytes each, back to
                          back, without lengths */
    uint32_t item_size;
    uint64_t fn;       /* the evt_proc_fn, valid in the same binary */
} evt__job_hdr_t;

typedef struct evt__res_hdr {
    uint32_t len;    /* bytes after this field */
    uint32_t nitems; /* results that follow */
    uint32_t slot;   /* the job's, as sent */
    uint32_t spare;
    uint64_t seq;    /* the job's number on this worker, from 1 */
} evt__res_hdr_t;

typedef struct evt__res_item {
    int32_t err;  /* 0, or the task's errno value */
    uint32_t len; /* bytes of result that follow */
} evt__res_item_t;

/* A growable buffer of frame bytes, on both sides of a child's socket. */
typedef struct evt__frame_buf {
    unsigned char *p;
    size_t off; /* first byte not yet consumed (input) */
    size_t len; /* bytes held */
    size_t cap;
} evt__frame_buf_t;

/* Room for more bytes after len. Returns 0, or -1 (out of memory). */
int evt__frame_buf_grow(evt__frame_buf_t *b, size_t more);
static inline int evt__frame_buf_reserve(evt__frame_buf_t *b, size_t more)
{
    return b->len + more <= b->cap ? 0 : evt__frame_buf_grow(b, more);
}

/* Start a child of kind through the fork server (starting the server
 * first if needed). memfd, or -1, is the worker's page. Parks the caller
 * until the child exists. Returns 0 and fills c; or -1 and errno: EDEADLK
 * (the server is not started and this process already has other threads),
 * EPIPE (the server is gone), ETIMEDOUT, ECANCELED, EMFILE... */
int evt__child_spawn(evt__child_t *c, int kind, int memfd, int64_t deadline);

/* Wait for the child's exit status (stored in c->status, c->exited = 1).
 * Returns 0, or -1 and ETIMEDOUT, ECANCELED, EPIPE (the server died before
 * saying: the status is then set as a SIGKILL). */
int evt__child_wait(evt__child_t *c, int64_t deadline);

/* Send sig to the child unless it has exited. Returns 0 or -1 and errno. */
int evt__child_signal(evt__child_t *c, int sig);

/* Close the parent's fds of c (not waiting for anything). */
void evt__child_close(evt__child_t *c);

/* In an evt_process child, before its job is read: take the connection
 * ends the parent attached to it (evt_process_conn). */
void evt__process_adopt_conns(int sock);

/* The child side (child.c): run a child of kind on the socket fd with the
 * page fd (or -1). Never returns. */
_Noreturn void evt__child_main(int kind, int sock, int memfd);

#endif
