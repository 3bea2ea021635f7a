/* The Redis broker's public calls in a libeventor built without hiredis:
 * each fails with ENOTSUP, so that programs (the eventor command among
 * them) link either way and can say what is missing. */
#include <eventor.h>

#include <errno.h>

static int unsupported(void)
{
    errno = ENOTSUP;
    return -1;
}

const char *evt_redis_error(void)
{
    return "";
}

int evt_redis_submit(const char *url, const void *const *items,
                     const size_t *lens, size_t n)
{
    (void)url, (void)items, (void)lens, (void)n;
    return unsupported();
}

int evt_batch_run_redis(const evt_batch_opts_t *opts, evt_batch_fn fn,
                        const char *url, const evt_redis_opts_t *ro,
                        evt_batch_report_t *rep)
{
    (void)opts, (void)fn, (void)url, (void)ro, (void)rep;
    return unsupported();
}

int evt_redis_stat(const char *url, evt_redis_stat_t *st)
{
    (void)url, (void)st;
    return unsupported();
}

int evt_redis_consumers(const char *url, evt_redis_consumer_t *out,
                        size_t max)
{
    (void)url, (void)out, (void)max;
    return unsupported();
}

int evt_redis_expire(const char *url, int64_t secs)
{
    (void)url, (void)secs;
    return unsupported();
}

int evt_redis_results(const char *url, evt_redis_result_fn fn, void *user)
{
    (void)url, (void)fn, (void)user;
    return unsupported();
}

int evt_redis_records(const char *url, evt_redis_result_fn fn, void *user)
{
    (void)url, (void)fn, (void)user;
    return unsupported();
}

int evt_redis_drop(const char *url)
{
    (void)url;
    return unsupported();
}
