/* Shared bits of the benchmark programs: a nanosecond clock, peak RSS, and
 * the one output format (`name value unit` lines on stdout). */
#ifndef EVT_BENCH_COMMON_H
#define EVT_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM), or -1. */
static inline long bench_status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* The value of "-n N" in argv, or def. */
static inline long bench_arg_n(int argc, char **argv, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "-n"))
            return strtol(argv[i + 1], NULL, 10);
    return def;
}

static inline int bench_has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], flag))
            return 1;
    return 0;
}

static inline void bench_print(const char *name, double value,
                               const char *unit)
{
    printf("%s %.3f %s\n", name, value, unit);
    fflush(stdout);
}

#endif
