/* GNU parallel's options that rename things: the input separators
 * (--arg-sep, --arg-file-sep), the end-of-file string (-E), the names of the
 * replacement strings (--er, --bnr, --dnr, --bner, --seqreplace,
 * --slotreplace: like -I, the new name replaces the old one); the ones that
 * print a fact of this machine and exit (--number-of-cpus, ...); and
 * --tty, --progress, --noswap, --verbose (GNU's, not -v),
 * --process-slot-var and the --use-*-instead-of-* choices; the spellings
 * GNU keeps for old scripts (--gnu, --silent, --group, --no-keep-order,
 * --minversion, --shebang and its --skip-first-line), and --total-jobs. */
#include "cli.h"
#include "spell.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* CPU packages and cores as /proc/cpuinfo counts them (GNU parallel's own
 * reading); 0 where it does not say. */
static void count_cpus(long *sockets, long *cores)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    char line[256];
    long phys[256], nphys = 0, sum = 0;
    int new_package = 0; /* its "cpu cores" line is still to come */
    while (f && fgets(line, sizeof line, f)) {
        long v, k = 0;
        if (sscanf(line, "physical id : %ld", &v) == 1) {
            while (k < nphys && phys[k] != v)
                k++;
            new_package = k == nphys && nphys < 256;
            if (new_package)
                phys[nphys++] = v;
        } else if (new_package && sscanf(line, "cpu cores : %ld", &v) == 1) {
            sum += v;
            new_package = 0;
        }
    }
    if (f)
        fclose(f);
    *sockets = nphys;
    *cores = sum;
}

/* The fact asked for, on stdout (GNU parallel exits 0 after it). */
static int print_fact(int which)
{
    long threads = sysconf(_SC_NPROCESSORS_ONLN), sockets, cores;
    count_cpus(&sockets, &cores);
    if (threads < 1)
        threads = 1;
    if (sockets < 1) /* no physical id: a VM or a one-package machine */
        sockets = 1;
    if (cores < 1)
        cores = threads;
    switch (which) {
    case SPELL_OPT_NSOCKETS: printf("%ld\n", sockets); break;
    case SPELL_OPT_NCPUS: /* GNU: obsolete, the physical cores */
    case SPELL_OPT_NCORES: printf("%ld\n", cores); break;
    case SPELL_OPT_NTHREADS: printf("%ld\n", threads); break;
    case SPELL_OPT_MAXLINE: printf("%d\n", CLI_MAX_LINE); break;
    }
    fflush(stdout);
    return 1;
}

/* The GNU version whose options and output eventor follows. */
#define GNU_VERSION 20221122

/* The spellings GNU keeps for old scripts. */
static int old_option(struct opts *o, int which, const char *val)
{
    switch (which) {
    case SPELL_OPT_GNU: return 0; /* the only behaviour there is */
    case SPELL_OPT_SHEBANG: /* not first: GNU warns, then ignores it */
        fputs("eventor: Warning: --shebang and --shebang-wrap must be the "
              "first argument.\n", stderr);
        return 0;
    case SPELL_OPT_SILENT: o->silent = 1; return 0;
    case SPELL_OPT_GROUP: o->group = 1; return 0;
    case SPELL_OPT_NO_KEEP: o->keep_order = 0; return 0;
    case SPELL_OPT_SKIP_FIRST: o->skip_first_line = 1; return 0;
    case SPELL_OPT_TOTAL: return optval_long(val, &o->total_jobs) < 0 ||
                                 o->total_jobs < 0 ? -1 : 0;
    case SPELL_OPT_MINVERSION: { /* an integer, as GNU's =i */
        char *end;
        long long want = strtoll(val, &end, 10);
        if (!*val || *end)
            return -1;
        printf("%d\n", GNU_VERSION);
        fflush(stdout);
        return want > GNU_VERSION ? -2 : 1;
    }
    }
    return -1;
}

int spell_option(struct opts *o, int which, const char *val)
{
    static const int xform[] = {
        [SPELL_OPT_ER] = TMPL_NAME_NOEXT, [SPELL_OPT_BNR] = TMPL_NAME_BASE,
        [SPELL_OPT_DNR] = TMPL_NAME_DIR, [SPELL_OPT_BNER] = TMPL_NAME_BASENOEXT,
        [SPELL_OPT_SEQ] = TMPL_NAME_SEQ, [SPELL_OPT_SLOT] = TMPL_NAME_SLOT};
    switch (which) {
    case SPELL_OPT_ARG_SEP:
    case SPELL_OPT_ARG_FILE_SEP:
        if (!*val)
            return -1;
        *(which == SPELL_OPT_ARG_SEP ? &o->arg_sep : &o->arg_file_sep) = val;
        return 0;
    case SPELL_OPT_EOF: o->eof_str = *val ? val : NULL; return 0;
    case SPELL_OPT_ER: case SPELL_OPT_BNR: case SPELL_OPT_DNR:
    case SPELL_OPT_BNER: case SPELL_OPT_SEQ: case SPELL_OPT_SLOT:
        if (!*val)
            return -1;
        o->rpl_name[xform[which]] = val;
        return 0;
    case SPELL_OPT_NCPUS: case SPELL_OPT_NCORES: case SPELL_OPT_NSOCKETS:
    case SPELL_OPT_NTHREADS: case SPELL_OPT_MAXLINE:
        return print_fact(which);
    case SPELL_OPT_TTY: o->tty = 1; return 0;
    case SPELL_OPT_PROGRESS: o->progress = 1; return 0;
    case SPELL_OPT_NOSWAP: o->noswap = 1; return 0;
    case SPELL_OPT_VERBOSE: o->verbose_stderr = 1; return 0;
    case SPELL_OPT_SLOT_VAR: /* a name for the shell: GNU takes any */
        if (!*val || strchr(val, '='))
            return -1;
        o->slot_var = val;
        return 0;
    case SPELL_OPT_USE_CHOICE: /* which CPUs -j N% and -j 0 count: the */
        return 0;              /* threads online, whichever is asked */
    default: return old_option(o, which, val);
    }
}

