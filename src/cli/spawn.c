/* Starting and stopping one job's process, watched through a pidfd on the
 * reactor.
 *
 * Jobs start with vfork, from a few spawner threads. vfork copies no page
 * tables (fork's copy of eventor's was most of what a start cost, and the
 * child's execve then threw it away), and blocks only the spawner thread
 * until the child's execve is under way, so the event loop never stalls on
 * a start and several starts proceed at once (5000 `true` jobs on 2 CPUs:
 * 2.2 s, against 2.45 s with fork on the loop and 5.5 s with vfork on it).
 * By hand rather than posix_spawn, so that the child can set what
 * posix_spawn cannot: PR_SET_PDEATHSIG, so a job dies with eventor (a
 * crash or kill -9 then leaves no job finishing unlogged behind --resume's
 * back). The death signal is tied to the thread that started the child, so
 * the spawner threads live as long as the process. The job's own children
 * are not its children's: the child tells the supervisor (supervise.c) its
 * process group before execve, and the supervisor kills that group if
 * eventor dies. */
#include "cli.h"

#include <errno.h>
#include <eventor.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* One spawner thread per CPU, and no more than this: a start holds its
 * thread only for the child's setup and the first part of execve. (On 2
 * CPUs, 4 spawners only switched more than 2: launcher CPU 44 us per job
 * against 40.) */
#define SPAWNERS_MAX CLI_SPAWNERS_MAX

extern char **environ;

static sigset_t child_mask; /* the signal mask eventor was started with */
static int devnull = -1;
static pid_t self_pid;
static int sup_fd = -1; /* supervise_fd() */
static evt_threadpool_t *spawners; /* never freed: see the top */
static int nice_value, have_nice; /* --nice */
static int tty_in = -1; /* --tty: the terminal, the jobs' stdin */

int spawn_init(long jobs)
{
    sigprocmask(SIG_SETMASK, NULL, &child_mask);
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    self_pid = getpid();
    sup_fd = supervise_fd();
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    n = n < 1 ? 1 : n > SPAWNERS_MAX ? SPAWNERS_MAX : n;
    spawners = evt_threadpool_new((size_t)(jobs < n ? jobs : n), NULL);
    return spawners ? 0 : -1;
}

/* One start: what the child needs, and where its pid and pidfd go. */
struct spawn_args {
    const char *path;
    char **argv;
    char **envp;
    int out_fd, err_fd;
    struct proc *p;
};

/* Runs in the vfork child, on the spawner's stack and memory, until execve:
 * only calls that touch no shared state (no malloc, no stdio, no locale).
 * The spawner thread blocks every signal, so none can run a handler here
 * before the mask is set for the job. */
static _Noreturn void child(const struct spawn_args *a)
{
    if (tty_in < 0) /* a job of its own group, unless it needs the tty */
        setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != self_pid) /* eventor died before the prctl */
        _exit(127);
    if (sup_fd >= 0) { /* before anything the job starts can fork */
        int32_t me = (int32_t)getpid();
        (void)!send(sup_fd, &me, sizeof me, MSG_NOSIGNAL);
    }
    int in = a->p->in_fd > 0 ? a->p->in_fd : tty_in >= 0 ? tty_in : devnull;
    if ((in >= 0 ? dup2(in, 0) : close(0)) < 0 ||
        dup2(a->out_fd, 1) < 0 || dup2(a->err_fd, 2) < 0)
        _exit(127);
    sigprocmask(SIG_SETMASK, &child_mask, NULL);
    if (have_nice) /* GNU parallel's setpriority: the niceness itself */
        setpriority(PRIO_PROCESS, 0, nice_value);
    execve(a->path, a->argv, a->envp);
    int e = errno; /* the job's stderr is the temp file by now */
    const char *why = e == ENOENT ? "command not found" : strerrordesc_np(e);
    struct iovec v[] = {{"eventor: ", 9},
                        {a->argv[0], strlen(a->argv[0])},
                        {": ", 2},
                        {(char *)why, strlen(why)},
                        {"\n", 1}};
    (void)!writev(2, v, 5);
    _exit(e == ENOENT ? 127 : 126);
}

/* Its own function, so that nothing of the caller's frame lives across the
 * return that happens twice. */
static pid_t start_child(const struct spawn_args *a)
{
    pid_t pid = vfork();
    if (pid == 0)
        child(a);
    return pid;
}

/* On a spawner thread: start the child and open its pidfd (0, or -1 and
 * errno). */
