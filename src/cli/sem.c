/* --semaphore (eventor sem): GNU parallel's sem, a counting semaphore
 * shared by every eventor started with the same --id. Not GNU's files: a
 * holder holds an exclusive flock(2) on one slot file of the semaphore's
 * directory, so the kernel frees the slot of a holder that dies, even by
 * kill -9; counting and taking a slot happen under a flock on the
 * directory's lock file. Waiting polls (1 ms, growing to 100 ms), as GNU's
 * sem does. --wait takes the semaphore as -j 1 (no holder left) and gives
 * it back at once. */
#include "cli.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[4096];

/* GNU's cache dir ($PARALLEL_HOME, else $XDG_CACHE_HOME/parallel, else
 * ~/.parallel) + /eventor-semaphores/id-NAME (NAME hex-escaped as GNU's). */
static int sem_dir(const char *name)
{
    const char *base = getenv("PARALLEL_HOME"), *home = getenv("HOME");
    const char *xdg = getenv("XDG_CACHE_HOME");
    char root[2048], id[512], *w = id;
    struct stat st;
    if (base && *base)
        snprintf(root, sizeof root, "%s", base);
    else if (xdg && *xdg && (snprintf(root, sizeof root, "%s/parallel", xdg),
                             stat(root, &st) == 0))
        ;
    else
        snprintf(root, sizeof root, "%s/.parallel", home ? home : "/tmp");
    for (const unsigned char *p = (const unsigned char *)name;
         *p && w < id + sizeof id - 3; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
            *w++ = (char)*p;
        else
            w += sprintf(w, "%02x", *p);
    }
    *w = 0;
    mkdir(root, 0777);
    snprintf(dir, sizeof dir, "%s/eventor-semaphores", root);
    mkdir(dir, 0777);
    size_t l = strlen(dir);
    snprintf(dir + l, sizeof dir - l, "/id-%s", id);
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        cli_error("cannot make the semaphore directory %s: %s", dir,
                  strerror(errno));
        return -1;
    }
    return 0;
}

static int open_in_dir(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
}

/* Under the directory's lock: count the slots held; when fewer than max,
 * hold a free one. Its fd, -1 when all are taken, -2 on an error. */
static int try_take(long max)
{
    int lock = open_in_dir("lock"), got = -2, held = 0;
    if (lock < 0 || flock(lock, LOCK_EX) < 0)
        goto out;
    got = -1;
    for (long k = 0;; k++) {
        char name[32];
        struct stat st;
        snprintf(name, sizeof name, "slot.%ld", k);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (stat(path, &st) < 0 && got >= 0)
            break; /* past the last slot, one free one in hand */
        int fd = open_in_dir(name);
        if (fd < 0) {
            got = got >= 0 ? got : -2;
            break;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            held++;
            close(fd);
        } else if (got < 0) {
            got = fd;
        } else {
            close(fd); /* free too: the first one is kept */
        }
    }
    if (got >= 0 && held >= max) {
        close(got);
        got = -1;
    }
out:
    if (lock >= 0)
        close(lock);
    return got;
}

/* Take a slot: its fd, or -1 (reported). --semaphore-timeout: after st_ms
 * go ahead anyway (st_ms > 0) or give up, exit 1 (< 0), as GNU's. */
static int take(const struct opts *o, long max)
{
    int64_t start = evt_now(), nap = 1;
    for (;;) {
        int fd = try_take(max);
        if (fd >= 0)
            return fd;
        if (fd == -2) {
            cli_error("semaphore %s: %s", dir, strerror(errno));
            return -1;
        }
        int64_t st = o->sem_timeout_ms < 0 ? -o->sem_timeout_ms
                                           : o->sem_timeout_ms;
        if (st && evt_now() - start > st) {
            fprintf(stderr, "eventor: Warning: Semaphore timed out. %s\n",
                    o->sem_timeout_ms > 0 ? "Stealing the semaphore."
                                          : "Exiting.");
            if (o->sem_timeout_ms < 0)
                exit(1);
            return open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        struct timespec ts = {0, (long)nap * 1000000};
        nanosleep(&ts, NULL);
        nap = nap * 3 / 2 + 1 > 100 ? 100 : nap * 3 / 2 + 1;
    }
}

/* The command line: the words joined by spaces, as GNU's template. */
static char *command_line(const struct opts *o)
{
    size_t len = 1;
    for (size_t i = 0; i < o->cmd.n; i++)
        len += strlen(o->cmd.v[i]) + 1;
    char *line = malloc(len), *w = line;
    if (!line)
        return NULL;
    *w = 0;
    for (size_t i = 0; i < o->cmd.n; i++)
        w = stpcpy(stpcpy(w, i ? " " : ""), o->cmd.v[i]);
    return line;
}

/* An unnamed temporary file in dir (-1). */
static int tmpfile_in(const char *tmpdir)
{
    int fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
        return fd;
    char path[4200];
    snprintf(path, sizeof path, "%s/eventor-sem.XXXXXX", tmpdir);
    if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
        unlink(path);
    return fd;
}

/* Run line in the shell, its output kept together (GNU's grouping) and
 * written when it ends: its exit status (128 + a signal). */
static int run_grouped(const struct opts *o, const char *line)
{
    int out = tmpfile_in(o->tmpdir), err = tmpfile_in(o->tmpdir);
    if (out < 0 || err < 0) {
        cli_error("cannot create a temporary file in %s: %s", o->tmpdir,
                  strerror(errno));
        return CLI_EXIT_ERROR;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(127);
        if (o->have_nice)
            setpriority(PRIO_PROCESS, 0, o->nice);
        execl(o->shell, o->shell, "-c", line, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    output_copy_file(out, 1);
    output_copy_file(err, 2);
    if (pid < 0)
        return CLI_EXIT_ERROR;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int sem_main(struct opts *o)
{
    const char *name = o->sem_id;
    char tty[256];
    if (!name) { /* GNU's: the output of tty(1) */
        const char *t = ttyname(0);
        snprintf(tty, sizeof tty, "%s", t ? t : "not a tty");
        name = tty;
    }
    if (sem_dir(name) < 0)
        return CLI_EXIT_ERROR;
    int fd = take(o, o->sem_wait ? 1 : o->jobs);
    if (fd < 0)
        return CLI_EXIT_ERROR;
    if (o->sem_wait) {
        close(fd);
        return 0;
    }
    char *line = command_line(o);
    if (!line) {
        cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    if (!o->sem_fg) {
        pid_t pid = fork();
        if (pid < 0) {
            cli_error("cannot fork: %s", strerror(errno));
            free(line);
            return CLI_EXIT_ERROR;
        }
        if (pid > 0) /* the slot is the child's now */
            _exit(0);
    }
    int rc = run_grouped(o, line);
    free(line);
    close(fd);
    return rc;
}

char **sem_argv(int *argc, char **argv)
{
    static char **v; /* reachable to the end */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    int skip = strcmp(base, "sem") == 0 ? 1
             : *argc > 1 && !strcmp(argv[1], "sem") ? 2 : 0;
    if (!skip || !(v = malloc((size_t)(*argc + 2) * sizeof *v)))
        return argv;
    v[0] = argv[0];
    v[1] = "--semaphore";
    for (int i = skip; i <= *argc; i++) /* with argv's NULL */
        v[i - skip + 2] = argv[i];
    *argc = *argc - skip + 2;
    return v;
}
