/* The joblog, in GNU parallel's format, and what --resume and
 * --resume-failed read back from it. Each line is one write() on an
 * O_APPEND descriptor, made after the job's output is written, so a crash
 * (even kill -9) leaves whole lines naming only jobs whose output is out.
 * The space of a job's line is reserved (fallocate) before its output is
 * written, so a disk that fills never leaves printed jobs unlogged: the
 * job is then neither printed nor logged, and the run stops. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_fd = -1;
static const char *log_name;
static off_t log_end;       /* the log's size: where the next line goes */
static off_t reserved_end;  /* space allocated up to here */
static int can_reserve = 1; /* 0: the log has no fallocate */
static int log_broken;      /* a line could not be written: no more */
static char *line;          /* the line of the job being logged */
static size_t line_len, line_cap;
static const char *log_host; /* joblog_host's, or NULL: the sshlogin */
static off_t held;          /* reserved for lines made and not written */
static unsigned char *skip; /* bitmap by seq: already done */
static uint64_t skip_cap;   /* bits */

const char joblog_header[] =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

static int mark_done(uint64_t seq)
{
    if (seq >= skip_cap) {
        uint64_t cap = skip_cap ? skip_cap : 4096;
        while (cap <= seq)
            cap *= 2;
        unsigned char *s = realloc(skip, cap / 8);
        if (!s)
            return -1;
        memset(s + skip_cap / 8, 0, (cap - skip_cap) / 8);
        skip = s;
        skip_cap = cap;
    }
    skip[seq / 8] |= (unsigned char)(1u << (seq % 8));
    return 0;
}

int joblog_skip(uint64_t seq)
{
    return seq < skip_cap && (skip[seq / 8] >> (seq % 8) & 1);
}

/* Read an old log: which jobs are done (--resume: all listed; with
 * --resume-failed: those that succeeded). */
static int read_old(const struct opts *o, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        char *f1 = line, *end;
        uint64_t seq = strtoull(f1, &end, 10);
        if (end == f1 || *end != '\t')
            continue; /* the header, or a line we do not understand */
        char *field[8] = {0};
        int k = 0;
        for (char *p = line; k < 8 && (p = strchr(p, '\t')); p++)
            field[k++] = p + 1;
        if (k < 7)
            continue;
        int exitval = atoi(field[5]), sig = atoi(field[6]);
        if ((!o->resume_failed || (exitval == 0 && sig == 0)) &&
            mark_done(seq) < 0) {
            rc = -1;
            break;
        }
    }
    free(line);
    if (ferror(f))
        rc = -1;
    return rc;
}

int joblog_open(const struct opts *o)
{
    if (!o->joblog || o->dry_run) /* GNU parallel: no log of a dry run */
        return 0;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND;
    if (o->resume || o->resume_failed) {
        FILE *f = fopen(o->joblog, "re");
        if (f) {
            int rc = read_old(o, f);
            int e = errno;
            fclose(f);
            if (rc < 0) {
                cli_error("cannot read joblog %s: %s", o->joblog, strerror(e));
                return -1;
            }
        } else if (errno != ENOENT) {
            cli_error("cannot read joblog %s: %s", o->joblog, strerror(errno));
            return -1;
        }
    } else if (!o->joblog_append) {
        flags |= O_TRUNC;
    }
    /* GNU's --joblog -: the lines on stdout, after each job's output */
    log_fd = strcmp(o->joblog, "-") ? open(o->joblog, flags, 0666)
                                    : fcntl(1, F_DUPFD_CLOEXEC, 3);
    struct stat st;
    if (log_fd < 0 || fstat(log_fd, &st) < 0) {
        cli_error("cannot write joblog %s: %s", o->joblog, strerror(errno));
        return -1;
    }
    if (st.st_size == 0 && !o->joblog_append && /* +FILE: no header */
        write(log_fd, joblog_header, strlen(joblog_header)) !=
            (ssize_t)strlen(joblog_header)) {
        cli_error("cannot write joblog %s: %s", o->joblog, strerror(errno));
        return -1;
    }
    log_name = o->joblog;
    log_end = S_ISREG(st.st_mode) ? lseek(log_fd, 0, SEEK_END) : 0;
    reserved_end = log_end;
    can_reserve = S_ISREG(st.st_mode); /* /dev/null, a pipe: no space */
    return 0;
}

void joblog_host(const char *host)
{
    log_host = host;
}

static void log_failed(uint64_t seq, int e, const char *what)
{
    if (!log_broken)
        cli_error("Error: cannot write joblog %s: %s (job %llu %s; "
                  "no more jobs are started)", log_name, strerror(e),
                  (unsigned long long)seq, what);
    log_broken = 1;
}

