/* The seed's gevent pool program: a pool of 8 coroutines maps d + 1 over
 * range(40), each task printing its result, then the results in order. */
#include <eventor.h>
#include <stdint.h>
#include <stdio.h>

static void *func(void *arg)
{
    intptr_t res = (intptr_t)arg + 1;
    printf("%ld\n", (long)res);
    return (void *)res;
}

int main(void)
{
    enum { N = 40 };
    void *args[N], *results[N];
    int errs[N];
    for (intptr_t d = 0; d < N; d++)
        args[d] = (void *)d;

    evt_copool_t *pool = evt_copool_new(8, NULL);
    if (!pool || evt_copool_map(pool, func, args, results, errs, N) < 0) {
        perror("gevent_pool");
        return 1;
    }
    evt_copool_free(pool);

    printf("[");
    for (int i = 0; i < N; i++)
        printf(i ? ", %ld" : "%ld", errs[i] ? -1L : (long)(intptr_t)results[i]);
    printf("]\n");
    return 0;
}
