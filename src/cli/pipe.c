/* --pipe: standard input cut into blocks at record
 * boundaries exactly as GNU parallel's spreadstdin cuts it, each block (with
 * the --header repeated) written into one job's stdin through a pipe with
 * backpressure (evt_write), so memory stays near (-j + 1) blocks. Its options
 * are pipeopts.c's. */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define TWO_GB 2147483647L /* GNU parallel's largest block */

static struct {
    int fd;
    char *buf;          /* read, not yet passed to a job */
    size_t len, cap;
    long bs;            /* the block size, grown for long records */
    char *sep;          /* recend then recstart */
    size_t sep_len, end_len;
    char *header;       /* --header's match, repeated to every block */
    size_t header_len;
    int eof, done;
    int64_t size;       /* --pipepart: the file's, */
    int64_t cur, probe; /* the next part's start, where to seek its end */
    int in_round;       /* a read_block's chunks are being handed out */
    int passed;         /* without -N: this round's one cut is done */
    int written;        /* a chunk was handed out this round */
    int regexp;         /* --regexp: piperegex.c finds the cuts */
    int group;          /* --group-by: the separators go, S.fd its pipe */
    int rrs;            /* --rrs: strip_seps on each block */
    int64_t timeout;    /* --block-timeout (ms, 0: none) */
} S = {.fd = -1};

/* --recstart/--recend's escapes, as GNU's: \0 \r \n \t \' \" \\ only. */
static char *rec_escapes(const char *s, size_t *len)
{
    char *out = malloc(strlen(s) + 1), *p = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        const char *e = s[0] == '\\' && s[1] ? strchr("0rnt'\"\\", s[1]) : NULL;
        if (!e) {
            *p++ = *s;
            continue;
        }
        static const char to[] = {'\0', '\r', '\n', '\t', '\'', '"', '\\'};
        *p++ = to[e - "0rnt'\"\\"];
        s++;
    }
    *len = (size_t)(p - out);
    return out;
}

/* Grow the buffer to hold want bytes. */
static int reserve(size_t want)
{
    if (want <= S.cap)
        return 0;
    size_t cap = S.cap ? S.cap : 65536;
    while (cap < want)
        cap *= 2;
    char *b = realloc(S.buf, cap + 1);
    if (!b)
        return -1;
    S.buf = b;
    S.cap = cap;
    return 0;
}

/* Append up to n bytes, waiting until deadline; the count read, 0 at
 * end, -1 on an error, -2 when the deadline passed. */
static ssize_t read_some(size_t n, int64_t deadline)
{
    if (reserve(S.len + n) < 0) {
        cli_error("out of memory");
        return -1;
    }
    ssize_t r = evt_read(S.fd, S.buf + S.len, n, deadline);
    if (r < 0 && errno == ETIMEDOUT && deadline >= 0)
        return -2;
    if (r < 0) {
        cli_error("cannot read the --pipe input: %s", strerror(errno));
        return -1;
    }
    S.len += (size_t)r;
    S.buf[S.len] = 0;
    return r;
}

/* GNU's read_block: fill the buffer up to the next multiple of --block;
 * with --block-timeout, what came before it passed (GNU's alarm over the
 * whole read: the block is then cut as usual, at its last record end). */
static int read_block(void)
{
    size_t want = (size_t)S.bs - S.len % (size_t)S.bs;
    int64_t deadline = S.timeout ? evt_now() + S.timeout : -1;
    ssize_t r;
    do {
        if ((r = read_some(want, deadline)) == -2)
            return 0; /* not at the end */
        if (r < 0)
            return -1;
        want -= (size_t)r;
    } while (want && r);
    S.eof = r == 0;
    return 0;
}

/* --header's regular expression (POSIX extended, with Perl's \n \t \r
 * and '.' not matching a newline, as GNU parallel's Perl reads it). */
static int header_regex(regex_t *re, const char *s)
{
    char *p = malloc(strlen(s) + 1), *q = p;
    if (!p) {
        cli_error("out of memory");
        return -1;
    }
    for (const char *c = s; *c; c++) {
        const char *e = c[0] == '\\' && c[1] ? strchr("ntr", c[1]) : NULL;
        *q++ = e ? "\n\t\r"[e - "ntr"] : *c;
        c += e != NULL;
    }
    *q = 0;
    int rc = regcomp(re, p, REG_EXTENDED | REG_NEWLINE);
    free(p);
    if (rc)
        cli_error("--header %s: not a valid regular expression", s);
    return rc ? -1 : 0;
}

