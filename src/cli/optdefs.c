/* The table of the eventor command's options, GNU parallel's names and
 * spellings each with the id opts.c applies, and the lookups by name. */
#include "cli.h"
#include "optdefs.h"
#include "misc.h"
#include "perlexpr.h"
#include "pipemore.h"
#include "spell.h"

#include <string.h>

/* The ids of the later groups' options, in their own files' order. */
#define GR(x) (O_GR + GR_OPT_##x)
#define MORE(x) (O_MORE + MORE_OPT_##x)
#define SSHOPT(x) (O_SSH + SSH_OPT_##x)
#define SPELL(x) (O_SPELL + SPELL_OPT_##x)
#define PX(x) (O_PX + PIPEX_OPT_##x)
#define MISC(x) (O_MISC + MISC_OPT_##x)

static const struct optdef optdefs[] = {
    {"jobs", 'j', 1, O_JOBS},           {"max-procs", 'P', 1, O_JOBS},
    {"keep-order", 'k', 0, O_KEEP},     {NULL, 'X', 0, O_X},
    {NULL, 'm', 0, O_M},                {"max-args", 'n', 1, O_MAXARGS},
    {"null", '0', 0, O_NULL},           {"colsep", 'C', 1, O_COLSEP},
    {"tag", 0, 0, O_TAG},               {"dry-run", 0, 0, O_DRY},
    {"joblog", 0, 1, O_JOBLOG},         {"resume", 0, 0, O_RESUME},
    {"resume-failed", 0, 0, O_RESUME_FAILED},
    {"retries", 0, 1, O_RETRIES},       {"timeout", 0, 1, O_TIMEOUT},
    {"delay", 0, 1, O_DELAY},           {"halt", 0, 1, O_HALT},
    {"halt-on-error", 0, 1, O_HALT},    {"bar", 0, 0, O_BAR},
    {"eta", 0, 0, O_ETA},               {"link", 0, 0, O_LINK},
    {"xapply", 0, 0, O_LINK},           {"tmpdir", 0, 1, O_TMPDIR},
    {"will-cite", 0, 0, O_CITE},        {"help", 'h', 0, O_HELP},
    {"version", 0, 0, O_VERSION},       {"arg-file", 'a', 1, O_ARGFILE},
    {"max-replace-args", 'N', 1, O_MAXREPL},
    {"quote", 'q', 0, O_QUOTE},         {"shellquote", 0, 0, O_SHELLQUOTE},
    {"shell-quote", 0, 0, O_SHELLQUOTE}, {NULL, 'I', 1, O_REPLACE},
    {"delimiter", 'd', 1, O_DELIM},     {"no-run-if-empty", 'r', 0, O_NOEMPTY},
    {"xargs", 0, 0, O_XARGS},           {"max-chars", 's', 1, O_MAXCHARS},
    {NULL, 'L', 1, O_L},                {NULL, 'v', 0, O_VERBOSE},
    {"ungroup", 'u', 0, O_UNGROUP},     {"tagstring", 0, 1, O_TAGSTRING},
    {"tag-string", 0, 1, O_TAGSTRING},  {"ctag", 0, 0, O_CTAG},
    {"ctagstring", 0, 1, O_CTAGSTRING}, {"ctag-string", 0, 1, O_CTAGSTRING},
    {"color", 0, 0, O_COLOR},           {"colour", 0, 0, O_COLOR},
    {"color-failed", 0, 0, O_COLOR_FAILED}, {"cf", 0, 0, O_COLOR_FAILED},
    {"pipe", 0, 0, O_PIPE + PIPE_OPT_PIPE}, {"pipepart", 0, 0, O_PIPE + 5},
    {"block", 0, 1, O_PIPE + PIPE_OPT_BLOCK}, {"recstart", 0, 1, O_PIPE + 2},
    {"block-size", 0, 1, O_PIPE + 1},   {"blocksize", 0, 1, O_PIPE + 1},
    {"recend", 0, 1, O_PIPE + 3},       {"header", 0, 1, O_PIPE + 4},
    {"remove-rec-sep", 0, 0, O_PIPE + PIPE_OPT_RRS},
    {"removerecsep", 0, 0, O_PIPE + PIPE_OPT_RRS},
    {"rrs", 0, 0, O_PIPE + PIPE_OPT_RRS},
    {"block-timeout", 0, 1, O_PIPE + PIPE_OPT_BT},
    {"blocktimeout", 0, 1, O_PIPE + PIPE_OPT_BT},
    {"bt", 0, 1, O_PIPE + PIPE_OPT_BT},
    /* GNU parallel's other spellings */
    {"dryrun", 0, 0, O_DRY},            {"keeporder", 0, 0, O_KEEP},
    {"maxprocs", 0, 1, O_JOBS},         {"maxargs", 0, 1, O_MAXARGS},
    {"col-sep", 0, 1, O_COLSEP},        {"argfile", 0, 1, O_ARGFILE},
    {"maxreplaceargs", 0, 1, O_MAXREPL}, {"maxchars", 0, 1, O_MAXCHARS},
    {"norunifempty", 0, 0, O_NOEMPTY},  {"shell_quote", 0, 0, O_SHELLQUOTE},
    {"tempdir", 0, 1, O_TMPDIR},        {"jl", 0, 1, O_JOBLOG},
    {"pipe-part", 0, 0, O_PIPE + 5},    {"spreadstdin", 0, 0, O_PIPE + PIPE_OPT_PIPE},
    {NULL, 'V', 0, O_VERSION},          {"max-lines", 'l', OPT_INT, O_L},
    {"replace", 'i', OPT_STR, O_REPLACE}, {NULL, 'e', OPT_STR, SPELL(EOF)},
    /* gnu-results */
    {"results", 0, 1, GR(RESULTS)},     {"result", 0, 1, GR(RESULTS)},
    {"res", 0, 1, GR(RESULTS)},         {"files", 0, 0, GR(FILES)},
    {"output-as-files", 0, 0, GR(FILES)}, {"outputasfiles", 0, 0, GR(FILES)},
    {"trim", 0, 1, GR(TRIM)},           {"csv", 0, 0, GR(CSV)},
    {"plus", 0, 0, GR(PLUS)},           {"line-buffer", 0, 0, GR(LINEBUF)},
    {"linebuffer", 0, 0, GR(LINEBUF)},  {"lb", 0, 0, GR(LINEBUF)},
    /* gnu-more */
    {"profile", 'J', 1, MORE(PROFILE)}, {"plain", 0, 0, MORE(PLAIN)},
    {"termseq", 0, 1, MORE(TERMSEQ)},  {"term-seq", 0, 1, MORE(TERMSEQ)},
    {"retry-failed", 0, 0, MORE(RETRY_FAILED)},
    {"retryfailed", 0, 0, MORE(RETRY_FAILED)}, {"shuf", 0, 0, MORE(SHUF)},
    {"nice", 0, 1, MORE(NICE)},         {"memfree", 0, 1, MORE(MEMFREE)},
    {"load", 0, 1, MORE(LOAD)},         {"semaphore", 0, 0, MORE(SEMAPHORE)},
    {"limit", 0, 1, MORE(LIMIT)},       {"memsuspend", 0, 1, MORE(MEMSUSPEND)},
    {"fg", 0, 0, MORE(FG)},             {"bg", 0, 0, MORE(BG)},
    {"wait", 0, 0, MORE(WAIT)},         {"id", 0, 1, MORE(ID)},
    {"semaphorename", 0, 1, MORE(ID)},  {"semaphore-name", 0, 1, MORE(ID)},
    {"semaphoretimeout", 0, 1, MORE(SEM_TIMEOUT)},
    {"semaphore-timeout", 0, 1, MORE(SEM_TIMEOUT)},
    {"st", 0, 1, MORE(SEM_TIMEOUT)},    {"cat", 0, 0, MORE(CAT)},
    {"interactive", 'p', 0, MORE(INTERACTIVE)},
    /* sshlogin */
    /* spell.c: separators, renamed replacement strings, facts */
    {"arg-sep", 0, 1, SPELL(ARG_SEP)},  {"argsep", 0, 1, SPELL(ARG_SEP)},
    {"arg-file-sep", 0, 1, SPELL(ARG_FILE_SEP)},
    {"argfilesep", 0, 1, SPELL(ARG_FILE_SEP)},
    {"eof", 'E', 1, SPELL(EOF)},        {"extensionreplace", 0, 1, SPELL(ER)},
    {"er", 0, 1, SPELL(ER)},            {"basenamereplace", 0, 1, SPELL(BNR)},
    {"bnr", 0, 1, SPELL(BNR)},          {"dirnamereplace", 0, 1, SPELL(DNR)},
    {"dnr", 0, 1, SPELL(DNR)},          {"bner", 0, 1, SPELL(BNER)},
    {"basenameextensionreplace", 0, 1, SPELL(BNER)},
    {"seqreplace", 0, 1, SPELL(SEQ)},   {"slotreplace", 0, 1, SPELL(SLOT)},
    {"number-of-cpus", 0, 0, SPELL(NCPUS)},
    {"number-of-cores", 0, 0, SPELL(NCORES)},
    {"number-of-sockets", 0, 0, SPELL(NSOCKETS)},
    {"number-of-threads", 0, 0, SPELL(NTHREADS)},
    {"max-line-length-allowed", 0, 0, SPELL(MAXLINE)},
    {"tty", 0, 0, SPELL(TTY)},          {"progress", 0, 0, SPELL(PROGRESS)},
    {"process-slot-var", 0, 1, SPELL(SLOT_VAR)},
    {"noswap", 0, 0, SPELL(NOSWAP)},     {"verbose", 't', 0, SPELL(VERBOSE)},
    {"gnu", 0, 0, SPELL(GNU)},          {"silent", 0, 0, SPELL(SILENT)},
    {"group", 0, 0, SPELL(GROUP)},      {"no-keep-order", 0, 0, SPELL(NO_KEEP)},
    {"minversion", 0, 1, SPELL(MINVERSION)},
    {"skip-first-line", 0, 0, SPELL(SKIP_FIRST)},
    {"total-jobs", 0, 1, SPELL(TOTAL)}, {"total", 0, 1, SPELL(TOTAL)},
    {"shebang", 0, 0, SPELL(SHEBANG)},  {"hashbang", 0, 0, SPELL(SHEBANG)},
    {"use-cpus-instead-of-cores", 0, 0, SPELL(USE_CHOICE)},
    {"use-cores-instead-of-threads", 0, 0, SPELL(USE_CHOICE)},
    {"use-sockets-instead-of-threads", 0, 0, SPELL(USE_CHOICE)},
    {"sshlogin", 'S', 1, SSHOPT(LOGIN)}, {"sshloginfile", 0, 1, SSHOPT(SLF)},
    {"slf", 0, 1, SSHOPT(SLF)},         {"ssh", 0, 1, SSHOPT(SSH)},
    {"workdir", 0, 1, SSHOPT(WORKDIR)}, {"wd", 0, 1, SSHOPT(WORKDIR)},
    {"transfer", 0, 0, SSHOPT(TRANSFER)},
    {"transferfile", 0, 1, SSHOPT(TRANSFERFILE)},
    {"transfer-file", 0, 1, SSHOPT(TRANSFERFILE)},
    {"tf", 0, 1, SSHOPT(TRANSFERFILE)}, {"return", 0, 1, SSHOPT(RETURN)},
    {"cleanup", 0, 0, SSHOPT(CLEANUP)}, {"trc", 0, 1, SSHOPT(TRC)},
    {"onall", 0, 0, SSHOPT(ONALL)},     {"nonall", 0, 0, SSHOPT(NONALL)},
    /* perl17 */
    {"rpl", 0, 1, O_PERL + PERL_OPT_RPL}, {"parens", 0, 1, O_PERL + PERL_OPT_PARENS},
    {"filter", 0, 1, O_PERL + PERL_OPT_FILTER},
    /* sshlogin, more (sshmore.c; --env too) */
    {"basefile", 0, 1, SSHOPT(BASEFILE)}, {"bf", 0, 1, SSHOPT(BASEFILE)},
    {"controlmaster", 'M', 0, SSHOPT(CONTROLMASTER)}, {"env", 0, 1, SSHOPT(ENV)},
    {"sshdelay", 0, 1, SSHOPT(SSHDELAY)}, {"ssh-delay", 0, 1, SSHOPT(SSHDELAY)},
    {"hostgroups", 0, 0, SSHOPT(HOSTGROUPS)}, {"hgrp", 0, 0, SSHOPT(HOSTGROUPS)},
    {"hostgroup", 0, 0, SSHOPT(HOSTGROUPS)}, {"hostgrp", 0, 0, SSHOPT(HOSTGROUPS)},
    {"record-env", 0, 0, SSHOPT(RECORD_ENV)}, {"recordenv", 0, 0, SSHOPT(RECORD_ENV)},
    {"rsync-opts", 0, 1, SSHOPT(RSYNC_OPTS)},
    {"filter-hosts", 0, 0, SSHOPT(FILTER_HOSTS)},
    /* pipe-more */
    {"regexp", 0, 0, PX(REGEXP)},       {"regex", 0, 0, PX(REGEXP)},
    {"round-robin", 0, 0, PX(RR)},      {"roundrobin", 0, 0, PX(RR)},
    {"round", 0, 0, PX(RR)},            {"tee", 0, 0, PX(TEE)},
    {"group-by", 0, 1, PX(GROUP_BY)},   {"groupby", 0, 1, PX(GROUP_BY)},
    {"fifo", 0, 0, PX(FIFO)},
    {"shard", 0, 1, PX(SHARD)},         {"bin", 0, 1, PX(BIN)},
    /* gnumisc */
    {"tmpl", 0, 1, MISC(TMPL)},         {"template", 0, 1, MISC(TMPL)},
    {"_pipe-means-argfiles", 0, 0, MISC(PIPE_ARGFILES)},
    {"exit", 'x', 0, MISC(EXIT)},       {"show-limits", 0, 0, MISC(SHOW_LIMITS)},
    {"showlimits", 0, 0, MISC(SHOW_LIMITS)},
    {"open-tty", 'o', 0, MISC(OPEN_TTY)}, {"compress", 0, 0, MISC(COMPRESS)},
    {"compress-program", 0, 1, MISC(COMPRESS_PRG)},
    {"use-compress-program", 0, 1, MISC(COMPRESS_PRG)},
    {"compressprogram", 0, 1, MISC(COMPRESS_PRG)},
    {"usecompressprogram", 0, 1, MISC(COMPRESS_PRG)},
    {"decompress-program", 0, 1, MISC(DECOMPRESS_PRG)},
    {"use-decompress-program", 0, 1, MISC(DECOMPRESS_PRG)},
    {"decompressprogram", 0, 1, MISC(DECOMPRESS_PRG)},
    {"usedecompressprogram", 0, 1, MISC(DECOMPRESS_PRG)},
};

