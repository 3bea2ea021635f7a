/* Growing an array by doubling: the one way the layers do it. */
#ifndef EVT_CORE_GROW_H
#define EVT_CORE_GROW_H

#include <errno.h>
#include <stdlib.h>

/* The array v of *cap elements of elem bytes, n of them used, with room
 * for one more: v itself, or v moved to twice its size (first when it has
 * none), *cap updated. NULL and ENOMEM when it cannot grow (v is kept). */
static inline void *evt__grow(void *v, size_t *cap, size_t n, size_t elem,
                              size_t first)
{
    if (n < *cap)
        return v;
    size_t c = *cap ? *cap * 2 : first;
    void *p = realloc(v, c * elem);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    *cap = c;
    return p;
}

#endif