/* GNU's find_header: read --block at a time until the header matches. */
static int find_header(const struct opts *o)
{
    long lines = 0;
    regex_t re;
    if (!strcmp(o->header, ":"))
        lines = 1;
    else if (optval_digits(o->header))
        lines = atol(o->header);
    else if (header_regex(&re, o->header) < 0)
        return -1;
    size_t hlen = 0;
    int found = 0;
    while (!found) {
        ssize_t r = read_some((size_t)S.bs, -1);
        if (r <= 0) {
            if (!lines)
                regfree(&re);
            return (int)r;
        }
        if (lines) {
            char *p = S.buf;
            long k = 0;
            while (k < lines && (p = memchr(p, '\n', S.len - (size_t)(p - S.buf))))
                p++, k++;
            if ((found = k == lines))
                hlen = (size_t)(p - S.buf);
        } else {
            regmatch_t m;
            found = !regexec(&re, S.buf, 1, &m, 0) && m.rm_so == 0;
            hlen = found ? (size_t)m.rm_eo : 0;
        }
    }
    if (!lines)
        regfree(&re);
    if (!(S.header = malloc(hlen ? hlen : 1)))
        return -1;
    memcpy(S.header, S.buf, hlen);
    S.header_len = hlen;
    memmove(S.buf, S.buf + hlen, S.len - hlen + 1);
    S.len -= hlen;
    return 0;
}

/* --pipepart's file: regular, its size, and the block size (-N: N blocks
 * a job slot, as GNU's 1 + size / slots / N). */
static int part_open(const struct opts *o)
{
    const char *path = o->src[0].path;
    struct stat st;
    if ((S.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(S.fd, &st)) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        cli_error("--pipepart only works on seekable files, not streams/"
                  "pipes: %s", path);
        return -1;
    }
    S.size = st.st_size;
    if (o->block < 0)
        S.bs = 1 + (long)(S.size / o->jobs / -o->block);
    return 0;
}

int pipe_open(const struct opts *o)
{
    S.fd = 0;
    S.bs = o->block;
    if (o->pipe == 2 && part_open(o) < 0)
        return -1;
    int64_t skipped = o->skip_first_line ? pipesep_skip_line(S.fd) : 0;
    if (skipped < 0)
        return -1;
    size_t start_len = 0;
    char *end = rec_escapes(o->recend ? o->recend : o->recstart ? "" : "\\n",
                            &S.end_len);
    char *start = rec_escapes(o->recstart ? o->recstart : "", &start_len);
    S.sep = malloc(S.end_len + start_len + 1);
    if (!end || !start || !S.sep) {
        free(end);
        free(start);
        cli_error("out of memory");
        return -1;
    }
    memcpy(S.sep, end, S.end_len);
    memcpy(S.sep + S.end_len, start, start_len);
    S.sep_len = S.end_len + start_len;
    free(end);
    free(start);
    S.rrs = o->rrs;
    S.timeout = o->block_timeout;
    if ((S.regexp = o->pipe_regexp) && pipere_open(o->recstart, o->recend) < 0)
        return -1;
    if ((S.group = o->group_by != NULL)) { /* a record: one group */
        const char *sep;
        if ((S.fd = pipegroup_open(o, &S.header, &S.header_len, &sep)) < 0)
            return -1;
        free(S.sep);
        if (!(S.sep = strdup(sep))) {
            cli_error("out of memory");
            return -1;
        }
        S.sep_len = strlen(sep);
        S.end_len = 0;
    } else if (o->header && find_header(o) < 0)
        return -1;
    S.cur = (o->pipe == 2 ? skipped : 0) + (int64_t)S.header_len;
    S.probe = S.cur + S.bs;
    return 0;
}

/* Where the first separator at or after from ends in the file (GNU's
 * find_split_positions, 128 KiB reads at a time); -1 if none, -2. */
static int64_t part_find(int64_t from)
{
    S.len = 0;
    for (;;) {
        if (reserve(S.len + 131072) < 0)
            return -2;
        ssize_t r = pread(S.fd, S.buf + S.len, 131072, from + (off_t)S.len);
        if (r < 0) {
            cli_error("cannot read the --pipepart file: %s", strerror(errno));
            return -2;
        }
        if (r == 0)
            return -1;
        S.len += (size_t)r;
        if (S.regexp) {
            long at = pipere_part(S.buf, S.len);
            if (at != -1)
                return at < 0 ? -2 : from + at;
            continue;
        }
        char *p = memmem(S.buf, S.len, S.sep, S.sep_len);
        if (p)
            return from + (p - S.buf) + (int64_t)S.end_len;
    }
}

