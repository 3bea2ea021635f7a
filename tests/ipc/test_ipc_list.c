/* Tests of the shared list: append, get with small buffers, set, pop from
 * the middle, iteration, growth, appends from other processes, bad
 * arguments and indexes. */
#include "ipc_test.h"

#include <string.h>

Test(ipc_list, append_get_set_pop)
{
    evt_ipc_list_t *l = evt_ipc_list_new();
    char buf[8];
    cr_assert_eq(evt_ipc_list_append(l, "zero", 4), 0);
    cr_assert_eq(evt_ipc_list_append(l, "", 0), 0);
    cr_assert_eq(evt_ipc_list_append(l, "two", 3), 0);
    cr_assert_eq(evt_ipc_list_len(l), 3);
    cr_assert_eq(evt_ipc_list_get(l, 0, buf, 2), 4);
    cr_assert_eq(memcmp(buf, "ze", 2), 0);
    cr_assert_eq(evt_ipc_list_get(l, 1, NULL, 0), 0);
    cr_assert_eq(evt_ipc_list_set(l, 1, "one", 3), 0);
    cr_assert_eq(evt_ipc_list_pop(l, 1, buf, sizeof buf), 3);
    cr_assert_eq(memcmp(buf, "one", 3), 0);
    cr_assert_eq(evt_ipc_list_len(l), 2);
    cr_assert_eq(evt_ipc_list_get(l, 1, buf, sizeof buf), 3);
    cr_assert_eq(memcmp(buf, "two", 3), 0);
    cr_assert_eq(evt_ipc_list_get(l, 2, buf, sizeof buf), -1);
    cr_assert_eq(errno, ERANGE);
    cr_assert_eq(evt_ipc_list_set(l, 2, "x", 1), -1);
    cr_assert_eq(errno, ERANGE);
    cr_assert_eq(evt_ipc_list_pop(l, 5, buf, sizeof buf), -1);
    cr_assert_eq(errno, ERANGE);
    evt_ipc_list_free(l);
}

static int sum_items(size_t i, const void *val, size_t len, void *user)
{
    int v;
    if (len != sizeof v)
        return -2;
    memcpy(&v, val, sizeof v);
    *(long *)user += v * (long)(i == (size_t)v);
    return 0;
}

Test(ipc_list, grows_and_iterates)
{
    evt_ipc_list_t *l = evt_ipc_list_new();
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(evt_ipc_list_append(l, &i, sizeof i), 0);
    long sum = 0;
    cr_assert_eq(evt_ipc_list_foreach(l, sum_items, &sum), 0);
    cr_assert_eq(sum, 999L * 1000 / 2);
    evt_ipc_list_free(l);
}

static int append_pid(void *arg)
{
    pid_t me = getpid();
    return evt_ipc_list_append(arg, &me, sizeof me) < 0;
}

Test(ipc_list, appends_from_other_processes)
{
    evt_ipc_list_t *l = evt_ipc_list_new();
    pid_t p[4];
    for (int i = 0; i < 4; i++)
        p[i] = child(append_pid, l);
    for (int i = 0; i < 4; i++)
        expect_ok(p[i]);
    cr_assert_eq(evt_ipc_list_len(l), 4);
    evt_ipc_list_free(l);
}

Test(ipc_list, bad_arguments)
{
    evt_ipc_list_t *l = evt_ipc_list_new();
    char b;
    cr_assert_eq(evt_ipc_list_append(NULL, "x", 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_list_append(l, NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_list_set(l, 0, NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_list_get(NULL, 0, &b, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_list_get(l, 0, NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_list_foreach(l, NULL, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_list_len(NULL), 0);
    evt_ipc_list_free(l);
    evt_ipc_list_free(NULL);
}
