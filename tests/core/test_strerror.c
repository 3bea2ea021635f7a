/* Tests of evt_strerror: errno values read as strerror does, a worker's
 * death by a signal and its exit have messages of their own, and a code no
 * one knows still gets a message, never NULL. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "eventor.h"

Test(strerror, errno_values_read_as_strerror)
{
    cr_assert_str_eq(evt_strerror(ENOENT), strerror(ENOENT));
    cr_assert_str_eq(evt_strerror(EMSGSIZE), strerror(EMSGSIZE));
    cr_assert_str_eq(evt_strerror(0), strerror(0));
}

Test(strerror, a_worker_killed_or_exited_says_so)
{
    cr_assert_str_eq(evt_strerror(EVT_ESIGNALED(SIGKILL)),
                     "worker killed by signal 9 (SIGKILL)");
    cr_assert_str_eq(evt_strerror(EVT_ESIGNALED(SIGSEGV)),
                     "worker killed by signal 11 (SIGSEGV)");
    cr_assert_str_eq(evt_strerror(EVT_EEXITED(3)),
                     "worker exited with code 3");
    cr_assert_str_eq(evt_strerror(EVT_EEXITED(0)),
                     "worker exited with code 0");
}

Test(strerror, unknown_codes_get_a_message)
{
    cr_assert_not_null(strstr(evt_strerror(EVT_ESIGNALED(200)),
                              "signal 200"));
    cr_assert_not_null(strstr(evt_strerror(-1), "-1"));
    cr_assert_not_null(evt_strerror(0x7fff));
}