/* j's line into line / line_len. */
static int format_line(const struct job *j)
{
    char head[512]; /* Host: the job's --sshlogin, or ':' */
    int hl = snprintf(head, sizeof head, "%llu\t%.300s\t%.3f\t%10.3f\t%zu\t%lld\t%d\t%d\t",
                      (unsigned long long)j->seq,
                      log_host ? log_host : sshlogin_name(j->slot),
                      j->start, j->runtime,
                      j->in.part_len ? 0 : j->in.len - j->in.unsent, /* --pipepart: 0 */
                      j->out_bytes, j->exitval, j->sig);
    size_t cl = strlen(j->cmd), need = (size_t)hl + cl + 1;
    if (need > line_cap) {
        char *l = realloc(line, need);
        if (!l)
            return -1;
        line = l;
        line_cap = need;
    }
    memcpy(line, head, (size_t)hl);
    for (size_t i = 0; i < cl; i++) /* as GNU parallel: newlines become NUL */
        line[hl + (int)i] = j->cmd[i] == '\n' ? 0 : j->cmd[i];
    line[need - 1] = '\n';
    line_len = need;
    return 0;
}

/* Room for len more bytes past the lines held: 0, or -1 (reported). */
static int reserve(size_t len, uint64_t seq)
{
    off_t need = log_end + held + (off_t)len;
    if (!can_reserve || need <= reserved_end)
        return 0;
    /* 64 KiB at a time (a few hundred lines), or just this line */
    off_t from = log_end + held;
    off_t chunk = len > 65536 ? (off_t)len : 65536;
    if (fallocate(log_fd, FALLOC_FL_KEEP_SIZE, from, chunk) == 0) {
        reserved_end = from + chunk;
        return 0;
    }
    if (errno == ENOSPC &&
        fallocate(log_fd, FALLOC_FL_KEEP_SIZE, from, (off_t)len) == 0) {
        reserved_end = need;
        return 0;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
        can_reserve = 0;
        return 0;
    }
    log_failed(seq, errno, "not printed, --resume runs it again");
    return -1;
}

int joblog_reserve(const struct job *j)
{
    if (log_fd < 0)
        return 0;
    if (log_broken)
        return -1;
    if (format_line(j) < 0) {
        log_failed(j->seq, ENOMEM, "not printed");
        return -1;
    }
    return reserve(line_len, j->seq);
}

/* One write() of l (len bytes, a whole line): 0, or -1 (reported). */
static int put(const char *l, size_t len, uint64_t seq)
{
    ssize_t n = write(log_fd, l, len);
    if (n == (ssize_t)len) {
        log_end += n;
        return 0;
    }
    int e = n < 0 ? errno : ENOSPC;
    if (n > 0 && ftruncate(log_fd, log_end) < 0) /* no torn last line */
        e = errno;
    log_failed(seq, e, "printed but not logged: --resume runs it again");
    return -1;
}

int joblog_write(const struct job *j)
{
    if (log_fd < 0)
        return 0;
    if (log_broken || format_line(j) < 0) { /* again: emits may interleave */
        log_failed(j->seq, ENOMEM, "printed but not logged");
        return -1;
    }
    return put(line, line_len, j->seq);
}

char *joblog_line(const struct job *j, size_t *len)
{
    if (format_line(j) < 0)
        return NULL;
    char *l = malloc(line_len);
    if (l)
        memcpy(l, line, line_len);
    *len = line_len;
    if (l && log_fd >= 0 && !log_broken && reserve(line_len, j->seq) == 0)
        held += (off_t)line_len;
    return l;
}

int joblog_put(const char *l, size_t len)
{
    held -= held >= (off_t)len ? (off_t)len : held;
    if (log_fd < 0)
        return 0;
    if (log_broken)
        return -1;
    return put(l, len, strtoull(l, NULL, 10));
}

void joblog_close(void)
{
    if (log_fd >= 0 && reserved_end > log_end) /* give the reserve back */
        (void)!fallocate(log_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         log_end, reserved_end - log_end);
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    free(line);
    line = NULL;
    line_cap = 0;
    held = 0;
    free(skip);
    skip = NULL;
    skip_cap = 0;
}

int joblog_append_file(int fd)
{
    if (log_fd < 0)
        return 0;
    FILE *f = fdopen(dup(fd), "re");
    if (!f)
        return -1;
    rewind(f);
    char *l = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0, first = 1;
    while ((n = getline(&l, &cap, f)) > 0) {
        if (first-- > 0)
            continue; /* its header */
        if (write(log_fd, l, (size_t)n) != n) {
            cli_error("cannot write joblog %s: %s", log_name, strerror(errno));
            rc = -1;
            break;
        }
    }
    free(l);
    fclose(f);
    return rc;
}
