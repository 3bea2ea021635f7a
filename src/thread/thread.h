/* Internal interface of the thread layer for the layers above it: the
 * offload pool (what epoll cannot wait for runs there), and the hook run
 * once before eventor starts its first thread of its own. */
#ifndef EVT_THREAD_THREAD_H
#define EVT_THREAD_THREAD_H

#include "eventor.h"

/* The internal offload pool, for what cannot be done cooperatively (name
 * lookups, regular-file IO): made on first use, its threads started as
 * work needs them, made anew in a forked child. NULL and errno. */
evt_threadpool_t *evt__io_pool(void);

/* Called once per process, just before eventor starts its first thread
 * (any thread pool's, the offload pool's included), while the process may
 * still be single-threaded. A layer above that must act before threads
 * exist installs it at load time; the process layer does, to start the
 * fork server. NULL: nothing to do. It must leave errno as it found it. */
extern void (*evt__before_first_thread)(void);

#endif