int spell_settle(struct opts *o)
{
    if (o->group && (o->ungroup || o->line_buffer)) {
        cli_error("Error: --group cannot be combined with --%s.",
                  o->ungroup ? "ungroup" : "line-buffer");
        return -1;
    }
    if (o->silent) /* GNU's: whatever came before or after */
        o->verbose = 0;
    if (!o->arg_sep)
        o->arg_sep = ":::";
    if (!o->arg_file_sep)
        o->arg_file_sep = "::::";
    if (o->tty) { /* GNU: one job at a time, unbuffered, on the terminal */
        if (!o->jobs_given)
            o->jobs = 1;
        o->ungroup = 1;
    }
    return 0;
}

/* GNU's --shebang: `#!/usr/bin/parallel --shebang -r echo` makes the
 * kernel run `parallel '--shebang -r echo' SCRIPT`; GNU then runs itself
 * as `parallel --skip-first-line -a SCRIPT -r echo` (the last word is the
 * script; the #! line's words split at blanks, as its shell splits them). */
char **shebang_argv(int *argc, char **argv)
{
    static const char *const tags[] = {"--shebang", "--hashbang"};
    const char *rest = NULL;
    for (size_t k = 0; k < 2 && *argc >= 3 && !rest; k++)
        if (!strncmp(argv[1], tags[k], strlen(tags[k])) &&
            (!argv[1][strlen(tags[k])] || argv[1][strlen(tags[k])] == ' '))
            rest = argv[1] + strlen(tags[k]);
    if (!rest)
        return argv;
    /* kept to the end, as argv is (static: reachable, not a leak) */
    static char *words;
    static char **v;
    words = strdup(rest);
    v = calloc((size_t)*argc + strlen(rest) + 4, sizeof *v);
    if (!words || !v) {
        free(words);
        free(v);
        return argv; /* GNU's own parsing then says what is wrong */
    }
    int n = 0;
    v[n++] = argv[0];
    v[n++] = "--skip-first-line";
    v[n++] = "-a";
    v[n++] = argv[*argc - 1];
    for (char *w = strtok(words, " \t"); w; w = strtok(NULL, " \t"))
        v[n++] = w;
    for (int k = 2; k < *argc - 1; k++)
        v[n++] = argv[k];
    *argc = n;
    return v;
}

/* Is a a separator? 0 no; else SEP_IS, with SEP_FILE for ::::'s and
 * SEP_LINKED for the + forms. */
int spell_sep(const struct opts *o, const char *a)
{
    const char *as = o->arg_sep ? o->arg_sep : ":::";
    const char *fs = o->arg_file_sep ? o->arg_file_sep : "::::";
    size_t al = strlen(as), fl = strlen(fs), n = strlen(a);
    int linked = n && a[n - 1] == '+';
    size_t base = n - (size_t)linked;
    if (base == fl && !strncmp(a, fs, fl))
        return SEP_IS | SEP_FILE | (linked ? SEP_LINKED : 0);
    if (base == al && !strncmp(a, as, al))
        return SEP_IS | (linked ? SEP_LINKED : 0);
    return 0;
}

/* --noswap: 1 while the machine swaps (pages in and out in the last
 * second, as GNU parallel measures it), so that no job starts. */
int spell_swapping(void)
{
    static long long last_in = -1, last_out = -1;
    static int64_t last_at;
    static int was;
    int64_t now = evt_now();
    if (last_in >= 0 && now - last_at < 1000)
        return was;
    FILE *f = fopen("/proc/vmstat", "re");
    char name[64];
    long long v, in = 0, out = 0;
    if (!f)
        return 0;
    while (fscanf(f, "%63s %lld", name, &v) == 2) {
        if (!strcmp(name, "pswpin"))
            in = v;
        else if (!strcmp(name, "pswpout"))
            out = v;
    }
    fclose(f);
    was = last_in >= 0 && in > last_in && out > last_out;
    last_in = in;
    last_out = out;
    last_at = now;
    return was;
}
