/* The seed's process-pool template: Pool(5) computes d + 1 for d in
 * range(40) and collects the results (the seed appends them to a Manager
 * list in completion order; map gives them in input order). */
#include <eventor.h>
#include <stdio.h>
#include <string.h>

static ssize_t func(const void *in, size_t len, void *out, size_t cap)
{
    (void)cap;
    int d;
    memcpy(&d, in, sizeof d);
    d += 1;
    memcpy(out, &d, sizeof d);
    return (ssize_t)len;
}

int main(void)
{
    enum { N = 40 };
    int data[N], results[N];
    for (int d = 0; d < N; d++)
        data[d] = d;
    printf("range(0, %d)\n", N);
    evt_procpool_t *pool = evt_procpool_new(5, NULL);
    if (!pool || evt_procpool_map(pool, func, data, sizeof(int), N, results,
                                  sizeof(int), NULL, NULL, 0) < 0) {
        perror("mp_pool_map");
        return 1;
    }
    evt_procpool_close(pool);
    evt_procpool_join(pool, -1);
    evt_procpool_free(pool);
    printf("[");
    for (int i = 0; i < N; i++)
        printf(i ? ", %d" : "%d", results[i]);
    printf("]\n");
    return 0;
}
