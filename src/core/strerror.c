/* evt_strerror: one message for every code eventor hands back, errno
 * values and its own (a worker process's death by a signal or its exit),
 * so that no caller prints "Unknown error 65545". */
#define _GNU_SOURCE
#include "eventor.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

const char *evt_strerror(int err)
{
    static _Thread_local char buf[96];
    if (EVT_IS_SIGNALED(err)) {
        int sig = EVT_ERR_CODE(err);
        const char *name = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;
        if (name)
            snprintf(buf, sizeof buf, "worker killed by signal %d (SIG%s)",
                     sig, name);
        else
            snprintf(buf, sizeof buf, "worker killed by signal %d", sig);
        return buf;
    }
    if (EVT_IS_EXITED(err)) {
        snprintf(buf, sizeof buf, "worker exited with code %d",
                 EVT_ERR_CODE(err));
        return buf;
    }
    /* (The GNU strerror_r: it returns the message, in buf or static.) */
    return strerror_r(err, buf, sizeof buf);
}
