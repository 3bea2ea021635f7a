/* libFuzzer target: the option parser (opts_parse, optval.c), on any
 * command line: no crash, no leak, no undefined behaviour (the signed
 * overflows of -j once found here), and --colsep's regex stays bounded. */
#include "fuzz_argv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_argv a;
    if (size > 4096 || fuzz_argv(&a, data, size) < 0)
        return 0;
    static struct opts o;
    opts_parse(&o, a.argc, a.argv);
    opts_free(&o);
    fuzz_argv_free(&a);
    return 0;
}
