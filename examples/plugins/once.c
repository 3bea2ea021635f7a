/* An eventor plugin that counts its side effects, to see that a line runs
 * once: just before a line returns, its number (from 1) is appended to the
 * file $ONCE_LOG (O_APPEND, one write a line), and the line comes back as
 * it is; "segv" dies of SIGSEGV and "abort" of abort() first. With
 * $ONCE_SLEEP_MS=K each line first sleeps 0..K ms (evt_sleep, picked from
 * its number), so that lines finish out of order. E.g.
 *   ONCE_LOG=ran.txt eventor --plugin build/examples/once.so:once -P 2 lines.txt
 *   sort -n ran.txt | uniq -d     # the lines that ran twice */
#define _GNU_SOURCE
#include "crash_line.h"

#include <eventor.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Opened once in each process that runs lines (a worker process holds
 * none of eventor's fds): appends from every process never overlap. */
static int log_fd = -1;
static pid_t log_pid;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static int log_get(void)
{
    pid_t me = getpid();
    if (__atomic_load_n(&log_pid, __ATOMIC_ACQUIRE) == me)
        return log_fd;
    pthread_mutex_lock(&log_lock);
    if (log_pid != me) {
        const char *path = getenv("ONCE_LOG");
        log_fd = path && *path ? open(path, O_WRONLY | O_CREAT | O_APPEND
                                                | O_CLOEXEC, 0600)
                               : -1;
        __atomic_store_n(&log_pid, me, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&log_lock);
    return log_fd;
}

int once(const evt_batch_task_t *t, void *out, size_t cap, size_t *len,
         void *user)
{
    (void)user;
    crash_line(t->item);
    const char *ms = getenv("ONCE_SLEEP_MS");
    unsigned long sleep_ms = ms ? strtoul(ms, NULL, 10) : 0;
    if (sleep_ms)
        evt_sleep(evt_now()
                  + (int64_t)((t->index * 2654435761u) % (sleep_ms + 1)));
    int fd = log_get();
    if (fd >= 0) {
        char n[24];
        int k = snprintf(n, sizeof n, "%llu\n",
                         (unsigned long long)t->index + 1);
        if (write(fd, n, (size_t)k) != k)
            return -1;
    }
    *len = t->len < cap ? t->len : cap;
    memcpy(out, t->item, *len);
    return 0;
}
