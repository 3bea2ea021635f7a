/* The blocking detector: a watchdog thread that looks at every scheduler's
 * switch counter and reports one that has not moved for max_ms while it is
 * not idle, once per stall, asking the stalled thread itself (a signal) for
 * its running coroutine and its stack. */
#define _GNU_SOURCE
#include "core.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ASK_SIGNAL SIGURG
/* How long the watchdog waits for the stalled thread's answer. */
#define ANSWER_MS 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static evt__sched_t *scheds;       /* registered schedulers */
static int64_t max_ms;             /* 0: off */
static evt_stall_fn report_fn;
static void *report_user;
static int running;                /* the watchdog thread exists */
static int reporting;              /* a report is being made, lock dropped */
static int env_read;
static int handler_ok;             /* ASK_SIGNAL is ours */
static pthread_t wd_thread;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The stalled thread's answer, written by its signal handler. */
static sem_t answer;
static evt__sched_t *_Atomic asked;
static struct {
    int busy;                      /* 0: nobody is stalled there after all */
    uint64_t co_id;
    void *fn;
    int nframes;
    void *frames[EVT__WD_FRAMES];
} ans;

/* Runs on the stalled thread: it alone may read its scheduler. */
static void on_ask(int sig)
{
    (void)sig;
    int saved = errno;
    evt__sched_t *s = evt__tls_sched, *expected = s;
    /* Claimed before written: a watchdog that gave up sees it taken. */
    if (s && atomic_compare_exchange_strong(&asked, &expected, NULL)) {
        evt_co_t *co = s->current;
        ans.busy = co != &s->main || s->live != 0;
        ans.co_id = co->id;
        ans.fn = co == &s->main ? NULL : (void *)co->fn;
        ans.nframes = backtrace(ans.frames, EVT__WD_FRAMES);
        sem_post(&answer);
    }
    errno = saved;
}

static void print_report(const evt_stall_t *st, void *user)
{
    (void)user;
    fprintf(stderr,
            "eventor: blocking detector: coroutine %llu (%s) of thread %d "
            "has run %lld ms without yielding\n",
            (unsigned long long)st->co_id,
            st->fn_name ? st->fn_name : st->fn ? "?" : "main", st->tid,
            (long long)st->stalled_ms);
    if (st->nframes > 0)
        backtrace_symbols_fd((void *const *)st->frames, st->nframes, 2);
}

/* Ask s's thread where it is (lock held: s stays registered meanwhile).
 * Returns 0 when it answered that nobody is stalled there. */
static int ask(evt__sched_t *s, evt_stall_t *st, void **frames)
{
    memset(st, 0, sizeof *st);
    st->tid = s->wd.tid;
    if (!handler_ok)
        return 1;
    while (sem_trywait(&answer) == 0) /* a late answer to an earlier ask */
        ;
    atomic_store(&asked, s);
    if (pthread_kill(s->wd.thread, ASK_SIGNAL) != 0)
        return 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ANSWER_MS * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    int rc;
    while ((rc = sem_timedwait(&answer, &ts)) < 0 && errno == EINTR)
        ;
    evt__sched_t *expected = s;
    if (rc < 0 && atomic_compare_exchange_strong(&asked, &expected, NULL))
        return 1; /* no answer (the signal is blocked there): report bare */
    if (rc < 0)
        sem_wait(&answer); /* the handler took it just now */
    if (!ans.busy)
        return 0;
    st->co_id = ans.co_id;
    st->fn = ans.fn;
    st->nframes = ans.nframes;
    memcpy(frames, ans.frames, sizeof ans.frames);
    st->frames = frames;
    return 1;
}

/* One look at every scheduler; reports at most one stall, with the lock
 * dropped around the user's callback. Returns 1 when it reported. */
