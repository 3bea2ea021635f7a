/* The spool directories of a file split between workers (ranges.c), so
 * that none is left behind: a run's directory, $TMPDIR/eventor-XXXXXX,
 * holds a file "lock" that the run keeps flock'ed for its life. The kernel
 * drops the lock however the run ends (`| head`, a crash, kill -9), so a
 * directory whose lock is free belongs to a dead run and the next run
 * removes it. A run killed while it makes its directory leaves it empty,
 * or holding only "lock.new" (free): the next run removes those too. A
 * directory that is not ours, not a directory (a symlink), or holds files
 * but no lock (an older eventor's) is left alone. And what the workers
 * need to write their spool files: growing one. */
#define _GNU_SOURCE
#include "broker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "eventor-"

static int is_lock(const char *name)
{
    return !strcmp(name, "lock") || !strcmp(name, "lock.new");
}

/* Unlink every file of the directory dfd (closed here), the lock last,
 * then the directory itself: name in parent. Killed half way, it leaves a
 * directory that the next sweep still takes: with its lock, or empty. */
static void clear_dir(int parent, const char *name, int dfd)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            !is_lock(e->d_name))
            unlinkat(dfd, e->d_name, 0);
    unlinkat(dfd, "lock", 0);
    unlinkat(dfd, "lock.new", 0);
    closedir(d);
    unlinkat(parent, name, AT_REMOVEDIR);
}

/* Open the lock of the directory dfd: "lock", or "lock.new" while it is
 * being made; -1 when it has neither. */
static int open_lock(int dfd)
{
    int fd = openat(dfd, "lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        fd = openat(dfd, "lock.new", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

/* Remove the directories of dead runs in tmp. A run that makes its
 * directory meanwhile may lose it (empty, or its lock.new not yet held):
 * it sees so and makes another (evt__spool_dir_new). */
static void sweep(const char *tmp)
{
    int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = tfd >= 0 ? fdopendir(dup(tfd)) : NULL;
    if (!d) {
        if (tfd >= 0)
            close(tfd);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) ||
            strlen(e->d_name) != strlen(PREFIX) + 6)
            continue;
        int dfd = openat(tfd, e->d_name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (dfd < 0)
            continue;
        if (fstat(dfd, &st) < 0 || st.st_uid != geteuid()) {
            close(dfd);
            continue;
        }
        int lfd = open_lock(dfd);
        if (lfd < 0) {
            close(dfd);
            unlinkat(tfd, e->d_name, AT_REMOVEDIR); /* only if empty */
            continue;
        }
        if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
            clear_dir(tfd, e->d_name, dfd);
        else
            close(dfd);
        close(lfd);
    }
    closedir(d);
    close(tfd);
}

/* Hold the lock that marks dir alive: its fd, or -1 and errno (ENOENT
 * when a sweeper took the directory first). */
static int lock_dir(const char *dir)
{
    /* Locked under another name, then renamed: a sweeper never sees a
     * "lock" that is not held yet. */
    char tmp[PATH_MAX], lock[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/lock.new", dir);
    snprintf(lock, sizeof lock, "%s/lock", dir);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) < 0 || rename(tmp, lock) < 0) {
        int e = errno;
        unlink(tmp);
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int evt__spool_dir_new(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) + sizeof "/" PREFIX "XXXXXX" > cap)
        tmp = "/tmp";
    sweep(tmp);
    for (;;) {
        snprintf(dir, cap, "%s/" PREFIX "XXXXXX", tmp);
        if (!mkdtemp(dir))
            break;
        int fd = lock_dir(dir);
        if (fd >= 0)
            return fd;
        int err = errno;
        evt__spool_dir_remove(dir, -1);
        errno = err;
        if (err != ENOENT) /* ENOENT: another run's sweep took it */
            break;
    }
    dir[0] = 0;
    return -1;
}

void evt__spool_dir_remove(const char *dir, int lock_fd)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd >= 0) {
        int parent = AT_FDCWD;
        clear_dir(parent, dir, dfd);
    }
    if (lock_fd >= 0)
        close(lock_fd);
}

int evt__spool_grow(int fd, unsigned char **map, size_t *cap, size_t need)
{
    size_t to = *cap > need / 2 ? *cap * 2 : need;
    if (ftruncate(fd, (off_t)to) < 0)
        return -1;
    void *m = mremap(*map, *cap ? *cap : 1, to, MREMAP_MAYMOVE);
    if (m == MAP_FAILED)
        return -1; /* (the file is longer: no matter, it is cut at the end) */
    *map = m;
    *cap = to;
    return 0;
}
