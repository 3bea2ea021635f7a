/* The joblog, in GNU parallel's format, and what --resume and
 * --resume-failed read back from it. Each line is one write() on an
 * O_APPEND descriptor, made after the job's output is written, so a crash
 * (even kill -9) leaves whole lines naming only jobs whose output is out. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_fd = -1;
static unsigned char *skip; /* bitmap by seq: already done */
static uint64_t skip_cap;   /* bits */

static const char header[] =
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
    log_fd = open(o->joblog, flags, 0666);
    struct stat st;
    if (log_fd < 0 || fstat(log_fd, &st) < 0) {
        cli_error("cannot write joblog %s: %s", o->joblog, strerror(errno));
        return -1;
    }
    if (st.st_size == 0 && !o->joblog_append && /* +FILE: no header */
        write(log_fd, header, sizeof header - 1) != (ssize_t)sizeof header - 1) {
        cli_error("cannot write joblog %s: %s", o->joblog, strerror(errno));
        return -1;
    }
    return 0;
}

void joblog_write(const struct job *j)
{
    if (log_fd < 0)
        return;
    char head[256];
    int hl = snprintf(head, sizeof head, "%llu\t:\t%.3f\t%10.3f\t%zu\t%lld\t%d\t%d\t",
                      (unsigned long long)j->seq, j->start, j->runtime,
                      j->in.part_len ? 0 : j->in.len, /* --pipepart: 0 */
                      j->out_bytes, j->exitval, j->sig);
    size_t cl = strlen(j->cmd);
    char *line = malloc((size_t)hl + cl + 1);
    if (!line)
        return;
    memcpy(line, head, (size_t)hl);
    for (size_t i = 0; i < cl; i++) /* as GNU parallel: newlines become NUL */
        line[hl + (int)i] = j->cmd[i] == '\n' ? 0 : j->cmd[i];
    line[(size_t)hl + cl] = '\n';
    ssize_t n = write(log_fd, line, (size_t)hl + cl + 1);
    (void)n; /* a full disk loses log lines, never jobs */
    free(line);
}

void joblog_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
    free(skip);
    skip = NULL;
    skip_cap = 0;
}
