/* The seed's threading template (WorkManager): a work queue of items and a
 * pool of worker threads that take items until the queue is empty, then
 * finish_all_threads. Here the queue is the thread pool's own, each item is
 * handle_func on its data, and the results come back in input order; the
 * seed's two-thread demo (f(100) on two threads) closes it. */
#include <eventor.h>
#include <stdint.h>
#include <stdio.h>

/* handle_func(para): "do something" with one item of initial_data_queue. */
static int handle_func(void *para, void **result)
{
    intptr_t x = (intptr_t)para;
    *result = (void *)(x * x);
    return 0;
}

/* f(x): the two-thread demo's body; sums range(x) instead of printing it,
 * so that two threads at once still give one output. */
static int f(void *arg, void **result)
{
    intptr_t sum = 0;
    for (intptr_t i = 0; i < (intptr_t)arg; i++)
        sum += i;
    *result = (void *)sum;
    return 0;
}

int main(void)
{
    enum { WORK = 12, THREADS = 5 }; /* work_queue_size, max_threads */
    void *data[WORK], *results[WORK];
    int errs[WORK];
    for (intptr_t i = 0; i < WORK; i++)
        data[i] = (void *)i;

    evt_threadpool_t *pool = evt_threadpool_new(THREADS, NULL);
    if (!pool || evt_threadpool_map(pool, handle_func, data, results, errs,
                                    WORK, -1) < 0) {
        perror("threading_template");
        return 1;
    }
    evt_threadpool_free(pool); /* finish_all_threads */
    for (int i = 0; i < WORK; i++)
        printf("item %d -> %ld\n", i, errs[i] ? -1L : (long)(intptr_t)results[i]);

    /* Thread(target=f, args=[100]).start(), twice. */
    pool = evt_threadpool_new(2, NULL);
    evt_future_t *t1 = evt_threadpool_submit(pool, f, (void *)100);
    evt_future_t *t2 = evt_threadpool_submit(pool, f, (void *)100);
    evt_future_t *both[2] = {t1, t2};
    if (!t1 || !t2 || evt_as_completed(both, 2, -1, NULL, NULL, NULL) < 0) {
        perror("threading_template");
        return 1;
    }
    printf("f(100) on two threads: %ld %ld\n",
           (long)(intptr_t)evt_future_result(t1),
           (long)(intptr_t)evt_future_result(t2));
    evt_future_free(t1);
    evt_future_free(t2);
    evt_threadpool_free(pool);
    return 0;
}
