/* The fuzz targets' shared start: a fuzzer's bytes as an eventor command
 * line (words split at NUL or newline, argv[0] "eventor", at most
 * FUZZ_ARGS words), parsed by opts_parse the way main() does. */
#ifndef FUZZ_ARGV_H
#define FUZZ_ARGV_H

#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_ARGS 96

struct fuzz_argv {
    char *buf;
    char *argv[FUZZ_ARGS + 2];
    int argc;
};

/* 0, or -1 when the bytes make no command line worth trying. */
static inline int fuzz_argv(struct fuzz_argv *a, const uint8_t *data,
                            size_t size)
{
    a->buf = malloc(size + 1);
    if (!a->buf)
        return -1;
    memcpy(a->buf, data, size);
    a->buf[size] = 0;
    a->argc = 0;
    a->argv[a->argc++] = "eventor";
    char *w = a->buf;
    for (size_t i = 0; i <= size && a->argc <= FUZZ_ARGS; i++)
        if (i == size || a->buf[i] == 0 || a->buf[i] == '\n') {
            a->buf[i] = 0;
            a->argv[a->argc++] = w;
            w = a->buf + i + 1;
        }
    a->argv[a->argc] = NULL;
    return 0;
}

/* Options that read files or the environment's programs, or start work
 * (the targets test parsing, not running; {= =} runs perl): the bytes are
 * skipped. */
static inline int fuzz_argv_touches_world(const struct fuzz_argv *a)
{
    for (int i = 1; i < a->argc; i++)
        if (!strncmp(a->argv[i], "::::", 4) || !strcmp(a->argv[i], "-a") ||
            !strncmp(a->argv[i], "--arg-file", 10) ||
            !strncmp(a->argv[i], "--pipe", 6) ||
            /* perl17: {= =} and --rpl run perl code (BEGIN {...} too) */
            strstr(a->argv[i], "{=") || !strncmp(a->argv[i], "--rpl", 5) ||
            !strncmp(a->argv[i], "--parens", 8))
            return 1;
    return 0;
}

static inline void fuzz_argv_free(struct fuzz_argv *a)
{
    free(a->buf);
}

/* The bytes as a command line: parsed, and when they parse, touch nothing
 * outside and have sources only of items (no files), handed to run. */
static inline void fuzz_parsed(const uint8_t *data, size_t size,
                               void (*run)(const struct opts *o))
{
    struct fuzz_argv a;
    if (size > 4096 || fuzz_argv(&a, data, size) < 0)
        return;
    static struct opts o;
    int skip = fuzz_argv_touches_world(&a);
    if (!skip && opts_parse(&o, a.argc, a.argv) == 0 && o.nsrc > 0) {
        int files = 0;
        for (size_t s = 0; s < o.nsrc; s++)
            files |= o.src[s].is_file;
        if (!files)
            run(&o);
    }
    opts_free(&o);
    fuzz_argv_free(&a);
}

#endif
