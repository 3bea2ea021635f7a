/* The seed's Pool program: Pool(3), apply_async(Foo, i) for i in 0..9 with
 * callback Bar, then close and join. Foo returns i + 100 from a worker;
 * Bar runs in the parent. Workers finish in any order, so Bar records
 * each result and the lines are printed in submission order after join
 * (the seed prints pids, which differ from run to run). */
#include <eventor.h>
#include <stdio.h>
#include <string.h>

static ssize_t foo(const void *in, size_t len, void *out, size_t cap)
{
    (void)len, (void)cap;
    int i;
    memcpy(&i, in, sizeof i);
    evt_sleep(evt_now() + 20);
    i += 100;
    memcpy(out, &i, sizeof i);
    return sizeof i;
}

static int done[10], ndone;

static void bar(int err, void *out, size_t len, void *user)
{
    (void)user, (void)err, (void)len;
    memcpy(&done[ndone++], out, sizeof(int));
}

int main(void)
{
    evt_procpool_t *pool = evt_procpool_new(3, NULL);
    if (!pool) {
        perror("mp_pool_callback");
        return 1;
    }
    int res[10];
    evt_future_t *fs[10];
    for (int i = 0; i < 10; i++)
        fs[i] = evt_procpool_apply_async(pool, foo, &i, sizeof i, &res[i],
                                         sizeof res[i], bar, NULL, NULL);
    printf("end\n");
    evt_procpool_close(pool);
    evt_procpool_join(pool, -1);
    printf("callbacks: %d\n", ndone);
    for (int i = 0; i < 10; i++) {
        printf("-->exec done %d\n", res[i]);
        evt_future_free(fs[i]);
    }
    evt_procpool_free(pool);
    return 0;
}