static int look(void)
{
    int64_t now = evt_now();
    for (evt__sched_t *s = scheds; s; s = s->wd.next) {
        uint64_t t = atomic_load_explicit(&s->wd_ticks, memory_order_relaxed);
        int idle = atomic_load_explicit(&s->wd.idle, memory_order_relaxed);
        size_t live = atomic_load_explicit(&s->wd.live, memory_order_relaxed);
        if (t != s->wd.seen_ticks || idle || !live) {
            s->wd.seen_ticks = t;
            s->wd.seen_at = now;
            s->wd.reported = 0;
            continue;
        }
        if (s->wd.reported || now - s->wd.seen_at < max_ms)
            continue;
        s->wd.reported = 1;
        evt_stall_t st;
        void *frames[EVT__WD_FRAMES];
        if (!ask(s, &st, frames))
            continue;
        st.stalled_ms = evt_now() - s->wd.seen_at;
        evt_stall_fn fn = report_fn ? report_fn : print_report;
        void *user = report_user;
        reporting = 1;
        pthread_mutex_unlock(&lock);
        Dl_info di;
        if (st.fn && dladdr(st.fn, &di) && di.dli_sname)
            st.fn_name = di.dli_sname;
        fn(&st, user);
        pthread_mutex_lock(&lock);
        reporting = 0;
        pthread_cond_broadcast(&cond);
        return 1;
    }
    return 0;
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        if (!max_ms) {
            pthread_cond_wait(&cond, &lock);
            continue;
        }
        if (look())
            continue; /* the list may have changed while unlocked */
        /* Four looks per threshold: a stall is seen within 1.25 max_ms. */
        int64_t step = max_ms / 4 < 1 ? 1 : max_ms / 4 > 250 ? 250 : max_ms / 4;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += step * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&cond, &lock, &ts);
    }
    return NULL;
}

/* In a forked child: the watchdog thread and the parent's other threads
 * are gone; the next scheduler starts a new watchdog if it is on. */
static void after_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    pthread_cond_init(&cond, NULL);
    scheds = NULL;
    running = reporting = 0;
    env_read = max_ms != 0; /* a child reads the variable as its own */
    sem_init(&answer, 0, 0);
    atomic_store(&asked, NULL);
}

static void init_once(void)
{
    sem_init(&answer, 0, 0);
    pthread_atfork(NULL, NULL, after_fork_child);
}

/* Lock held. Start the thread, install the handler, and load what
 * backtrace needs now rather than in a signal handler. */
static int start_locked(void)
{
    if (!handler_ok) {
        struct sigaction old, sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_ask;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(ASK_SIGNAL, NULL, &old) == 0 &&
            old.sa_handler == SIG_DFL && !(old.sa_flags & SA_SIGINFO) &&
            sigaction(ASK_SIGNAL, &sa, NULL) == 0)
            handler_ok = 1;
        void *f[2];
        backtrace(f, 2);
    }
    if (running)
        return 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals are not its job */
    int rc = pthread_create(&wd_thread, NULL, watchdog_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -1;
    pthread_detach(wd_thread);
    running = 1;
    return 0;
}

int evt_blocking_detector(int64_t ms, evt_stall_fn report, void *user)
{
    if (ms < 0) {
        errno = EINVAL;
        return -1;
    }
    pthread_once(&once, init_once);
    pthread_mutex_lock(&lock);
    int rc = ms ? start_locked() : 0;
    if (rc == 0) {
        max_ms = ms;
        report_fn = report;
        report_user = user;
        pthread_cond_broadcast(&cond);
        /* Off means no report after we return, unless we are the report. */
        while (!ms && reporting && !pthread_equal(pthread_self(), wd_thread))
            pthread_cond_wait(&cond, &lock);
    }
    pthread_mutex_unlock(&lock);
    if (rc < 0)
        errno = EAGAIN;
    return rc;
}

void evt__wd_register(evt__sched_t *s)
{
    pthread_once(&once, init_once);
    s->wd.thread = pthread_self();
    s->wd.tid = gettid();
    pthread_mutex_lock(&lock);
    s->wd.prev = NULL;
    s->wd.next = scheds;
    if (scheds)
        scheds->wd.prev = s;
    scheds = s;
    if (!env_read) {
        env_read = 1;
        const char *e = getenv("EVENTOR_MAX_BLOCKING_MS");
        long v = e ? strtol(e, NULL, 10) : 0;
        if (v > 0 && !max_ms && start_locked() == 0)
            max_ms = v;
    } else if (max_ms && !running) {
        start_locked(); /* a forked child with the detector on */
    }
    pthread_mutex_unlock(&lock);
}

void evt__wd_unregister(evt__sched_t *s)
{
    pthread_mutex_lock(&lock);
    if (s->wd.prev)
        s->wd.prev->wd.next = s->wd.next;
    else if (scheds == s)
        scheds = s->wd.next;
    if (s->wd.next)
        s->wd.next->wd.prev = s->wd.prev;
    s->wd.next = s->wd.prev = NULL;
    pthread_mutex_unlock(&lock);
}
