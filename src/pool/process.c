/* evt_process (multiprocessing.Process): one C function run with an
 * argument in a child forked by the fork server; join with a deadline, the
 * exit code or the signal that ended it, terminate and kill. */
#define _GNU_SOURCE
#include "forkserver.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct evt_process {
    evt__child_t c; /* the child; c.sock is closed once the argument is
                       sent */
};

evt_process_t *evt_process_start(evt_proc_fn fn, const void *arg,
                                 size_t arg_len)
{
    if (!fn || (!arg && arg_len) || arg_len > UINT32_MAX - 64) {
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
    evt__job_hdr_t h = {.len = (uint32_t)(sizeof h - 4 + 4 + arg_len),
                        .nitems = 1, .fn = (uint64_t)(uintptr_t)fn};
    uint32_t len = (uint32_t)arg_len;
    /* A child that dies before reading its argument tells why in its
     * status: nothing to report here. */
    if (evt_write(p->c.sock, &h, sizeof h, -1) == (ssize_t)sizeof h &&
        evt_write(p->c.sock, &len, 4, -1) == 4 && arg_len)
        evt_write(p->c.sock, arg, arg_len, -1);
    evt_close(p->c.sock);
    p->c.sock = -1;
    return p;
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
