/* --pipe --group-by COL: GNU parallel's way, exactly: a filter in front of
 * the --pipe reader puts a random 20-character separator before every line
 * whose value in column COL differs from the line before's, and the blocks
 * are then cut at those separators (-N N: N groups a job) and fed without
 * them. Here the filter is a coroutine writing into a pipe pipe.c reads.
 * The value is the column as Perl's -a -F splits the line: its line end
 * stays on the last column. A column name is looked up in the first line,
 * which then goes before every block (as --header :). */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define SEP_LEN 20

static struct {
    struct pipecol col; /* the column */
    int out;          /* the pipe's write end */
    char sep[SEP_LEN + 1];
    char *last;       /* the value before (NULL: none yet) */
    size_t last_len;
    char *pending;    /* read, not yet a whole line */
    size_t plen;
} G;

/* One line (with its end) to out: the separator first when its value
 * differs from the line before's. */
static int put_line(char **out, size_t *olen, size_t *ocap, const char *line,
                    size_t len)
{
    const char *v;
    size_t vlen;
    pipecol_value(&G.col, line, len, &v, &vlen);
    int change = !G.last || vlen != G.last_len || memcmp(v, G.last, vlen);
    if (*olen + len + SEP_LEN > *ocap) {
        size_t cap = (*ocap ? *ocap * 2 : 65536) + len + SEP_LEN;
        char *b = realloc(*out, cap);
        if (!b)
            return -1;
        *out = b;
        *ocap = cap;
    }
    if (change) {
        char *l = malloc(vlen + 1);
        if (!l)
            return -1;
        memcpy(l, v, vlen);
        free(G.last);
        G.last = l;
        G.last_len = vlen;
        memcpy(*out + *olen, G.sep, SEP_LEN);
        *olen += SEP_LEN;
    }
    memcpy(*out + *olen, line, len);
    *olen += len;
    return 0;
}

/* The whole lines of G.pending (and at the end the rest) into the pipe.
 * Each line is NUL-ended while it is split (regexec reads up to a NUL
 * whatever REG_STARTEND says, as ASan's interceptor does): G.pending has
 * room for one byte more. */
static int flush_lines(int at_end)
{
    char *out = NULL;
    size_t olen = 0, ocap = 0, from = 0;
    int rc = 0;
    while (rc == 0 && from < G.plen) {
        char *nl = memchr(G.pending + from, '\n', G.plen - from);
        if (!nl && !at_end)
            break;
        size_t end = nl ? (size_t)(nl - G.pending) + 1 : G.plen;
        char keep = G.pending[end];
        G.pending[end] = 0;
        rc = put_line(&out, &olen, &ocap, G.pending + from, end - from);
        G.pending[end] = keep;
        from = end;
    }
    memmove(G.pending, G.pending + from, G.plen - from);
    G.plen -= from;
    if (rc == 0 && olen && evt_write(G.out, out, olen, -1) < 0)
        rc = -1; /* the reader is gone: nothing more to do */
    free(out);
    return rc;
}

static void *filter(void *arg)
{
    enum { READ = 65536 };
    size_t cap = G.plen + READ;
    (void)arg;
    for (;;) {
        char *b = realloc(G.pending, cap);
        if (!b)
            break;
        G.pending = b;
        ssize_t r = evt_read(0, G.pending + G.plen, cap - G.plen - 1, -1);
        if (r <= 0) {
            if (r < 0)
                cli_error("cannot read the --pipe input: %s", strerror(errno));
            flush_lines(1);
            break;
        }
        G.plen += (size_t)r;
        if (flush_lines(0) < 0)
            break;
        if (cap - G.plen < READ / 2)
            cap *= 2;
    }
    evt_close(G.out);
    G.out = -1;
    return NULL;
}

int pipegroup_open(const struct opts *o, char **header, size_t *hlen,
                   const char **sep)
{
    G.col = (struct pipecol){.o = o, .dflt = '\t', .col = o->group_col};
    G.out = -1;
    if ((!G.col.col || o->header) &&
        pipecol_header(&G.pending, &G.plen, header, hlen) < 0) {
        cli_error("out of memory");
        return -1;
    }
    if (!G.col.col && pipecol_name(&G.col, o->group_by, strlen(o->group_by),
                                   *header, *hlen) < 0)
        return -1;
    unsigned char r[SEP_LEN];
    static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        for (size_t k = 0; k < sizeof r; k++)
            r[k] = (unsigned char)(rand() ^ getpid() ^ (int)k);
    for (size_t k = 0; k < SEP_LEN; k++)
        G.sep[k] = alnum[r[k] % 62];
    *sep = G.sep;
    int fds[2];
    evt_co_t *co = NULL;
    if (pipe2(fds, O_CLOEXEC) == 0) {
        G.out = fds[1];
        if (!(co = evt_spawn(filter, NULL))) {
            close(fds[0]);
            close(fds[1]);
        }
    }
    if (!co) {
        cli_error("cannot start --group-by: %s", strerror(errno));
        return -1;
    }
    evt_detach(co);
    return fds[0];
}

void pipegroup_close(void)
{
    free(G.last);
    free(G.pending);
    memset(&G, 0, sizeof G);
}
