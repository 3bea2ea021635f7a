/* Options of GNU parallel's output and value handling: --results, --files,
 * --trim, --csv, --plus, --line-buffer. Their defaults depend on each other
 * as in GNU parallel (--colsep trims, --csv and --header set --colsep), so
 * they are settled once every option is read; what cannot be done is
 * refused there, never run as something else. */
#include "cli.h"

#include <string.h>
#include <strings.h>

static char trim_given; /* --trim's value, 0: not given */

int gr_option(struct opts *o, int which, const char *val)
{
    switch (which) {
    case GR_OPT_RESULTS:
        o->results = val;
        return *val ? 0 : -1;
    case GR_OPT_FILES: o->files = 1; return 0;
    case GR_OPT_TRIM: {
        static const char *const ok[] = {"n", "l", "r", "lr", "rl"};
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            if (!strcmp(val, ok[i])) {
                trim_given = i < 3 ? *val : 'b';
                return 0;
            }
        return -1;
    }
    case GR_OPT_CSV: o->csv = 1; return 0;
    case GR_OPT_PLUS: o->plus = 1; return 0;
    case GR_OPT_LINEBUF: o->line_buffer = 1; return 0;
    }
    return -1;
}

static int results_kind(const char *r)
{
    size_t len = strlen(r);
    static const struct { const char *ext; int kind; } k[] = {
        {".csv", RES_CSV}, {".tsv", RES_TSV}, {".json", RES_JSON}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        size_t el = strlen(k[i].ext);
        if (len >= el && !strcasecmp(r + len - el, k[i].ext))
            return k[i].kind;
    }
    return RES_DIR; /* or RES_TMPL, decided per job (results.c) */
}

/* What the job runner cannot combine: one line, and -1. */
static int refuse(const struct opts *o)
{
    const char *what = NULL;
    if ((o->results || o->files) && o->ungroup)
        what = "--results and --files cannot be used with -u";
    else if (o->line_buffer && (o->results || o->files))
        what = "--line-buffer cannot be used with --results or --files";
    else if (o->line_buffer && o->ungroup)
        what = "--line-buffer cannot be used with -u";
    else if ((o->results || o->files) && o->dry_run) /* GNU: files of it */
        what = "--dry-run cannot be used with --results or --files";
    else if ((o->results || o->files) && o->pipe)
        what = "--results and --files are not supported with --pipe";
    else if (o->csv && o->pipe)
        what = "--csv is not supported with --pipe";
    if (what)
        cli_error("%s", what);
    return what ? -1 : 0;
}

int gr_check(struct opts *o)
{
    /* GNU parallel: a --colsep of the user's trims both ends, --trim
     * decides; --csv's and --header's own --colsep do not trim */
    o->trim = trim_given ? trim_given : o->have_colsep ? 'b' : 'n';
    int rc = 0;
    if (o->csv && !o->have_colsep)
        rc = optval_colsep(o, ",");
    else if (o->header && !o->pipe && !o->have_colsep)
        rc = optval_colsep(o, "\t");
    if (rc < 0) {
        cli_error("out of memory");
        return -1;
    }
    if (o->results)
        o->results_kind = results_kind(o->results);
    return refuse(o);
}
