/* The columns of a --pipe line for --group-by, --shard and --bin, as GNU
 * parallel's Perl split sees them: split at --colsep (a regex) or, without
 * it, at the option's own default byte; the line end stays on the last
 * column. A column name is looked up in the input's first line. */
#include "cli.h"
#include "pipemore.h"

#include <eventor.h>
#include <stdlib.h>
#include <string.h>

/* The next field boundary in line[from, len): *at its start, the
 * separator's length; 0 when none. line[len] must be readable (a NUL:
 * regexec reads up to one whatever REG_STARTEND says, as ASan's
 * interceptor does). */
static size_t next_sep(const struct pipecol *c, const char *line, size_t from,
                       size_t len, size_t *at)
{
    if (!c->o->have_colsep) {
        const char *t = memchr(line + from, c->dflt, len - from);
        *at = t ? (size_t)(t - line) : 0;
        return t ? 1 : 0;
    }
    regmatch_t m = {.rm_so = (regoff_t)from, .rm_eo = (regoff_t)len};
    if (regexec(&c->o->colsep, line, 1, &m, REG_STARTEND) || m.rm_eo == m.rm_so)
        return 0;
    *at = (size_t)m.rm_so;
    return (size_t)(m.rm_eo - m.rm_so);
}

void pipecol_value(const struct pipecol *c, const char *line, size_t len,
                   const char **v, size_t *vlen)
{
    size_t from = 0, at, sl;
    for (long k = 1; k < c->col; k++) {
        if (!(sl = next_sep(c, line, from, len, &at))) {
            *v = "";
            *vlen = 0;
            return;
        }
        from = at + sl;
    }
    sl = next_sep(c, line, from, len, &at);
    *v = line + from;
    *vlen = (sl ? at : len) - from;
}

int pipecol_header(char **buf, size_t *len, char **header, size_t *hlen)
{
    char *nl = NULL;
    while (!(nl = memchr(*buf ? *buf : "", '\n', *len))) {
        char *b = realloc(*buf, *len + 65537);
        if (!b)
            return -1;
        *buf = b;
        ssize_t r = evt_read(0, *buf + *len, 65536, -1);
        if (r <= 0)
            break;
        *len += (size_t)r;
    }
    *hlen = nl ? (size_t)(nl - *buf) + 1 : *len;
    if (!(*header = malloc(*hlen + 1)))
        return -1;
    memcpy(*header, *buf ? *buf : "", *hlen);
    (*header)[*hlen] = 0; /* for regexec */
    if (*buf)
        memmove(*buf, *buf + *hlen, *len - *hlen);
    *len -= *hlen;
    return 0;
}

int pipecol_name(struct pipecol *c, const char *name, size_t nlen,
                 const char *h, size_t hlen)
{
    hlen -= hlen && h[hlen - 1] == '\n';
    size_t from = 0, at, sl;
    for (long k = 1;; k++) {
        sl = next_sep(c, h, from, hlen, &at);
        size_t end = sl ? at : hlen;
        if (end - from == nlen && !memcmp(h + from, name, nlen)) {
            c->col = k;
            return 0;
        }
        if (!sl)
            break;
        from = at + sl;
    }
    cli_error("Column '%.*s' not found in header", (int)nlen, name);
    return -1;
}
