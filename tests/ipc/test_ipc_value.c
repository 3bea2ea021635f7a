/* Tests of shared values and arrays: atomic operations seen across
 * processes, array length and zeroing, bad arguments. */
#include "ipc_test.h"

#include <stdint.h>

Test(ipc_value, operations)
{
    evt_ipc_value_t *v = evt_ipc_value_new(5);
    cr_assert_eq(evt_ipc_value_get(v), 5);
    evt_ipc_value_set(v, 7);
    cr_assert_eq(evt_ipc_value_add(v, 3), 10);
    cr_assert_eq(evt_ipc_value_cas(v, 9, 1), 0);
    cr_assert_eq(evt_ipc_value_cas(v, 10, 1), 1);
    cr_assert_eq(evt_ipc_value_get(v), 1);
    evt_ipc_value_free(v);
    cr_assert_eq(evt_ipc_value_get(NULL), 0);
    evt_ipc_value_free(NULL);
}

#define ADDS 10000

static int add_many(void *arg)
{
    for (int i = 0; i < ADDS; i++)
        evt_ipc_value_add(arg, 1);
    return 0;
}

Test(ipc_value, adds_from_processes)
{
    evt_ipc_value_t *v = evt_ipc_value_new(0);
    pid_t a = child(add_many, v), b = child(add_many, v);
    add_many(v);
    expect_ok(a);
    expect_ok(b);
    cr_assert_eq(evt_ipc_value_get(v), 3 * ADDS);
    evt_ipc_value_free(v);
}

static int fill(void *arg)
{
    int *a = arg;
    for (size_t i = 0; i < evt_ipc_array_len(a); i++)
        a[i] = (int)i * 2;
    return 0;
}

Test(ipc_array, shared_zeroed_and_sized)
{
    int *a = evt_ipc_array_new(100, sizeof(int));
    cr_assert_not_null(a);
    cr_assert_eq((uintptr_t)a % 16, 0);
    cr_assert_eq(evt_ipc_array_len(a), 100);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(a[i], 0);
    expect_ok(child(fill, a));
    cr_assert_eq(a[99], 198);
    evt_ipc_array_free(a);
    cr_assert_null(evt_ipc_array_new(0, 4));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_ipc_array_new(4, 0));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_ipc_array_new(SIZE_MAX / 2, 4));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(evt_ipc_array_new((size_t)1 << 31, 256));
    cr_assert_eq(errno, ENOMEM); /* more than the arena */
    cr_assert_eq(evt_ipc_array_len(NULL), 0);
    evt_ipc_array_free(NULL);
}
