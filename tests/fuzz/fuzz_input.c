/* libFuzzer target: the input combiner (input.c) over `:::` sources, as
 * the option parser leaves them (:::+ and --link zips, --colsep splits,
 * -r, -d): no crash nor leak, every record has a value per source, and the
 * count input_count_all gives is the records input_next hands out (up to
 * a bound), or an error for a product past LONG_MAX. */
#include "fuzz_argv.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORDS_MAX 2000

static void combine(const struct opts *o)
{
    struct input *in = input_open(o);
    if (!in)
        return;
    struct input *counted = input_open(o);
    long total = counted ? input_count_all(counted) : -1;
    input_close(counted);
    long n = 0;
    struct record r;
    while (n < RECORDS_MAX && input_next(in, &r) == 1) {
        if (r.nval < o->nsrc)
            abort(); /* a source without its value */
        record_free(&r);
        n++;
    }
    if (total >= 0 && n < RECORDS_MAX && n != total) {
        fprintf(stderr, "input_count_all %ld, input_next %ld\n", total, n);
        abort();
    }
    input_close(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parsed(data, size, combine);
    return 0;
}
