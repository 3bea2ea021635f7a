/* The one callback convention, checked on every worker shape of the batch
 * engine: a function fails with -1 and errno (the status is that errno, 0
 * counting as EIO), and a result longer than cap fails with EMSGSIZE
 * instead of being cut short. Include it in one file of a test binary. */
#ifndef EVT_TESTS_COMMON_CALLBACK_H
#define EVT_TESTS_COMMON_CALLBACK_H

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "eventor.h"

#define CB_CAP 8
#define CB_ITEMS 4

/* Item 0 fails with ENOENT, 1 with -1 and errno 0, 2 writes one byte more
 * than cap, 3 exactly cap. */
static int cb_convention(const evt_batch_task_t *t, void *out, size_t cap,
                         size_t *len, void *user)
{
    (void)user;
    switch (t->index) {
    case 0:
        errno = ENOENT;
        return -1;
    case 1:
        errno = 0;
        return -1;
    case 2:
        memset(out, 'x', cap);
        *len = cap + 1;
        return 0;
    default:
        memset(out, 'y', cap);
        *len = cap;
        return 0;
    }
}

typedef struct cb_seen {
    int status[CB_ITEMS];
    size_t len[CB_ITEMS];
} cb_seen_t;

static void cb_result(const evt_batch_task_t *t, int status, const void *res,
                      size_t len, void *user)
{
    (void)res;
    cb_seen_t *s = user;
    s->status[t->index] = status;
    s->len[t->index] = len;
}

/* Run the items on the shape of o and check what came back. */
static void cb_check(evt_batch_opts_t o)
{
    static const char *items[CB_ITEMS] = {"a", "b", "c", "d"};
    cb_seen_t s;
    memset(&s, 0, sizeof s);
    o.max_result = CB_CAP;
    o.on_result = cb_result;
    o.user = &s;
    evt_batch_report_t r;
    cr_assert_eq(evt_batch_run_array(&o, cb_convention,
                                     (const void *const *)items, NULL,
                                     CB_ITEMS, &r), 0);
    cr_assert_eq(s.status[0], ENOENT, "%s", evt_strerror(s.status[0]));
    cr_assert_eq(s.status[1], EIO, "%s", evt_strerror(s.status[1]));
    cr_assert_eq(s.status[2], EMSGSIZE, "%s", evt_strerror(s.status[2]));
    cr_assert_eq(s.status[3], 0, "%s", evt_strerror(s.status[3]));
    cr_assert_eq(s.len[2], 0, "no result cut short");
    cr_assert_eq(s.len[3], CB_CAP);
    cr_assert_eq(r.failed, 3);
}

#endif
