/* The seed's process + thread template: Pool(3) gets five lists; each
 * worker squares the items of its list on a thread pool of 3 threads of
 * its own (the workers start from the fork server, so threads in a worker
 * are safe), and returns the squares. Results come back in input order. */
#include <eventor.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int square(void *arg, void **result)
{
    intptr_t d = (intptr_t)arg;
    *result = (void *)(d * d);
    return 0;
}

/* In: three ints. Out: their squares, computed by threads. */
static ssize_t thread_pools(const void *in, size_t len, void *out, size_t cap)
{
    (void)cap;
    int l[3], r[3];
    void *args[3], *res[3];
    memcpy(l, in, sizeof l);
    for (int i = 0; i < 3; i++)
        args[i] = (void *)(intptr_t)l[i];
    evt_threadpool_t *p = evt_threadpool_new(3, NULL);
    if (!p || evt_threadpool_map(p, square, args, res, NULL, 3, -1) < 0)
        return -1;
    evt_threadpool_free(p);
    for (int i = 0; i < 3; i++)
        r[i] = (int)(intptr_t)res[i];
    memcpy(out, r, sizeof r);
    return (ssize_t)len;
}

int main(void)
{
    int data[5][3] = {{1, 2, 3}, {3, 4, 5}, {5, 6, 7}, {7, 8, 9}, {9, 10, 11}};
    int results[5][3];
    evt_procpool_t *pool = evt_procpool_new(3, NULL);
    if (!pool || evt_procpool_map(pool, thread_pools, data, sizeof data[0], 5,
                                  results, sizeof results[0], NULL, NULL,
                                  1) < 0) {
        perror("mp_threads");
        return 1;
    }
    evt_procpool_free(pool);
    printf("[");
    for (int i = 0; i < 5; i++)
        printf("%s[%d, %d, %d]", i ? ", " : "", results[i][0], results[i][1],
               results[i][2]);
    printf("]\n");
    return 0;
}
