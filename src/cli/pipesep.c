/* What --pipe takes out of its input: the first line (--skip-first-line)
 * and the record separators of a block, --group-by's (every one) and
 * --rrs's (GNU's remove_rec_sep), as literal text; --rrs --regexp is
 * piperegex.c's pipere_strip. */
#include "cli.h"
#include "pipemore.h"

#include <errno.h>
#include <eventor.h>
#include <string.h>

int64_t pipesep_skip_line(int fd)
{
    int64_t n = 0;
    char c = 0;
    ssize_t r = 0;
    /* a byte at a time, as GNU reads it: what follows is the jobs' */
    while (c != '\n' && (r = evt_read(fd, &c, 1, -1)) > 0)
        n++;
    if (c != '\n' && r < 0) {
        cli_error("cannot read the --pipe input: %s", strerror(errno));
        return -1;
    }
    return n;
}

size_t pipesep_drop(char *p, size_t len, const char *sep, size_t sep_len)
{
    size_t w = 0;
    for (size_t r = 0; r < len;) {
        char *s = memmem(p + r, len - r, sep, sep_len);
        size_t n = s ? (size_t)(s - p) - r : len - r;
        memmove(p + w, p + r, n);
        w += n;
        r += n + (s ? sep_len : 0);
    }
    return w;
}

size_t pipesep_strip(char *p, size_t len, const char *sep, size_t sep_len,
                     size_t el)
{
    const char *end = sep, *start = sep + el; /* sep: recend + recstart */
    size_t sl = sep_len - el;
    if (sep_len)
        len = pipesep_drop(p, len, sep, sep_len);
    if (sl && len >= sl && !memcmp(p, start, sl))
        memmove(p, p + sl, len -= sl);
    /* recend$ as Perl's $ reads it: at the end, or before a last newline
     * (the leftmost of the two) */
    if (el && len > el && p[len - 1] == '\n' &&
        !memcmp(p + len - 1 - el, end, el)) {
        p[len - 1 - el] = '\n';
        len -= el;
    } else if (el && len >= el && !memcmp(p + len - el, end, el)) {
        len -= el;
    }
    return len;
}
