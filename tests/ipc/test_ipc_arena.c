/* Tests of the arena and the doorbells: evt__ipc_prefork, block reuse and
 * bad sizes, and waiters on several threads of one process (a doorbell
 * each) woken by another process. */
#include "ipc_test.h"
#include "ipc/ipc.h"

#include <pthread.h>

Test(ipc_arena, prefork_alloc_free)
{
    cr_assert_eq(evt__ipc_prefork(), 0);
    cr_assert_eq(evt__ipc_prefork(), 0);
    unsigned char *p = evt__ipc_alloc(100);
    cr_assert_not_null(p);
    cr_assert_geq(evt__ipc_size(p), 100);
    p[0] = 1;
    evt__ipc_free(p);
    unsigned char *q = evt__ipc_alloc(100);
    cr_assert_eq(q, p); /* same class: the block is reused, zeroed */
    cr_assert_eq(q[0], 0);
    evt__ipc_free(q);
    unsigned char *big = evt__ipc_alloc(1 << 20);
    big[0] = big[(1 << 20) - 1] = 1;
    evt__ipc_free(big);
    big = evt__ipc_alloc(1 << 20);
    cr_assert_eq(big[0] + big[(1 << 20) - 1], 0);
    evt__ipc_free(big);
    evt__ipc_free(NULL);
    cr_assert_null(evt__ipc_alloc(0));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt__ipc_alloc((size_t)1 << 50));
    cr_assert_eq(errno, ENOMEM);
}

static void *thread_get(void *arg)
{
    char c;
    return CO_ERR(evt_ipc_queue_get(arg, &c, 1, evt_now() + 10000));
}

static int put_three(void *arg)
{
    for (int i = 0; i < 3; i++)
        if (evt_ipc_queue_put(arg, "x", 1, evt_now() + 5000) < 0)
            return 1;
    return 0;
}

Test(ipc_arena, waiters_on_several_threads)
{
    evt_ipc_queue_t *q = evt_ipc_queue_new(4, 1);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, thread_get, q), 0);
    pid_t p = child(put_three, q);
    for (int i = 0; i < 3; i++) {
        void *r;
        cr_assert_eq(pthread_join(t[i], &r), 0);
        cr_assert_eq(r, NULL);
    }
    expect_ok(p);
    evt_ipc_queue_free(q);
}
