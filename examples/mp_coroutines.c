/* The seed's process + coroutine template: Pool(3) gets five lists; each
 * worker runs a pool of 3 coroutines of its own that squares the items of
 * its list, and returns the squares. Results come back in input order. */
#include <eventor.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void *square(void *arg)
{
    intptr_t d = (intptr_t)arg;
    evt_sleep(evt_now() + 1); /* a coroutine that waits, as IO would */
    return (void *)(d * d);
}

/* In: three ints. Out: their squares, computed by coroutines. */
static ssize_t gevent_pools(const void *in, size_t len, void *out, size_t cap)
{
    (void)cap;
    int l[3], r[3];
    void *args[3], *res[3];
    memcpy(l, in, sizeof l);
    for (int i = 0; i < 3; i++)
        args[i] = (void *)(intptr_t)l[i];
    evt_copool_t *p = evt_copool_new(3, NULL);
    if (!p || evt_copool_map(p, square, args, res, NULL, 3) < 0)
        return -1;
    evt_copool_free(p);
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
    if (!pool || evt_procpool_map(pool, gevent_pools, data, sizeof data[0], 5,
                                  results, sizeof results[0], NULL, NULL,
                                  1) < 0) {
        perror("mp_coroutines");
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