static int spawn_task(void *arg, void **result)
{
    struct spawn_args *a = arg;
    (void)result;
    pid_t pid = start_child(a);
    if (pid < 0)
        return -1;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) { /* cannot happen on Linux >= 5.3: reap it here */
        int e = errno;
        kill(pid, SIGKILL);
        supervise_forget(pid);
        waitpid(pid, NULL, 0);
        errno = e;
        return -1;
    }
    a->p->pid = pid;
    a->p->pidfd = pidfd;
    return 0;
}

/* PATH lookups, remembered: most runs start the same program each time. */
struct pathent {
    char *name, *path;
    struct pathent *next;
};
static struct pathent *paths;

/* name's executable in $PATH (remembered), or name itself. */
static const char *resolve(const char *name)
{
    if (strchr(name, '/') || !*name)
        return name;
    for (struct pathent *e = paths; e; e = e->next)
        if (!strcmp(e->name, name))
            return e->path;
    const char *env = getenv("PATH");
    if (!env)
        env = "/usr/local/bin:/usr/bin:/bin";
    char *found = NULL;
    size_t nl = strlen(name);
    for (const char *d = env; !found;) {
        const char *end = strchrnul(d, ':');
        size_t dl = (size_t)(end - d);
        char *p = malloc(dl + nl + 3);
        if (!p)
            break;
        memcpy(p, dl ? d : ".", dl ? dl : 1);
        p[dl ? dl : 1] = '/';
        strcpy(p + (dl ? dl : 1) + 1, name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
            found = p;
        else
            free(p);
        if (!*end)
            break;
        d = end + 1;
    }
    struct pathent *e = malloc(sizeof *e);
    if (!e || !(e->name = strdup(name))) {
        free(e);
        free(found);
        return name;
    }
    e->path = found ? found : e->name; /* not found: execve says ENOENT */
    e->next = paths;
    paths = e;
    return e->path;
}

const char *proc_which(const char *name)
{
    const char *p = resolve(name);
    return strchr(p, '/') ? p : NULL; /* found: a path; else the bare name */
}

int proc_start(struct proc *p, char **argv, const char *cmd,
               const char *shell, int out_fd, int err_fd)
{
    char *sh_argv[] = {(char *)shell, "-c", (char *)cmd, NULL};
    struct spawn_args a = {.argv = argv ? argv : sh_argv,
                           .envp = p->envp ? p->envp : environ,
                           .out_fd = out_fd, .err_fd = err_fd, .p = p};
    a.path = argv ? resolve(argv[0]) : shell;
    evt_future_t *f = evt_threadpool_submit(spawners, spawn_task, &a);
    if (!f)
        return -1;
    /* The task uses this frame: see it through even if the wait fails. */
    if (evt_future_wait(f, -1) < 0 && evt_future_cancel(f) < 0)
        while (!evt_future_done(f))
            evt_yield();
    int err = evt_future_err(f);
    evt_future_free(f);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

int proc_wait(struct proc *p, int64_t deadline)
{
    return evt_wait_fd(p->pidfd, EVT_IN, deadline) < 0 ? -1 : 0;
}

static const struct termstep default_seq[] = {
    {SIGTERM, 200}, {SIGTERM, 100}, {SIGTERM, 50}, {SIGKILL, 25}};
static const struct termstep *term_seq = default_seq;
static int term_n = 4;

void spawn_set(const struct opts *o)
{
    if (o->ntermseq) {
        term_seq = o->termseq;
        term_n = o->ntermseq;
    }
    nice_value = o->nice;
    have_nice = o->have_nice;
    if (o->tty || o->open_tty) /* --tty, -o: jobs read the terminal, in
                                  eventor's group */
        tty_in = open("/dev/tty", O_RDONLY | O_CLOEXEC);
}

const struct termstep *spawn_termseq(int *n)
{
    *n = term_n;
    return term_seq;
}

void proc_terminate(struct proc *p)
{
    for (int i = 0; i < term_n; i++) {
        if (kill(-p->pid, term_seq[i].sig) < 0 && errno == ESRCH)
            kill(p->pid, term_seq[i].sig);
        if (proc_wait(p, evt_now() + term_seq[i].ms) == 0)
            return;
    }
    proc_wait(p, -1); /* GNU parallel too waits for it then */
}

void proc_reap(struct proc *p, int *exitval, int *sig)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    supervise_forget(p->pid); /* while the zombie still holds its group */
    while (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED) < 0 &&
           errno == EINTR)
        ;
    evt_close(p->pidfd);
    p->pidfd = -1;
    if (si.si_code == CLD_EXITED) {
        *exitval = si.si_status;
        *sig = 0;
    } else {
        *exitval = 0;
        *sig = si.si_status;
    }
}