#define NDEFS (sizeof optdefs / sizeof optdefs[0])

const struct optdef *optdef_long(const char *name, size_t len)
{
    for (size_t k = 0; k < NDEFS; k++)
        if (optdefs[k].lng && strlen(optdefs[k].lng) == len &&
            !strncmp(optdefs[k].lng, name, len))
            return &optdefs[k];
    return NULL;
}

const struct optdef *optdef_short(char c)
{
    for (size_t k = 0; k < NDEFS; k++)
        if (optdefs[k].shrt == c)
            return &optdefs[k];
    return NULL;
}

/* GNU's value of an optional one left out: -l is -L 1, -i is -I {}, -e
 * is no end-of-file string. */
const char *optdef_left_out(const struct optdef *d)
{
    return d->arg == OPT_INT ? "1" : d->id == O_REPLACE ? "{}" : "";
}

/* GNU parallel's options eventor leaves out (terminals, tmux, SQL
 * queues, the perl script's own copy): named so, not taken for typos. */
int optdef_gnu_only(const char *name, size_t len)
{
    static const char *const names[] = {
        "embed", "latest-line", "ll", "session",
        "shell-completion", "shellcompletion", "sql", "sqlandworker",
        "sql-and-worker", "sqlmaster", "sql-master", "sqlworker",
        "sql-worker", "tmux", "tmuxpane"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k]) == len && !strncmp(names[k], name, len))
            return 1;
    return 0;
}
