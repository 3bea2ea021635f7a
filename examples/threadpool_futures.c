/* The seed's two ThreadPoolExecutor programs: 2 threads, 3 tasks that each
 * take a while (1 s there, D = 200 ms here); first as_completed with a
 * timeout of 1.5 D, which sees two tasks finish and then gives up on the
 * third ("TimeoutError: 1 (of 3) futures unfinished"), then done callbacks.
 * Lines come from several threads at once, so each is stamped with its
 * time in units of D (to the half) and the lines are printed sorted by
 * time: the output is the same on every run. */
#include <eventor.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 200 /* ms: the seed's one second */

/* What happened, when: the log both programs print. */
struct line {
    int half_ds; /* time since t0 in half D */
    int rank;    /* orders lines of the same moment: starts, main, ends */
    char text[64];
};
static struct line lines[16];
static int nlines;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t t0;

static void say(int rank, const char *fmt, ...)
{
    pthread_mutex_lock(&log_lock);
    struct line *l = &lines[nlines++];
    l->half_ds = (int)((2 * (evt_now() - t0) + D / 2) / D);
    l->rank = rank;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text, sizeof l->text, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&log_lock);
}

static int by_time(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    if (x->half_ds != y->half_ds)
        return x->half_ds - y->half_ds;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    return strcmp(x->text, y->text);
}

static void print_log(const char *title)
{
    qsort(lines, (size_t)nlines, sizeof lines[0], by_time);
    printf("%s\n", title);
    for (int i = 0; i < nlines; i++)
        printf("  [%d.%d] %s\n", lines[i].half_ds / 2,
               lines[i].half_ds % 2 * 5, lines[i].text);
    nlines = 0;
}

/* my_func(param1, timeout): runs in a coroutine of a pool thread. */
static int my_func(void *arg, void **result)
{
    say(0, "start: %d", (int)(intptr_t)arg);
    evt_sleep(evt_now() + D);
    *result = arg;
    return 0;
}

static void report_end(size_t index, evt_future_t *f, void *user)
{
    (void)index, (void)user;
    say(2, "end: %d", (int)(intptr_t)evt_future_result(f));
}

static void futures_test(void)
{
    t0 = evt_now();
    evt_threadpool_t *pool = evt_threadpool_new(2, NULL);
    evt_future_t *fs[3];
    for (intptr_t i = 0; i < 3; i++)
        fs[i] = evt_threadpool_submit(pool, my_func, (void *)i);
    say(1, "after submit");
    size_t unfinished;
    if (evt_as_completed(fs, 3, t0 + 3 * D / 2, report_end, NULL,
                         &unfinished) < 0)
        say(3, "TimeoutError: %zu (of 3) futures unfinished", unfinished);
    evt_threadpool_free(pool); /* the with block: waits for the third */
    for (int i = 0; i < 3; i++)
        evt_future_free(fs[i]);
    print_log("futures_test");
}

static void my_callback(evt_future_t *f, void *user)
{
    report_end(0, f, user);
}

static void futures_callback_test(void)
{
    t0 = evt_now();
    evt_threadpool_t *pool = evt_threadpool_new(2, NULL);
    for (intptr_t i = 0; i < 3; i++) {
        evt_future_t *f = evt_threadpool_submit(pool, my_func, (void *)i);
        evt_future_on_done(f, my_callback, NULL);
        evt_future_free(f); /* the callback is all we want of it */
    }
    say(1, "after submit");
    evt_threadpool_free(pool);
    print_log("futures_callback_test");
}

int main(void)
{
    futures_test();
    futures_callback_test();
    return 0;
}
