/* A chunk's spool (spool.h): its layout, a worker's records written as its
 * lines finish (whatever their order) into a shared mapping whose disk
 * space is reserved first, the index by line that the next worker and the
 * parent read, and what a dead worker left behind. */
#define _GNU_SOURCE
#include "spool.h"
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A line's record: this, then len bytes of result, then up to 7 bytes to
 * a multiple of 8. It is whole once magic is there, which is written last;
 * the line's index word comes after it. */
#define RECORD_MAGIC 0x4556524eu
typedef struct record {
    uint32_t magic;
    int32_t status;
    uint32_t attempt;
    uint32_t len;
    uint64_t line;      /* the line's number in its chunk, from 0 */
} record_t;

static size_t record_size(size_t len)
{
    return sizeof(record_t) + ((len + 7) & ~(size_t)7);
}

static size_t head_size(uint64_t lines)
{
    return (sizeof(evt__spool_head_t) + 7 * (size_t)lines + 7)
           & ~(size_t)7;
}

/* Where the head, the index and the bytes of each line are in s->map
 * (which moves when the spool grows). */
static void set_head(evt__spool_t *s)
{
    s->head = (evt__spool_head_t *)s->map;
    s->index = (uint32_t *)(s->map + sizeof(evt__spool_head_t));
    s->started = (uint8_t *)(s->index + s->lines);
    s->crashes = s->started + s->lines;
    s->kills = s->crashes + s->lines;
}

/* The whole record at s->map + at (of a line of the chunk), or NULL. */
static const record_t *record_at(const evt__spool_t *s, size_t at)
{
    if (at > s->cap || s->cap - at < sizeof(record_t))
        return NULL;
    const record_t *r = (const record_t *)(s->map + at);
    if (r->magic != RECORD_MAGIC || r->line >= s->lines
        || s->cap - at < record_size(r->len))
        return NULL;
    return r;
}

/* Give the spool's disk space to its bytes up to need before they are
 * written: a write into a shared mapping of a file whose disk is full
 * (a small tmpfs as $TMPDIR) is a SIGBUS, not an error. 0, or -1 with the
 * error in s->err. */
#define RESERVE_STEP ((size_t)1 << 20)
static int reserve(evt__spool_t *s, size_t need)
{
    if (need <= s->reserved)
        return 0;
    if (need > s->cap) { /* (results longer than the room made for them) */
        if (evt__spool_grow(s->fd, &s->map, &s->cap, need) < 0)
            return s->err = errno, -1;
        set_head(s);
    }
    size_t to = need + RESERVE_STEP < s->cap ? need + RESERVE_STEP : s->cap;
    int rc = posix_fallocate(s->fd, (off_t)s->reserved,
                             (off_t)(to - s->reserved));
    if (rc == ENOSPC && to > need) /* (the step is more than is left) */
        rc = posix_fallocate(s->fd, (off_t)s->reserved,
                             (off_t)((to = need) - s->reserved));
    if (rc == EINVAL || rc == EOPNOTSUPP)
        rc = 0; /* (no fallocate here: it allocates as it writes) */
    if (rc)
        return s->err = rc, -1;
    s->reserved = to;
    return 0;
}

int evt__spool_put(evt__spool_t *s, uint64_t line, int status,
                   unsigned attempt, const void *res, size_t len)
{
    size_t at = s->used;
    if (!s->err && at / 8 > UINT32_MAX) /* (past what an index word says) */
        s->err = EFBIG;
    if (s->err || reserve(s, at + record_size(len)) < 0)
        return -1;
    record_t *r = (record_t *)(s->map + at);
    /* (no magic here until the record is whole: a torn one, or bytes a
     * dead worker left, never pass for one) */
    r->magic = 0;
    atomic_signal_fence(memory_order_release);
    if (len) /* (a failed line has no result: res is NULL) */
        memcpy(r + 1, res, len);
    *r = (record_t){0, status, attempt, (uint32_t)len, line};
    atomic_signal_fence(memory_order_release);
    r->magic = RECORD_MAGIC;
    atomic_signal_fence(memory_order_release);
    s->index[line] = (uint32_t)(at / 8);
    s->used = at + record_size(len);
    s->kept++;
    return 0;
}

/* Map s->cap bytes of s->fd, shared, writable or not. 0, or -1. */
static int map_spool(evt__spool_t *s, int prot)
{
    s->map = mmap(NULL, s->cap ? s->cap : 1, prot, MAP_SHARED, s->fd, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        return -1;
    }
    return 0;
}

int evt__spool_open(evt__spool_t *s, const char *path, uint64_t lines,
                    size_t usual)
{
    *s = (evt__spool_t){.fd = -1, .lines = lines};
    s->cap = head_size(lines) + (size_t)lines * record_size(usual);
    s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (s->fd < 0)
        return -1;
    if (fstat(s->fd, &st) < 0)
        return -1;
    s->made = st.st_size == 0;
    if ((uint64_t)st.st_size > s->cap)
        s->cap = (size_t)st.st_size; /* (grown by a dead worker) */
    if (ftruncate(s->fd, (off_t)s->cap) < 0 || map_spool(s, PROT_READ
                                                         | PROT_WRITE) < 0)
        return -1;
    if (reserve(s, head_size(lines)) < 0)
        return errno = s->err, -1;
    set_head(s);
    /* The records a dead worker left: back to back from the head. Its
     * last may lack its index word (it died between the two). */
    const record_t *r;
    for (s->used = head_size(lines); (r = record_at(s, s->used)) != NULL;
         s->used += record_size(r->len), s->kept++)
        s->index[r->line] = (uint32_t)(s->used / 8);
    if (s->reserved < s->used)
        s->reserved = s->used; /* (records a dead worker wrote have room) */
    return 0;
}

int evt__spool_close(evt__spool_t *s)
{
    int err = 0;
    if (s->fd >= 0 && (s->used || s->made)
        && ftruncate(s->fd, (off_t)s->used) < 0)
        err = errno ? errno : EIO;
    if (!err)
        err = s->err;
    evt__spool_unmap(s);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    return err;
}

int evt__spool_read(evt__spool_t *s, const char *path, uint64_t lines)
{
    *s = (evt__spool_t){.fd = -1, .lines = lines};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < head_size(lines)) {
        close(fd);
        return -1;
    }
    s->cap = (size_t)st.st_size;
    s->fd = fd;
    int rc = map_spool(s, PROT_READ);
    s->fd = -1;
    close(fd);
    if (rc < 0)
        return -1;
    madvise(s->map, s->cap, MADV_SEQUENTIAL);
    set_head(s);
    return 0;
}

int evt__spool_get(const evt__spool_t *s, uint64_t line,
                   evt__spool_rec_t *rec)
{
    if (!s->map || line >= s->lines || !s->index[line])
        return 0;
    const record_t *r = record_at(s, (size_t)s->index[line] * 8);
    if (!r || r->line != line)
        return 0;
    *rec = (evt__spool_rec_t){r->status, r->attempt, r + 1, r->len};
    return 1;
}

void evt__spool_unmap(evt__spool_t *s)
{
    if (s->map)
        munmap(s->map, s->cap ? s->cap : 1);
    s->map = NULL;
}