/* --pipepart's next part: the header, then a range of the file. */
static int part_next(struct pipe_block *blk)
{
    if (S.cur >= S.size)
        return 0;
    int64_t end = S.size;
    if (S.probe < S.size) {
        int64_t at = S.sep_len || S.regexp ? part_find(S.probe) : S.probe;
        if (at < -1)
            return -1;
        end = at >= 0 ? at : S.size;
        S.probe = at >= 0 ? at + S.bs : S.size;
    }
    char *h = malloc(S.header_len + 1);
    if (!h) {
        cli_error("out of memory");
        return -1;
    }
    if (S.header_len)
        memcpy(h, S.header, S.header_len);
    *blk = (struct pipe_block){h, S.header_len, S.cur, (size_t)(end - S.cur), 0};
    S.cur = end;
    return 1;
}

size_t pipe_header_len(void)
{
    return S.header_len;
}

void pipe_close(void)
{
    if (S.fd > 0)
        S.group ? evt_close(S.fd) : close(S.fd);
    pipegroup_close();
    free(S.buf);
    free(S.sep);
    free(S.header);
    pipere_close();
    piperr_close();
    pipetee_close();
    memset(&S, 0, sizeof S);
    S.fd = -1;
}

/* --rrs: the separators out of p[0, len) (pipesep.c, or piperegex.c's
 * with --regexp): the length left, -1 after an error line. */
static long strip_seps(char *p, size_t len)
{
    if (S.regexp) {
        long n = pipere_strip(p, len);
        return n < 0 ? -1 : n;
    }
    return (long)pipesep_strip(p, len, S.sep, S.sep_len, S.end_len);
}

/* The first chunk of len bytes, the header before it: *blk (malloc'd). */
static int cut(size_t len, struct pipe_block *blk)
{
    char *b = malloc(S.header_len + len);
    if (!b) {
        cli_error("out of memory");
        return -1;
    }
    if (S.header_len) /* S.header is NULL without --header */
        memcpy(b, S.header, S.header_len);
    memcpy(b + S.header_len, S.buf, len);
    memmove(S.buf, S.buf + len, S.len - len + 1);
    S.len -= len;
    long out = S.group ? (long)pipesep_drop(b + S.header_len, len, S.sep,
                                            S.sep_len)
             : S.rrs ? strip_seps(b + S.header_len, len) : (long)len;
    if (out < 0) {
        free(b);
        return -1;
    }
    *blk = (struct pipe_block){b, S.header_len + (size_t)out, 0, 0,
                               S.group ? S.header_len : 0};
    S.written = 1;
    return 1;
}

/* Position of the n-th separator, each searched from one past the last
 * (GNU's nindex); -1 if fewer. */
static long nindex(long n)
{
    long i = 0;
    for (long k = 0; k < n; k++) {
        if ((size_t)i + 1 > S.len)
            return -1;
        char *p = memmem(S.buf + i + 1, S.len - (size_t)i - 1, S.sep, S.sep_len);
        if (!p)
            return -1;
        i = p - S.buf;
    }
    return i;
}

/* Position of the last separator (GNU's rindex64), or -1. */
static long rindex_sep(void)
{
    for (size_t i = S.len; i >= S.sep_len && S.sep_len; i--)
        if (!memcmp(S.buf + i - S.sep_len, S.sep, S.sep_len))
            return (long)(i - S.sep_len);
    return -1;
}

/* The end of the last whole record of l lines in the buffer (GNU's
 * pass_n_line_records), or -1. */
static long lines_end(long l)
{
    long lines = 0, end = -1;
    const char *e = S.buf + S.len;
    for (const char *p = S.buf; (p = memchr(p, '\n', (size_t)(e - p))); p++)
        if (++lines % l == 0)
            end = p + 1 - S.buf;
    return end;
}

/* A separator's position as the length of the chunk it ends, or -1. */
static long end_at(long i)
{
    return i >= 0 ? i + (long)S.end_len : -1;
}

