/* Internal interface of the thread layer for the layers above it: the
 * offload pool (what epoll cannot wait for runs there). */
#ifndef EVT_THREAD_THREAD_H
#define EVT_THREAD_THREAD_H

#include "eventor.h"

/* The internal offload pool, for what cannot be done cooperatively (name
 * lookups, regular-file IO): made on first use, its threads started as
 * work needs them, made anew in a forked child. NULL and errno. */
evt_threadpool_t *evt__io_pool(void);

#endif
