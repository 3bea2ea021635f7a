/* For tests whose process starts worker processes: the fork server starts
 * before the test runner's own threads do (workers are then copies of the
 * process from that moment), and TSan does not sleep a second in every
 * exiting process (a worker that exits would pass a test's task timeout).
 * Include it in one file of a test binary. */
#ifndef EVT_TESTS_COMMON_WORKERS_H
#define EVT_TESTS_COMMON_WORKERS_H

#include "eventor.h"

#if defined(EVT_TSAN)
const char *__tsan_default_options(void)
{
    return "atexit_sleep_ms=0";
}
#endif

__attribute__((constructor)) static void start_server_early(void)
{
    evt_forkserver_start();
}

#endif
