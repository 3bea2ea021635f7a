/* sleepers: N coroutines alive at once, each sleeping 1 s, then all
 * joined → wall time from the first spawn and memory per coroutine
 * (peak RSS growth / N). --shared runs them on the shared stack.
 * --floor measures what no runtime with a page of stack per live coroutine
 * can beat: faulting in N fresh pages. On a VM that cost swings by half
 * from one minute to the next, so make bench prints it beside the run. */
#include "bench_common.h"
#include "eventor.h"

#include <sys/mman.h>
#include <unistd.h>

static int floor_run(long n)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE), len = (size_t)n * ps;
    double t0 = bench_now_s();
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    madvise(p, len, MADV_NOHUGEPAGE); /* as the stacks are mapped */
    for (size_t off = 0; off < len; off += ps)
        p[off] = 1;
    bench_print("sleepers_floor_s", bench_now_s() - t0, "s");
    return 0;
}

static void *sleeper(void *arg)
{
    (void)arg;
    evt_sleep(evt_now() + 1000);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = bench_arg_n(argc, argv, 1000000);
    int shared = bench_has_flag(argc, argv, "--shared");
    if (bench_has_flag(argc, argv, "--floor"))
        return floor_run(n);
    evt_co_attr_t attr = {.shared_stack = shared};
    evt_co_t **cos = malloc((size_t)n * sizeof *cos);
    if (!cos)
        return 1;
    for (long i = 0; i < n; i++) /* the handle array is not the runtime's */
        cos[i] = NULL;
    long rss0 = bench_status_kib("VmRSS");
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++) {
        cos[i] = evt_spawn_attr(sleeper, NULL, &attr);
        if (!cos[i]) {
            perror("evt_spawn");
            return 1;
        }
    }
    for (long i = 0; i < n; i++)
        evt_join(cos[i], -1, NULL);
    double t = bench_now_s() - t0;
    long hwm = bench_status_kib("VmHWM");
    const char *p = shared ? "sleepers_shared" : "sleepers";
    char name[64];
    snprintf(name, sizeof name, "%s_wall_s", p);
    bench_print(name, t, "s");
    snprintf(name, sizeof name, "%s_rss_kib_per_co", p);
    bench_print(name, (double)(hwm - rss0) / (double)n, "KiB");
    return 0;
}
