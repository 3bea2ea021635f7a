/* --line-buffer: a job's stdout and stderr are pipes read on eventor's
 * loop while it runs, and every complete line is written to eventor's
 * stdout or stderr at once (after the --tag), so lines of different jobs
 * may interleave but a line is never split; a last line without its
 * newline is written when the job's output ends. GNU parallel's meaning.
 * With --color (--ctag) each read's complete lines are coloured as GNU's
 * print_linebuffered colours them (see colored). */
#include "cli.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct reader {
    struct job *j;
    int fd, to;        /* the pipe's read end; eventor's 1 or 2 */
    long long bytes;   /* read in all */
    const char *color; /* --color: color_of's, else NULL */
};

/* -k: hold [s, s + n) until it is j's turn. */
static int hold(struct job *j, int i, const char *s, size_t n)
{
    char *h = realloc(j->held[i], j->held_len[i] + n);
    if (!h)
        return -1;
    memcpy(h + j->held_len[i], s, n);
    j->held[i] = h;
    j->held_len[i] += n;
    return 0;
}

int linebuf_flush(struct job *j)
{
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        if (j->held_len[i])
            rc |= output_write(i + 1, j->held[i], j->held_len[i]);
        free(j->held[i]);
        j->held[i] = NULL;
        j->held_len[i] = 0;
    }
    return rc;
}

/* Write [s, s + n) after tag (j's, or NULL), or as it is; with -k held
 * until j is the oldest job (GNU parallel: the oldest one's lines come out
 * live). */
static void put_tagged(struct job *j, int to, const char *s, size_t n,
                       const char *tag)
{
    uint64_t head = output_head();
    if (head && head != j->seq) {
        if ((tag && (hold(j, to - 1, tag, strlen(tag)) < 0 ||
                     hold(j, to - 1, "\t", 1) < 0)) ||
            hold(j, to - 1, s, n) < 0)
            cli_error("out of memory: output of job %llu lost",
                      (unsigned long long)j->seq);
        return;
    }
    if (head)
        linebuf_flush(j);
    if (tag) {
        output_write(to, tag, strlen(tag));
        output_write(to, "\t", 1);
    }
    output_write(to, s, n);
}

static void put(struct job *j, int to, const char *s, size_t n)
{
    put_tagged(j, to, s, n, j->tag);
}

/* --color: [s, s + n), what a read completed (its end a line end), as GNU's
 * print_linebuffered writes it: the colour and tag, the text without its
 * last \n, each \n and \r in it as reset, itself, colour and tag, then
 * reset and \n (so a read ending in \r gets a \n added, as GNU's does). */
static char *color_tag(char *o, const char *color, const char *tag)
{
    o = stpcpy(o, color);
    return tag ? stpcpy(stpcpy(o, tag), "\t") : o; /* "": the \t alone */
}

static void colored(struct reader *r, const char *s, size_t n)
{
    const char *tag = r->j->tag, *reset = "\033[m";
    size_t clen = strlen(r->color) + (tag ? strlen(tag) + 1 : 0), ends = 0;
    n -= s[n - 1] == '\n'; /* Perl's chomp */
    for (size_t k = 0; k < n; k++)
        ends += s[k] == '\n' || s[k] == '\r';
    char *out = malloc(clen + n + ends * (4 + clen) + 5), *o = out;
    if (!out) {
        cli_error("out of memory: output of job %llu lost",
                  (unsigned long long)r->j->seq);
        return;
    }
    o = color_tag(o, r->color, tag);
    for (size_t k = 0; k < n; k++) {
        if (s[k] != '\n' && s[k] != '\r') {
            *o++ = s[k];
            continue;
        }
        o = stpcpy(o, reset);
        *o++ = s[k];
        o = color_tag(o, r->color, tag);
    }
    o = stpcpy(o, reset);
    *o++ = '\n';
    put_tagged(r->j, r->to, out, (size_t)(o - out), NULL);
    free(out);
}

static void *read_lines(void *arg)
{
    struct reader *r = arg;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    for (ssize_t n; buf; len += (size_t)n) {
        if (len == cap) { /* a line longer than the buffer: grow it */
            char *b = realloc(buf, cap * 2);
            if (!b)
                break;
            buf = b;
            cap *= 2;
        }
        size_t want = cap - len; /* --color: GNU's reads, as a read's end
                                    decides where a \r ends a line */
        n = evt_read(r->fd, buf + len, r->color && want > 60800 ? 60800 : want,
                     -1);
        if (n <= 0)
            break;
        r->bytes += n;
        char *end = memrchr(buf + len, '\n', (size_t)n);
        if (!end && r->color) /* GNU's: \r when the read has no \n */
            end = memrchr(buf + len, '\r', (size_t)n);
        if (!end)
            continue;
        size_t upto = (size_t)(end - buf) + 1, done = 0;
        if (r->color) {
            colored(r, buf, upto);
            done = upto;
        }
        while (done < upto) { /* each line after the tag */
            char *nl = memchr(buf + done, '\n', upto - done);
            size_t stop = !r->j->tag ? upto : (size_t)(nl - buf) + 1;
            put(r->j, r->to, buf + done, stop - done);
            done = stop;
        }
        memmove(buf, buf + upto, len + (size_t)n - upto);
        len -= upto;
    }
    if (buf && len)
        put(r->j, r->to, buf, len);
    free(buf);
    return NULL;
}

struct linebuf {
    struct reader r[2];
    evt_co_t *co[2];
};

int linebuf_open(struct job *j, const char *color)
{
    struct linebuf *lb = calloc(1, sizeof *lb);
    int p[2][2] = {{-1, -1}, {-1, -1}};
    if (!lb || pipe2(p[0], O_CLOEXEC) < 0 || pipe2(p[1], O_CLOEXEC) < 0) {
        int e = errno;
        for (int i = 0; i < 4; i++)
            if (p[i / 2][i % 2] >= 0)
                close(p[i / 2][i % 2]);
        free(lb);
        errno = e;
        return -1;
    }
    for (int i = 0; i < 2; i++)
        lb->r[i] = (struct reader){j, p[i][0], i + 1, 0, color};
    j->out_fd = p[0][1];
    j->err_fd = p[1][1];
    j->lb = lb;
    return 0;
}

void linebuf_run(struct job *j)
{
    struct linebuf *lb = j->lb;
    close(j->out_fd); /* the job has its copies: EOF when it is done */
    close(j->err_fd);
    j->out_fd = j->err_fd = -1;
    for (int i = 0; i < 2; i++)
        lb->co[i] = evt_spawn(read_lines, &lb->r[i]);
}

void linebuf_end(struct job *j)
{
    struct linebuf *lb = j->lb;
    for (int i = 0; i < 2; i++) {
        if (lb->co[i])
            evt_join(lb->co[i], -1, NULL);
        else /* no coroutine: read it here */
            read_lines(&lb->r[i]);
        evt_close(lb->r[i].fd);
    }
    j->out_bytes += lb->r[0].bytes;
    j->err_bytes += lb->r[1].bytes;
    free(lb);
    j->lb = NULL;
}
