/* GNU parallel's --results and --files: a job's output kept in files rather
 * than printed. --results DIR: DIR/<name>/<value>/.../{seq,stdout,stderr}
 * (a name per column: its number, or its --header name); --results with
 * placeholders: the expansion names the file (NAME, NAME.err, NAME.seq),
 * or the directory when it ends in '/'; NAME.csv, .tsv, .json: one record
 * per job in one file ("-.csv": on stdout). --files prints the name of the
 * file holding each job's stdout ($TMPDIR/parXXXXX.par without --results). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct opts *O;
static struct tmpl *rt; /* --results NAME's template (values unquoted) */
static int table_fd = -1; /* .csv .tsv .json */
static int header_done;

int results_init(const struct opts *o)
{
    O = o;
    srandom((unsigned)getpid() ^ (unsigned)time(NULL)); /* --files' names */
    if (!o->results)
        return 0;
    if (o->results_kind >= RES_CSV) {
        const char *r = o->results;
        if (!strcmp(r, "-.csv") || !strcmp(r, "-.tsv") || !strcmp(r, "-.json"))
            table_fd = dup(1);
        else
            table_fd = open(r, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (table_fd < 0) {
            cli_error("Cannot open results file `%s': %s.", r, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!(rt = tmpl_compile_text(o, o->results))) {
        cli_error("out of memory");
        return -1;
    }
    return 0;
}

void results_finish(void)
{
    if (table_fd >= 0)
        close(table_fd);
    table_fd = -1;
    tmpl_free(rt);
    rt = NULL;
}

int results_own_files(void)
{
    return O && ((O->results && O->results_kind < RES_CSV) || O->files);
}

/* A value as a directory name: \ tab NUL / become \\ \t \0 \_ (GNU's). */
static void put_escaped(char **w, const char *v)
{
    for (; *v; v++) {
        const char *e = *v == '\\' ? "\\\\" : *v == '\t' ? "\\t"
                        : *v == '/' ? "\\_" : NULL;
        *w = e ? stpcpy(*w, e) : (**w = *v, *w + 1);
    }
}

/* Perl's numeric value of a name (its leading number), for the order. */
static double numval(const char *s)
{
    return strtod(s, NULL);
}

static const char *col_name(size_t col, char *num)
{
    const char *h = header_name(col);
    if (h)
        return h;
    sprintf(num, "%zu", col);
    return num;
}

/* GNU's header_indexes_sorted: columns by name, numerically, then as
 * strings. */
static void sort_cols(size_t *idx, size_t n)
{
    char a[24], b[24];
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            const char *x = col_name(idx[k - 1], a), *y = col_name(idx[k], b);
            double dx = numval(x), dy = numval(y);
            if (dx < dy || (dx == dy && strcmp(x, y) <= 0))
                break;
            size_t t = idx[k];
            idx[k] = idx[k - 1];
            idx[k - 1] = t;
        }
}

/* DIR/name/value/name/value.../ for records r[0..n). */
static char *tree_path(const struct record *r, size_t n)
{
    size_t len = strlen(O->results) + 3;
    for (size_t k = 0; k < n; k++)
        for (size_t c = 0; c < r[k].nval; c++)
            len += 2 * strlen(r[k].val[c]) + 32 +
                   (header_name(c + 1) ? strlen(header_name(c + 1)) : 0);
    char *p = malloc(len), *w = p, num[24];
    size_t *idx = NULL;
    int first = 1;
    if (!p)
        return NULL;
    w = stpcpy(stpcpy(w, O->results), "/");
    for (size_t k = 0; k < n; k++) {
        free(idx);
        if (!(idx = malloc((r[k].nval + 1) * sizeof *idx))) {
            free(p);
            return NULL;
        }
        for (size_t c = 0; c < r[k].nval; c++)
            idx[c] = c + 1;
        sort_cols(idx, r[k].nval);
        for (size_t c = 0; c < r[k].nval; c++, first = 0) {
            w = stpcpy(stpcpy(w, first ? "" : "/"), col_name(idx[c], num));
            *w++ = '/';
            put_escaped(&w, r[k].val[idx[c] - 1]);
        }
    }
    free(idx);
    strcpy(w, "/");
    return p;
}

/* Where job j's files go (j->res_path: a directory ending in '/', or the
 * stdout file's name), and the values for a .csv/.json record. */
int results_prepare(struct job *j, const struct record *r, size_t n)
{
    if (!O->results)
        return 0;
    if (O->results_kind >= RES_CSV) {
        j->vals = malloc((size_t)1 * sizeof *j->vals);
        for (size_t k = 0; j->vals && k < n; k++)
            for (size_t c = 0; c < r[k].nval; c++) {
                char **v = realloc(j->vals, (j->nvals + 2) * sizeof *v);
                if (!v)
                    return -1;
                j->vals = v;
                if (!(j->vals[j->nvals] = strdup(r[k].val[c])))
                    return -1;
                j->nvals++;
            }
        return j->vals ? 0 : -1;
    }
    char *out, **argv = NULL;
    if (tmpl_expand(rt, r, n, j->seq, j->slot, &out, &argv) < 0)
        return -1;
    argv_free(argv);
    if (strcmp(out, O->results)) {
        j->res_path = out;
        return 0;
    }
    free(out);
    return (j->res_path = tree_path(r, n)) ? 0 : -1;
}

/* mkdir -p of path's directories (up to its last '/'). */
static int make_dirs(const char *path)
{
    char *p = strdup(path);
    if (!p)
        return -1;
    for (char *s = p + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        if (mkdir(p, 0777) < 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

static int open_out(const char *name)
{
    return open(name, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
}

/* --files without --results: $TMPDIR/parXXXXX.par, made anew. */
static int par_file(char **name)
{
    static const char al[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t len = strlen(O->tmpdir);
    if (!(*name = malloc(len + 16)))
        return -1;
    for (int tries = 0; tries < 1000; tries++) {
        char *w = stpcpy(stpcpy(*name, O->tmpdir), "/par");
        for (int i = 0; i < 5; i++)
            *w++ = al[random() % (sizeof al - 1)];
        strcpy(w, ".par");
        int fd = open(*name, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                      0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* The seq file, then stdout's and stderr's; -1 after an error line. */
static int tree_files(struct job *j)
{
    size_t len = strlen(j->res_path);
    int dir = len && j->res_path[len - 1] == '/';
    char *seq = malloc(len + 8), *err = malloc(len + 8);
    j->out_name = malloc(len + 8);
    const char *bad = NULL;
    if (!seq || !err || !j->out_name)
        goto out;
    strcpy(stpcpy(seq, j->res_path), dir ? "seq" : ".seq");
    strcpy(stpcpy(err, j->res_path), dir ? "stderr" : ".err");
    strcpy(stpcpy(j->out_name, j->res_path), dir ? "stdout" : "");
    if (make_dirs(j->res_path) < 0)
        bad = j->res_path;
    int fd = bad ? -1 : open_out(seq);
    if (!bad && (fd < 0 || dprintf(fd, "%llu", (unsigned long long)j->seq) < 0))
        bad = seq;
    if (fd >= 0)
        close(fd);
    if (!bad && (j->out_fd = open_out(j->out_name)) < 0)
        bad = j->out_name;
    if (!bad && (j->err_fd = open_out(err)) < 0)
        bad = err;
    if (bad)
        cli_error("Cannot write to `%s': %s.", bad, strerror(errno));
out:
    free(seq);
    free(err);
    return bad || !j->out_name ? -1 : 0;
}

/* --files alone: stdout in a .par file; stderr, as GNU's, is dropped. */
static int par_files(struct job *j)
{
    if ((j->out_fd = par_file(&j->out_name)) < 0 ||
        (j->err_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
        cli_error("cannot create a file in %s: %s", O->tmpdir, strerror(errno));
        return -1;
    }
    return 0;
}

int results_files(struct job *j)
{
    int rc = O->results && O->results_kind < RES_CSV ? tree_files(j)
                                                      : par_files(j);
    if (rc < 0) {
        if (j->out_fd >= 0)
            close(j->out_fd);
        if (j->err_fd >= 0)
            close(j->err_fd);
        j->out_fd = j->err_fd = -1;
    }
    return rc;
}

/* Perl's magic ++ of "V1": V9 -> W0, Z9 -> AA0. */
static void perl_incr(char *s)
{
    for (size_t i = strlen(s); i-- > 0;) {
        char *c = &s[i];
        if (*c == '9' || *c == 'z' || *c == 'Z') {
            *c = *c == '9' ? '0' : *c == 'z' ? 'a' : 'A';
            if (i == 0) {
                memmove(s + 1, s, strlen(s) + 1);
                s[0] = *c == '0' ? '1' : *c;
            }
            continue;
        }
        ++*c;
        return;
    }
}

/* One CSV field, quoted as GNU's combine_ref: when it holds a quote
 * (doubled), a blank, the separator or a NUL. */
static void csv_field(FILE *f, const char *s, size_t len, int first)
{
    char sep = O->results_kind == RES_TSV ? '\t' : ',';
    int quote = memchr(s, 0, len) != NULL;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == '"' || s[i] == sep || strchr(" \t\n\r\f\v", s[i]);
    if (!first)
        fputc(sep, f);
    if (!quote) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

static void csv_str(FILE *f, const char *s)
{
    csv_field(f, s, strlen(s), 0);
}

void json_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == '"')
            fprintf(f, "\\%c", c);
        else if (c < 32)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void csv_header(FILE *f, size_t nvals)
{
    static const char *const cols[] = {"Seq", "Host", "Starttime",
        "JobRuntime", "Send", "Receive", "Exitval", "Signal", "Command"};
    char v[32] = "V1";
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        csv_field(f, cols[i], strlen(cols[i]), i == 0);
    for (size_t i = 0; i < nvals; i++, perl_incr(v)) {
        const char *h = header_name(i + 1);
        csv_str(f, O->header ? h ? h : "" : v);
    }
    fprintf(f, "%cStdout%cStderr\n", O->results_kind == RES_TSV ? '\t' : ',',
            O->results_kind == RES_TSV ? '\t' : ',');
}

/* The fd's size bytes (malloc'd; "" when fd is -1). */
static char *slurp_fd(int fd, long long size)
{
    char *b = malloc((size_t)(fd < 0 ? 0 : size) + 1);
    long long got = 0;
    while (b && fd >= 0 && got < size) {
        ssize_t n = pread(fd, b + got, (size_t)(size - got), got);
        if (n <= 0)
            break;
        got += n;
    }
    if (b)
        b[got] = 0;
    return b;
}

/* j's record in the .csv/.tsv/.json file: 0, or -1 and errno. */
static int table_record(struct job *j)
{
    char *out = slurp_fd(j->out_fd, j->out_bytes);
    char *err = slurp_fd(j->err_fd, j->err_bytes);
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = out && err ? open_memstream(&buf, &blen) : NULL;
    if (!f) {
        free(out);
        free(err);
        errno = ENOMEM;
        return -1;
    }
    if (O->results_kind == RES_JSON) {
        fprintf(f, "{ \"Seq\": %llu, \"Host\": \":\", \"Starttime\": %.3f, "
                   "\"JobRuntime\": %.3f, \"Send\": 0, \"Receive\": %lld, "
                   "\"Exitval\": %d, \"Signal\": %d, \"Command\": ",
                (unsigned long long)j->seq, j->start, j->runtime,
                j->out_bytes, j->exitval, j->sig);
        json_string(f, j->cmd, strlen(j->cmd));
        fputs(", \"V\": [ ", f);
        for (size_t i = 0; i < j->nvals; i++) {
            fputs(i ? "," : "", f);
            json_string(f, j->vals[i], strlen(j->vals[i]));
        }
        fputs(" ], \"Stdout\": ", f);
        json_string(f, out, (size_t)j->out_bytes);
        fputs(", \"Stderr\": ", f);
        json_string(f, err, (size_t)j->err_bytes);
        fputs(" }\n", f);
    } else {
        if (!header_done++)
            csv_header(f, j->nvals);
        char sep = O->results_kind == RES_TSV ? '\t' : ',';
        fprintf(f, "%llu%c:%c%.3f%c%.3f%c0%c%lld%c%d%c%d",
                (unsigned long long)j->seq, sep, sep, j->start, sep,
                j->runtime, sep, sep, j->out_bytes, sep, j->exitval, sep,
                j->sig);
        csv_str(f, j->cmd);
        for (size_t i = 0; i < j->nvals; i++)
            csv_str(f, j->vals[i]);
        csv_field(f, out, (size_t)j->out_bytes, 0);
        csv_field(f, err, (size_t)j->err_bytes, 0);
        fputc('\n', f);
    }
    fclose(f);
    free(out);
    free(err);
    int rc = output_write(table_fd, buf, blen);
    free(buf);
    return rc;
}

int results_emit(struct job *j)
{
    if (O->files && j->out_name) {
        int rc = 0;
        if (j->tag)
            rc = output_write(1, j->tag, strlen(j->tag)) | output_write(1, "\t", 1);
        return rc | output_write(1, j->out_name, strlen(j->out_name)) |
               output_write(1, "\n", 1);
    }
    if (table_fd >= 0)
        return table_record(j);
    return 0;
}
