/* A chunk's spool (spool.c): the file through which a worker hands each
 * line's outcome of a chunk of a file split between workers (ranges.c) to
 * the parent. A line's record is written the moment the line is done, in
 * the order lines finish, into a shared mapping, so that every record
 * written survives the worker's death; an index says where each line's
 * record is, so that the next worker on the chunk runs only the lines
 * without one, and the parent reads them back in input order. */
#ifndef EVT_BROKER_SPOOL_H
#define EVT_BROKER_SPOOL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* A spool opens with this head, then the index (a word a line: where its
 * record is, in 8-byte units; 0: none), then three bytes a line (started:
 * begun in some worker on the chunk; crashes and kills: deaths of a worker
 * that ran the line alone, by a crash signal the line raised or by
 * anything else), then the records. A worker's crash handler writes crash;
 * solo is 1 + the line running alone, or 0. */
typedef struct evt__spool_head {
    volatile sig_atomic_t crash;
    int32_t pad;
    volatile uint64_t solo;
} evt__spool_head_t;

/* A spool mapped by a worker (to write) or by the parent (to read). */
typedef struct evt__spool {
    unsigned char *map;
    size_t cap;         /* bytes mapped */
    size_t used;        /* bytes of the head and the whole records */
    size_t reserved;    /* bytes given disk space (posix_fallocate) */
    int fd;             /* the worker's: -1 when closed or reading */
    int made;           /* open made the file (it was empty) */
    int err;            /* a record found no room (ENOSPC, EFBIG): no more
                           records are kept */
    uint64_t lines;     /* lines in the chunk */
    uint64_t kept;      /* lines with a record */
    evt__spool_head_t *head;
    uint32_t *index;
    uint8_t *started, *crashes, *kills;
} evt__spool_t;

/* A line's record, as the parent reads it: its outcome, borrowed from the
 * mapping. */
typedef struct evt__spool_rec {
    int status;
    unsigned attempt;
    const void *res;
    size_t len;
} evt__spool_rec_t;

/* The worker's side. open: map the spool at path for a chunk of lines
 * (made on the first run, room for a result of usual bytes a line; more
 * grows it) and take in the whole records a dead worker left there (the
 * index is mended for the one it may have written last). 0, or -1 and
 * errno. put: keep line's outcome (len bytes at res); 0, or -1 with s->err
 * set (then nothing more is kept). close: cut the spool to its whole
 * records (a read of a hole on a full tmpfs is a SIGBUS; after a failed
 * open, a spool it made to nothing, one a dead worker left is kept as it
 * is), unmap and close it; 0, or the errno of the cut or s->err. */
int evt__spool_open(evt__spool_t *s, const char *path, uint64_t lines,
                    size_t usual);
int evt__spool_put(evt__spool_t *s, uint64_t line, int status,
                   unsigned attempt, const void *res, size_t len);
int evt__spool_close(evt__spool_t *s);

/* 1 when line has a record. */
static inline int evt__spool_has(const evt__spool_t *s, uint64_t line)
{
    return s->index[line] != 0;
}

/* The parent's side, once the chunk's worker returned or died. read: map
 * the spool at path of a chunk of lines read-only; 0, or -1 (no spool, or
 * too short to hold an index: no line has a record). get: 1 and line's
 * record in *rec, or 0 when it has none (or a torn one). unmap: let it go
 * (s may be one that read failed on). */
int evt__spool_read(evt__spool_t *s, const char *path, uint64_t lines);
int evt__spool_get(const evt__spool_t *s, uint64_t line,
                   evt__spool_rec_t *rec);
void evt__spool_unmap(evt__spool_t *s);

#endif
