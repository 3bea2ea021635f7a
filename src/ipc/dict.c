/* Shared dict (Manager().dict()): a chained hash table in the arena with
 * its entries also on a list in insertion order, for iteration. Each entry
 * is one block holding the key and a copy of the value. Updates link a
 * whole entry in before they unlink or free anything, so a writer killed
 * in the middle leaves at worst an entry that iteration misses or a block
 * not freed, never a broken chain. */
#include "ipc.h"

#include <errno.h>
#include <string.h>

typedef struct entry {
    struct entry *chain; /* next in the bucket */
    struct entry *prev;  /* insertion order */
    struct entry *next;
    uint64_t hash;       /* of the key */
    size_t klen;         /* key bytes, without the NUL */
    size_t vlen;         /* value bytes */
    char data[];         /* key, NUL, value */
} entry_t;

/* Buckets and their count in one block, published by one store. */
typedef struct table {
    size_t n;      /* buckets, a power of two */
    entry_t *b[];  /* chains */
} table_t;

struct evt_ipc_dict {
    pthread_mutex_t lock; /* guards everything below */
    table_t *table;       /* the buckets */
    size_t len;           /* entries */
    entry_t *first;       /* oldest entry */
    entry_t *last;        /* youngest entry */
};

static table_t *table_new(size_t n)
{
    table_t *t = evt__ipc_alloc(sizeof *t + n * sizeof(entry_t *));
    if (t)
        t->n = n;
    return t;
}

evt_ipc_dict_t *evt_ipc_dict_new(void)
{
    evt_ipc_dict_t *d = evt__ipc_alloc(sizeof *d);
    if (!d)
        return NULL;
    int rc = evt__ipc_mutex_init(&d->lock);
    if (rc || !(d->table = table_new(16))) {
        evt__ipc_free(d);
        errno = rc ? rc : ENOMEM;
        return NULL;
    }
    return d;
}

static uint64_t hash_key(const char *k, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

/* The link that points at key's entry (or the end of its chain). */
static entry_t **find(evt_ipc_dict_t *d, const char *key, size_t klen,
                      uint64_t h)
{
    entry_t **at = &d->table->b[h & (d->table->n - 1)];
    for (; *at; at = &(*at)->chain)
        if ((*at)->hash == h && (*at)->klen == klen &&
            memcmp((*at)->data, key, klen) == 0)
            break;
    return at;
}

/* Double the buckets when entries outnumber them; without memory the
 * chains just get longer. */
static void grow(evt_ipc_dict_t *d)
{
    table_t *old = d->table, *t = table_new(old->n * 2);
    if (!t)
        return;
    for (entry_t *e = d->first; e; e = e->next) {
        entry_t **b = &t->b[e->hash & (t->n - 1)];
        e->chain = *b;
        *b = e;
    }
    d->table = t;
    evt__ipc_free(old);
}

static int lock(evt_ipc_dict_t *d, const char *key)
{
    if (evt__unlikely(!d || !key))
        return EINVAL;
    return evt__ipc_mutex_lock(&d->lock);
}

int evt_ipc_dict_set(evt_ipc_dict_t *d, const char *key, const void *val,
                     size_t len)
{
    if (!val && len) {
        errno = EINVAL;
        return -1;
    }
    size_t klen = key ? strlen(key) : 0;
    entry_t *e = evt__ipc_alloc(sizeof *e + klen + 1 + (len ? len : 1));
    if (!e)
        return -1;
    int rc = lock(d, key);
    if (rc) {
        evt__ipc_free(e);
        errno = rc;
        return -1;
    }
    e->hash = hash_key(key, klen);
    e->klen = klen;
    e->vlen = len;
    memcpy(e->data, key, klen + 1);
    if (len)
        memcpy(e->data + klen + 1, val, len);
    entry_t **at = find(d, key, klen, e->hash), *old = *at;
    if (old) {
        /* Take the old entry's place in its chain and in the order. */
        e->chain = old->chain;
        e->prev = old->prev;
        e->next = old->next;
        *at = e;
        *(e->prev ? &e->prev->next : &d->first) = e;
        *(e->next ? &e->next->prev : &d->last) = e;
    } else {
        e->chain = NULL;
        e->prev = d->last;
        *at = e;
        *(d->last ? &d->last->next : &d->first) = e;
        d->last = e;
        if (++d->len > d->table->n)
            grow(d);
    }
    evt__ipc_mutex_unlock(&d->lock);
    evt__ipc_free(old);
    return 0;
}

ssize_t evt_ipc_dict_get(evt_ipc_dict_t *d, const char *key, void *buf,
                         size_t cap)
{
    int rc = !buf && cap ? EINVAL : lock(d, key);
    if (rc) {
        errno = rc;
        return -1;
    }
    size_t klen = strlen(key);
    entry_t *e = *find(d, key, klen, hash_key(key, klen));
    ssize_t n = -1;
    if (e) {
        n = (ssize_t)e->vlen;
        if (cap && e->vlen)
            memcpy(buf, e->data + klen + 1, e->vlen < cap ? e->vlen : cap);
    }
    evt__ipc_mutex_unlock(&d->lock);
    if (!e)
        errno = ENOENT;
    return n;
}

int evt_ipc_dict_del(evt_ipc_dict_t *d, const char *key)
{
    int rc = lock(d, key);
    if (rc) {
        errno = rc;
        return -1;
    }
    size_t klen = strlen(key);
    entry_t **at = find(d, key, klen, hash_key(key, klen)), *e = *at;
    if (e) {
        *at = e->chain;
        *(e->prev ? &e->prev->next : &d->first) = e->next;
        *(e->next ? &e->next->prev : &d->last) = e->prev;
        d->len--;
    }
    evt__ipc_mutex_unlock(&d->lock);
    if (!e) {
        errno = ENOENT;
        return -1;
    }
    evt__ipc_free(e);
    return 0;
}

size_t evt_ipc_dict_len(evt_ipc_dict_t *d)
{
    return d ? __atomic_load_n(&d->len, __ATOMIC_RELAXED) : 0;
}

int evt_ipc_dict_foreach(evt_ipc_dict_t *d, evt_ipc_dict_fn fn, void *user)
{
    int rc = fn ? lock(d, "") : EINVAL;
    if (rc) {
        errno = rc;
        return -1;
    }
    int r = 0;
    for (entry_t *e = d->first; e && !r; e = e->next)
        r = fn(e->data, e->data + e->klen + 1, e->vlen, user);
    evt__ipc_mutex_unlock(&d->lock);
    return r;
}

void evt_ipc_dict_free(evt_ipc_dict_t *d)
{
    if (!d)
        return;
    for (entry_t *e = d->first, *next; e; e = next) {
        next = e->next;
        evt__ipc_free(e);
    }
    evt__ipc_free(d->table);
    pthread_mutex_destroy(&d->lock);
    evt__ipc_free(d);
}
