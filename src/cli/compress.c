/* --compress, --compress-program PRG, --decompress-program PRG (GNU
 * parallel's): a finished job's spooled stdout and stderr are each put
 * through PRG (in the user's shell, as GNU's) into a file of their own,
 * then through the decompressor back into the spool, so that the output
 * is what the programs make of it, with GNU's "PRG failed." and exit
 * status 255 when one fails. An empty output runs neither (GNU's). */
#include "cli.h"
#include "misc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct opts *O;
static const char *cprg, *dprg;

/* GNU's pick for --compress alone: the first of these on $PATH. */
static const char *const fast[] = {
    "pzstd", "lbzip2", "pbzip2", "zstd", "pixz", "lz4", "pigz", "lzop",
    "plzip", "lzip", "gzip", "lrz", "pxz", "bzip2", "lzma", "xz", "clzip"};

/* An owned "PRG SUFFIX" (in o->owned), or NULL. */
static const char *with(struct opts *o, const char *prg, const char *suffix)
{
    size_t len = strlen(prg) + strlen(suffix) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    snprintf(s, len, "%s%s", prg, suffix);
    if (strv_push(&o->owned, s) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

int compress_settle(struct opts *o)
{
    O = o;
    if (o->compress_prg)
        o->compress = 1;
    if (!o->compress)
        return 0;
    if (o->compress_prg && !o->decompress_prg &&
        !(o->decompress_prg = with(o, o->compress_prg, " -dc")))
        goto nomem;
    for (size_t k = 0; !o->compress_prg && k < sizeof fast / sizeof *fast; k++)
        if (proc_which(fast[k]) &&
            (!(o->compress_prg = with(o, fast[k], " -c -1")) ||
             (!o->decompress_prg &&
              !(o->decompress_prg = with(o, fast[k], " -dc")))))
            goto nomem;
    cprg = o->compress_prg ? o->compress_prg : "cat";
    dprg = o->decompress_prg ? o->decompress_prg : "cat";
    return 0;
nomem:
    cli_error("out of memory");
    return -1;
}

/* prg with stdin from the start of in, stdout onto out: its exit status,
 * or -1 when it could not start (errno). The compressor runs in the shell;
 * the decompressor (argv set) as GNU's perl runs it: without a shell when
 * it has no shell syntax, its exit status then 127 when it is not found. */
static int filter(const char *prg, char **argv, int in, int out)
{
    struct proc p = {.in_fd = in};
    if (lseek(in, 0, SEEK_SET) < 0 ||
        proc_start(&p, argv, prg, O->shell, out, 2) < 0)
        return -1;
    int exitval, sig;
    proc_wait(&p, -1);
    proc_reap(&p, &exitval, &sig);
    return sig ? 128 + sig : exitval;
}

/* One spool file: compressed into z, decompressed back into it. */
static int round_trip(int fd, int z)
{
    if (lseek(fd, 0, SEEK_END) <= 0) /* empty (or unknown): as it is */
        return 0;
    if (filter(cprg, NULL, fd, z) != 0) { /* GNU's: the output is lost */
        cli_error("Error: %s failed.", cprg);
        return ftruncate(fd, 0) < 0 ? -1 : 1;
    }
    if (ftruncate(fd, 0) < 0)
        return -1;
    /* GNU minds only a decompressor that cannot be run */
    char **argv = NULL;
    if (shell_split(dprg, &argv) < 0)
        return -1;
    int rc = filter(dprg, argv, z, fd);
    argv_free(argv);
    if (rc < 0 || (argv && (rc == 126 || rc == 127))) {
        cli_error("Error: %s failed.", dprg);
        return 1;
    }
    return 0;
}

void compress_job(struct job *j)
{
    if (!O || !O->compress || O->ungroup || O->line_buffer ||
        results_own_files() || j->out_fd < 0 || j->err_fd < 0)
        return;
    int z[2];
    if (output_tmpfiles(&z[0], &z[1]) < 0) {
        cli_error("cannot create a temporary file in %s: %s", O->tmpdir,
                  strerror(errno));
        j->exitval = 255;
        return;
    }
    int bad = 0;
    for (int k = 0; k < 2; k++) {
        int rc = round_trip(k ? j->err_fd : j->out_fd, z[k]);
        bad |= rc != 0;
        close(z[k]);
    }
    if (bad) /* GNU's set_exitstatus(255) */
        j->exitval = 255, j->sig = 0;
}