int pipe_next(const struct opts *o, struct pipe_block *blk)
{
    long n = o->max_args;
    if (o->pipe == 2)
        return part_next(blk);
    while (!S.done) {
        if (!S.in_round) {
            S.in_round = 1;
            S.passed = S.written = 0;
            if (read_block() < 0)
                return -1;
        }
        long i = -1; /* the chunk's length */
        if (n && S.len)
            i = S.regexp ? pipere_n(S.buf, S.len, n) : end_at(nindex(n));
        else if (!n && (!S.eof || o->pipe_lines) && !S.passed) {
            /* (-L: GNU cuts the last block at its last whole record too) */
            S.passed = 1;
            i = o->pipe_lines ? lines_end(o->pipe_lines)
                : S.regexp ? pipere_last(S.buf, S.len) : end_at(rindex_sep());
        }
        if (i == -2)
            return -1;
        if (i > 0)
            return cut((size_t)i, blk);
        S.in_round = 0;
        if (S.eof) {
            S.done = 1;
            if (S.len)
                return cut(S.len, blk);
            break;
        }
        if (!S.written && S.bs < TWO_GB && !S.timeout) { /* as GNU's */
            long old = S.bs;
            double grown = (double)S.bs * 1.3 + 1;
            S.bs = (long)grown + ((double)(long)grown < grown);
            if (S.bs > TWO_GB)
                S.bs = TWO_GB;
            fprintf(stderr, "eventor: Warning: A record was longer than %ld. "
                            "Increasing to --blocksize %ld.\n", old, S.bs);
        }
    }
    return 0;
}

int pipe_start(struct job *j, const char *shell, int *feed)
{
    int fds[2];
    *feed = -1;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    j->proc.in_fd = fds[0];
    /* a block --rrs left empty: GNU's wrapper, which runs the command only
     * when there is input, ends at once with 0 */
    static char true_word[] = "true";
    static char *nothing[] = {true_word, NULL};
    int none = S.rrs && !j->in.len;
    int rc = proc_start(&j->proc, none ? nothing : j->remote ? NULL : j->argv,
                        none ? "true" : j->remote ? j->remote : j->cmd, shell,
                        j->out_fd, j->err_fd);
    int e = errno;
    close(fds[0]);
    j->proc.in_fd = 0;
    if (rc < 0) {
        close(fds[1]);
        errno = e;
        return -1;
    }
    *feed = fds[1];
    return 0;
}

int pipe_write_block(int fd, const struct pipe_block *b)
{
    for (size_t done = 0; done < b->len;) {
        ssize_t w = write(fd, b->data + done, b->len - done);
        if (w < 0 && errno != EINTR)
            return -1;
        done += w > 0 ? (size_t)w : 0;
    }
    loff_t off = b->part_off;
    for (size_t left = b->part_len; left;) {
        ssize_t w = copy_file_range(S.fd, &off, fd, NULL, left, 0);
        if (w <= 0)
            return w < 0 && errno != EINTR ? -1 : w == 0 ? -1 : 0;
        left -= (size_t)w;
    }
    return 0;
}

/* One sendfile with SIGPIPE blocked around it (no wait in between, so
 * coroutines cannot interleave): a job gone is EPIPE, never eventor's
 * death; the SIGPIPE it raised is taken back. */
static ssize_t send_some(int fd, off_t *off, size_t left)
{
    sigset_t pipe_sig, old, pending;
    sigemptyset(&pipe_sig);
    sigaddset(&pipe_sig, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    ssize_t n = sendfile(fd, S.fd, off, left);
    int e = errno;
    if (n < 0 && e == EPIPE && !was_pending)
        sigtimedwait(&pipe_sig, NULL, &(struct timespec){0, 0});
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return n;
}

/* The file's range into fd, not through eventor. */
static ssize_t send_range(int fd, off_t off, size_t left, int64_t deadline)
{
    ssize_t n = 0;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while (left) {
        n = send_some(fd, &off, left);
        if (n > 0)
            left -= (size_t)n;
        else if (n == 0 || errno != EAGAIN ||
                 (n = evt_wait_fd(fd, EVT_OUT, deadline)) < 0)
            break;
    }
    return n;
}

int pipe_feed(int fd, const struct job *j, int64_t deadline)
{
    /* A job that leaves more than a pipe's buffer (64 KiB) unread is
     * reported as killed by SIGPIPE, as GNU parallel's writer is; less than
     * that, GNU's write lands in the buffer before the job can exit, so
     * the job's own status counts whatever the race here. With
     * --pipepart, GNU's job reads from a pipeline (`perl ... | job`): its
     * own status counts. */
    const struct pipe_block *b = &j->in;
    ssize_t n = b->len ? evt_write(fd, b->data, b->len, deadline) : 0;
    if (n >= 0 && b->part_len)
        n = send_range(fd, b->part_off, b->part_len, deadline);
    int broken = n < 0 && errno == EPIPE && !b->part_len && b->len > 65536;
    evt_close(fd);
    return broken ? -1 : 0;
}
