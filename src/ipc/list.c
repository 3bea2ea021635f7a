/* Shared list (Manager().list()): an array of item pointers in the arena,
 * each item one block with a copy of its bytes. The array doubles when
 * full; the length is stored last, so a writer killed in the middle of an
 * append leaves the list as it was. */
#include "ipc.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

typedef struct item {
    size_t len;   /* bytes */
    char data[];  /* the copy */
} item_t;

/* Slots and their count in one block, published by one store. */
typedef struct slots {
    size_t cap;     /* slots */
    item_t *v[];    /* items 0 .. len-1 */
} slots_t;

struct evt_ipc_list {
    pthread_mutex_t lock; /* guards everything below */
    slots_t *slots;       /* the array; NULL until the first append */
    size_t len;           /* items */
};

evt_ipc_list_t *evt_ipc_list_new(void)
{
    return EVT__IPC_NEW(1, evt_ipc_list_t, lock);
}

static item_t *item_new(const void *val, size_t len)
{
    item_t *it = evt__ipc_alloc(sizeof *it + (len ? len : 1));
    if (it) {
        it->len = len;
        if (len)
            memcpy(it->data, val, len);
    }
    return it;
}

static int lock(evt_ipc_list_t *l)
{
    return evt__unlikely(!l) ? EINVAL : evt__ipc_mutex_lock(&l->lock);
}

int evt_ipc_list_append(evt_ipc_list_t *l, const void *val, size_t len)
{
    if (!val && len) {
        errno = EINVAL;
        return -1;
    }
    item_t *it = item_new(val, len);
    if (!it)
        return -1;
    int rc = lock(l);
    if (rc) {
        evt__ipc_free(it);
        errno = rc;
        return -1;
    }
    slots_t *s = l->slots, *old = NULL;
    if (!s || l->len == s->cap) {
        size_t cap = s ? s->cap * 2 : 8;
        slots_t *ns = evt__ipc_alloc(sizeof *ns + cap * sizeof(item_t *));
        if (!ns) {
            evt__ipc_mutex_unlock(&l->lock);
            evt__ipc_free(it);
            return -1;
        }
        ns->cap = cap;
        if (s)
            memcpy(ns->v, s->v, l->len * sizeof(item_t *));
        old = s;
        l->slots = s = ns;
    }
    s->v[l->len] = it;
    l->len++;
    evt__ipc_mutex_unlock(&l->lock);
    evt__ipc_free(old);
    return 0;
}

int evt_ipc_list_set(evt_ipc_list_t *l, size_t i, const void *val,
                     size_t len)
{
    if (!val && len) {
        errno = EINVAL;
        return -1;
    }
    item_t *it = item_new(val, len), *old = NULL;
    if (!it)
        return -1;
    int rc = lock(l);
    if (!rc && i >= l->len) {
        evt__ipc_mutex_unlock(&l->lock);
        rc = ERANGE;
    }
    if (rc) {
        evt__ipc_free(it);
        errno = rc;
        return -1;
    }
    old = l->slots->v[i];
    l->slots->v[i] = it;
    evt__ipc_mutex_unlock(&l->lock);
    evt__ipc_free(old);
    return 0;
}

/* get, and with take also remove. */
static ssize_t get(evt_ipc_list_t *l, size_t i, void *buf, size_t cap,
                   int take)
{
    int rc = !buf && cap ? EINVAL : lock(l);
    if (!rc && i >= l->len) {
        evt__ipc_mutex_unlock(&l->lock);
        rc = ERANGE;
    }
    if (rc) {
        errno = rc;
        return -1;
    }
    item_t *it = l->slots->v[i];
    if (cap && it->len)
        memcpy(buf, it->data, it->len < cap ? it->len : cap);
    ssize_t n = (ssize_t)it->len;
    if (take) {
        memmove(&l->slots->v[i], &l->slots->v[i + 1],
                (l->len - i - 1) * sizeof(item_t *));
        l->len--;
    }
    evt__ipc_mutex_unlock(&l->lock);
    if (take)
        evt__ipc_free(it);
    return n;
}

ssize_t evt_ipc_list_get(evt_ipc_list_t *l, size_t i, void *buf, size_t cap)
{
    return get(l, i, buf, cap, 0);
}

ssize_t evt_ipc_list_pop(evt_ipc_list_t *l, size_t i, void *buf, size_t cap)
{
    return get(l, i, buf, cap, 1);
}

size_t evt_ipc_list_len(evt_ipc_list_t *l)
{
    return l ? __atomic_load_n(&l->len, __ATOMIC_RELAXED) : 0;
}

int evt_ipc_list_foreach(evt_ipc_list_t *l, evt_ipc_list_fn fn, void *user)
{
    int rc = fn ? lock(l) : EINVAL;
    if (rc) {
        errno = rc;
        return -1;
    }
    int r = 0;
    for (size_t i = 0; i < l->len && !r; i++)
        r = fn(i, l->slots->v[i]->data, l->slots->v[i]->len, user);
    evt__ipc_mutex_unlock(&l->lock);
    return r;
}

void evt_ipc_list_free(evt_ipc_list_t *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->len; i++)
        evt__ipc_free(l->slots->v[i]);
    evt__ipc_free(l->slots);
    pthread_mutex_destroy(&l->lock);
    evt__ipc_free(l);
}
