/* Tests of the shared dict: set, replace, get with small buffers, delete,
 * insertion order, growth, writers in other processes, bad arguments. */
#include "ipc_test.h"

#include <stdio.h>
#include <string.h>

Test(ipc_dict, set_get_replace_delete)
{
    evt_ipc_dict_t *d = evt_ipc_dict_new();
    char buf[8];
    cr_assert_eq(evt_ipc_dict_get(d, "a", buf, sizeof buf), -1);
    cr_assert_eq(errno, ENOENT);
    cr_assert_eq(evt_ipc_dict_set(d, "a", "one", 3), 0);
    cr_assert_eq(evt_ipc_dict_set(d, "b", "", 0), 0);
    cr_assert_eq(evt_ipc_dict_len(d), 2);
    cr_assert_eq(evt_ipc_dict_get(d, "a", buf, sizeof buf), 3);
    cr_assert_eq(memcmp(buf, "one", 3), 0);
    cr_assert_eq(evt_ipc_dict_get(d, "b", NULL, 0), 0);
    cr_assert_eq(evt_ipc_dict_set(d, "a", "eleven", 6), 0);
    cr_assert_eq(evt_ipc_dict_len(d), 2);
    /* A small buffer gets the start and the whole length. */
    memset(buf, 0, sizeof buf);
    cr_assert_eq(evt_ipc_dict_get(d, "a", buf, 3), 6);
    cr_assert_str_eq(buf, "ele");
    cr_assert_eq(evt_ipc_dict_del(d, "a"), 0);
    cr_assert_eq(evt_ipc_dict_del(d, "a"), -1);
    cr_assert_eq(errno, ENOENT);
    cr_assert_eq(evt_ipc_dict_len(d), 1);
    evt_ipc_dict_free(d);
}

static int collect(const char *key, const void *val, size_t len, void *user)
{
    char *out = user;
    snprintf(out + strlen(out), 256 - strlen(out), "%s=%.*s,", key, (int)len,
             (const char *)val);
    return 0;
}

static int stop_at_b(const char *key, const void *val, size_t len, void *user)
{
    (void)val, (void)len, (void)user;
    return strcmp(key, "b") == 0 ? 7 : 0;
}

static int reenter(const char *key, const void *val, size_t len, void *user)
{
    (void)key, (void)val, (void)len;
    char b;
    return evt_ipc_dict_get(user, "a", &b, 1) < 0 ? errno : 0;
}

Test(ipc_dict, iteration_in_insertion_order)
{
    evt_ipc_dict_t *d = evt_ipc_dict_new();
    evt_ipc_dict_set(d, "c", "3", 1);
    evt_ipc_dict_set(d, "a", "1", 1);
    evt_ipc_dict_set(d, "b", "2", 1);
    evt_ipc_dict_set(d, "a", "9", 1); /* keeps its place */
    char out[256] = "";
    cr_assert_eq(evt_ipc_dict_foreach(d, collect, out), 0);
    cr_assert_str_eq(out, "c=3,a=9,b=2,");
    evt_ipc_dict_del(d, "a");
    out[0] = 0;
    evt_ipc_dict_foreach(d, collect, out);
    cr_assert_str_eq(out, "c=3,b=2,");
    cr_assert_eq(evt_ipc_dict_foreach(d, stop_at_b, NULL), 7);
    /* The callback runs with d locked: calls on d fail, they do not hang. */
    cr_assert_eq(evt_ipc_dict_foreach(d, reenter, d), EDEADLK);
    evt_ipc_dict_free(d);
}

Test(ipc_dict, grows)
{
    evt_ipc_dict_t *d = evt_ipc_dict_new();
    char k[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "k%d", i);
        cr_assert_eq(evt_ipc_dict_set(d, k, &i, sizeof i), 0);
    }
    cr_assert_eq(evt_ipc_dict_len(d), 1000);
    for (int i = 0; i < 1000; i++) {
        int v;
        snprintf(k, sizeof k, "k%d", i);
        cr_assert_eq(evt_ipc_dict_get(d, k, &v, sizeof v), sizeof v);
        cr_assert_eq(v, i);
    }
    evt_ipc_dict_free(d);
}

static int write_mine(void *arg)
{
    char k[16];
    pid_t me = getpid();
    snprintf(k, sizeof k, "%d", (int)me);
    return evt_ipc_dict_set(arg, k, &me, sizeof me) < 0;
}

Test(ipc_dict, writers_in_other_processes)
{
    evt_ipc_dict_t *d = evt_ipc_dict_new();
    pid_t p[4];
    for (int i = 0; i < 4; i++)
        p[i] = child(write_mine, d);
    for (int i = 0; i < 4; i++) {
        expect_ok(p[i]);
        char k[16];
        pid_t v;
        snprintf(k, sizeof k, "%d", (int)p[i]);
        cr_assert_eq(evt_ipc_dict_get(d, k, &v, sizeof v), sizeof v);
        cr_assert_eq(v, p[i]);
    }
    evt_ipc_dict_free(d);
}

Test(ipc_dict, bad_arguments)
{
    evt_ipc_dict_t *d = evt_ipc_dict_new();
    char b;
    cr_assert_eq(evt_ipc_dict_set(NULL, "a", "x", 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_set(d, NULL, "x", 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_set(d, "a", NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_get(d, NULL, &b, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_get(d, "a", NULL, 1), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_del(d, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_foreach(d, NULL, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_foreach(NULL, collect, NULL), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(evt_ipc_dict_len(NULL), 0);
    evt_ipc_dict_free(d);
    evt_ipc_dict_free(NULL);
}
