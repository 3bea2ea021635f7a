/* Internal interface of the local broker: the sources of a batch (an
 * array, the lines of a file, an IPC queue, the split of a file by byte
 * ranges between workers), each an evt__source_t of the one controller in
 * src/batch, which they only call down into. */
#ifndef EVT_BROKER_BROKER_H
#define EVT_BROKER_BROKER_H

#include "../batch/batch.h"

#include <signal.h>

/* evt_batch_run_file on worker processes or threads, the file split by
 * byte ranges between them (ranges.c). Returns 0, or -1 and errno as
 * evt_batch_run; or 1 when path is not a regular file (read it line by line
 * instead). */
int evt__broker_run_ranges(const evt_batch_opts_t *opts, evt_batch_fn fn,
                           const char *path, evt_batch_report_t *rep);

/* Spool directories (spooldir.c). new: remove those of dead runs from
 * $TMPDIR (default /tmp), then make dir (cap bytes) there and hold the
 * lock that marks it alive: a fd to keep open for the run (and not to hand
 * to a process that may outlive it), or -1 and errno. remove: dir and
 * every file in it, and close lock_fd. */
int evt__spool_dir_new(char *dir, size_t cap);
void evt__spool_dir_remove(const char *dir, int lock_fd);

/* Spool files (spooldir.c). grow: make the file fd and its shared mapping
 * *map of *cap bytes hold need bytes or more (doubling), moving the
 * mapping if it must; 0, or -1 and errno (EFBIG, ENOMEM; *map and *cap
 * are kept then). */
int evt__spool_grow(int fd, unsigned char **map, size_t *cap, size_t need);

#endif
