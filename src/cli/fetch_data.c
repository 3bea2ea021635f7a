/* eventor fetch: the request body as curl builds it. -d/--data DATA or
 * @FILE (FILE's carriage returns and newlines taken out), --data-binary
 * (@FILE as it is), --data-raw (no @ meaning) and --data-urlencode
 * ([NAME]=CONTENT or [NAME]@FILE, the content percent-encoded); given more
 * than once, in any mix, the pieces are joined with '&'. */
#include "fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Drop every CR and LF of s (curl's -d @FILE). */
static size_t strip_newlines(char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\r' && s[i] != '\n')
            s[k++] = s[i];
    return k;
}

/* Append n bytes of s to the body, after a '&' unless it is the first. */
static int append(struct fetch_opts *o, const char *s, size_t n)
{
    int first = !o->data;
    char *b = realloc(o->data, o->data_len + !first + n + 1);
    if (!b)
        return -1;
    o->data = b;
    if (!first)
        b[o->data_len++] = '&';
    memcpy(b + o->data_len, s, n);
    o->data_len += n;
    b[o->data_len] = 0;
    return 0;
}

/* name (may be empty: then no "=") and s percent-encoded as curl does:
 * every byte but A-Z a-z 0-9 - . _ ~ as %XX. */
static int append_encoded(struct fetch_opts *o, const char *name, size_t nlen,
                          const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char *enc = malloc(nlen + 1 + 3 * n + 1), *p = enc;
    if (!enc)
        return -1;
    memcpy(p, name, nlen);
    p += nlen;
    if (nlen)
        *p++ = '=';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    int rc = append(o, enc, (size_t)(p - enc));
    free(enc);
    return rc;
}

int fetch_data_add(struct fetch_opts *o, enum fetch_data kind, const char *val)
{
    const char *file = NULL, *name = "", *content = val;
    size_t nlen = 0;
    if (kind == FETCH_DATA_URLENCODE) {
        /* [name]=content, else [name]@file, else content alone */
        const char *p = strchr(val, '=');
        if (!p)
            p = strchr(val, '@');
        if (p) {
            name = val;
            nlen = (size_t)(p - val);
            if (*p == '@')
                file = p + 1;
            content = p + 1;
        }
    } else if (kind != FETCH_DATA_RAW && val[0] == '@') {
        file = val + 1;
    }
    size_t len = strlen(content);
    char *buf = NULL;
    if (file) {
        if (!(buf = read_whole_file(file, &len))) {
            fetch_error("cannot read %s: %s", file, strerror(errno));
            return -1;
        }
        if (kind == FETCH_DATA_ASCII)
            len = strip_newlines(buf, len);
        content = buf;
    }
    int rc = kind == FETCH_DATA_URLENCODE
                 ? append_encoded(o, name, nlen, content, len)
                 : append(o, content, len);
    free(buf);
    return rc;
}

char *fetch_get_url(const struct fetch_opts *o, const char *url)
{
    char *s;
    if (asprintf(&s, "%s%c%s", url, strchr(url, '?') ? '&' : '?',
                 o->data) < 0)
        return NULL;
    return s;
}
